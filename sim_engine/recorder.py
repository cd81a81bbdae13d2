"""Fixed-rate frame recording of an episode, and its replay header."""

from __future__ import annotations

import mujoco
import numpy as np

from replay_format import ActuatorInfo, JointInfo, ReplayHeader
from sim_engine.world import World

JOINT_TYPES = {0: "free", 1: "ball", 2: "slide", 3: "hinge"}


class Recorder:
    """Preallocated per-frame and per-step arrays; `frames()`/`steps()` return the filled part."""

    def __init__(self, world: World, max_steps: int, frames_per_step: int, action_dim: int) -> None:
        m = world.model
        n = max_steps * frames_per_step + 1
        self.time = np.zeros(n)
        self.qpos = np.zeros((n, m.nq))
        self.qvel = np.zeros((n, m.nv))
        self.ctrl = np.zeros((n, m.nu))
        self.action = np.full((max_steps, action_dim), np.nan)
        self.progress = np.full(max_steps, np.nan)
        self.n_frames = 0
        self.step_frames: list[int] = []

    def frame(self, data: mujoco.MjData) -> int:
        i = self.n_frames
        self.time[i] = data.time
        self.qpos[i] = data.qpos
        self.qvel[i] = data.qvel
        self.ctrl[i] = data.ctrl
        self.n_frames += 1
        return i

    def begin_step(self) -> None:
        """Mark the frame most recently recorded as the start of the next control step."""
        self.step_frames.append(self.n_frames - 1)

    def end_step(self, step: int, action: np.ndarray | None, progress: float | None) -> None:
        if action is not None:
            self.action[step] = action
        if progress is not None:
            self.progress[step] = progress

    def frames(self) -> dict[str, np.ndarray]:
        n = self.n_frames
        return {"time": self.time[:n], "qpos": self.qpos[:n], "qvel": self.qvel[:n], "ctrl": self.ctrl[:n]}

    def steps(self) -> dict[str, np.ndarray]:
        s = len(self.step_frames)
        return {"action": self.action[:s], "progress": self.progress[:s]}


def make_header(world: World, *, frame_rate: float, control_rate: float, action_space: str,
                action_dim: int, step_frames: list[int], metadata: dict) -> ReplayHeader:
    m = world.model
    joints = [
        JointInfo(name=mujoco.mj_id2name(m, mujoco.mjtObj.mjOBJ_JOINT, j) or f"joint{j}",
                  type=JOINT_TYPES[int(m.jnt_type[j])], qpos_adr=int(m.jnt_qposadr[j]),
                  dof_adr=int(m.jnt_dofadr[j]))
        for j in range(m.njnt)
    ]
    actuators = [
        ActuatorInfo(name=mujoco.mj_id2name(m, mujoco.mjtObj.mjOBJ_ACTUATOR, a) or f"actuator{a}",
                     joint=mujoco.mj_id2name(m, mujoco.mjtObj.mjOBJ_JOINT, int(m.actuator_trnid[a, 0])))
        for a in range(m.nu)
    ]
    return ReplayHeader(
        mujoco_version=mujoco.__version__, bundle_hash=world.bundle.content_hash,
        robot_id=world.robot.id, scene_id=world.scene.id, nq=m.nq, nv=m.nv, nu=m.nu,
        timestep=float(m.opt.timestep), frame_rate=frame_rate, control_rate=control_rate,
        joints=joints, actuators=actuators, action_space=action_space, action_dim=action_dim,
        step_frames=list(step_frames), metadata=metadata,
    )
