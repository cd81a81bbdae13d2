import msgspec
import pytest

from schemas.errors import ValidationError
from schemas.task import TaskFamily, TaskSpec, Understanding
from sim_engine.instructions import interpret, split_clauses
from sim_engine.scene import get_scene
from sim_engine.understanding import understand

TABLE = get_scene("table")
CUBES_ONLY = get_scene("table-cubes")
PICK_RED = TaskSpec(family=TaskFamily.PICK, object="red")
RED_IN_BOWL = TaskSpec(family=TaskFamily.PLACE, object="red", target="bowl")


@pytest.mark.parametrize(("text", "summary"), [
    ("pick up the red cube", "pick up · red cube"),
    ("Grab the crimson block.", "pick up · red cube"),
    ("take the red one", "pick up · red cube"),
    ("shove the green cube towards you", "push · green cube · towards the robot"),
    ("slide the lime block to the left", "push · green cube · to the left"),
    ("drop the navy block into the basket", "put · blue cube · in the bowl"),
    ("put the blue block on top of the green one", "stack · blue cube · on the green cube"),
    ("dance", "no automatic metric for this instruction"),
    ("move slowly to the left and wave", "no automatic metric for this instruction"),
])
def test_summary_says_how_the_instruction_is_scored(text, summary):
    u = understand(text, TABLE)
    assert u.summary == summary
    assert u.has_metric == (summary != "no automatic metric for this instruction")
    assert u.task == interpret(text)


@pytest.mark.parametrize(("text", "missing"), [
    ("pick up the purple cube", "purple cube"),
    ("grab the yellow block", "yellow cube"),
    ("put the red cube in the pink box", "pink cube"),
    ("push the orange one to the left", "orange cube"),
    ("put the red ball in the bowl", "red ball"),
    ("pick up the mug", "mug"),
])
def test_objects_the_scene_lacks_are_refused_with_what_it_has(text, missing):
    with pytest.raises(ValidationError) as err:
        understand(text, TABLE)
    assert err.value.field == "instruction"
    assert str(err.value) == (f"instruction: this scene has no {missing}; "
                              "it has: red cube, green cube, blue cube, bowl")


def test_a_bowl_word_is_refused_in_a_scene_without_a_bowl():
    with pytest.raises(ValidationError, match="this scene has no bowl; it has: red cube, green cube, blue cube$"):
        understand("put the red cube in the basket", CUBES_ONLY)
    assert understand("stack the red cube on the blue box", CUBES_ONLY).summary == "stack · red cube · on the blue cube"


def test_several_missing_objects_are_named_once_each():
    with pytest.raises(ValidationError, match="no purple cube or yellow cube; it has"):
        understand("stack the purple cube on the yellow cube, then lift the purple cube", TABLE)


@pytest.mark.parametrize("text", [
    "pick up the red cube gently", "push the green cube to the far left, slowly", "can you lift the red one",
    "put the red cube in the white bowl", "move the blue block near the bowl", "wave hello", "",
    "pick up the red cube, not the blue one", "lift the red cube as high as you can",
])
def test_ordinary_words_are_not_refused(text):
    understand(text, TABLE)


@pytest.mark.parametrize("text", [
    "pick up the red cube and then put it in the bowl", "pick up the red cube, then put it in the bowl",
    "Lift the red block. Then drop it into the container", "grab the red cube and place it in the bowl",
    "pick up the red cube; after that, put it in the bowl", "first grab the red cube, afterwards put it in the bowl",
])
def test_compound_instructions_are_scored_part_by_part(text):
    u = understand(text, TABLE)
    assert u.parts == (PICK_RED, RED_IN_BOWL)
    assert u.task == PICK_RED
    assert not u.partial
    assert u.summary == "pick up · red cube, then put · red cube · in the bowl"
    assert u.objects == ("red cube", "bowl")


def test_it_refers_to_the_previous_clause_or_turn():
    u = understand("push the green cube left, then stack it on the blue cube", TABLE)
    assert u.parts[1] == TaskSpec(family=TaskFamily.PLACE, object="green", target="blue")
    carried = understand("now put it in the bowl", TABLE, previous=["pick up the red cube"])
    assert carried.parts == (RED_IN_BOWL,)
    chain = ["push the blue cube left", "pick up the red cube", "lift it higher"]
    assert understand("put it in the bowl", TABLE, previous=chain).parts == (RED_IN_BOWL,)
    assert understand("now put it in the bowl", TABLE).parts == ()  # without a previous turn "it" is unknown


def test_a_clause_without_a_verb_repeats_the_previous_one_for_another_cube():
    u = understand("put the red cube into the bowl, then the blue one", TABLE)
    assert u.parts == (RED_IN_BOWL, TaskSpec(family=TaskFamily.PLACE, object="blue", target="bowl"))
    assert understand("stack the red cube on the green cube, then the green one", TABLE).partial


def test_partly_understood_compounds_are_flagged():
    first = understand("pick up the red cube and then do a little dance", TABLE)
    assert first.parts == (PICK_RED,)
    assert first.partial
    assert first.unscored == ("do a little dance",)
    assert first.summary.endswith("(only the first part is scored)")
    later = understand("wave at the camera. then lift the blue cube", TABLE)
    assert later.partial
    assert later.summary == "pick up · blue cube (not scored: wave at the camera)"


def test_words_within_one_clause_are_not_split():
    assert split_clauses("grab and lift the red cube") == ["grab", "lift the red cube"]
    assert understand("grab and lift the red cube", TABLE).parts == (PICK_RED,)
    assert split_clauses("put the red and the blue cube in the bowl") == ["put the red and the blue cube in the bowl"]
    assert understand("pick up the red cube and hold it", TABLE).parts == (PICK_RED,)


def test_understanding_is_a_wire_struct():
    u = understand("pick up the red cube then put it in the bowl", TABLE)
    assert msgspec.json.decode(msgspec.json.encode(u), type=Understanding) == u
    assert understand("pick up the red cube", "table") == understand("pick up the red cube", TABLE)
