"""Inverse kinematics for the end-effector site: damped least squares with a posture bias.

Runs on a scratch MjData (kinematics only), never on the live simulation state, so calling it
does not perturb an episode. Deterministic: same inputs, same joint angles.
"""

from __future__ import annotations

import mujoco
import numpy as np

from sim_engine.world import World

DAMPING = 0.02
POSTURE_GAIN = 0.05
MAX_STEP = 0.2  # rad per iteration


def rotation_error(target: np.ndarray, current: np.ndarray) -> np.ndarray:
    """Axis-angle vector (world frame) that rotates `current` onto `target` (3x3 matrices)."""
    quat = np.empty(4)
    mujoco.mju_mat2Quat(quat, (target @ current.T).ravel())
    vel = np.empty(3)
    mujoco.mju_quat2Vel(vel, quat, 1.0)
    return vel


def axis_angle_matrix(vec: np.ndarray) -> np.ndarray:
    """Rotation matrix of an axis-angle vector."""
    quat = np.empty(4)
    angle = float(np.linalg.norm(vec))
    axis = vec / angle if angle > 1e-12 else np.array([1.0, 0.0, 0.0])
    mujoco.mju_axisAngle2Quat(quat, axis, angle)
    mat = np.empty(9)
    mujoco.mju_quat2Mat(mat, quat)
    return mat.reshape(3, 3)


class IKSolver:
    """Joint targets that put the end-effector site at a pose. One solver per episode (not thread-safe)."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.data = mujoco.MjData(world.model)
        m = world.model
        joint_ids = [m.dof_jntid[d] for d in world.arm_dof]
        self.lower = m.jnt_range[joint_ids, 0] + 1e-3
        self.upper = m.jnt_range[joint_ids, 1] - 1e-3
        self.home = np.asarray(world.robot.home)
        self._jacp = np.zeros((3, m.nv))
        self._jacr = np.zeros((3, m.nv))
        self._eye6 = np.eye(6)

    def forward(self, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """End-effector position and rotation matrix at arm angles `q`."""
        self._set(q)
        return self.world.ee_pos(self.data), self.world.ee_mat(self.data)

    def solve(self, q0: np.ndarray, pos: np.ndarray, mat: np.ndarray, iters: int = 30,
              tol: float = 1e-4) -> np.ndarray:
        q = np.clip(np.asarray(q0, dtype=np.float64), self.lower, self.upper)
        for _ in range(iters):
            x, r = self.forward(q)
            err = np.concatenate([pos - x, rotation_error(mat, r)])
            if np.linalg.norm(err[:3]) < tol and np.linalg.norm(err[3:]) < 10 * tol:
                break
            q = np.clip(q + self._step(err, q), self.lower, self.upper)
        return q

    def _step(self, err: np.ndarray, q: np.ndarray) -> np.ndarray:
        mujoco.mj_jacSite(self.world.model, self.data, self._jacp, self._jacr, self.world.ee_site)
        jac = np.vstack([self._jacp, self._jacr])[:, self.world.arm_dof]
        # Damped least squares toward the pose, plus a posture pull toward home in what is left over:
        # dq = b + J^T (J J^T + l^2 I)^-1 (e - J b), with b the posture step. No SVD needed.
        bias = POSTURE_GAIN * (self.home - q)
        jjt = jac @ jac.T + DAMPING**2 * self._eye6
        dq = bias + jac.T @ np.linalg.solve(jjt, err - jac @ bias)
        scale = max(1.0, float(np.max(np.abs(dq))) / MAX_STEP)
        return dq / scale

    def _set(self, q: np.ndarray) -> None:
        self.data.qpos[self.world.arm_qpos] = q
        mujoco.mj_kinematics(self.world.model, self.data)
        mujoco.mj_comPos(self.world.model, self.data)
