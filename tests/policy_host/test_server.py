"""`arena policy-server` speaks openpi's and RoboArena's protocols: checked with openpi-client's own
WebsocketClientPolicy (a client nobody here wrote) and with a raw websocket client that follows RoboArena's
client (roboarena/policy_client.py, scripts/test_policy_server.py). Today's clients, camera numbering,
cartesian poses and resets: test_protocols.py; every registry policy: test_served_registry.py."""

from __future__ import annotations

import subprocess
import sys
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from openpi_client import msgpack_numpy
from openpi_client.websocket_client_policy import WebsocketClientPolicy
from websockets.exceptions import ConnectionClosedError, InvalidStatus
from websockets.sync.client import connect

from policy_host.scripted import ScriptedExpert
from policy_host.server import PolicyServer
from schemas.errors import ValidationError
from schemas.policy import CameraSpec
from tests.policy_host.helpers import OPENPI_CLIENT_WARNING, ROOT, ZERO_MODELS, Recording, Returns, url

ROBOARENA_CONFIG_FIELDS = {"image_resolution", "needs_wrist_camera", "n_external_cameras", "needs_stereo_camera",
                           "needs_session_id", "action_space"}


def droid_observation(height: int = 224, width: int = 224) -> dict:
    """What openpi's DROID example client sends (examples/droid/main.py), plus RoboArena's cartesian pose."""
    rng = np.random.default_rng(1)
    return {
        "observation/exterior_image_1_left": rng.integers(0, 255, (height, width, 3), dtype=np.uint8),
        "observation/wrist_image_left": rng.integers(0, 255, (height, width, 3), dtype=np.uint8),
        "observation/joint_position": rng.normal(size=7),
        "observation/cartesian_position": rng.normal(size=6),
        "observation/gripper_position": np.array([0.25]),
        "prompt": "pick up the red cube",
    }


@pytest.mark.filterwarnings(OPENPI_CLIENT_WARNING)
def test_openpi_client_talks_to_the_policy_server_process(tmp_path: Path, policy_server_process) -> None:
    models = tmp_path / "models.toml"
    models.write_text(ZERO_MODELS)
    _, port = policy_server_process(models, "served-zero")
    client = WebsocketClientPolicy(host="127.0.0.1", port=port)
    meta = client.get_server_metadata()
    assert meta["action_space"] == "joint_velocity"
    assert meta["action_dim"] == 8
    assert meta["chunk_length"] == 1
    for _ in range(3):
        reply = client.infer(droid_observation())
        assert reply["actions"].shape == (1, 8)
        assert reply["actions"].dtype == np.float64
        assert "infer_ms" in reply["server_timing"]


@pytest.mark.filterwarnings(OPENPI_CLIENT_WARNING)
def test_openpi_requests_arrive_as_arena_observations(serve) -> None:
    policy = Recording()
    server = serve(lambda: policy)
    client = WebsocketClientPolicy(host=url(server))
    assert client.get_server_metadata()["cameras"] == [
        {"key": "observation/exterior_image_1_left", "width": 224, "height": 224},
        {"key": "observation/wrist_image_left", "width": 224, "height": 224}]
    sent = droid_observation(180, 320)  # another size: resized to what the policy asked for
    sent["observation/joint_position"] = sent["observation/joint_position"].astype(np.float32)
    actions = client.infer(sent)["actions"]
    assert actions.shape == (4, 8)
    obs = policy.seen[0]
    for key in ("observation/exterior_image_1_left", "observation/wrist_image_left"):
        assert obs[key].shape == (224, 224, 3)
        assert obs[key].dtype == np.uint8
    assert obs["observation/joint_position"].dtype == np.float64
    np.testing.assert_allclose(obs["observation/joint_position"], sent["observation/joint_position"])
    assert obs["observation/gripper_position"].tolist() == [0.25]
    assert obs["observation/cartesian_position"].shape == (6,)
    assert obs["prompt"] == "pick up the red cube"
    assert policy.seeds == [0]  # each connection starts with reset(0)


