"""Scene fixtures read from the compiled model: the regions and joints the scene tasks score.

Nothing here is a hand-typed coordinate. Each fixture a voter may name (`SceneSpec.fixtures`) is found by
the body the furniture builder (or gymnasium-robotics' kitchen files) gave it, and its geometry comes from
that body's geoms and joints at run time:

- `bin`: the inside of the bin (its floor's footprint less the wall thickness, up to the top of its walls);
- `shelf`: the top faces of every shelf board and box (a cube rests on the shelf when it rests on one);
- `microwave`: its cavity (behind the closed door), found by casting the six axis rays from the middle of
  its collision boxes;
- `cabinet` (the hinge cabinet: either door), `drawer` (the slide cabinet), `microwave`: the opening joints,
  closed at their reset position and fully open at the far end of their range;
- `kettle`: the free joint it sits on;
- `stove`: its burners, "left burner" and "right burner", at the sites `burner_left`, `burner_right`
  (`sim_engine.stove`): where the kettle is set down.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

import mujoco
import numpy as np

from sim_engine.scene import CUBE_HALF
from sim_engine.world import World, load_world

ROOT_BODIES = {"bin": "bin", "shelf": "shelf", "microwave": "microroot", "cabinet": "hingecab", "drawer": "slide",
               "kettle": "kettleroot"}
PLACE_FIXTURES = ("bin", "shelf", "microwave")  # fixtures an object can be put in or on
OPEN_FIXTURES = ("microwave", "cabinet", "drawer")  # fixtures with doors that open
REST_TOL = 0.01  # m above its resting height a cube's centre may be and still count as resting there


@dataclass(frozen=True)
class Box:
    """An axis-aligned box in the world frame."""

    lo: np.ndarray
    hi: np.ndarray

    def distance(self, p: np.ndarray) -> float:
        """Euclidean distance from `p` to the box (0 inside)."""
        return float(np.linalg.norm(np.maximum(0.0, np.maximum(self.lo - p, p - self.hi))))


@dataclass(frozen=True)
class Opening:
    """A door joint: qpos address, closed and fully open positions."""

    joint: int
    qpos: int
    closed: float
    open: float
    hinge: bool  # a hinge (else a slide)

    def fraction(self, data: mujoco.MjData) -> float:
        return float(np.clip((data.qpos[self.qpos] - self.closed) / (self.open - self.closed), 0.0, 1.0))


@dataclass(frozen=True)
class Fixtures:
    """Everything the scene tasks need about one world's fixtures (static furniture is read once)."""

    regions: dict[str, tuple[Box, ...]]  # where an object's centre must be to be in/on a place fixture
    drops: dict[str, np.ndarray]  # place fixture -> where the expert releases a cube (fixture_drops)
    openings: dict[str, tuple[Opening, ...]]
    handles: dict[str, tuple[int, ...]]  # open fixture or kettle -> the sites (handles) the hand reaches for
    kettle_qpos: int | None
    burners: dict[str, np.ndarray] = field(default_factory=dict)  # "left burner" -> its centre on the counter
    kettle_start: np.ndarray | None = None  # the kettle's pose and handle at reset (fixture_targets)


def _body(model: mujoco.MjModel, name: str) -> int:
    return mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_BODY, name)


def _subtree(model: mujoco.MjModel, root: int) -> list[int]:
    out = [root]
    for b in range(root + 1, model.nbody):
        if model.body_parentid[b] in out:
            out.append(b)
    return out


def _sites(model: mujoco.MjModel, body: int) -> tuple[int, ...]:
    tree = _subtree(model, body)
    return tuple(s for s in range(model.nsite) if model.site_bodyid[s] in tree)


def _aabb(data: mujoco.MjData, model: mujoco.MjModel, g: int) -> Box:
    half = np.abs(data.geom_xmat[g].reshape(3, 3)) @ model.geom_size[g]
    return Box(lo=data.geom_xpos[g] - half, hi=data.geom_xpos[g] + half)


def _boxes(model: mujoco.MjModel, data: mujoco.MjData, bodies: list[int], colliding: bool = True) -> list[Box]:
    return [_aabb(data, model, g) for g in range(model.ngeom)
            if model.geom_bodyid[g] in bodies and model.geom_type[g] == mujoco.mjtGeom.mjGEOM_BOX
            and (not colliding or model.geom_contype[g] or model.geom_conaffinity[g])]


def _bin_region(model: mujoco.MjModel, data: mujoco.MjData, body: int) -> Box:
    geoms = [g for g in range(model.ngeom) if model.geom_bodyid[g] == body]
    floor = min(geoms, key=lambda g: data.geom_xpos[g][2])
    walls = [g for g in geoms if g != floor]
    fb = _aabb(data, model, floor)
    wall = min(float(np.min(model.geom_size[g][:2])) for g in walls) * 2  # the thinnest wall's thickness
    top = max(float(_aabb(data, model, g).hi[2]) for g in walls)
    return Box(lo=np.array([fb.lo[0] + wall, fb.lo[1] + wall, fb.hi[2]]),
               hi=np.array([fb.hi[0] - wall, fb.hi[1] - wall, top + CUBE_HALF]))


def _shelf_regions(model: mujoco.MjModel, data: mujoco.MjData, body: int) -> tuple[Box, ...]:
    """Per board or box top: the slab where a cube's centre sits when the cube rests on it."""
    out = []
    for b in _boxes(model, data, [body]):
        z = float(b.hi[2]) + CUBE_HALF
        out.append(Box(lo=np.array([b.lo[0], b.lo[1], z - REST_TOL]), hi=np.array([b.hi[0], b.hi[1], z + REST_TOL])))
    return tuple(out)


