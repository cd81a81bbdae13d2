"""Where the scripted expert sets a cube down in each place fixture, worked out from the fixture's real geometry.

A drop is (x, y, z, over_z, yaw, ax, ay, tilt): release the cube with its centre at (x, y, z) and the hand at
`yaw`, having carried it at height `over_z` above that point. Where something overhangs the spot (a shelf's
next board, the microwave's roof) the hand comes in sideways from (x + ax, y + ay), along the axis facing the
robot, tipped by `tilt` towards the fixture so that the wrist stays outside; else (ax, ay, tilt) are 0 and it
comes straight down.

- bin: the inside point nearest the robot's base, clear of the walls by a cube and (across the closing
  direction) a finger;
- shelf: a free spot on a board or box top with room above it (`HAND_HEADROOM`) and for the fingers beside
  the cube, nearest the robot's reach box (`RobotSpec.reach_x`, `reach_y`), then its base, and low;
- microwave: in its cavity's front half, on the side away from the door's hinge (the door must be open).
"""

from __future__ import annotations

import mujoco
import numpy as np

from sim_engine.fixtures import REST_TOL
from sim_engine.scene import CUBE_HALF, TABLE_TOP
from sim_engine.world import World

FINGER = 0.025  # m a finger reaches beyond the cube along the closing direction
MARGIN = 0.012  # m of clearance around the cube across it
GRID = 0.005
EDGE = 0.01  # m between a set-down cube and the edge of what it rests on
HAND_HEADROOM = 0.2  # m of free height above a resting cube that a hand needs (tipped, as it comes in sideways)
SIDE_APPROACH = 0.14  # m in front of a covered spot where the expert starts sliding in
TILT = 1.0  # rad the hand is tipped from pointing down when it slides in under something


def drop_points(world: World, data: mujoco.MjData, regions: dict,
                hinges: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The drop for each place fixture in `regions`; `hinges` holds the door pivots of fixtures with doors."""
    base = data.xpos[mujoco.mj_name2id(world.model, mujoco.mjtObj.mjOBJ_BODY, "robot_base")][:2]
    out: dict[str, np.ndarray] = {}
    if "bin" in regions:
        out["bin"] = _bin_drop(regions["bin"][0], base)
    if "shelf" in regions:
        spot = _shelf_drop(world.model, data, regions["shelf"], base, world.robot.reach_x, world.robot.reach_y)
        if spot is not None:
            out["shelf"] = spot
    if "microwave" in regions:
        out["microwave"] = _cavity_drop(regions["microwave"][0], base, hinges.get("microwave"))
    return out


def _cavity_drop(cav, base: np.ndarray, hinge: np.ndarray | None) -> np.ndarray:
    """A quarter of the way in from the open side; across it, three quarters of the way from the door's hinge
    (an open door stands out from the hinge side, in the way of a hand coming in there)."""
    u = _facing((cav.lo[:2] + cav.hi[:2]) / 2, base)
    w = np.abs(u[::-1])  # the axis across the opening
    lo, hi = cav.lo[:2], cav.hi[:2]
    frac = np.where(u > 0, 0.25, np.where(u < 0, 0.75, 0.5))
    if hinge is not None:
        away = float(np.sign(((lo + hi) / 2 - hinge[:2]) @ w))
        frac = np.where(w > 0, 0.5 + 0.25 * away, frac)
    clear = FINGER  # the region already keeps the cube's centre half a cube from the walls
    x, y = np.clip(lo + frac * (hi - lo), lo + clear, hi - clear)
    z = _tilted_rest(float(cav.lo[2]) + REST_TOL)  # the region's floor is REST_TOL under a resting centre
    return np.array([x, y, z, z + 0.03, _yaw_across(u), *(-SIDE_APPROACH * u), TILT])


def _facing(centre: np.ndarray, base: np.ndarray) -> np.ndarray:
    """The world axis (+-x or +-y) pointing from the robot's base towards a fixture centred at `centre`."""
    d = centre - base
    axis = int(np.argmax(np.abs(d)))
    u = np.zeros(2)
    u[axis] = np.sign(d[axis])
    return u


def _yaw_across(u: np.ndarray) -> float:
    """The hand yaw whose fingers close across direction `u` (along x at pi/2)."""
    return float(np.pi / 2) if u[1] else 0.0


def _tilted_rest(z: float) -> float:
    """Where to let go of a cube tipped by TILT so that its lowest edge clears a support whose resting
    height for the cube's centre is `z`."""
    return z + CUBE_HALF * (np.cos(TILT) + np.sin(TILT) - 1.0) + 0.006


def _bin_drop(inside, base: np.ndarray) -> np.ndarray:
    """Any hand yaw fits (NaN: keep the one the cube was picked with), so the clearance covers fingers
    closing along any direction."""
    clear = CUBE_HALF * np.sqrt(2) + FINGER
    xy = np.clip(base, inside.lo[:2] + clear, inside.hi[:2] - clear)
    z = float(inside.lo[2]) + CUBE_HALF + 0.015
    over = float(inside.hi[2]) + 0.02  # inside.hi is a cube's centre level with the wall tops
    return np.array([*xy, z, over, np.nan, 0.0, 0.0, 0.0])


def _solids(model: mujoco.MjModel, data: mujoco.MjData) -> list[tuple[np.ndarray, np.ndarray]]:
    """Every colliding box in the scene except the table and the objects, as (lo, hi)."""
    out = []
    for g in range(model.ngeom):
        name = mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_GEOM, g) or ""
        if model.geom_type[g] != mujoco.mjtGeom.mjGEOM_BOX or name.startswith(("table", "cube_", "bowl")):
            continue
        if not (model.geom_contype[g] or model.geom_conaffinity[g]):
            continue
        half = np.abs(data.geom_xmat[g].reshape(3, 3)) @ model.geom_size[g]
        out.append((data.geom_xpos[g] - half, data.geom_xpos[g] + half))
    return out


