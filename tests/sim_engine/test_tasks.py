import mujoco
import numpy as np

from schemas.task import TaskFamily, TaskSpec
from sim_engine.scene import CUBE_HALF, TABLE_TOP
from sim_engine.tasks import SequenceEvaluator, TaskEvaluator, TaskStatus
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


def test_a_sequence_scores_its_parts_in_order(world_data):
    world, data = world_data
    pick = TaskSpec(family=TaskFamily.PICK, object="red")
    place = TaskSpec(family=TaskFamily.PLACE, object="red", target="bowl")
    seq = SequenceEvaluator(world, (pick, place), data)
    start = seq(data)
    assert start.success is False
    assert start.progress == TaskEvaluator(world, pick, data)(data).progress / 2
    bowl = world.object_pos(data, "bowl")
    _move(world, data, "red", [bowl[0], bowl[1], TABLE_TOP + 0.006 + CUBE_HALF])
    assert seq(data).success is False  # in the bowl, but it was never picked up: the first part comes first
    assert seq.task == pick
    _move(world, data, "red", [bowl[0] + 0.2, bowl[1], TABLE_TOP + CUBE_HALF + 0.08])
    lifted = seq(data)
    assert seq.task == place
    assert lifted.success is False
    assert 0.5 <= lifted.progress < 1.0
    _move(world, data, "red", [bowl[0], bowl[1], TABLE_TOP + 0.006 + CUBE_HALF])
    assert seq(data) == TaskStatus(success=True, progress=1.0)


def test_a_single_part_scores_exactly_like_its_evaluator(world_data):
    world, data = world_data
    spec = TaskSpec(family=TaskFamily.PUSH, object="green", direction="left")
    single, plain = SequenceEvaluator(world, (spec,), data), TaskEvaluator(world, spec, data)
    pos = world.object_pos(data, "green")
    for dy in (0.0, 0.04, 0.12):
        _move(world, data, "green", pos + [0, dy, 0])
        assert single(data) == plain(data)
    assert SequenceEvaluator(world, (), data)(data) == TaskStatus(success=None, progress=None)


def test_pick_is_measured_from_where_the_cube_starts(world_data):
    """A continued episode can start with the cube stacked on another: resting there is not a pick."""
    world, data = world_data
    blue = world.object_pos(data, "blue")
    _move(world, data, "red", blue + [0, 0, 2 * CUBE_HALF])
    ev = TaskEvaluator(world, TaskSpec(family=TaskFamily.PICK, object="red"), data)
    assert ev(data).success is False
    _move(world, data, "red", blue + [0, 0, 2 * CUBE_HALF + 0.03])
    assert ev(data).success is False
    _move(world, data, "red", blue + [0, 0, 2 * CUBE_HALF + 0.06])
    assert ev(data).success is True
