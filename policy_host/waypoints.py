"""The scripted expert's waypoints and the constants its plans share (numpy only)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from policy_host.geometry import DOWN, exp_rotation, rot_z

OPEN, CLOSED = 0.0, 1.0
HOVER = 0.12  # m above the object before descending
GRASP_OFFSET = 0.034  # the end-effector site sits this far above the finger pads' grasp point


@dataclass(frozen=True)
class Waypoint:
    pos: np.ndarray
    yaw: float
    gripper: float
    tolerance: float = 0.012  # m between the measured end effector and `pos` to count as reached
    dwell_s: float = 0.0  # simulated seconds to wait once reached (e.g. for the fingers to close)
    tilt: tuple[float, float, float] | None = None  # axis-angle tipping the pointing-down hand (world frame)
    speed: float | None = None  # m per step at most while heading here (slower than the policy's own)

    def orientation(self) -> np.ndarray:
        """The hand's target rotation: pointing down at `yaw`, then tipped by `tilt`."""
        down = rot_z(self.yaw) @ DOWN
        return down if self.tilt is None else exp_rotation(np.array(self.tilt)) @ down