def _free_mask(solids: list, x: np.ndarray, y: np.ndarray, half: np.ndarray, z0: float, z1: float) -> np.ndarray:
    """For grid points (x, y): whether the box of half-size `half` around them, from z0 to z1, hits no solid."""
    free = np.ones(x.shape, dtype=bool)
    for s_lo, s_hi in solids:
        if z1 <= s_lo[2] or z0 >= s_hi[2]:
            continue
        free &= ~((x + half[0] > s_lo[0]) & (x - half[0] < s_hi[0]) & (y + half[1] > s_lo[1]) & (y - half[1] < s_hi[1]))
    return free


def _shelf_drop(model: mujoco.MjModel, data: mujoco.MjData, surfaces, base: np.ndarray,
                reach_x: tuple[float, float], reach_y: tuple[float, float]) -> np.ndarray | None:
    solids = _solids(model, data)
    centre = np.mean([(s.lo[:2] + s.hi[:2]) / 2 for s in surfaces], axis=0)
    u = _facing(centre, base)
    yaw = _yaw_across(u)
    across = np.array([CUBE_HALF + FINGER, CUBE_HALF + MARGIN])  # fingers close along x at yaw pi/2
    half = across if yaw else across[::-1]
    best: tuple[float, np.ndarray] | None = None
    for s in surfaces:
        z = float(s.lo[2] + s.hi[2]) / 2  # the cube's centre when it rests there
        inset = CUBE_HALF + EDGE  # the cube's centre this far in from the support's edges
        x, y = np.meshgrid(np.arange(s.lo[0] + inset, s.hi[0] - inset + 1e-9, GRID),
                           np.arange(s.lo[1] + inset, s.hi[1] - inset + 1e-9, GRID))
        free = _free_mask(solids, x, y, half, z - CUBE_HALF + 0.002, z + CUBE_HALF + HAND_HEADROOM)
        if not free.any():
            continue
        # nearest the box the robot is known to reach pointing down, then nearest its base, then lowest
        outside = np.hypot(x - np.clip(x, *reach_x), y - np.clip(y, *reach_y))
        cost = outside + 0.25 * np.hypot(x - base[0], y - base[1]) + 2.0 * (z - TABLE_TOP)
        cost[~free] = np.inf
        i = np.unravel_index(int(np.argmin(cost)), cost.shape)
        if best is None or cost[i] < best[0]:
            best = (float(cost[i]), np.array([x[i], y[i], z]))
    if best is None:
        return None
    x0, y0, z0 = best[1]
    z0 = _tilted_rest(z0)
    return np.array([x0, y0, z0, z0 + 0.03, yaw, *(-SIDE_APPROACH * u), TILT])