def _cavity(model: mujoco.MjModel, data: mujoco.MjData, body: int) -> Box:
    """Where a cube's centre is when the cube is wholly inside: the empty box around the middle of the
    collision boxes of the body and its door (closed, as at reset), bounded by the nearest box along each
    axis, less half a cube (a cube resting on the floor counts, within REST_TOL)."""
    boxes = _boxes(model, data, _subtree(model, body))
    lo = np.min([b.lo for b in boxes], axis=0)
    hi = np.max([b.hi for b in boxes], axis=0)
    centre = (lo + hi) / 2
    cav_lo, cav_hi = lo.copy(), hi.copy()
    for axis in range(3):
        others = [a for a in range(3) if a != axis]
        on_ray = [b for b in boxes if all(b.lo[a] <= centre[a] <= b.hi[a] for a in others)]
        cav_lo[axis] = max([float(b.hi[axis]) for b in on_ray if b.hi[axis] <= centre[axis]], default=lo[axis])
        cav_hi[axis] = min([float(b.lo[axis]) for b in on_ray if b.lo[axis] >= centre[axis]], default=hi[axis])
    return Box(lo=cav_lo + [CUBE_HALF, CUBE_HALF, CUBE_HALF - REST_TOL], hi=cav_hi - CUBE_HALF)


def _openings(model: mujoco.MjModel, body: int) -> tuple[Opening, ...]:
    out = []
    for j in range(model.njnt):
        if model.jnt_bodyid[j] in _subtree(model, body) and model.jnt_type[j] in (2, 3):  # slide, hinge
            closed = float(model.qpos0[model.jnt_qposadr[j]])
            lo, hi = (float(v) for v in model.jnt_range[j])
            out.append(Opening(joint=j, qpos=int(model.jnt_qposadr[j]), closed=closed,
                               open=hi if abs(hi - closed) >= abs(lo - closed) else lo,
                               hinge=model.jnt_type[j] == mujoco.mjtJoint.mjJNT_HINGE))
    return tuple(out)


@cache
def fixtures_of(robot_id: str, scene_id: str) -> Fixtures:
    """The fixtures of a robot+scene cell (computed once per process)."""
    world = load_world(robot_id, scene_id)
    model = world.model
    data = mujoco.MjData(model)
    mujoco.mj_kinematics(model, data)
    regions: dict[str, tuple[Box, ...]] = {}
    openings: dict[str, tuple[Opening, ...]] = {}
    handles: dict[str, tuple[int, ...]] = {}
    kettle = None
    for name in world.scene.fixtures:
        body = _body(model, ROOT_BODIES.get(name, name))
        if body < 0:
            continue
        if name == "bin":
            regions[name] = (_bin_region(model, data, body),)
        elif name == "shelf":
            regions[name] = _shelf_regions(model, data, body)
        elif name == "microwave":
            regions[name] = (_cavity(model, data, body),)
        if name in OPEN_FIXTURES:
            openings[name] = _openings(model, body)
            handles[name] = _sites(model, body)
        if name == "kettle":
            root = int(model.body_rootid[body])
            kettle = int(model.jnt_qposadr[model.body_jntadr[root]])
            handles[name] = _sites(model, body)
    from sim_engine.fixture_drops import drop_points  # the expert's release points (split for size)

    hinges = {k: data.xanchor[v[0].joint].copy() for k, v in openings.items() if v and v[0].hinge}
    return Fixtures(regions=regions, drops=drop_points(world, data, regions, hinges), openings=openings,
                    handles=handles, kettle_qpos=kettle, burners=_burners(model, data),
                    kettle_start=None if kettle is None else _kettle_pose(handles["kettle"], kettle, data))


def _burners(model: mujoco.MjModel, data: mujoco.MjData) -> dict[str, np.ndarray]:
    """The stove's burners: site `burner_left` -> "left burner" -> its centre."""
    out = {}
    for s in range(model.nsite):
        name = mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_SITE, s) or ""
        if name.startswith("burner_"):
            out[f"{name.removeprefix('burner_')} burner"] = data.site_xpos[s].copy()
    return out


def fixture_targets(world: World, data: mujoco.MjData | None = None) -> dict[str, np.ndarray]:
    """What a privileged policy is told about the fixtures: for a place fixture, (x, y, z, over_z, yaw, ax, ay,
    tilt), where and how to release a cube there (`sim_engine.fixture_drops`); for a burner, its centre; for the
    kettle, (x, y, z, qw, qx, qy, qz, hx, hy, hz): its free joint's pose and its handle's centre, in `data`
    (where given; else as at reset)."""
    if not world.scene.fixtures:
        return {}
    fx = fixtures_of(world.robot.id, world.scene.id)
    out = {k: v.copy() for k, v in fx.drops.items()}
    out.update({k: v.copy() for k, v in fx.burners.items()})
    if fx.kettle_qpos is not None and fx.kettle_start is not None:
        live = data is not None
        out["kettle"] = _kettle_pose(fx.handles["kettle"], fx.kettle_qpos, data) if live else fx.kettle_start.copy()
    return out


def _kettle_pose(handle: tuple[int, ...], qpos: int, data: mujoco.MjData) -> np.ndarray:
    return np.concatenate([data.qpos[qpos : qpos + 7], data.site_xpos[handle[0]]])
