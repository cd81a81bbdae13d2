"""Convert a policy's declared action space into actuator commands (data.ctrl)."""

from __future__ import annotations

import mujoco
import numpy as np

from schemas.errors import PolicyOutputError
from schemas.policy import ActionSpace
from sim_engine.kinematics import IKSolver, axis_angle_matrix
from sim_engine.scene import TABLE_TOP
from sim_engine.world import World

MAX_TRANSLATION = 0.08  # m per control step (ee_delta)
MAX_ROTATION = 0.5  # rad per control step (ee_delta)
MAX_JOINT_VELOCITY = 2.5  # rad/s (joint_velocity)
WORKSPACE_LOW = np.array([0.1, -0.55, TABLE_TOP + 0.045])  # site ~5 cm above the fingertips
WORKSPACE_HIGH = np.array([0.85, 0.55, TABLE_TOP + 0.6])


class ActionAdapter:
    """Keeps the commanded joint (and, for ee_delta, end-effector) targets between control steps."""

    def __init__(self, world: World, space: ActionSpace, data: mujoco.MjData, control_dt: float) -> None:
        self.world, self.space, self.dt = world, space, control_dt
        self.joint_target = data.qpos[world.arm_qpos].copy()
        self.ik = IKSolver(world) if space is ActionSpace.EE_DELTA else None
        self.ee_pos, self.ee_mat = world.ee_pos(data), world.ee_mat(data)
        m = world.model
        self.lower, self.upper = m.actuator_ctrlrange[world.arm_act].T
        self.n_arm = len(world.arm_act)  # 7 on the Franka; a 6-joint arm ignores a joint action's 7th value

    def validate(self, chunk: object) -> np.ndarray:
        """Check a policy's output; raise PolicyOutputError naming what is wrong."""
        arr = np.asarray(chunk, dtype=np.float64)
        if arr.ndim == 1:
            arr = arr[None, :]
        if arr.ndim != 2 or arr.shape[1] != self.space.dim or arr.shape[0] == 0:
            raise PolicyOutputError(f"action chunk has shape {np.shape(arr)}; "
                                    f"expected (n, {self.space.dim}) for {self.space.value}")
        if not np.all(np.isfinite(arr)):
            raise PolicyOutputError("action chunk contains NaN or inf")
        return arr

    def apply(self, action: np.ndarray, data: mujoco.MjData) -> None:
        if self.space is ActionSpace.JOINT_POSITION:
            self.joint_target = action[: self.n_arm].copy()
        elif self.space is ActionSpace.JOINT_VELOCITY:
            vel = np.clip(action[: self.n_arm], -MAX_JOINT_VELOCITY, MAX_JOINT_VELOCITY)
            self.joint_target = self.joint_target + vel * self.dt
        else:
            self._apply_ee_delta(action)
        self.joint_target = np.clip(self.joint_target, self.lower, self.upper)
        data.ctrl[self.world.arm_act] = self.joint_target
        closure = float(np.clip(action[-1], 0.0, 1.0))
        data.ctrl[self.world.finger_act] = self.world.finger_command(closure)

    def _apply_ee_delta(self, action: np.ndarray) -> None:
        assert self.ik is not None
        move = action[:3]
        norm = float(np.linalg.norm(move))
        if norm > MAX_TRANSLATION:
            move = move * (MAX_TRANSLATION / norm)
        self.ee_pos = np.clip(self.ee_pos + move, WORKSPACE_LOW, WORKSPACE_HIGH)
        rot = action[3:6]
        angle = float(np.linalg.norm(rot))
        if angle > MAX_ROTATION:
            rot = rot * (MAX_ROTATION / angle)
        self.ee_mat = axis_angle_matrix(rot) @ self.ee_mat
        self.joint_target = self.ik.solve(self.joint_target, self.ee_pos, self.ee_mat)
