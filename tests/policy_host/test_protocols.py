"""`arena policy-server` and the arena's client against faithful peers of today's protocols
(tests/policy_host/peers.py): openpi's DROID client (no cartesian pose, one connection across rollouts),
RoboArena's client of today's main (dict replies, `exterior_image_0_left`, a string session id), and
RoboArena servers old and new (bare-array and dict replies) with the arena as the client."""

from __future__ import annotations

import numpy as np
import pytest
from openpi_client.websocket_client_policy import WebsocketClientPolicy

from api.policy_commands import forward_kinematics
from policy_host.cartesian import POSE_KEY, deltas_to_targets, targets_to_deltas
from policy_host.remote import OpenPiRemotePolicy, RoboArenaRemotePolicy
from policy_host.scripted import RandomPolicy
from schemas.errors import RemotePolicyError
from schemas.policy import ActionSpace, Observation, PolicyMetadata
from sim_engine.episode import EpisodeSpec, run_episode
from tests.policy_host.helpers import DROID_CAMERAS, HOME, OPENPI_CLIENT_WARNING, Recording, simulated_pose, url
from tests.policy_host.peers import (
    RoboArenaClient,
    check_roboarena_reply,
    droid_request,
    roboarena_request,
    roboarena_server,
)

BENT = np.array([0.3, 0.1, -0.2, -2.0, 0.1, 1.2, 0.4])


class Stepping(Recording):
    """An ee_delta policy: seeded random end-effector steps, keeping what it saw and returned."""

    def __init__(self, chunk: int = 3) -> None:
        super().__init__(cameras=DROID_CAMERAS, chunk=chunk)
        self._meta = PolicyMetadata(action_space=ActionSpace.EE_DELTA, chunk_length=chunk, cameras=DROID_CAMERAS,
                                    deterministic=True)
        self.chunks: list[np.ndarray] = []

    def infer(self, obs: Observation) -> np.ndarray:
        self.seen.append(obs)
        chunk = np.hstack([self.rng.uniform(-0.03, 0.03, (self._meta.chunk_length, 3)),
                           self.rng.uniform(-0.2, 0.2, (self._meta.chunk_length, 3)),
                           np.ones((self._meta.chunk_length, 1))])
        self.chunks.append(chunk)
        return chunk


# ---- openpi: DROID's client --------------------------------------------------------------------------

@pytest.mark.filterwarnings(OPENPI_CLIENT_WARNING)
@pytest.mark.parametrize("joints", [HOME, BENT])
def test_a_droid_client_without_a_cartesian_pose_gets_it_from_the_robots_kinematics(serve, joints) -> None:
    policy = Stepping()
    server = serve(lambda: policy, kinematics=forward_kinematics("franka"))
    client = WebsocketClientPolicy(host=url(server))
    meta = client.get_server_metadata()
    assert (meta["action_space"], meta["action_dim"]) == ("cartesian_position", 7)  # never "ee_delta"
    request = droid_request(joints)
    assert POSE_KEY not in request
    targets = client.infer(request)["actions"]
    pose = simulated_pose(joints)
    np.testing.assert_allclose(policy.seen[0][POSE_KEY], pose, atol=1e-12)
    assert targets.shape == (3, 7)
    np.testing.assert_allclose(targets[0, :3], pose[:3] + policy.chunks[0][0, :3], atol=1e-12)
    np.testing.assert_allclose(targets_to_deltas(targets, pose), policy.chunks[0], atol=1e-9)
    np.testing.assert_allclose(deltas_to_targets(policy.chunks[0], pose), targets, atol=1e-12)


@pytest.mark.filterwarnings(OPENPI_CLIENT_WARNING)
def test_without_kinematics_a_pose_less_request_is_refused_naming_the_key(serve) -> None:
    client = WebsocketClientPolicy(host=url(serve(Stepping)))
    with pytest.raises(RuntimeError, match="the request has no observation/cartesian_position") as refused:
        client.infer(droid_request(HOME))
    assert "forward kinematics" in str(refused.value)
    joint_space = Recording()  # a joint-space policy does not need the pose
    assert WebsocketClientPolicy(host=url(serve(lambda: joint_space))).infer(droid_request(HOME))["actions"].shape \
        == (4, 8)
    assert POSE_KEY not in joint_space.seen[0]


@pytest.mark.filterwarnings(OPENPI_CLIENT_WARNING)
def test_one_openpi_connection_resets_the_policy_when_the_prompt_changes(serve) -> None:
    policy = Recording(cameras=())
    client = WebsocketClientPolicy(host=url(serve(lambda: policy)))
    first = [client.infer(droid_request(HOME, prompt="pick up the red cube"))["actions"] for _ in range(2)]
    second = [client.infer(droid_request(HOME, prompt="push the blue cube left"))["actions"] for _ in range(2)]
    assert policy.seeds == [0, 0]  # on connect, then on the new prompt only
    np.testing.assert_array_equal(second[0], first[0])  # the new rollout starts afresh
    assert not np.array_equal(second[1], second[0])


# ---- RoboArena: today's client -----------------------------------------------------------------------

