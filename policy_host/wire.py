"""The two websocket dialects remote policies speak, shared by the client (remote.py) and the server
(server.py). Both frame every message as msgpack with openpi-client's numpy extension.

openpi (openpi-client's WebsocketClientPolicy, openpi's serve_policy.py):
    server -> client  metadata map, once, right after the websocket opens (DROID servers send {})
    client -> server  observation map: observation/..., prompt
    server -> client  {"actions": (n, dim) array, ...}; on failure a text frame (a traceback), then close 1011
    There is no reset message: the arena opens a new connection for each episode.

RoboArena (roboarena/policy_server.py):
    server -> client  the server config, once: image_resolution, needs_wrist_camera, n_external_cameras,
                      needs_stereo_camera, needs_session_id, action_space
    client -> server  {"endpoint": "reset", ...}  answered by a text frame ("reset successful")
    client -> server  {"endpoint": "infer", observation/..., prompt}  answered by the (n, 8) action array
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import msgspec
from openpi_client import msgpack_numpy

from schemas.policy import ActionSpace, CameraSpec, PolicyMetadata

WireProtocol = Literal["openpi", "roboarena"]
PROTOCOLS: tuple[WireProtocol, ...] = ("openpi", "roboarena")

EXTERIOR = "observation/exterior_image_1_left"
WRIST = "observation/wrist_image_left"
STATE_KEYS = ("observation/joint_position", "observation/cartesian_position", "observation/gripper_position")
RESET_REPLY = "reset successful"
DEFAULT_RESOLUTION = (224, 224)  # (height, width): DROID policies' input size
SERVER_ERROR_PREFIX = "Traceback"  # how a server's error text frame starts (openpi and RoboArena send format_exc())

pack: Callable[[Any], bytes] = msgpack_numpy.packb
unpack: Callable[[bytes], Any] = msgpack_numpy.unpackb


class WireError(ValueError):
    """A handshake message the arena cannot use; the message says which field and why."""


# ---- what our server announces ----------------------------------------------------------------------

def openpi_metadata(meta: PolicyMetadata) -> dict[str, Any]:
    """The handshake map `arena policy-server` sends in the openpi dialect: the arena's own metadata,
    which the arena's client reads back (other openpi clients ignore what they do not know)."""
    out: dict[str, Any] = {"server": "vla-arena", "action_space": meta.action_space.value,
                           "action_dim": meta.action_space.dim, "chunk_length": meta.chunk_length,
                           "cameras": [msgspec.to_builtins(c) for c in meta.cameras],
                           "deterministic": meta.deterministic}
    if meta.action_horizon is not None:
        out["action_horizon"] = meta.action_horizon
    return out


def roboarena_config(meta: PolicyMetadata) -> dict[str, Any]:
    """The RoboArena server config for a policy: exactly RoboArena's PolicyServerConfig fields."""
    keys = {c.key for c in meta.cameras}
    sizes = {(c.height, c.width) for c in meta.cameras}
    if len(sizes) > 1:
        raise WireError(f"RoboArena sends every camera at one resolution; the policy asks for {sorted(sizes)}")
    return {"image_resolution": list(sizes.pop()) if sizes else None, "needs_wrist_camera": WRIST in keys,
            "n_external_cameras": int(EXTERIOR in keys), "needs_stereo_camera": False, "needs_session_id": False,
            "action_space": meta.action_space.value}


# ---- what our client makes of a server's handshake ---------------------------------------------------

class Defaults(msgspec.Struct, frozen=True, kw_only=True):
    """What a registry entry says about a remote policy, for whatever the server's handshake leaves out."""

    action_space: ActionSpace | None = None
    chunk_length: int = 1
    action_horizon: int | None = None
    cameras: tuple[CameraSpec, ...] = ()
    latency_s: float = 0.0
    deterministic: bool = False


def metadata_from_openpi(server: dict[str, Any], d: Defaults) -> PolicyMetadata:
    """PolicyMetadata from an openpi handshake map; the server's values win over the registry's."""
    try:
        cameras = tuple(msgspec.convert(server["cameras"], list[CameraSpec])) if "cameras" in server else d.cameras
        return _metadata(server.get("action_space"), d, cameras=cameras,
                         chunk_length=int(server.get("chunk_length", d.chunk_length)),
                         action_horizon=server.get("action_horizon", d.action_horizon),
                         deterministic=bool(server.get("deterministic", d.deterministic)))
    except (msgspec.ValidationError, TypeError, ValueError) as exc:
        raise WireError(f"unusable metadata: {exc}") from exc


def metadata_from_roboarena(config: dict[str, Any], d: Defaults) -> PolicyMetadata:
    """PolicyMetadata from a RoboArena server config (cameras, resolution and action space)."""
    if config.get("needs_stereo_camera"):
        raise WireError("the server needs stereo cameras; the arena renders left images only")
    n_external = int(config.get("n_external_cameras", 1))
    if n_external not in (0, 1):
        raise WireError(f"the server needs {n_external} external cameras; the arena renders one")
    res = config.get("image_resolution") or DEFAULT_RESOLUTION  # None (no resizing): the arena's default size
    try:
        height, width = (int(v) for v in res)
    except (TypeError, ValueError) as exc:
        raise WireError(f"unusable image_resolution {res!r}") from exc
    keys = [EXTERIOR] * n_external + [WRIST] * bool(config.get("needs_wrist_camera", True))
    cameras = tuple(CameraSpec(key=k, width=width, height=height) for k in keys)
    return _metadata(config.get("action_space"), d, cameras=cameras, chunk_length=d.chunk_length,
                     action_horizon=d.action_horizon, deterministic=d.deterministic)


def _metadata(space: object, d: Defaults, **fields: Any) -> PolicyMetadata:
    if space is None and d.action_space is None:
        raise WireError("the server states no action space: set params.action_space in the registry entry")
    try:
        action_space = d.action_space if space is None else ActionSpace(str(space))
    except ValueError as exc:
        raise WireError(f"unknown action space {space!r}; known: {[s.value for s in ActionSpace]}") from exc
    assert action_space is not None
    meta = PolicyMetadata(action_space=action_space, latency_s=d.latency_s, **fields)
    if meta.chunk_length < 1 or not 1 <= meta.horizon <= meta.chunk_length:
        raise WireError(f"chunk_length {meta.chunk_length} / action_horizon {meta.action_horizon} are inconsistent")
    return meta
