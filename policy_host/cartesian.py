"""DROID's action spaces on the wire, and the arena's ee_delta expressed in one of them.

RoboArena (and DROID's robot environment) know four action spaces: `joint_position`, `joint_velocity`
(7 joint values + gripper: 8) and `cartesian_position`, `cartesian_velocity` (6 pose values + gripper: 7).
The arena's own `ee_delta` (world-frame xyz step + axis-angle rotation + gripper) is none of them, so
`arena policy-server` sends an ee_delta policy's chunk as `cartesian_position` targets: x, y, z (m) and
extrinsic XYZ Euler angles (rad), the convention of `observation/cartesian_position`, composed from the pose
in the request. The arena as a client turns such targets back into ee_delta steps from the pose it sent, so
a round trip gives back the policy's own steps.
"""

from __future__ import annotations

import numpy as np

from policy_host.geometry import exp_rotation, log_rotation
from schemas.policy import ActionSpace

WIRE_SPACES = ("joint_position", "joint_velocity", "cartesian_position", "cartesian_velocity")
CARTESIAN_POSITION = "cartesian_position"
POSE_KEY = "observation/cartesian_position"


def wire_space(space: ActionSpace) -> str:
    """The DROID action space a policy of `space` is served in."""
    return CARTESIAN_POSITION if space is ActionSpace.EE_DELTA else space.value


def wire_dim(name: str) -> int:
    """Values per action in a DROID action space (the gripper included)."""
    return 8 if name.startswith("joint") else 7


def euler_matrix(angles: np.ndarray) -> np.ndarray:
    """Rotation matrix of extrinsic XYZ Euler angles (roll, pitch, yaw): Rz(yaw) @ Ry(pitch) @ Rx(roll)."""
    (cr, cp, cy), (sr, sp, sy) = np.cos(angles), np.sin(angles)
    return np.array([[cy * cp, cy * sp * sr - sy * cr, cy * sp * cr + sy * sr],
                     [sy * cp, sy * sp * sr + cy * cr, sy * sp * cr - cy * sr],
                     [-sp, cp * sr, cp * cr]])


def matrix_euler(r: np.ndarray) -> np.ndarray:
    """Extrinsic XYZ Euler angles of a rotation matrix (the inverse of euler_matrix)."""
    sy = float(np.hypot(r[0, 0], r[1, 0]))
    if sy > 1e-9:
        return np.array([np.arctan2(r[2, 1], r[2, 2]), np.arctan2(-r[2, 0], sy), np.arctan2(r[1, 0], r[0, 0])])
    return np.array([np.arctan2(-r[1, 2], r[1, 1]), np.arctan2(-r[2, 0], sy), 0.0])  # gimbal lock


def _pose(pose: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    pose = np.asarray(pose, dtype=np.float64).reshape(-1)
    if pose.shape != (6,):
        raise ValueError(f"a cartesian pose has 6 values (xyz + Euler), got {pose.size}")
    return pose[:3].copy(), euler_matrix(pose[3:])


def deltas_to_targets(chunk: np.ndarray, pose: np.ndarray) -> np.ndarray:
    """An (n, 7) ee_delta chunk as (n, 7) cartesian_position targets, the first step taken from `pose`
    (6 values) and each later one from the target before it. The gripper value passes through."""
    pos, rot = _pose(pose)
    out = np.empty((len(chunk), 7))
    for k, action in enumerate(np.asarray(chunk, dtype=np.float64)):
        pos = pos + action[:3]
        rot = exp_rotation(action[3:6]) @ rot
        out[k, :3], out[k, 3:6], out[k, 6] = pos, matrix_euler(rot), action[6]
    return out


def targets_to_deltas(chunk: np.ndarray, pose: np.ndarray) -> np.ndarray:
    """The inverse of deltas_to_targets: (n, 7) cartesian_position targets as ee_delta steps from `pose`."""
    pos, rot = _pose(pose)
    out = np.empty((len(chunk), 7))
    for k, target in enumerate(np.asarray(chunk, dtype=np.float64)):
        nxt_pos, nxt_rot = target[:3], euler_matrix(target[3:6])
        out[k, :3], out[k, 3:6], out[k, 6] = nxt_pos - pos, log_rotation(nxt_rot @ rot.T), target[6]
        pos, rot = nxt_pos, nxt_rot
    return out
