"""Small rotation helpers for policies (numpy only; policies never import the simulator)."""

from __future__ import annotations

import numpy as np

DOWN = np.array([[1.0, 0.0, 0.0], [0.0, -1.0, 0.0], [0.0, 0.0, -1.0]])  # gripper pointing at the table


def rot_z(yaw: float) -> np.ndarray:
    c, s = np.cos(yaw), np.sin(yaw)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def log_rotation(rel: np.ndarray) -> np.ndarray:
    """Axis-angle vector of a rotation matrix."""
    cos = np.clip((np.trace(rel) - 1.0) / 2.0, -1.0, 1.0)
    angle = float(np.arccos(cos))
    vee = np.array([rel[2, 1] - rel[1, 2], rel[0, 2] - rel[2, 0], rel[1, 0] - rel[0, 1]])
    if angle < 1e-9:
        return 0.5 * vee
    if np.pi - angle < 1e-6:  # near pi: axis from the symmetric part
        axis = np.sqrt(np.maximum(0.0, (np.diag(rel) + 1.0) / 2.0))
        axis *= np.sign(vee + (vee == 0))
        return angle * axis / max(1e-12, float(np.linalg.norm(axis)))
    return angle * vee / (2.0 * np.sin(angle))


def exp_rotation(vec: np.ndarray) -> np.ndarray:
    """Rotation matrix of an axis-angle vector (Rodrigues)."""
    angle = float(np.linalg.norm(vec))
    if angle < 1e-12:
        return np.eye(3)
    k = np.asarray(vec) / angle
    kx = np.array([[0.0, -k[2], k[1]], [k[2], 0.0, -k[0]], [-k[1], k[0], 0.0]])
    return np.eye(3) + np.sin(angle) * kx + (1.0 - np.cos(angle)) * (kx @ kx)


def yaw_of_quat(quat: np.ndarray) -> float:
    """Yaw (about world z) of a MuJoCo (w, x, y, z) quaternion."""
    w, x, y, z = quat
    return float(np.arctan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z)))


def grasp_yaw(object_yaw: float) -> float:
    """The cube's yaw folded into [-pi/4, pi/4]: a square cube is the same every quarter turn."""
    return float((object_yaw + np.pi / 4) % (np.pi / 2) - np.pi / 4)
