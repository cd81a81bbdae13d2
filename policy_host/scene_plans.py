"""The scripted expert's plans for scene tasks, from what the privileged observation says about the fixtures
(`privileged/fixtures`, written by sim_engine.fixtures.fixture_targets): set a held cube down in the bin, on the
shelf or in the microwave (through an open door: it does not open doors), and take the kettle by its handle to a
burner."""

from __future__ import annotations

import numpy as np

from policy_host.geometry import yaw_of_quat
from policy_host.waypoints import CLOSED, GRASP_OFFSET, HOVER, OPEN, Waypoint
from schemas.policy import Observation
from schemas.task import TaskFamily, TaskSpec

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


KETTLE_LIFT = 0.03  # m the kettle is lifted off the counter while carried (it must not drag or tip)
KETTLE_SPEED = 0.025  # m per step at most while carrying the kettle (0.9 kg on a handle swings)


def kettle_plan(kettle: np.ndarray, burner: np.ndarray) -> list[Waypoint]:
    """Take the kettle by its handle and set it down on a burner. `kettle` is (x, y, z, qw, qx, qy, qz, hx, hy,
    hz): its pose and its handle's centre; `burner` the burner's centre. The fingers close across the handle
    (which runs along the kettle's x axis), the kettle is lifted KETTLE_LIFT, carried so that its base's centre
    comes over the burner, set down and let go."""
    yaw = float((yaw_of_quat(kettle[3:7]) + np.pi / 2) % np.pi - np.pi / 2)  # fingers across the handle
    handle = kettle[7:10] + [0.0, 0.0, GRASP_OFFSET]
    offset = handle[:2] - kettle[:2]  # the handle's centre from the base's, across
    over = handle + [0.0, 0.0, HOVER]
    lifted = handle + [0.0, 0.0, KETTLE_LIFT]
    goal = np.array([burner[0] + offset[0], burner[1] + offset[1], handle[2]])

    def at(p: np.ndarray, gripper: float, tolerance: float = 0.012, dwell_s: float = 0.0,
           speed: float | None = None) -> Waypoint:
        return Waypoint(pos=np.asarray(p, dtype=float), yaw=yaw, gripper=gripper, tolerance=tolerance,
                        dwell_s=dwell_s, speed=speed)

    return [at(over, OPEN, tolerance=0.02), at(handle, OPEN, tolerance=0.008), at(handle, CLOSED, dwell_s=0.5),
            at(lifted, CLOSED, tolerance=0.01, speed=KETTLE_SPEED),
            at(goal + [0, 0, KETTLE_LIFT], CLOSED, tolerance=0.01, speed=KETTLE_SPEED),
            at(goal + [0, 0, 0.004], CLOSED, tolerance=0.008, speed=KETTLE_SPEED),
            at(goal + [0, 0, 0.004], OPEN, dwell_s=0.4), at(goal + [0, 0, HOVER], OPEN)]


def scene_plan(obs: Observation, task: TaskSpec) -> list[Waypoint]:
    """The plan for a task on a fixture itself (the kettle to a burner), from `privileged/fixtures`; [] for one
    the expert does not perform (opening doors, pushing or lifting the kettle)."""
    fixtures: dict[str, np.ndarray] = obs.get("privileged/fixtures", {})
    if task.object == "kettle" and task.family is TaskFamily.PLACE and "kettle" in fixtures and task.target in fixtures:
        return kettle_plan(fixtures["kettle"], fixtures[task.target])
    return []
