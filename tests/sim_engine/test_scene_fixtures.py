"""Furniture in the kitchen and warehouse: a voter may name it (it is there); the scene tasks that score it are
tested in test_scene_tasks.py."""

import mujoco
import pytest

from schemas.errors import ValidationError
from schemas.task import TaskFamily
from sim_engine.scene import SCENES
from sim_engine.understanding import scene_objects, understand
from sim_engine.world import load_world


@pytest.mark.parametrize(("scene", "instruction", "family"), [
    ("kitchen", "put the red cube in the microwave", TaskFamily.PLACE),
    ("kitchen", "open the cabinet", TaskFamily.OPEN),
    ("kitchen", "move the kettle to the left", TaskFamily.PUSH),
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
    assert scene_objects(SCENES["kitchen"])[-4:] == ["microwave", "kettle", "cabinet", "drawer"]
    with pytest.raises(ValidationError, match="it has: red cube, green cube, blue cube, bin, shelf"):
        understand("pick up the purple cube", "warehouse")


def test_cube_tasks_still_score_in_the_new_scenes() -> None:
    assert understand("put the blue cube in the bowl", "kitchen").task.target == "bowl"
    assert understand("stack the red cube on the green cube", "warehouse").task.target == "green"


@pytest.mark.parametrize(("scene", "bodies"), [
    ("kitchen", {"microroot", "microdoorroot", "kettleroot", "hingecab", "slide", "side_counter"}),
    ("warehouse", {"bin", "shelf"}),
])
def test_furniture_is_in_the_model(scene: str, bodies: set[str]) -> None:
    model = load_world("ur5e", scene).model
    names = {mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_BODY, b) for b in range(model.nbody)}
    assert bodies <= names
