"""Serve any arena policy over openpi's or RoboArena's websocket protocol (`arena policy-server`), so that
outside evaluators (openpi-client's WebsocketClientPolicy, RoboArena's client) and other arenas can call it.

Each connection gets its own policy instance (one episode's state never leaks into another's), reset
with seed 0 when the connection opens; RoboArena's reset endpoint resets it with the request's "seed".
A request the server cannot use, or a policy that raises, is answered as openpi and RoboArena do: a text
frame with the traceback, then close code 1011. The policy's output is sent as it is (as a float64 array),
so clients see exactly what it returned. Privileged policies (they read the simulator's true object
poses, which no remote client can send) are refused.
"""

from __future__ import annotations

import http
import logging
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

import numpy as np
from PIL import Image
from websockets.exceptions import ConnectionClosed
from websockets.frames import CloseCode
from websockets.http11 import Request, Response
from websockets.sync.server import Server, ServerConnection, serve

from policy_host.wire import (
    PROTOCOLS,
    RESET_REPLY,
    STATE_KEYS,
    WireError,
    WireProtocol,
    openpi_metadata,
    pack,
    roboarena_config,
    unpack,
)
from schemas.errors import ValidationError
from schemas.policy import CameraSpec, Observation, Policy, PolicyMetadata, close_policy

log = logging.getLogger("arena.policy_server")
SIZES = {"observation/joint_position": 7, "observation/cartesian_position": 6, "observation/gripper_position": 1}


class RequestError(ValueError):
    """A client's request the server cannot turn into an observation; the message says why."""


class PolicyServer:
    """Serves `factory()`'s policies on ws://host:port (port 0: any free port, see `.port`).

    `serve_forever()` blocks; `shutdown()` (from another thread) stops it. As a context manager it
    serves from a background thread. `api_key`, when set, is required as "Authorization: Api-Key ...".
    """

    def __init__(self, factory: Callable[[], Policy], *, protocol: WireProtocol = "openpi",
                 host: str = "127.0.0.1", port: int = 0, api_key: str | None = None) -> None:
        if protocol not in PROTOCOLS:
            raise ValidationError("protocol", f"unknown {protocol!r}; known: {list(PROTOCOLS)}")
        self.factory, self.protocol, self.api_key = factory, protocol, api_key
        self._lock = threading.Lock()
        self._spare: Policy | None = factory()  # probed for its metadata, then serves the first connection
        self.meta = self._spare.metadata
        self.handshake = self._handshake(self.meta)
        self._server: Server = serve(self._handle, host, port, compression=None, max_size=None,
                                     process_request=self._admit)
        self._thread: threading.Thread | None = None

    def _handshake(self, meta: PolicyMetadata) -> dict[str, Any]:
        if meta.privileged:
            raise ValidationError("policy", "privileged policies read the simulator's true object poses, which "
                                            "a remote client cannot send; they cannot be served")
        try:
            return openpi_metadata(meta) if self.protocol == "openpi" else roboarena_config(meta)
        except WireError as exc:
            raise ValidationError("policy", str(exc)) from exc

    @property
    def port(self) -> int:
        return int(self._server.socket.getsockname()[1])

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def shutdown(self) -> None:
        self._server.shutdown()
        if self._thread is not None:
            self._thread.join()

    def __enter__(self) -> PolicyServer:
        self._thread = threading.Thread(target=self.serve_forever, name="policy-server", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()

    # ---- connections -----------------------------------------------------------------------------------

    def _admit(self, connection: ServerConnection, request: Request) -> Response | None:
        """GET /healthz answers 200 (as openpi's server); with an API key, anything else needs it."""
        if request.path == "/healthz":
            return connection.respond(http.HTTPStatus.OK, "OK\n")
        if self.api_key and request.headers.get("Authorization") != f"Api-Key {self.api_key}":
            return connection.respond(http.HTTPStatus.UNAUTHORIZED, "missing or wrong API key\n")
        return None

    def _policy(self) -> Policy:
        with self._lock:
            spare, self._spare = self._spare, None
        return spare if spare is not None else self.factory()

    def _handle(self, ws: ServerConnection) -> None:
        log.info("connection from %s", ws.remote_address)
        policy: Policy | None = None
        try:
            policy = self._policy()
            policy.reset(seed=0)
            ws.send(pack(self.handshake))
            for frame in ws:
                ws.send(self._answer(policy, frame))
        except ConnectionClosed:
            pass
        except Exception:
            log.exception("request from %s failed", ws.remote_address)
            _report(ws, traceback.format_exc())
        finally:
            close_policy(policy)

    def _answer(self, policy: Policy, frame: bytes | str) -> bytes | str:
        if isinstance(frame, str):
            raise RequestError("expected a binary msgpack frame, got text")
        request = unpack(frame)
        if not isinstance(request, dict):
            raise RequestError(f"expected a map, got {type(request).__name__}")
        if self.protocol == "roboarena":
            endpoint = request.pop("endpoint", None)
            if endpoint == "reset":
                policy.reset(seed=int(request.get("seed", 0)))
                return RESET_REPLY
            if endpoint != "infer":
                raise RequestError(f"unknown endpoint {endpoint!r}; expected 'infer' or 'reset'")
        obs = to_observation(request, self.meta.cameras)
        t0 = time.perf_counter()
        actions = np.asarray(policy.infer(obs))
        infer_ms = (time.perf_counter() - t0) * 1000
        if self.protocol == "roboarena":  # RoboArena executes every action it gets: send the horizon only
            return pack(actions[: self.meta.horizon] if actions.ndim == 2 else actions)
        return pack({"actions": actions, "server_timing": {"infer_ms": infer_ms}})


def _report(ws: ServerConnection, text: str) -> None:
    try:
        ws.send(text)
        ws.close(CloseCode.INTERNAL_ERROR, "Internal server error. Traceback included in previous frame.")
    except ConnectionClosed:
        pass


def to_observation(request: dict[str, Any], cameras: tuple[CameraSpec, ...]) -> Observation:
    """The arena observation for a client's request: every key it sent (arrays copied, since msgpack's are
    read-only), proprioception as float64 of DROID's sizes, each camera the policy asked for as (H, W, 3)
    uint8 at the policy's size (resized if the client sent another), and the prompt as a string."""
    obs: Observation = {k: np.array(v) if isinstance(v, np.ndarray) else v for k, v in request.items()}
    for key in STATE_KEYS:
        if key in request:
            obs[key] = _vector(request[key], key)
        elif key != "observation/cartesian_position":
            raise RequestError(f"the request has no {key}")
    for cam in cameras:
        if cam.key not in request:
            raise RequestError(f"the request has no {cam.key} (the policy asks for it)")
        obs[cam.key] = _image(request[cam.key], cam)
    obs["prompt"] = str(request.get("prompt", ""))
    return obs


def _vector(value: object, key: str) -> np.ndarray:
    arr = np.array(value, dtype=np.float64).reshape(-1)
    if arr.shape != (SIZES[key],):
        raise RequestError(f"{key} has {arr.size} values; expected {SIZES[key]}")
    return arr


def _image(value: object, cam: CameraSpec) -> np.ndarray:
    img = np.asarray(value)
    if img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] != 3:
        raise RequestError(f"{cam.key} is {img.dtype} {img.shape}; expected (H, W, 3) uint8")
    if img.shape[:2] != (cam.height, cam.width):
        return np.asarray(Image.fromarray(img).resize((cam.width, cam.height), Image.Resampling.BILINEAR))
    return img.copy()