def test_roboarena_config_reset_and_infer(serve) -> None:
    cams = (CameraSpec(key="observation/wrist_image_left", width=128, height=96),)
    policy = Recording(cameras=cams, chunk=4, horizon=2)
    server = serve(lambda: policy, protocol="roboarena")
    with connect(url(server), compression=None, max_size=None) as ws:
        config = msgpack_numpy.unpackb(ws.recv(timeout=5))
        assert set(config) == ROBOARENA_CONFIG_FIELDS  # RoboArena's client builds PolicyServerConfig(**config)
        assert config["image_resolution"] == [96, 128]
        assert config["needs_wrist_camera"] is True
        assert config["n_external_cameras"] == 0
        assert config["action_space"] == "joint_velocity"
        ws.send(msgpack_numpy.packb({"endpoint": "reset", "seed": 7}))
        assert ws.recv(timeout=5) == "reset successful"  # a text frame
        obs = droid_observation(96, 128)
        del obs["observation/exterior_image_1_left"]
        ws.send(msgpack_numpy.packb({"endpoint": "infer", **obs}))
        reply = msgpack_numpy.unpackb(ws.recv(timeout=5))
    assert set(reply) == {"actions"}  # today's RoboArena: a dict wrapping the actions
    assert reply["actions"].shape == (2, 8)  # RoboArena executes all it gets: the server sends the horizon
    assert policy.seeds == [0, 7]
    assert "endpoint" not in policy.seen[0]


@pytest.mark.parametrize(("protocol", "request_", "says"), [
    ("openpi", "text", "expected a binary msgpack frame"),
    ("openpi", {"prompt": "x"}, "no observation/joint_position"),
    ("openpi", {"observation/joint_position": np.zeros(6), "observation/gripper_position": np.zeros(1)},
     "observation/joint_position has 6 values; expected 7"),
    ("roboarena", {"endpoint": "dance"}, "unknown endpoint 'dance'"),
    ("roboarena", {"endpoint": "reset", "seed": "seven"}, "seed must be an integer, got 'seven'"),
    ("openpi", {"observation/joint_position": np.zeros(7), "observation/gripper_position": np.zeros(1),
                "observation/wrist_image_left": np.zeros((8, 8, 3), np.uint8)},
     "the request has no observation/exterior_image_1_left (or observation/exterior_image_0_left"),
])
def test_a_bad_request_gets_a_traceback_then_close_1011(serve, protocol, request_, says) -> None:
    server = serve(Recording, protocol=protocol)  # asks for both DROID cameras
    with connect(url(server)) as ws:
        ws.recv(timeout=5)
        ws.send(request_ if isinstance(request_, str) else msgpack_numpy.packb(request_))
        text = ws.recv(timeout=5)
        assert isinstance(text, str)
        assert text.startswith("Traceback")
        assert says in text
        with pytest.raises(ConnectionClosedError) as closed:
            ws.recv(timeout=5)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1011


@pytest.mark.filterwarnings(OPENPI_CLIENT_WARNING)
def test_each_connection_gets_a_fresh_policy(serve) -> None:
    built: list[Recording] = []

    def factory() -> Recording:
        built.append(Recording(cameras=()))
        return built[-1]

    server = serve(factory)
    obs = droid_observation()
    first, second = WebsocketClientPolicy(host=url(server)), WebsocketClientPolicy(host=url(server))
    a, b = first.infer(obs)["actions"], second.infer(obs)["actions"]
    np.testing.assert_array_equal(a, b)  # both start from reset(0), neither saw the other's calls
    assert len(built) == 2
    assert [len(p.seen) for p in built] == [1, 1]


def test_privileged_policies_are_refused() -> None:
    with pytest.raises(ValidationError, match="privileged"):
        PolicyServer(ScriptedExpert)
    cli = subprocess.run([sys.executable, "-m", "api.cli", "policy-server", "--policy", "scripted-expert",
                          "--port", "0"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert cli.returncode == 2
    assert "cannot be served" in cli.stderr


@pytest.mark.filterwarnings(OPENPI_CLIENT_WARNING)
def test_api_key_is_required_when_set_and_healthz_answers(serve) -> None:
    server = serve(lambda: Returns(np.zeros((1, 8))), api_key="s3cret")
    with pytest.raises(InvalidStatus) as refused:
        WebsocketClientPolicy(host=url(server))
    assert refused.value.response.status_code == 401
    client = WebsocketClientPolicy(host=url(server), api_key="s3cret")
    assert client.infer(droid_observation())["actions"].shape == (1, 8)
    with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/healthz", timeout=5) as health:
        assert health.status == 200


@pytest.mark.filterwarnings(OPENPI_CLIENT_WARNING)
def test_a_server_for_a_six_joint_arm_takes_six_joints_and_refuses_seven(serve) -> None:
    policy = Recording(cameras=())
    server = serve(lambda: policy, arm_joints=6)
    client = WebsocketClientPolicy(host=url(server))
    obs = {**droid_observation(), "observation/joint_position": np.arange(6, dtype=np.float64)}
    assert client.infer(obs)["actions"].shape[-1] == 8
    np.testing.assert_array_equal(policy.seen[0]["observation/joint_position"], np.arange(6))
    with pytest.raises(RuntimeError, match="observation/joint_position has 7 values; expected 6"):
        client.infer(droid_observation())
