"""The two websocket dialects remote policies speak, shared by the client (remote.py) and the server
(server.py). Both frame every message as msgpack with openpi-client's numpy extension.

openpi (openpi-client's WebsocketClientPolicy, openpi's serve_policy.py):
    server -> client  metadata map, once, right after the websocket opens (DROID servers send {})
    client -> server  observation map: observation/..., prompt
    server -> client  {"actions": (n, dim) array, ...}; on failure a text frame (a traceback), then close 1011
    There is no reset message: the arena's client opens a new connection for each episode, and the arena's
    server resets its policy when the prompt changes.

RoboArena (roboarena/policy_server.py, roboarena/policy.py):
    server -> client  the server config, once: image_resolution, needs_wrist_camera, n_external_cameras,
                      needs_stereo_camera, needs_session_id, action_space (cartesian.WIRE_SPACES)
    client -> server  {"endpoint": "reset", ...}  answered by a text frame ("reset successful")
    client -> server  {"endpoint": "infer", observation/..., prompt[, session_id]}  answered by
                      {"actions": (n, dim) array}; older servers sent the bare array (the arena's client
                      accepts both). Exterior cameras are numbered from 0 (observation/exterior_image_0_left)
                      where DROID and openpi number from 1; the arena reads and sends both.

Action spaces on the wire are DROID's (policy_host/cartesian.py): an ee_delta policy is served as
cartesian_position targets; the arena's client also reads `ee_delta` from an older arena server.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import msgspec
from openpi_client import msgpack_numpy

from policy_host.cartesian import CARTESIAN_POSITION, wire_dim, wire_space
from schemas.policy import ActionSpace, CameraSpec, PolicyMetadata

WireProtocol = Literal["openpi", "roboarena"]
PROTOCOLS: tuple[WireProtocol, ...] = ("openpi", "roboarena")

EXTERIOR = "observation/exterior_image_1_left"
EXTERIOR_FROM_0 = "observation/exterior_image_0_left"  # RoboArena's numbering of the same camera
WRIST = "observation/wrist_image_left"
STATE_KEYS = ("observation/joint_position", "observation/cartesian_position", "observation/gripper_position")
RESET_REPLY = "reset successful"
DEFAULT_RESOLUTION = (224, 224)  # (height, width): DROID policies' input size
SERVER_ERROR_PREFIX = "Traceback"  # how a server's error text frame starts (openpi and RoboArena send format_exc())
# What the arena's client can run: DROID's spaces but cartesian_velocity, and its own ee_delta.
CLIENT_SPACES: dict[str, ActionSpace] = {"joint_position": ActionSpace.JOINT_POSITION,
                                         "joint_velocity": ActionSpace.JOINT_VELOCITY,
                                         CARTESIAN_POSITION: ActionSpace.EE_DELTA, "ee_delta": ActionSpace.EE_DELTA}

pack: Callable[[Any], bytes] = msgpack_numpy.packb
unpack: Callable[[bytes], Any] = msgpack_numpy.unpackb


class WireError(ValueError):
    """A handshake message the arena cannot use; the message says which field and why."""


# ---- what our server announces ----------------------------------------------------------------------

def openpi_metadata(meta: PolicyMetadata) -> dict[str, Any]:
    """The handshake map `arena policy-server` sends in the openpi dialect: the policy's metadata with its
    action space as served on the wire (other openpi clients ignore what they do not know)."""
    space = wire_space(meta.action_space)
    out: dict[str, Any] = {"server": "vla-arena", "action_space": space, "action_dim": wire_dim(space),
                           "chunk_length": meta.chunk_length,
                           "cameras": [msgspec.to_builtins(c) for c in meta.cameras],
                           "deterministic": meta.deterministic}
    if meta.action_horizon is not None:
        out["action_horizon"] = meta.action_horizon
    return out


def roboarena_config(meta: PolicyMetadata) -> dict[str, Any]:
    """The RoboArena server config for a policy: exactly RoboArena's PolicyServerConfig fields. It asks for
    the session id, so that a new rollout resets the policy even without a reset call."""
    keys = {c.key for c in meta.cameras}
    sizes = {(c.height, c.width) for c in meta.cameras}
    if len(sizes) > 1:
        raise WireError(f"RoboArena sends every camera at one resolution; the policy asks for {sorted(sizes)}")
    return {"image_resolution": list(sizes.pop()) if sizes else None, "needs_wrist_camera": WRIST in keys,
            "n_external_cameras": int(EXTERIOR in keys), "needs_stereo_camera": False, "needs_session_id": True,
            "action_space": wire_space(meta.action_space)}


# ---- what our client makes of a server's handshake ---------------------------------------------------

class Defaults(msgspec.Struct, frozen=True, kw_only=True):
    """What a registry entry says about a remote policy, for whatever the server's handshake leaves out.
    `action_space` is a name on the wire (a key of CLIENT_SPACES)."""

    action_space: str | None = None
    chunk_length: int = 1
    action_horizon: int | None = None
    cameras: tuple[CameraSpec, ...] = ()
    latency_s: float = 0.0
    deterministic: bool = False


class Served(msgspec.Struct, frozen=True, kw_only=True):
    """A remote policy as the arena runs it (`meta`) and the action space its server speaks (`space`)."""

    meta: PolicyMetadata
    space: str


def client_space(name: object) -> ActionSpace:
    """The arena action space that runs a server's action space, or WireError naming what is known."""
    if name == "cartesian_velocity":
        raise WireError("the server's action space cartesian_velocity has no fixed scale; the arena runs "
                        f"{sorted(CLIENT_SPACES)}")
    if name not in CLIENT_SPACES:
        raise WireError(f"unknown action space {name!r}; known: {sorted(CLIENT_SPACES)}")
    return CLIENT_SPACES[str(name)]


def metadata_from_openpi(server: dict[str, Any], d: Defaults) -> Served:
    """The policy from an openpi handshake map; the server's values win over the registry's."""
    try:
        cameras = tuple(msgspec.convert(server["cameras"], list[CameraSpec])) if "cameras" in server else d.cameras
        return _served(server.get("action_space"), d, cameras=cameras,
                       chunk_length=int(server.get("chunk_length", d.chunk_length)),
                       action_horizon=server.get("action_horizon", d.action_horizon),
                       deterministic=bool(server.get("deterministic", d.deterministic)))
    except WireError:
        raise
    except (msgspec.ValidationError, TypeError, ValueError) as exc:
        raise WireError(f"unusable metadata: {exc}") from exc


def metadata_from_roboarena(config: dict[str, Any], d: Defaults) -> Served:
    """The policy from a RoboArena server config (cameras, resolution and action space)."""
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
    return _served(config.get("action_space"), d, cameras=cameras, chunk_length=d.chunk_length,
                   action_horizon=d.action_horizon, deterministic=d.deterministic)


def _served(space: object, d: Defaults, **fields: Any) -> Served:
    name = d.action_space if space is None else space
    if name is None:
        raise WireError("the server states no action space: set params.action_space in the registry entry")
    meta = PolicyMetadata(action_space=client_space(name), latency_s=d.latency_s, **fields)
    if meta.chunk_length < 1 or not 1 <= meta.horizon <= meta.chunk_length:
        raise WireError(f"chunk_length {meta.chunk_length} / action_horizon {meta.action_horizon} are inconsistent")
    return Served(meta=meta, space=str(name))

