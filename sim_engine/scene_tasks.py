"""Scene tasks: success checks and 0-1 progress for the kitchen's and warehouse's fixtures.

- put a cube in the bin / on the shelf / in the microwave (PLACE with a fixture target): success when the
  cube's centre is inside the fixture's region (`sim_engine.fixtures`) and the hand has let go;
- open the microwave / the cabinet (either hinge door) / the drawer (the slide cabinet) (OPEN): success when
  a door has travelled `OPEN_FRACTION` of its joint range from where it starts closed;
- move the kettle left / right / forward / back (PUSH) and pick it up (PICK): as for a cube, measured on the
  kettle's free joint, and a moved kettle must still stand upright;
- move the kettle to the left / right burner (PLACE, target "left burner" | "right burner"): success when the
  kettle stands upright on the counter with its base's centre within ON_BURNER of the burner's centre,
  and the hand has let go.

Progress blends reaching (the hand's distance to the object or handle, relative to where it started) with
the task's own measure, and is 1 exactly on success, like the cube tasks in `sim_engine.tasks`.
"""

from __future__ import annotations

import mujoco
import numpy as np

from schemas.task import TaskFamily, TaskSpec
from sim_engine.fixtures import OPEN_FIXTURES, PLACE_FIXTURES, Fixtures, fixtures_of
from sim_engine.tasks import DIRECTION_VECTORS, LIFT_HEIGHT, PUSH_DISTANCE, TaskStatus, clip01
from sim_engine.world import World

OPEN_FRACTION = 0.4  # of a door's travel: the microwave ~48 degrees, a hinge door ~36, the slide 18 cm
UPRIGHT_COS = np.cos(np.radians(30))  # a moved kettle may lean at most this much
ON_BURNER = 0.05  # m from a burner's centre the kettle's base centre may be (the burners are 0.15 m apart)
REST_HEIGHT = 0.01  # m above its starting height a kettle may be and still stand on the counter
KETTLE = "kettle"


def is_scene_task(spec: TaskSpec) -> bool:
    """Whether `spec` is about a fixture (scored here) rather than only cubes and the bowl."""
    return (spec.family is TaskFamily.OPEN or spec.object == KETTLE
            or (spec.family is TaskFamily.PLACE and spec.target in PLACE_FIXTURES))


