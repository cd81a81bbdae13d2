"""Furniture in the kitchen and warehouse: a voter may name it (it is there); the scene tasks that score it are
tested in test_scene_tasks.py."""

import mujoco
import numpy as np
import pytest

from policy_host.scripted import PUSH_OVERSHOOT
from schemas.errors import ValidationError
from schemas.task import TaskFamily
from sim_engine.actions import WORKSPACE_HIGH, WORKSPACE_LOW
from sim_engine.fixtures import fixture_targets
from sim_engine.scene import CUBE_HALF, SCENES
from sim_engine.understanding import scene_objects, understand
from sim_engine.world import load_world


@pytest.mark.parametrize(("scene", "instruction", "family"), [
    ("kitchen", "put the red cube in the microwave", TaskFamily.PLACE),
    ("kitchen", "open the cabinet", TaskFamily.OPEN),
    ("kitchen", "move the kettle to the left", TaskFamily.PUSH),
    ("kitchen", "put the kettle on the left burner", TaskFamily.PLACE),
    ("kitchen", "wipe the stove", TaskFamily.NONE),
    ("kitchen", "wipe the microwave", TaskFamily.NONE),
    ("warehouse", "put the red cube in the bin", TaskFamily.PLACE),
    ("warehouse", "put the green cube on the shelf", TaskFamily.PLACE),
    ("warehouse", "dust the shelf", TaskFamily.NONE),
])
def test_named_furniture_is_not_refused(scene: str, instruction: str, family: TaskFamily) -> None:
    understood = understand(instruction, scene)
    assert understood.task.family is family
    assert understood.has_metric == (family is not TaskFamily.NONE)


def test_furniture_is_refused_where_it_is_absent_and_listed_where_present() -> None:
    with pytest.raises(ValidationError, match="no microwave") as info:
        understand("put the red cube in the microwave", "table")
    assert "microwave" not in str(info.value).split("it has:")[1]
    assert scene_objects(SCENES["kitchen"])[-5:] == ["microwave", "kettle", "cabinet", "drawer", "stove"]
    with pytest.raises(ValidationError, match="it has: red cube, green cube, blue cube, bin, shelf"):
        understand("pick up the purple cube", "warehouse")


def test_cube_tasks_still_score_in_the_new_scenes() -> None:
    assert understand("put the blue cube in the bowl", "kitchen").task.target == "bowl"
    assert understand("stack the red cube on the green cube", "warehouse").task.target == "green"


@pytest.mark.parametrize(("scene", "bodies"), [
    ("kitchen", {"microroot", "microdoorroot", "kettleroot", "hingecab", "slide", "side_counter", "stove"}),
    ("warehouse", {"bin", "shelf"}),
])
def test_furniture_is_in_the_model(scene: str, bodies: set[str]) -> None:
    model = load_world("ur5e", scene).model
    names = {mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_BODY, b) for b in range(model.nbody)}
    assert bodies <= names


def _half_size(model: mujoco.MjModel, g: int) -> np.ndarray:
    """Half extents of a box, capsule or cylinder geom in its own frame."""
    r, h = model.geom_size[g][0], model.geom_size[g][1]
    if model.geom_type[g] == mujoco.mjtGeom.mjGEOM_BOX:
        return model.geom_size[g].copy()
    return np.array([r, r, h + (r if model.geom_type[g] == mujoco.mjtGeom.mjGEOM_CAPSULE else 0.0)])


def _overlaps(lo, hi, box_lo, box_hi) -> bool:
    return bool(np.all(hi > box_lo) and np.all(lo < box_hi))


@pytest.mark.parametrize("robot", ["franka", "ur5e", "widowx"])
def test_the_kettle_starts_clear_of_the_cube_tasks_and_the_burners_are_in_the_workspace(robot: str) -> None:
    """The kettle stands outside the reach box and out of the way of a cube pushed out of it (along either
    axis, PUSH_OVERSHOOT past its start); its handle and the burners are where the end effector may go."""
    world = load_world(robot, "kitchen")
    model, data = world.model, mujoco.MjData(world.model)
    world.reset(data, 10_000_000)
    kettle = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_BODY, "kettleroot")
    geoms = [g for g in range(model.ngeom) if model.geom_bodyid[g] == kettle and model.geom_contype[g]]
    half = [np.abs(data.geom_xmat[g].reshape(3, 3)) @ _half_size(model, g) for g in geoms]
    lo = np.min([data.geom_xpos[g] - h for g, h in zip(geoms, half, strict=True)], axis=0)[:2]
    hi = np.max([data.geom_xpos[g] + h for g, h in zip(geoms, half, strict=True)], axis=0)[:2]
    rx, ry, far = np.array(world.robot.reach_x), np.array(world.robot.reach_y), PUSH_OVERSHOOT + 2 * CUBE_HALF
    for dx, dy in ((CUBE_HALF, far), (far, CUBE_HALF)):
        assert not _overlaps(lo, hi, np.array([rx[0] - dx, ry[0] - dy]), np.array([rx[1] + dx, ry[1] + dy]))
    targets = fixture_targets(world)
    assert set(targets) >= {"kettle", "left burner", "right burner"}
    def inside(point: np.ndarray) -> bool:
        return bool(np.all(point[:2] >= WORKSPACE_LOW[:2]) and np.all(point[:2] <= WORKSPACE_HIGH[:2]))

    assert inside(targets["left burner"])
    assert inside(targets["right burner"])
    # the WidowX's reach box is so near its base that a kettle clear of it stands too close to the base (and
    # its handle too high) for the end effector: docs/eval/scene-tasks.md
    assert inside(targets["kettle"][7:10]) == (robot != "widowx")
    assert targets["left burner"][1] > targets["right burner"][1]  # left is +y, as the robot sees it
