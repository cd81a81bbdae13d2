"""Faithful peers of the arena's policy server and client, written here from the protocols' documentation
(RoboArena's README, `roboarena/policy.py` and `scripts/test_policy_server.py` docstrings and expectations;
openpi's `examples/droid/main.py` request), not copied from their code.

- `RoboArenaClient`: RoboArena's client of today's main. It reads the server config, marks each request
  with `"endpoint": "infer"` or `"reset"`, expects a dict `{"actions": ...}` back and treats a text frame
  as a server error.
- `roboarena_request(config)`: the observation RoboArena's test script sends for a config: cameras at the
  config's resolution (288x512 when it says None), exterior cameras numbered from 0, a string session id
  when asked for, float32 zeros for the proprioception, prompt "test".
- `check_roboarena_reply(config, reply)`: what that script asserts about a reply.
- `droid_request(...)`: what openpi's DROID client sends: 224x224 images under DROID's names (exterior
  numbered from 1), joint and gripper positions, the prompt, and no cartesian pose.
- `roboarena_server(config, reply)`: a RoboArena policy server (old: bare array replies; today's: dicts).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import numpy as np
from openpi_client import msgpack_numpy
from websockets.sync.client import connect
from websockets.sync.server import ServerConnection, serve

ROBOARENA_SPACES = ("joint_position", "joint_velocity", "cartesian_position", "cartesian_velocity")
CONFIG_FIELDS = {"image_resolution", "needs_wrist_camera", "n_external_cameras", "needs_stereo_camera",
                 "needs_session_id", "action_space"}


class RoboArenaClient:
    """RoboArena's websocket client: config on connect, then infer / reset requests."""

    def __init__(self, url: str) -> None:
        self._stack = ExitStack()  # websockets wants connect() used as a context manager
        self.ws = self._stack.enter_context(connect(url, compression=None, max_size=None))
        self.config = msgpack_numpy.unpackb(self.ws.recv(timeout=30))

    def infer(self, obs: dict[str, Any]) -> Any:
        self.ws.send(msgpack_numpy.packb({**obs, "endpoint": "infer"}))
        reply = self.ws.recv(timeout=60)
        if isinstance(reply, str):
            raise RuntimeError(f"Error in inference server:\n{reply}")
        return msgpack_numpy.unpackb(reply)

    def reset(self, reset_info: dict[str, Any]) -> str | bytes:
        self.ws.send(msgpack_numpy.packb({**reset_info, "endpoint": "reset"}))
        return self.ws.recv(timeout=30)

    def close(self) -> None:
        self._stack.close()


def roboarena_request(config: dict[str, Any], session_id: str = "38DSA3hd3", fill: int = 0) -> dict[str, Any]:
    assert set(config) == CONFIG_FIELDS  # the client builds PolicyServerConfig(**config)
    h, w = config["image_resolution"] or (288, 512)
    obs: dict[str, Any] = {}
    if config["needs_wrist_camera"]:
        obs["observation/wrist_image_left"] = np.full((h, w, 3), fill, dtype=np.uint8)
    for i in range(config["n_external_cameras"]):
        obs[f"observation/exterior_image_{i}_left"] = np.full((h, w, 3), fill + 1 + i, dtype=np.uint8)
    if config["needs_session_id"]:
        obs["session_id"] = session_id
    obs["observation/joint_position"] = np.zeros(7, dtype=np.float32)
    obs["observation/cartesian_position"] = np.zeros(6, dtype=np.float32)
    obs["observation/gripper_position"] = np.zeros(1, dtype=np.float32)
    obs["prompt"] = "test"
    return obs


def check_roboarena_reply(config: dict[str, Any], reply: Any) -> np.ndarray:
    assert config["n_external_cameras"] in (0, 1, 2)
    assert config["action_space"] in ROBOARENA_SPACES
    assert type(reply) is dict
    assert "actions" in reply
    actions = reply["actions"]
    assert isinstance(actions, np.ndarray)
    assert actions.ndim == 2
    assert actions.shape[-1] == (8 if "joint" in config["action_space"] else 7)
    return actions


def droid_request(joints: np.ndarray, prompt: str = "pick up the red cube", seed: int = 1) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    return {
        "observation/exterior_image_1_left": rng.integers(0, 255, (224, 224, 3), dtype=np.uint8),
        "observation/wrist_image_left": rng.integers(0, 255, (224, 224, 3), dtype=np.uint8),
        "observation/joint_position": np.asarray(joints, dtype=np.float64),
        "observation/gripper_position": np.array([0.0]),
        "prompt": prompt,
    }


@contextmanager
def roboarena_server(config: dict[str, Any], reply: Callable[[dict[str, Any]], Any]) -> Iterator[tuple[str, list]]:
    """A RoboArena policy server on a free port: sends `config`, answers resets with "reset successful" and
    each infer with `reply(request)`, packed. Yields its URL and the requests it received."""
    seen: list[dict[str, Any]] = []

    def handler(ws: ServerConnection) -> None:
        ws.send(msgpack_numpy.packb(config))
        for frame in ws:
            request = msgpack_numpy.unpackb(frame)
            seen.append(request)
            endpoint = request.pop("endpoint")
            ws.send("reset successful" if endpoint == "reset" else msgpack_numpy.packb(reply(request)))

    server = serve(handler, "127.0.0.1", 0, compression=None, max_size=None)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"ws://127.0.0.1:{server.socket.getsockname()[1]}", seen
    finally:
        server.shutdown()
