import pytest

from schemas.task import TaskFamily, TaskSpec
from sim_engine.instructions import interpret

PICK_RED = TaskSpec(family=TaskFamily.PICK, object="red")


@pytest.mark.parametrize("text", [
    "pick up the red cube", "Pick up the RED block.", "grab the red cube", "lift the crimson box",
    "please grasp the scarlet block", "raise the red cube", "take the red one",
])
def test_pick_paraphrases(text):
    assert interpret(text) == PICK_RED


@pytest.mark.parametrize(("text", "direction"), [
    ("push the green cube to the left", "left"), ("slide the green block right", "right"),
    ("move the green cube away from you", "forward"), ("shove the green cube towards you", "back"),
    ("nudge the lime block to the left side", "left"),
])
def test_push_paraphrases(text, direction):
    assert interpret(text) == TaskSpec(family=TaskFamily.PUSH, object="green", direction=direction)


@pytest.mark.parametrize(("text", "target"), [
    ("put the blue cube in the bowl", "bowl"), ("place the navy block into the basket", "bowl"),
    ("drop the blue cube in the container", "bowl"), ("move the blue cube into the box", "bowl"),
    ("stack the blue cube on the red cube", "red"), ("put the blue block on top of the green one", "green"),
])
def test_place_paraphrases(text, target):
    assert interpret(text) == TaskSpec(family=TaskFamily.PLACE, object="blue", target=target)


@pytest.mark.parametrize("text", ["dance", "pick up the cube", "wave hello", "", "put the red cube in the bowl"])
def test_not_understood_has_no_metric(text):
    spec = interpret(text, bowl=False)
    assert spec.family is TaskFamily.NONE
    assert not spec.has_metric