class SceneTaskEvaluator:
    """Scores one scene task. Construct it at the episode's start state (it records where things start)."""

    def __init__(self, world: World, spec: TaskSpec, data: mujoco.MjData) -> None:
        self.world, self.spec = world, spec
        self.fx: Fixtures = fixtures_of(world.robot.id, world.scene.id)
        self.active = spec.has_metric and self._valid()
        if not self.active:
            return
        self.start = self._subject(data)
        self.reach0 = max(1e-6, self._hand_distance(data))
        if spec.family is TaskFamily.PLACE:
            self.dist0 = max(1e-6, self._burner_distance(self.start) if spec.object == KETTLE
                             else self._region_distance(self.start))

    def _valid(self) -> bool:
        s, fx = self.spec, self.fx
        if s.family is TaskFamily.OPEN:
            return s.object in OPEN_FIXTURES and bool(fx.openings.get(s.object or ""))
        if s.object == KETTLE:
            return fx.kettle_qpos is not None and (s.family in (TaskFamily.PICK, TaskFamily.PUSH)
                                                   or (s.family is TaskFamily.PLACE and s.target in fx.burners))
        return s.object in self.world.objects and s.target in fx.regions

    def __call__(self, data: mujoco.MjData) -> TaskStatus:
        if not self.active:
            return TaskStatus(success=None, progress=None)
        family = self.spec.family
        if family is TaskFamily.OPEN:
            return self._open(data)
        if family is TaskFamily.PLACE:
            return self._on_burner(data) if self.spec.object == KETTLE else self._place(data)
        if family is TaskFamily.PICK:
            return self._lift(data)
        return self._push(data)

    # ---- measurements ---------------------------------------------------------------------------------

    def _subject(self, data: mujoco.MjData) -> np.ndarray:
        """The position of what the task moves (a cube or the kettle); a door task's handle."""
        if self.spec.object == KETTLE:
            adr = self.fx.kettle_qpos
            assert adr is not None
            return data.qpos[adr : adr + 3].copy()
        if self.spec.family is TaskFamily.OPEN:
            return self._handle(data)
        assert self.spec.object is not None
        return self.world.object_pos(data, self.spec.object)

    def _handle(self, data: mujoco.MjData) -> np.ndarray:
        sites = self.fx.handles[self.spec.object or ""]
        ee = self.world.ee_pos(data)
        return min((data.site_xpos[s].copy() for s in sites), key=lambda p: float(np.linalg.norm(p - ee)))

    def _hand_distance(self, data: mujoco.MjData) -> float:
        if self.spec.object == KETTLE or self.spec.family is TaskFamily.OPEN:
            sites = self.fx.handles[self.spec.object or ""]
            return min(float(np.linalg.norm(data.site_xpos[s] - self.world.ee_pos(data))) for s in sites)
        return float(np.linalg.norm(self.world.ee_pos(data) - self._subject(data)))

    def _reach(self, data: mujoco.MjData) -> float:
        return clip01(1.0 - max(0.0, self._hand_distance(data) - 0.01) / self.reach0)

    def _burner_distance(self, p: np.ndarray) -> float:
        return float(np.linalg.norm(p[:2] - self.fx.burners[self.spec.target or ""][:2]))

    def _region_distance(self, p: np.ndarray) -> float:
        return min(box.distance(p) for box in self.fx.regions[self.spec.target or ""])

    # ---- families ------------------------------------------------------------------------------------

    def _place(self, data: mujoco.MjData) -> TaskStatus:
        obj = self._subject(data)
        inside = self._region_distance(obj) == 0.0
        released = self.world.gripper_closure(data) < 0.5
        if inside and released:
            return TaskStatus(success=True, progress=1.0)
        closeness = clip01(1.0 - self._region_distance(obj) / self.dist0)
        carried = clip01(float(obj[2] - self.start[2]) / LIFT_HEIGHT)
        return TaskStatus(success=False, progress=0.2 * self._reach(data) + 0.2 * carried + 0.5 * closeness
                          + 0.1 * float(inside))

    def _on_burner(self, data: mujoco.MjData) -> TaskStatus:
        pos = self._subject(data)
        dist = self._burner_distance(pos)
        resting = abs(float(pos[2] - self.start[2])) < REST_HEIGHT
        released = self.world.gripper_closure(data) < 0.5
        if dist <= ON_BURNER and resting and released and self._upright(data):
            return TaskStatus(success=True, progress=1.0)
        closeness = clip01(1.0 - dist / self.dist0)
        return TaskStatus(success=False, progress=min(0.99, 0.3 * self._reach(data) + 0.6 * closeness
                                                      + 0.1 * float(dist <= ON_BURNER)))

    def _open(self, data: mujoco.MjData) -> TaskStatus:
        opened = max(o.fraction(data) for o in self.fx.openings[self.spec.object or ""])
        if opened >= OPEN_FRACTION:
            return TaskStatus(success=True, progress=1.0)
        return TaskStatus(success=False, progress=0.3 * self._reach(data) + 0.7 * opened / OPEN_FRACTION)

    def _lift(self, data: mujoco.MjData) -> TaskStatus:
        lift = float(self._subject(data)[2] - self.start[2])
        if lift >= LIFT_HEIGHT:
            return TaskStatus(success=True, progress=1.0)
        return TaskStatus(success=False, progress=0.4 * self._reach(data) + 0.6 * clip01(lift / LIFT_HEIGHT))

    def _push(self, data: mujoco.MjData) -> TaskStatus:
        assert self.spec.direction is not None
        pos = self._subject(data)
        moved = float((pos[:2] - self.start[:2]) @ np.array(DIRECTION_VECTORS[self.spec.direction]))
        if moved >= PUSH_DISTANCE and self._upright(data) and pos[2] - self.start[2] < 0.03:
            return TaskStatus(success=True, progress=1.0)
        return TaskStatus(success=False, progress=0.3 * self._reach(data) + 0.7 * clip01(moved / PUSH_DISTANCE))

    def _upright(self, data: mujoco.MjData) -> bool:
        adr = self.fx.kettle_qpos
        assert adr is not None
        w, x, y, _ = data.qpos[adr + 3 : adr + 7]
        return bool(1.0 - 2.0 * (x * x + y * y) >= UPRIGHT_COS)  # the body z axis's world z component
