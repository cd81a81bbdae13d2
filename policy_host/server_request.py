"""A client's request to `arena policy-server`, turned into the arena observation a policy reads.

Clients differ in what they send: openpi's DROID client (examples/droid/main.py, also used by sim-evals)
sends no `observation/cartesian_position`, and RoboArena numbers exterior cameras from 0
(`observation/exterior_image_0_left`) where DROID and openpi number from 1. The server fills the pose from
the joint positions with the forward kinematics it was given, and maps either camera numbering onto the
keys the policy asked for.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
from PIL import Image

from policy_host.cartesian import POSE_KEY
from policy_host.wire import STATE_KEYS
from schemas.policy import CameraSpec, Observation

ForwardKinematics = Callable[[np.ndarray], np.ndarray]
"""Joint positions (the arm's: 7 on DROID's Franka) -> `observation/cartesian_position` (6,): xyz and extrinsic
XYZ Euler angles."""

JOINTS_KEY = "observation/joint_position"
SIZES = {JOINTS_KEY: 7, POSE_KEY: 6, "observation/gripper_position": 1}  # DROID's; the joints are the arm's
_EXTERIOR = re.compile(r"observation/exterior_image_(\d+)_(left|right)")


class RequestError(ValueError):
    """A client's request the server cannot turn into an observation; the message says why."""


def to_observation(request: dict[str, Any], cameras: tuple[CameraSpec, ...], *,
                   kinematics: ForwardKinematics | None = None, needs_pose: bool = False,
                   arm_joints: int = SIZES[JOINTS_KEY]) -> Observation:
    """The arena observation for a client's request: every key it sent (arrays copied, since msgpack's are
    read-only), proprioception as float64 of DROID's sizes, the cartesian pose computed from the joints when
    the request has none (with `kinematics`; without it, a request lacking the pose is refused only when
    `needs_pose`), each camera the policy asked for as (H, W, 3) uint8 at the policy's size, and the prompt.
    `arm_joints`: how many joint positions a request carries (DROID's Franka: 7; a server for a UR5e or WidowX
    policy: 6)."""
    sizes = {**SIZES, JOINTS_KEY: arm_joints}
    obs: Observation = {k: np.array(v) if isinstance(v, np.ndarray) else v for k, v in request.items()}
    for key in STATE_KEYS:
        if key in request:
            obs[key] = _vector(request[key], key, sizes[key])
        elif key != POSE_KEY:
            raise RequestError(f"the request has no {key}")
    if POSE_KEY not in obs:
        if kinematics is not None:
            obs[POSE_KEY] = _vector(kinematics(obs[JOINTS_KEY]), POSE_KEY, sizes[POSE_KEY])
        elif needs_pose:
            raise RequestError(f"the request has no {POSE_KEY}, which this policy needs (its end-effector steps "
                               "are sent as cartesian_position targets from it), and this server has no forward "
                               "kinematics to compute it from observation/joint_position")
    from_zero = any(isinstance(k, str) and k.startswith("observation/exterior_image_0_") for k in request)
    for cam in cameras:
        obs[cam.key] = _image(request[_source(request, cam.key, from_zero)], cam)
    obs["prompt"] = str(request.get("prompt", ""))
    return obs


def _source(request: dict[str, Any], key: str, from_zero: bool) -> str:
    """The request's key for the policy's camera `key`: the same key, or the exterior camera one number
    lower when the client numbers from 0 (it sent an observation/exterior_image_0_* key)."""
    match = _EXTERIOR.fullmatch(key)
    lower = f"observation/exterior_image_{int(match.group(1)) - 1}_{match.group(2)}" if match else key
    source = lower if from_zero else key
    if source not in request:
        also = f" (or {lower}, numbered from 0 as RoboArena does)" if source != lower else ""
        raise RequestError(f"the request has no {source}{also} (the policy asks for it)")
    return source


def _vector(value: object, key: str, size: int) -> np.ndarray:
    try:
        arr = np.array(value, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError) as exc:
        raise RequestError(f"{key} is not numbers") from exc
    if arr.shape != (size,):
        raise RequestError(f"{key} has {arr.size} values; expected {size}")
    return arr


def _image(value: object, cam: CameraSpec) -> np.ndarray:
    img = np.asarray(value)
    if img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] != 3:
        raise RequestError(f"{cam.key} is {img.dtype} {img.shape}; expected (H, W, 3) uint8")
    if img.shape[:2] != (cam.height, cam.width):
        return np.asarray(Image.fromarray(img).resize((cam.width, cam.height), Image.Resampling.BILINEAR))
    return img.copy()
