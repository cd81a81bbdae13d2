import mujoco
import numpy as np

from schemas.task import TaskFamily, TaskSpec
from sim_engine.scene import CUBE_HALF, TABLE_TOP
from sim_engine.tasks import TaskEvaluator
from sim_engine.world import load_world


def _move(world, data, name, xyz):
    adr = world.objects[name]
    data.qpos[adr:adr + 3] = xyz
    mujoco.mj_forward(world.model, data)


def test_pick_succeeds_only_when_lifted(world_data):
    world, data = world_data
    ev = TaskEvaluator(world, TaskSpec(family=TaskFamily.PICK, object="red"), data)
    start = ev(data)
    assert start.success is False
    assert 0.0 <= start.progress < 0.5
    pos = world.object_pos(data, "red")
    _move(world, data, "red", pos + [0, 0, 0.03])
    assert ev(data).success is False
    _move(world, data, "red", pos + [0, 0, 0.06])
    assert ev(data).success is True
    assert ev(data).progress == 1.0


def test_push_needs_the_asked_direction(world_data):
    world, data = world_data
    ev = TaskEvaluator(world, TaskSpec(family=TaskFamily.PUSH, object="green", direction="left"), data)
    pos = world.object_pos(data, "green")
    _move(world, data, "green", pos + [0, -0.12, 0])
    assert ev(data).success is False
    _move(world, data, "green", pos + [0, 0.12, 0])
    assert ev(data).success is True


def test_place_in_bowl_requires_inside_and_released(world_data):
    world, data = world_data
    ev = TaskEvaluator(world, TaskSpec(family=TaskFamily.PLACE, object="blue", target="bowl"), data)
    bowl = world.object_pos(data, "bowl")
    _move(world, data, "blue", [bowl[0] + 0.2, bowl[1], TABLE_TOP + CUBE_HALF])
    assert ev(data).success is False
    _move(world, data, "blue", [bowl[0], bowl[1], TABLE_TOP + 0.006 + CUBE_HALF])
    status = ev(data)
    assert status.success is True
    assert status.progress == 1.0


def test_progress_is_bounded(world_data):
    world, data = world_data
    rng = np.random.default_rng(0)
    for spec in [TaskSpec(family=TaskFamily.PICK, object="red"),
                 TaskSpec(family=TaskFamily.PLACE, object="red", target="green")]:
        ev = TaskEvaluator(world, spec, data)
        for _ in range(20):
            _move(world, data, "red", [rng.uniform(0.2, 0.8), rng.uniform(-0.4, 0.4), rng.uniform(0.41, 0.7)])
            assert 0.0 <= ev(data).progress <= 1.0


def test_no_metric_when_not_understood(world_data):
    world, data = world_data
    status = TaskEvaluator(world, TaskSpec(family=TaskFamily.NONE), data)(data)
    assert status.success is None
    assert status.progress is None


def test_bowl_task_without_a_bowl_has_no_metric():
    world = load_world("franka", "table-cubes")
    data = mujoco.MjData(world.model)
    world.reset(data, 0)
    ev = TaskEvaluator(world, TaskSpec(family=TaskFamily.PLACE, object="red", target="bowl"), data)
    assert ev(data).success is None
