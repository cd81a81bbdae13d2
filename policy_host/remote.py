"""Remote policies: real VLAs served elsewhere, reached over openpi's or RoboArena's websocket protocol
(see policy_host/wire.py). Adding one to the arena is one registry entry:

    [[model]]
    name = "pi05-droid"
    kind = "remote-openpi"                  # or "remote-roboarena"
    organisation = "Physical Intelligence"
    licence = "Apache-2.0"
    latency_s = 0.2                         # simulated: the arena compares policies on one clock
    params = { url = "ws://gpu-box:8000", action_space = "joint_velocity", chunk_length = 15, action_horizon = 8 }

Every failure raises a PolicyError whose message names the URL for operators (api.worker shows voters
the message without it): RemotePolicyError when the server is unreachable, times out, disconnects or
reports an error; PolicyOutputError when it answers with something that is not an (n, dim) finite array.
"""

from __future__ import annotations

import os
import secrets
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

import numpy as np

from policy_host.cartesian import CARTESIAN_POSITION, POSE_KEY, targets_to_deltas
from policy_host.remote_link import Link
from policy_host.wire import (
    CLIENT_SPACES,
    EXTERIOR,
    EXTERIOR_FROM_0,
    SERVER_ERROR_PREFIX,
    STATE_KEYS,
    WRIST,
    Defaults,
    Served,
    WireError,
    WireProtocol,
    metadata_from_openpi,
    metadata_from_roboarena,
)
from schemas.errors import SERVER_SAID, PolicyOutputError, RemotePolicyError, ValidationError
from schemas.policy import CameraSpec, Observation, PolicyMetadata

DEFAULT_TIMEOUT_S = 10.0


class RemotePolicy(ABC):
    """A policy served elsewhere; the Policy port over a websocket. Use a dialect's subclass.

    Parameters (a registry entry's params): `url` ("ws://host:port") or `host` and `port`; `api_key`, or
    `api_key_env` naming an environment variable that holds it (sent as "Authorization: Api-Key ...");
    `timeout_s` for connecting and for each reply (default 10); `action_space`, `chunk_length`,
    `action_horizon`, `deterministic` for whatever the server's handshake does not state (openpi's DROID
    servers state nothing: they return (chunk, 8) joint velocities + gripper, i.e. "joint_velocity"; a
    "cartesian_position" server's targets are run as ee_delta steps from the pose the arena sent);
    openpi only: `cameras` (observation keys, default both DROID cameras) and `image_resolution`
    ([height, width], default [224, 224]). The connection opens on first use, and close() ends it.
    """

    protocol: ClassVar[WireProtocol]

    def __init__(self, url: str | None = None, *, host: str | None = None, port: int | None = None,
                 api_key: str | None = None, api_key_env: str | None = None, timeout_s: float = DEFAULT_TIMEOUT_S,
                 action_space: str | None = None, chunk_length: int = 1, action_horizon: int | None = None,
                 cameras: list[str] | None = None, image_resolution: list[int] | None = None,
                 deterministic: bool = False, latency_s: float = 0.0) -> None:
        self.url = _url(url, host, port)
        self.api_key = _api_key(api_key, api_key_env)
        if not timeout_s > 0:
            raise ValidationError("params.timeout_s", f"must be > 0, got {timeout_s}")
        self.timeout_s = float(timeout_s)
        height, width = image_resolution or (224, 224)
        self.defaults = Defaults(
            action_space=_action_space(action_space), chunk_length=chunk_length, action_horizon=action_horizon,
            cameras=tuple(CameraSpec(key=k, width=width, height=height)
                          for k in ([EXTERIOR, WRIST] if cameras is None else cameras)),
            latency_s=latency_s, deterministic=deterministic)
        self._link: Link | None = None
        self._served: Served | None = None

    @property
    def metadata(self) -> PolicyMetadata:
        return self._server().meta

    def _server(self) -> Served:
        if self._served is None:
            self._connected()
        assert self._served is not None
        return self._served

    @abstractmethod
    def reset(self, seed: int = 0) -> None:
        """Start an episode on the server (each protocol has its own way)."""

    def infer(self, obs: Observation) -> np.ndarray:
        link = self._connected()
        with self._closing_on_error():
            reply = link.decode(link.request(self._request(obs), "waiting for actions"), "actions")
            actions = self._actions(reply)
        if self._server().space == CARTESIAN_POSITION:  # absolute targets -> the arena's ee_delta steps
            if POSE_KEY not in obs:
                raise ValidationError(POSE_KEY, "needed to run a cartesian_position server's targets")
            actions = targets_to_deltas(actions, obs[POSE_KEY])
        return actions

    def close(self) -> None:
        """End the connection (the next call opens a new one)."""
        if self._link is not None:
            self._link.close()
            self._link = None

    # ---- shared machinery ------------------------------------------------------------------------------

    def _connected(self) -> Link:
        if self._link is None:
            link = Link(self.url, self.api_key, self.timeout_s)
            if self._served is None:
                try:
                    self._served = self._read_metadata(link.handshake)
                except WireError as exc:
                    link.close()
                    raise RemotePolicyError(self.url, str(exc)) from exc
            self._link = link
        return self._link

    @contextmanager
    def _closing_on_error(self) -> Iterator[None]:
        """After any failure the connection's state is unknown (a late reply may still arrive): drop it."""
        try:
            yield
        except BaseException:
            self.close()
            raise

    @abstractmethod
    def _read_metadata(self, handshake: dict[str, Any]) -> Served:
        """The policy's metadata from the server's first frame, registry params filling the gaps."""

    def _request(self, obs: Observation) -> dict[str, Any]:
        """The DROID keys the server expects: proprioception, the cameras it asked for, the prompt."""
        request = {k: obs[k] for k in STATE_KEYS if k in obs}
        for cam in self.metadata.cameras:
            request[cam.key] = obs[cam.key]
        request["prompt"] = str(obs.get("prompt", ""))
        return request

    def _actions(self, reply: Any) -> np.ndarray:
        """The reply's (n, dim) action chunk as float64, or PolicyOutputError naming what is wrong."""
        raw = reply.get("actions") if isinstance(reply, dict) else reply
        if raw is None:
            keys = sorted(map(str, reply)) if isinstance(reply, dict) else type(reply).__name__
            raise self._bad_output(f"sent a reply without an 'actions' array{SERVER_SAID}{keys}")
        try:
            arr = np.asarray(raw)
        except ValueError as exc:
            raise self._bad_output("returned actions that are not an array") from exc
        dim = self.metadata.action_space.dim
        if arr.dtype.kind not in "fiu":
            raise self._bad_output(f"returned actions of dtype {arr.dtype} (expected numbers)")
        if arr.ndim != 2 or arr.shape[0] < 1 or arr.shape[1] != dim:
            raise self._bad_output(f"returned actions of shape {arr.shape} (expected (n, {dim}))")
        if not np.all(np.isfinite(arr)):
            raise self._bad_output("returned actions containing NaN or inf")
        return arr.astype(np.float64)

    def _bad_output(self, what: str) -> PolicyOutputError:
        return PolicyOutputError(f"remote policy at {self.url}: {what}")


