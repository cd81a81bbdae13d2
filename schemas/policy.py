"""The policy contract shared by the simulator (which calls policies) and the
policy host (which implements and loads them).

It lives in `schemas` so that `sim_engine` and `policy_host` both depend on it
without depending on each other.
"""

from __future__ import annotations

import enum
import inspect
from typing import Any, Protocol, runtime_checkable

import msgspec
import numpy as np


class ActionSpace(enum.StrEnum):
    """How an action vector is turned into actuator commands (see sim_engine.actions).

    Every space ends with one gripper value in [0, 1] (0 open, 1 closed, as DROID).
    - JOINT_POSITION: 7 absolute joint targets (rad) + gripper -> 8
    - JOINT_VELOCITY: 7 joint velocities (rad/s), integrated over the control period + gripper -> 8
    - EE_DELTA: end-effector delta [dx, dy, dz] (m) and [rx, ry, rz] (axis-angle, rad) in the world frame,
      relative to the previously commanded end-effector target, + gripper -> 7
    """

    JOINT_POSITION = "joint_position"
    JOINT_VELOCITY = "joint_velocity"
    EE_DELTA = "ee_delta"

    @property
    def dim(self) -> int:
        return 7 if self is ActionSpace.EE_DELTA else 8


class CameraSpec(msgspec.Struct, frozen=True, kw_only=True):
    """A camera a policy wants, by its DROID observation key."""

    key: str  # "observation/exterior_image_1_left" | "observation/wrist_image_left"
    width: int = 224
    height: int = 224


class PolicyMetadata(msgspec.Struct, frozen=True, kw_only=True):
    action_space: ActionSpace
    chunk_length: int = 1  # actions per inference
    action_horizon: int | None = None  # actions executed before re-planning (default: the whole chunk)
    latency_s: float = 0.0  # simulated inference latency: the previous action is held this long
    cameras: tuple[CameraSpec, ...] = ()
    privileged: bool = False  # receives privileged/* keys (true object poses); scripted baselines only
    deterministic: bool = False  # claims: same reset seed + same observations -> identical chunks (check_policy)

    @property
    def horizon(self) -> int:
        return self.action_horizon or self.chunk_length


Observation = dict[str, Any]
"""DROID/RoboArena keys: observation/joint_position (7,), observation/gripper_position (1,),
observation/exterior_image_1_left and observation/wrist_image_left (H, W, 3 uint8, only when asked for),
prompt (str); privileged/* for privileged policies."""


@runtime_checkable
class Policy(Protocol):
    """The port every policy implements, local or remote."""

    @property
    def metadata(self) -> PolicyMetadata: ...

    def reset(self, seed: int = 0) -> None:
        """Start a new episode; any randomness is drawn from `seed` so episodes replay exactly."""

    def infer(self, obs: Observation) -> np.ndarray:
        """Return an action chunk, float64 of shape (chunk_length, action_space.dim)."""


def implements_policy(obj: object) -> bool:
    """Whether `obj` has the Policy port's members, without evaluating them: `isinstance(obj, Policy)`
    reads `metadata` on Python 3.11, which for a remote policy opens a connection (and may raise)."""
    try:
        for name in ("metadata", "reset", "infer"):
            inspect.getattr_static(obj, name)
    except AttributeError:
        return False
    return callable(getattr(obj, "reset", None)) and callable(getattr(obj, "infer", None))


def close_policy(policy: object) -> None:
    """Release what a policy holds (a remote policy's connection). `close()` is optional in the port:
    whoever builds a policy calls this when done with it."""
    close = getattr(policy, "close", None)
    if callable(close):
        close()
