"""Every policy of the packaged registry behind `arena policy-server`, called by outside clients: openpi-client's
own WebsocketClientPolicy and ActionChunkBroker (over a real subprocess), and RoboArena's client of today's
main (tests/policy_host/peers.py). Each advertised action space must be one the protocols know (DROID's
four); privileged policies are refused with one clear line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from openpi_client.action_chunk_broker import ActionChunkBroker
from openpi_client.websocket_client_policy import WebsocketClientPolicy

from api.policy_commands import forward_kinematics
from policy_host.cartesian import POSE_KEY
from policy_host.registry import DEFAULT_PATH, Registry
from policy_host.server import PolicyServer
from schemas.errors import ValidationError
from sim_engine.robots import ROBOTS
from tests.policy_host.helpers import OPENPI_CLIENT_WARNING, simulated_pose, url
from tests.policy_host.peers import (
    ROBOARENA_SPACES,
    RoboArenaClient,
    check_roboarena_reply,
    droid_request,
    roboarena_request,
)

NAMES = list(Registry.from_file().entries)


def robot_home(name: str) -> tuple[str, np.ndarray]:
    """The robot a registry policy is served for (its entry's first, as `arena policy-server` picks) and that
    robot's home joint angles: a checkpoint trained on one arm is asked with that arm's joints."""
    robot = Registry.from_file().get(name).robots[0]
    return robot, np.array(ROBOTS[robot].home)


def dim_of(space: str) -> int:
    return 8 if "joint" in space else 7


@pytest.mark.filterwarnings(OPENPI_CLIENT_WARNING)
@pytest.mark.parametrize("name", NAMES)
def test_openpi_client_and_chunk_broker_against_every_registry_policy(tmp_path: Path, policy_server_process,
                                                                      name) -> None:
    models = tmp_path / "models.toml"
    models.write_text(DEFAULT_PATH.read_text())
    try:
        _, port = policy_server_process(models, name)
    except AssertionError:
        said = (tmp_path / "policy-server.log").read_text().strip()
        assert said.startswith("error: policy: privileged policies")
        assert said.endswith("cannot be served")
        assert "\n" not in said  # one line, no traceback
        assert Registry.from_file().build(name).metadata.privileged
        return
    client = WebsocketClientPolicy(host="127.0.0.1", port=port)
    meta = client.get_server_metadata()
    assert meta["action_space"] in ROBOARENA_SPACES
    dim = dim_of(meta["action_space"])
    assert meta["action_dim"] == dim
    horizon = meta.get("action_horizon") or meta["chunk_length"]
    broker = ActionChunkBroker(client, action_horizon=horizon)
    robot, home = robot_home(name)
    pose = simulated_pose(home, robot)
    for step in range(2 * horizon + 1):  # a new chunk every `horizon` steps, then a new prompt
        prompt = "pick up the red cube" if step <= horizon else "push the blue cube left"
        action = broker.infer(droid_request(home, prompt=prompt, seed=step))["actions"]
        assert action.shape == (dim,)
        assert np.isfinite(action).all()
        if meta["action_space"] == "cartesian_position":  # targets near the pose the server computed
            assert np.linalg.norm(action[:3] - pose[:3]) < 0.5
    broker.reset()


@pytest.mark.parametrize("name", NAMES)
def test_todays_roboarena_client_against_every_registry_policy(serve, name) -> None:
    registry = Registry.from_file()
    built = [registry.build(name)]
    if built[0].metadata.privileged:
        with pytest.raises(ValidationError, match="cannot be served"):
            PolicyServer(lambda: built[0], protocol="roboarena")
        return
    robot, home = robot_home(name)
    server = serve(lambda: built.pop() if built else registry.build(name), protocol="roboarena",
                   kinematics=forward_kinematics(robot), arm_joints=len(home))
    client = RoboArenaClient(url(server))
    assert client.reset({"session_id": "s1"}) == "reset successful"
    request = roboarena_request(client.config, session_id="s1")
    request["observation/joint_position"] = home.astype(np.float32)
    request[POSE_KEY] = simulated_pose(home, robot).astype(np.float32)
    actions = check_roboarena_reply(client.config, client.infer(request))
    client.close()
    assert 1 <= len(actions) <= server.meta.horizon  # RoboArena executes all it gets: the horizon at most
    assert np.isfinite(actions).all()
