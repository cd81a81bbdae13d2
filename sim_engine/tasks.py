"""Success checks and 0-1 progress measures for each task family."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import mujoco
import numpy as np

from schemas.task import TaskFamily, TaskSpec
from sim_engine.scene import BOWL_INNER, CUBE_HALF, TABLE_TOP
from sim_engine.world import World

if TYPE_CHECKING:
    from sim_engine.scene_tasks import SceneTaskEvaluator

LIFT_HEIGHT = 0.05  # m above resting height for a pick to count
PUSH_DISTANCE = 0.10  # m along the asked direction
DIRECTION_VECTORS: dict[str, tuple[float, float]] = {
    "left": (0.0, 1.0), "right": (0.0, -1.0), "forward": (1.0, 0.0), "back": (-1.0, 0.0),
}


@dataclass(frozen=True)
class TaskStatus:
    success: bool | None
    progress: float | None


def clip01(x: float) -> float:
    return float(min(1.0, max(0.0, x)))


class TaskEvaluator:
    """Scores one episode. Construct it right after reset (it records the start positions)."""

    def __init__(self, world: World, spec: TaskSpec, data: mujoco.MjData) -> None:
        self.world, self.spec = world, spec
        valid = spec.object in world.objects and (spec.target in (None, *world.objects))
        self.active = spec.has_metric and valid
        if not self.active:
            return
        assert spec.object is not None
        self.start = world.object_pos(data, spec.object)
        self.reach0 = max(1e-6, float(np.linalg.norm(world.ee_pos(data) - self.start)))
        if spec.target is not None:
            self.dist0 = max(1e-6, float(np.linalg.norm(self._target_xy(data) - self.start[:2])))

    def __call__(self, data: mujoco.MjData) -> TaskStatus:
        if not self.active:
            return TaskStatus(success=None, progress=None)
        family = self.spec.family
        if family is TaskFamily.PICK:
            status = self._pick(data)
        elif family is TaskFamily.PUSH:
            status = self._push(data)
        else:
            status = self._place(data)
        return TaskStatus(success=bool(status.success), progress=float(status.progress or 0.0))

    def _obj(self, data: mujoco.MjData) -> np.ndarray:
        assert self.spec.object is not None
        return self.world.object_pos(data, self.spec.object)

    def _reach(self, data: mujoco.MjData) -> float:
        d = float(np.linalg.norm(self.world.ee_pos(data) - self._obj(data)))
        return clip01(1.0 - max(0.0, d - 0.01) / self.reach0)

    def _lift(self, data: mujoco.MjData) -> float:
        return float(self._obj(data)[2] - (TABLE_TOP + CUBE_HALF))

    def _pick(self, data: mujoco.MjData) -> TaskStatus:
        # Measured from where the cube started: a continued episode may start with it stacked, in the bowl
        # or in the hand (after a reset it starts on the table, TABLE_TOP + CUBE_HALF exactly).
        lift = float(self._obj(data)[2] - self.start[2])
        if lift >= LIFT_HEIGHT:
            return TaskStatus(success=True, progress=1.0)
        return TaskStatus(success=False, progress=0.4 * self._reach(data) + 0.6 * clip01(lift / LIFT_HEIGHT))

    def _push(self, data: mujoco.MjData) -> TaskStatus:
        assert self.spec.direction is not None
        u = np.array(DIRECTION_VECTORS[self.spec.direction])
        moved = float((self._obj(data)[:2] - self.start[:2]) @ u)
        on_table = self._lift(data) < 0.03
        if moved >= PUSH_DISTANCE and on_table:
            return TaskStatus(success=True, progress=1.0)
        return TaskStatus(success=False, progress=0.3 * self._reach(data) + 0.7 * clip01(moved / PUSH_DISTANCE))

    def _target_xy(self, data: mujoco.MjData) -> np.ndarray:
        assert self.spec.target is not None
        return self.world.object_pos(data, self.spec.target)[:2]

    def _place(self, data: mujoco.MjData) -> TaskStatus:
        obj = self._obj(data)
        offset = obj[:2] - self._target_xy(data)
        released = self.world.gripper_closure(data) < 0.5
        if self.spec.target == "bowl":
            placed = self._in_bowl(data, obj)
        else:
            assert self.spec.target is not None
            dz = obj[2] - self.world.object_pos(data, self.spec.target)[2]
            placed = float(np.linalg.norm(offset)) < CUBE_HALF and 1.6 * CUBE_HALF < dz < 2.4 * CUBE_HALF
        if placed and released:
            return TaskStatus(success=True, progress=1.0)
        closeness = clip01(1.0 - float(np.linalg.norm(offset)) / self.dist0)
        carried = clip01(self._lift(data) / LIFT_HEIGHT)
        return TaskStatus(success=False,
                          progress=0.2 * self._reach(data) + 0.2 * carried + 0.5 * closeness + 0.1 * float(placed))

    def _in_bowl(self, data: mujoco.MjData, obj: np.ndarray) -> bool:
        bowl = self.world.object_pos(data, "bowl")
        quat = self.world.object_quat(data, "bowl")
        mat = np.empty(9)
        mujoco.mju_quat2Mat(mat, quat)
        local = mat.reshape(3, 3).T @ (obj - bowl)
        inside = bool(np.all(np.abs(local[:2]) <= BOWL_INNER))
        return inside and local[2] < CUBE_HALF * 2.5


def make_evaluator(world: World, spec: TaskSpec, data: mujoco.MjData) -> TaskEvaluator | SceneTaskEvaluator:
    """The evaluator for one part: the scene tasks (`sim_engine.scene_tasks`) score fixtures, this module
    scores cubes and the bowl."""
    from sim_engine.scene_tasks import SceneTaskEvaluator, is_scene_task  # it imports this module

    return SceneTaskEvaluator(world, spec, data) if is_scene_task(spec) else TaskEvaluator(world, spec, data)


class SequenceEvaluator:
    """Scores the parts of a compound task in order. Part i+1 starts (records its start positions) at the
    state where part i first succeeded; success is the last part's; progress is (parts done + the current
    part's progress) / parts. A single part scores exactly like its TaskEvaluator."""

    def __init__(self, world: World, parts: tuple[TaskSpec, ...], data: mujoco.MjData) -> None:
        self.world = world
        self.parts = parts or (TaskSpec(family=TaskFamily.NONE),)
        self.index = 0
        self.current = make_evaluator(world, self.parts[0], data)

    @property
    def task(self) -> TaskSpec:
        """The part being scored now."""
        return self.parts[self.index]

    def __call__(self, data: mujoco.MjData) -> TaskStatus:
        status = self.current(data)
        while status.success and self.index + 1 < len(self.parts):
            self.index += 1
            self.current = make_evaluator(self.world, self.parts[self.index], data)
            status = self.current(data)
        n = len(self.parts)
        if n == 1 or status.progress is None:
            return status
        return TaskStatus(success=bool(status.success), progress=(self.index + status.progress) / n)
