"""The arena's remote adapters (remote-openpi, remote-roboarena) against real servers on real sockets:
`arena policy-server` (in a thread, or as a subprocess killed with SIGKILL) and, for DROID servers that
state no metadata, a minimal openpi-style server written with websockets here."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from openpi_client import msgpack_numpy
from websockets.sync.server import ServerConnection, serve

from policy_host.registry import Registry
from policy_host.remote import OpenPiRemotePolicy, RoboArenaRemotePolicy
from schemas.errors import PolicyOutputError, RemotePolicyError, ValidationError
from schemas.policy import ActionSpace, CameraSpec
from sim_engine.episode import EpisodeSpec, run_episode
from tests.policy_host.helpers import ZERO_MODELS, Recording, Returns, Sleepy, url

ADAPTERS = {"openpi": OpenPiRemotePolicy, "roboarena": RoboArenaRemotePolicy}
STATE = {"observation/joint_position": (7,), "observation/gripper_position": (1,)}
CAMERAS = {"observation/exterior_image_1_left", "observation/wrist_image_left"}


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def obs() -> dict[str, Any]:
    return {"observation/joint_position": np.zeros(7), "observation/gripper_position": np.zeros(1), "prompt": "go"}


@pytest.fixture
def droid_server() -> Iterator[Callable[[Any], str]]:
    """`droid_server(reply)`: an openpi-style server that sends {} as metadata (as openpi's DROID servers
    do) and answers every request with `reply`, packed. Returns its URL."""
    started = []

    def start(reply: Any) -> str:
        def handler(ws: ServerConnection) -> None:
            ws.send(msgpack_numpy.packb({}))
            for _ in ws:
                ws.send(msgpack_numpy.packb(reply))

        server = serve(handler, "127.0.0.1", 0)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        started.append(server)
        return f"ws://127.0.0.1:{server.socket.getsockname()[1]}"

    yield start
    for server in started:
        server.shutdown()


@pytest.mark.parametrize("protocol", ["openpi", "roboarena"])
def test_an_episode_through_the_adapter_sends_droid_observations(serve, protocol) -> None:
    served = Recording(chunk=4, horizon=2)
    server = serve(lambda: served, protocol=protocol)
    remote = ADAPTERS[protocol](url(server), action_space="joint_velocity", chunk_length=4, action_horizon=2,
                                latency_s=0.1)
    assert remote.metadata.cameras == served.metadata.cameras
    assert remote.metadata.latency_s == 0.1  # simulated latency: the registry's, never the server's
    spec = EpisodeSpec(robot_id="franka", scene_id="table", instruction="pick up the red cube", seed=5, max_steps=6)
    out = run_episode(spec, remote)
    remote.close()
    assert len(served.seen) >= 2
    for seen in served.seen:
        assert set(seen) >= CAMERAS
        for key in CAMERAS:
            assert seen[key].shape == (224, 224, 3)
            assert seen[key].dtype == np.uint8
        for key, shape in STATE.items():
            assert seen[key].shape == shape
            assert seen[key].dtype == np.float64
        assert seen["prompt"] == "pick up the red cube"
        assert not [k for k in seen if k.startswith("privileged/") or k == "endpoint"]
    assert out.steps["action"].shape == (6, 8)
    # RoboArena carries the episode's seed to the server; openpi has no reset message (a new connection: seed 0)
    assert served.seeds[-1] == (5 if protocol == "roboarena" else 0)


def test_openpi_metadata_comes_from_the_server(serve) -> None:
    served = Recording(chunk=4, horizon=3, cameras=(CameraSpec(key="observation/wrist_image_left", width=64,
                                                                height=48),))
    server = serve(lambda: served)
    remote = OpenPiRemotePolicy(url(server), action_space="ee_delta", chunk_length=1)  # the server's values win
    meta = remote.metadata
    assert (meta.action_space, meta.chunk_length, meta.horizon) == (ActionSpace.JOINT_VELOCITY, 4, 3)
    assert meta.cameras == served.metadata.cameras
    assert meta.deterministic
    remote.close()


def test_a_droid_server_sending_no_metadata_uses_the_registry_params(droid_server) -> None:
    address = droid_server({"actions": np.ones((10, 8), dtype=np.float32)})
    remote = OpenPiRemotePolicy(address, action_space="joint_velocity", chunk_length=10, action_horizon=8)
    meta = remote.metadata
    assert (meta.action_space, meta.chunk_length, meta.horizon) == (ActionSpace.JOINT_VELOCITY, 10, 8)
    assert {c.key for c in meta.cameras} == CAMERAS
    remote.reset(0)
    actions = remote.infer({**obs(), **{k: np.zeros((224, 224, 3), np.uint8) for k in CAMERAS}})
    assert actions.shape == (10, 8)
    assert actions.dtype == np.float64
    remote.close()
    with pytest.raises(RemotePolicyError, match="states no action space: set params.action_space"):
        _ = OpenPiRemotePolicy(address).metadata


def test_the_registry_builds_a_remote_entry_with_host_and_port(tmp_path: Path, serve) -> None:
    server = serve(lambda: Returns(np.zeros((1, 8))))
    models = tmp_path / "models.toml"
    models.write_text(f'[[model]]\nname = "far"\nkind = "remote-openpi"\norganisation = "o"\nlicence = "l"\n'
                      f'latency_s = 0.05\nparams = {{ host = "127.0.0.1", port = {server.port} }}\n')
    with Registry.from_file(models).open("far") as remote:
        assert isinstance(remote, OpenPiRemotePolicy)
        assert remote.url == url(server)
        remote.reset(1)
        assert remote.infer(obs()).shape == (1, 8)
        assert remote.metadata.latency_s == 0.05


# ---- failures ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("protocol", ["openpi", "roboarena"])
def test_an_unreachable_server_is_named(protocol) -> None:
    address = f"ws://127.0.0.1:{free_port()}"
    with pytest.raises(RemotePolicyError, match=f"remote policy at {address}: connection refused"):
        ADAPTERS[protocol](address, action_space="joint_velocity").reset(0)


def test_a_slow_server_times_out(serve) -> None:
    server = serve(lambda: Sleepy(0.5))
    remote = OpenPiRemotePolicy(url(server), timeout_s=0.1)
    remote.reset(0)
    with pytest.raises(RemotePolicyError, match=r"timed out after 0.1 s waiting for actions"):
        remote.infer(obs())


@pytest.mark.parametrize(("output", "says"), [
    (np.zeros(3), r"returned actions of shape \(3,\) \(expected \(n, 8\)\)"),
    (np.zeros((2, 7)), r"returned actions of shape \(\d, 7\) \(expected \(n, 8\)\)"),  # RoboArena: the horizon
    (np.full((1, 8), np.nan), "returned actions containing NaN or inf"),
    (np.array([["a"] * 8]), "returned actions of dtype <U1 \\(expected numbers\\)"),
])
@pytest.mark.parametrize("protocol", ["openpi", "roboarena"])
def test_a_malformed_action_is_a_policy_output_error(serve, protocol, output, says) -> None:
    server = serve(lambda: Returns(output), protocol=protocol)
    remote = ADAPTERS[protocol](url(server))
    remote.reset(0)
    with pytest.raises(PolicyOutputError, match=f"remote policy at {url(server)}: {says}"):
        remote.infer(obs())


def test_a_reply_without_actions_is_a_policy_output_error(droid_server) -> None:
    remote = OpenPiRemotePolicy(droid_server({"action": [0.0] * 8}), action_space="joint_velocity", cameras=[])
    with pytest.raises(PolicyOutputError, match="sent a reply without an 'actions' array"):
        remote.infer(obs())


@pytest.mark.parametrize("protocol", ["openpi", "roboarena"])
def test_a_server_error_carries_the_traceback_for_operators(serve, protocol) -> None:
    class Raises(Returns):
        def infer(self, obs):
            raise RuntimeError("CUDA out of memory")

    server = serve(lambda: Raises(None), protocol=protocol)
    remote = ADAPTERS[protocol](url(server))
    remote.reset(0)
    said = "reported an error instead of actions -- server said: Traceback"
    with pytest.raises(RemotePolicyError, match=said) as err:
        remote.infer(obs())
    assert "CUDA out of memory" in str(err.value)
    remote.reset(0)  # a new connection after the failure
    with pytest.raises(RemotePolicyError, match="CUDA out of memory"):
        remote.infer(obs())


def test_a_wrong_api_key_is_named(serve, monkeypatch) -> None:
    server = serve(lambda: Returns(np.zeros((1, 8))), api_key="right")
    with pytest.raises(RemotePolicyError, match=r"HTTP 401 \(check the API key\)"):
        _ = OpenPiRemotePolicy(url(server), api_key="wrong").metadata
    monkeypatch.setenv("FAR_KEY", "right")
    assert OpenPiRemotePolicy(url(server), api_key_env="FAR_KEY").infer(obs()).shape == (1, 8)
    with pytest.raises(ValidationError, match="NOT_SET_KEY is not set"):
        OpenPiRemotePolicy(url(server), api_key_env="NOT_SET_KEY")


def test_bad_params_fail_at_build_time() -> None:
    with pytest.raises(ValidationError, match="ws:// or wss://"):
        OpenPiRemotePolicy("http://example.org")
    with pytest.raises(ValidationError, match="give url"):
        OpenPiRemotePolicy()
    with pytest.raises(ValidationError, match="unknown 'teleport'"):
        OpenPiRemotePolicy("ws://x:1", action_space="teleport")


@pytest.mark.parametrize("protocol", ["openpi", "roboarena"])
def test_a_server_killed_mid_episode_then_restarted(tmp_path: Path, policy_server_process, protocol) -> None:
    models = tmp_path / "models.toml"
    models.write_text(ZERO_MODELS)
    proc, port = policy_server_process(models, "served-zero", protocol=protocol)
    remote = ADAPTERS[protocol](f"ws://127.0.0.1:{port}")
    remote.reset(3)
    assert remote.infer(obs()).shape == (1, 8)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    with pytest.raises(RemotePolicyError, match=f"remote policy at ws://127.0.0.1:{port}: disconnected"):
        remote.infer(obs())
    with pytest.raises(RemotePolicyError, match="connection refused"):
        remote.reset(4)
    policy_server_process(models, "served-zero", port=port, protocol=protocol)
    remote.reset(5)  # the server is back: the next episode runs
    assert remote.infer(obs()).shape == (1, 8)
    remote.close()