class OpenPiRemotePolicy(RemotePolicy):
    """A server speaking openpi's protocol (openpi's serve_policy.py, `arena policy-server`).

    openpi has no reset message: reset() opens a fresh connection once the current one has been used,
    so a server that keeps per-connection state (as `arena policy-server` does) starts each episode anew.
    The seed does not travel: a deterministic openpi server is reset with its own fixed seed.
    """

    protocol = "openpi"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._used = False

    def reset(self, seed: int = 0) -> None:
        if self._used:
            self.close()
        self._connected()
        self._used = False

    def infer(self, obs: Observation) -> np.ndarray:
        self._used = True
        return super().infer(obs)

    def _read_metadata(self, handshake: dict[str, Any]) -> Served:
        return metadata_from_openpi(handshake, self.defaults)


class RoboArenaRemotePolicy(RemotePolicy):
    """A server speaking RoboArena's protocol: its config (first frame) says which cameras at which
    resolution and which action space; requests carry "endpoint": "infer" or "reset". The arena's reset
    sends {"endpoint": "reset", "seed": seed} and waits for the server's text reply."""

    protocol = "roboarena"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._needs_session = False
        self._session = np.zeros(1, dtype=np.int32)

    def reset(self, seed: int = 0) -> None:
        link = self._connected()
        self._session = np.array([secrets.randbits(31)], dtype=np.int32)
        with self._closing_on_error():
            message: dict[str, Any] = {"endpoint": "reset", "seed": int(seed)}
            if self._needs_session:
                message["session_id"] = self._session
            reply = link.request(message, "waiting for the reset reply")
            if isinstance(reply, str) and reply.startswith(SERVER_ERROR_PREFIX):  # else e.g. "reset successful"
                raise RemotePolicyError(self.url, "reported an error on reset", detail=reply)

    def _read_metadata(self, handshake: dict[str, Any]) -> Served:
        self._needs_session = bool(handshake.get("needs_session_id", False))
        return metadata_from_roboarena(handshake, self.defaults)

    def _request(self, obs: Observation) -> dict[str, Any]:
        request = super()._request(obs)
        request["endpoint"] = "infer"
        if EXTERIOR in request:  # RoboArena numbers exterior cameras from 0, DROID from 1: send both names
            request[EXTERIOR_FROM_0] = request[EXTERIOR]
        if self._needs_session:
            request["session_id"] = self._session
        return request


def _url(url: str | None, host: str | None, port: int | None) -> str:
    if url is None:
        if host is None:
            raise ValidationError("params.url", "give url (ws://host:port) or host and port")
        url = host if host.startswith(("ws://", "wss://")) else f"ws://{host}"
        url += f":{port}" if port is not None else ""
    if not url.startswith(("ws://", "wss://")):
        raise ValidationError("params.url", f"must start with ws:// or wss://, got {url!r}")
    return url


def _api_key(api_key: str | None, env: str | None) -> str | None:
    if env is None:
        return api_key
    if env not in os.environ:
        raise ValidationError("params.api_key_env", f"environment variable {env} is not set")
    return os.environ[env]


def _action_space(value: str | None) -> str | None:
    if value is not None and value not in CLIENT_SPACES:
        raise ValidationError("params.action_space", f"unknown {value!r}; known: {sorted(CLIENT_SPACES)}")
    return value
