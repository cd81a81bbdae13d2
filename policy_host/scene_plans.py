"""The scripted expert's plans for scene tasks, from what the privileged observation says about the fixtures
(`privileged/fixtures`, written by sim_engine.fixtures.fixture_targets): set a held cube down in the bin, on the
shelf or in the microwave (through an open door: it does not open doors)."""

from __future__ import annotations

import numpy as np

from policy_host.waypoints import CLOSED, GRASP_OFFSET, OPEN, Waypoint

CARRY_SPEED = 0.03  # m per step at most while carrying a cube to a fixture (a long carry shakes it loose)


def fixture_plan(drop: np.ndarray, held_yaw: float) -> list[Waypoint]:
    """Carry the held cube (at CARRY_SPEED) to a fixture's drop point (x, y, z, over_z, yaw, ax, ay, tilt: see
    sim_engine.fixture_drops): its centre to (x, y, over_z), then down to z, and let go. Where something
    overhangs the spot it comes in sideways from (x + ax, y + ay), the hand tipped by `tilt` towards the
    fixture so that the wrist stays outside, and leaves the same way. A NaN yaw: keep the cube's."""
    x, y, z, over_z, yaw, ax, ay, tilt = (float(v) for v in drop)
    yaw = held_yaw if np.isnan(yaw) else yaw
    side = bool(np.hypot(ax, ay) > 0)
    axis = np.array([-ay, ax, 0.0]) / np.hypot(ax, ay) if side else np.zeros(3)  # tips the fingers away
    rotvec = (float(tilt * axis[0]), float(tilt * axis[1]), 0.0) if tilt else None

    def at(cx: float, cy: float, cz: float, gripper: float, **kw: float) -> Waypoint:
        w = Waypoint(pos=np.zeros(3), yaw=yaw, gripper=gripper, tilt=rotvec, speed=CARRY_SPEED, **kw)
        site = np.array([cx, cy, cz]) - GRASP_OFFSET * w.orientation()[:, 2]  # the grasp point on the cube
        return Waypoint(pos=site, yaw=yaw, gripper=gripper, tilt=rotvec, speed=CARRY_SPEED, **kw)

    over, down = at(x, y, over_z, CLOSED), at(x, y, z, CLOSED, tolerance=0.01)
    out = at(x + ax, y + ay, over_z, OPEN) if side else at(x, y, over_z, OPEN)
    first = [at(x + ax, y + ay, over_z, CLOSED, tolerance=0.015)] if side else []
    return [*first, over, down, at(x, y, z, OPEN, dwell_s=0.3), out]