def test_todays_roboarena_client_gets_a_dict_and_its_camera_numbering_is_understood(serve) -> None:
    policy = Recording(chunk=4, horizon=2)
    client = RoboArenaClient(url(serve(lambda: policy, protocol="roboarena")))
    config = client.config
    assert config["needs_session_id"] is True
    actions = check_roboarena_reply(config, client.infer(roboarena_request(config, session_id="A", fill=10)))
    assert actions.shape == (2, 8)  # the action horizon: RoboArena executes every action it gets
    seen = policy.seen[0]
    assert "observation/exterior_image_0_left" in roboarena_request(config)
    assert (seen["observation/exterior_image_1_left"] == 11).all()  # RoboArena's exterior camera 0
    assert (seen["observation/wrist_image_left"] == 10).all()
    assert seen["session_id"] == "A"
    assert client.reset({"session_id": "A"}) == "reset successful"
    client.infer(roboarena_request(config, session_id="A"))
    client.infer(roboarena_request(config, session_id="B"))  # a new rollout without a reset call
    client.close()
    assert policy.seeds == [0, 0, 0]


def test_an_ee_delta_policy_is_served_to_roboarena_as_cartesian_position(serve) -> None:
    client = RoboArenaClient(url(serve(lambda: RandomPolicy(chunk_length=3), protocol="roboarena")))
    assert client.config["action_space"] == "cartesian_position"
    request = roboarena_request(client.config)
    request[POSE_KEY] = np.array([0.5, 0.0, 0.3, np.pi, 0.0, 0.2], dtype=np.float32)
    targets = check_roboarena_reply(client.config, client.infer(request))
    client.close()
    twin = RandomPolicy(chunk_length=3)
    twin.reset(0)
    np.testing.assert_allclose(targets_to_deltas(targets, request[POSE_KEY]), twin.infer({}), atol=1e-6)


# ---- the arena as the client -------------------------------------------------------------------------

@pytest.mark.parametrize("style", ["dict", "bare array"])
def test_the_arena_client_reads_todays_dict_and_the_old_bare_array(style) -> None:
    config = {"image_resolution": [224, 224], "needs_wrist_camera": True, "n_external_cameras": 1,
              "needs_stereo_camera": False, "needs_session_id": True, "action_space": "joint_velocity"}
    chunk = np.arange(16, dtype=np.float32).reshape(2, 8) / 100
    with roboarena_server(config, lambda r: {"actions": chunk} if style == "dict" else chunk) as (address, seen):
        remote = RoboArenaRemotePolicy(address, chunk_length=2)
        remote.reset(3)
        obs = {"observation/joint_position": HOME, POSE_KEY: simulated_pose(HOME),
               "observation/gripper_position": np.zeros(1), "prompt": "go",
               **{c.key: np.zeros((224, 224, 3), np.uint8) for c in DROID_CAMERAS}}
        actions = remote.infer(obs)
        remote.close()
    np.testing.assert_array_equal(actions, chunk.astype(np.float64))
    reset, infer = seen
    assert reset["seed"] == 3
    assert {"observation/exterior_image_0_left", "observation/exterior_image_1_left"} <= set(infer)
    np.testing.assert_array_equal(infer["session_id"], reset["session_id"])


def test_the_arena_client_runs_cartesian_position_targets_as_ee_delta_steps() -> None:
    config = {"image_resolution": None, "needs_wrist_camera": False, "n_external_cameras": 0,
              "needs_stereo_camera": False, "needs_session_id": False, "action_space": "cartesian_position"}
    steps = np.array([[0.01, 0.0, -0.02, 0.0, 0.0, 0.1, 1.0], [0.0, 0.02, 0.0, 0.05, 0.0, 0.0, 0.0]])
    with roboarena_server(config, lambda r: {"actions": deltas_to_targets(steps, r[POSE_KEY])}) as (address, _):
        remote = RoboArenaRemotePolicy(address, chunk_length=2)
        assert remote.metadata.action_space is ActionSpace.EE_DELTA
        remote.reset(0)
        obs = {"observation/joint_position": BENT, POSE_KEY: simulated_pose(BENT),
               "observation/gripper_position": np.zeros(1), "prompt": "go"}
        np.testing.assert_allclose(remote.infer(obs), steps, atol=1e-12)
        remote.close()
    with roboarena_server({**config, "action_space": "cartesian_velocity"}, lambda r: {}) as (address, _), \
            pytest.raises(RemotePolicyError, match="cartesian_velocity has no fixed scale"):
        _ = RoboArenaRemotePolicy(address).metadata


@pytest.mark.parametrize("protocol", ["openpi", "roboarena"])
def test_an_arena_to_arena_round_trip_runs_the_policys_own_steps(serve, protocol) -> None:
    server = serve(lambda: RandomPolicy(chunk_length=2), protocol=protocol)
    adapter = OpenPiRemotePolicy if protocol == "openpi" else RoboArenaRemotePolicy
    remote = adapter(url(server), chunk_length=2)
    spec = EpisodeSpec(robot_id="franka", scene_id="table", instruction="pick up the red cube", seed=0, max_steps=6)
    far = run_episode(spec, remote)
    remote.close()
    near = run_episode(spec, RandomPolicy(chunk_length=2))
    np.testing.assert_allclose(far.steps["action"], near.steps["action"], atol=1e-9)
