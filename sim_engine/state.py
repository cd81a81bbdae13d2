"""Episode start states: continue from where a previous episode ended, restored exactly.

A turn that continues a battle starts each side from the last frame of its previous trajectory instead of
the seed's layout. Frames record qpos, qvel and ctrl (the arena's models have no actuator activations),
so restoring them reproduces the state bit for bit: the new episode's frame 0 equals the old last frame.
The replay header's `metadata["initial_state"]` says where frame 0 came from, and `initial_state_of`
reads it back, so any episode can be re-run from its own file to identical bytes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import mujoco
import numpy as np

from replay_format import Replay, decode_replay
from schemas.errors import ValidationError
from sim_engine.world import World

RESET: dict[str, Any] = {"source": "reset"}


@dataclass(frozen=True, eq=False)
class InitialState:
    """The state an episode starts from instead of the seed's layout.

    `ctrl` (the actuator targets held until the policy's first action takes effect) defaults to holding the
    joints where they are; `act` is for models with actuator activations (none of the arena's have any).
    `bundle_hash`, when given, must match the episode's model. `source` goes into the replay header as
    `metadata["initial_state"]`."""

    qpos: np.ndarray
    qvel: np.ndarray
    ctrl: np.ndarray | None = None
    act: np.ndarray | None = None
    bundle_hash: str | None = None
    source: dict[str, Any] = field(default_factory=lambda: {"source": "continue"})


def final_state(trajectory: bytes | Replay, *, trajectory_sha256: str | None = None,
                episode_id: str | None = None) -> InitialState:
    """The last frame of a trajectory (`.vlar` bytes or a decoded Replay), to continue from. The source
    records the file's sha256 (computed from bytes, or passed), the frame index and, if given, the episode."""
    if not isinstance(trajectory, Replay):
        trajectory_sha256 = trajectory_sha256 or hashlib.sha256(trajectory).hexdigest()
        trajectory = decode_replay(trajectory)
    last = trajectory.n_frames - 1
    source: dict[str, Any] = {"source": "continue", "from_trajectory_sha256": trajectory_sha256, "from_frame": last}
    if episode_id is not None:
        source["from_episode_id"] = episode_id
    return _frame_state(trajectory, last, source)


def reset_state(world: World, seed: int) -> InitialState:
    """The seed's layout as a state: a reset episode's frame 0, bit for bit, without running it (e.g. to
    show the starting scene the moment a turn is created). Starting from it equals starting from a reset."""
    data = mujoco.MjData(world.model)
    world.reset(data, seed)
    return InitialState(qpos=data.qpos.copy(), qvel=data.qvel.copy(), ctrl=data.ctrl.copy(),
                        bundle_hash=world.bundle.content_hash, source=dict(RESET))


def initial_state_of(replay: Replay) -> InitialState:
    """Frame 0 of a replay with the source its header recorded: re-running the episode's spec and policy
    from it reproduces the file (a reset episode too: restoring its frame 0 equals the seeded reset)."""
    return _frame_state(replay, 0, dict(replay.header.metadata.get("initial_state", RESET)))


def _frame_state(replay: Replay, i: int, source: dict[str, Any]) -> InitialState:
    f = replay.frames
    return InitialState(qpos=f["qpos"][i].copy(), qvel=f["qvel"][i].copy(), ctrl=f["ctrl"][i].copy(),
                        bundle_hash=replay.header.bundle_hash, source=source)


def restore(world: World, data: mujoco.MjData, state: InitialState) -> None:
    """Put `state` into `data` exactly (after checking it fits the model) and compute derived quantities."""
    m = world.model
    if state.bundle_hash is not None and state.bundle_hash != world.bundle.content_hash:
        raise ValidationError("initial_state", f"was recorded with another model than {world.robot.id} "
                                               f"in scene {world.scene.id}; reset the scene instead")
    qpos = _vector(state.qpos, m.nq, "initial_state.qpos", world)
    qvel = _vector(state.qvel, m.nv, "initial_state.qvel", world)
    ctrl = None if state.ctrl is None else _vector(state.ctrl, m.nu, "initial_state.ctrl", world)
    act = None if state.act is None else _vector(state.act, m.na, "initial_state.act", world)
    mujoco.mj_resetData(m, data)
    data.qpos[:] = qpos
    data.qvel[:] = qvel
    if ctrl is not None:
        data.ctrl[:] = ctrl
    else:  # hold the joints where they are
        data.ctrl[world.arm_act] = qpos[world.arm_qpos]
        data.ctrl[world.finger_act] = float(np.mean(qpos[world.finger_qpos]))
    if act is not None:
        data.act[:] = act
    mujoco.mj_forward(m, data)


def _vector(value: object, n: int, name: str, world: World) -> np.ndarray:
    arr = np.asarray(value, dtype=np.float64)
    if arr.shape != (n,):
        raise ValidationError(name, f"has shape {arr.shape}; {world.robot.id} in scene {world.scene.id} "
                                    f"needs {n} values")
    if not np.all(np.isfinite(arr)):
        raise ValidationError(name, "contains NaN or inf")
    return arr
