"""Serve any arena policy over openpi's or RoboArena's websocket protocol (`arena policy-server`), so that
outside evaluators (openpi-client's WebsocketClientPolicy, RoboArena's client) and other arenas can call it.

Each connection gets its own policy instance (one episode's state never leaks into another's); what it
does with each request (rollout resets, replies, action spaces) is policy_host/server_session.py, how a
request becomes an observation is policy_host/server_request.py. Action spaces are announced as DROID's
(an ee_delta policy as cartesian_position), never one RoboArena does not know. A request the server cannot
use, or a policy that raises, is answered as openpi and RoboArena do: a text frame with the traceback, then
close code 1011. Privileged policies (they read the simulator's true object poses, which no remote client
can send) are refused.
"""

from __future__ import annotations

import http
import logging
import threading
import traceback
from collections.abc import Callable
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.frames import CloseCode
from websockets.http11 import Request, Response
from websockets.sync.server import Server, ServerConnection, serve

from policy_host.server_request import ForwardKinematics
from policy_host.server_session import Session
from policy_host.wire import PROTOCOLS, WireError, WireProtocol, openpi_metadata, pack, roboarena_config
from schemas.errors import ValidationError
from schemas.policy import Policy, PolicyMetadata, close_policy

log = logging.getLogger("arena.policy_server")


class PolicyServer:
    """Serves `factory()`'s policies on ws://host:port (port 0: any free port, see `.port`).

    `serve_forever()` blocks; `shutdown()` (from another thread) stops it. As a context manager it
    serves from a background thread. `api_key`, when set, is required as "Authorization: Api-Key ...".
    `kinematics` computes `observation/cartesian_position` from the joint positions for requests without
    it (the CLI passes the robot's forward kinematics; policy_host never imports the simulator).
    `arm_joints`: the joint positions a request carries (7, DROID's Franka, unless the robot has another arm).
    """

    def __init__(self, factory: Callable[[], Policy], *, protocol: WireProtocol = "openpi",
                 host: str = "127.0.0.1", port: int = 0, api_key: str | None = None,
                 kinematics: ForwardKinematics | None = None, arm_joints: int = 7) -> None:
        if protocol not in PROTOCOLS:
            raise ValidationError("protocol", f"unknown {protocol!r}; known: {list(PROTOCOLS)}")
        self.factory, self.protocol, self.api_key, self.kinematics = factory, protocol, api_key, kinematics
        self.arm_joints = arm_joints
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
            session = Session(policy, self.protocol, self.kinematics, self.arm_joints)
            ws.send(pack(self.handshake))
            for frame in ws:
                ws.send(session.answer(frame))
        except ConnectionClosed:
            pass
        except Exception:
            log.exception("request from %s failed", ws.remote_address)
            _report(ws, traceback.format_exc())
        finally:
            close_policy(policy)


def _report(ws: ServerConnection, text: str) -> None:
    try:
        ws.send(text)
        ws.close(CloseCode.INTERNAL_ERROR, "Internal server error. Traceback included in previous frame.")
    except ConnectionClosed:
        pass
