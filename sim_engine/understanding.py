"""How an instruction is understood in a scene, before anything runs: a short summary for the voter,
the parts that will be scored, and a refusal when it names objects the scene does not have.

Only object mentions the interpreter recognises are checked: a colour word directly before an object
noun ("purple cube", "yellow ball"), a bowl word, or a known object noun ("mug", "kettle"). Ordinary
words ("left", "gently", "the one on the right") are never refused.
"""

from __future__ import annotations

from collections.abc import Sequence

from schemas.errors import ValidationError
from schemas.task import TaskFamily, TaskSpec, Understanding
from sim_engine.instructions import (
    BIN_WORDS,
    BOWL_WORDS,
    COLOUR_WORDS,
    SIDES,
    _box_means_cube,
    _tokens,
    interpret_clauses,
)
from sim_engine.scene import SceneSpec, get_scene

OTHER_COLOURS = {"purple", "violet", "yellow", "orange", "pink", "black", "white", "grey", "gray", "brown",
                 "magenta", "gold", "golden", "silver", "turquoise", "beige", "teal", "maroon"}
CUBE_NOUNS = {"cube", "cubes", "block", "blocks", "box", "boxes", "brick", "bricks", "one", "square"}
OBJECT_NOUNS = {"ball", "sphere", "cup", "mug", "bottle", "plate", "apple", "banana", "kettle",
                "microwave", "cabinet", "drawer", "shelf", "sponge", "spoon", "fork", "knife", "pen", "marker",
                "towel", "cloth", "toy", "cylinder", "pyramid", "lid", "pan", "pot", "jar", "carrot", "cupboard",
                "burner", "stove", "oven", "hob", "cooktop", "hotplate", "sink", "fridge", "rack"}
# furniture words -> the fixture they name (SceneSpec.fixtures); BIN_WORDS name the bin where there is one
FIXTURE_ALIASES = {"cupboard": "cabinet", "cupboards": "cabinet", "rack": "shelf", "bins": "bin", "burner": "stove",
                   "hob": "stove", "cooktop": "stove", "hotplate": "stove"}
MAX_GAP = 2  # words allowed between a colour and its noun ("red wooden cube")
DIRECTION_TEXT = {"left": "to the left", "right": "to the right", "forward": "away from the robot",
                  "back": "towards the robot"}
NO_METRIC = "no automatic metric for this instruction"


def scene_objects(scene: SceneSpec) -> list[str]:
    """What a voter can name in the scene, in a fixed order: "red cube", ..., "bowl", then its fixtures."""
    return [f"{c} cube" for c in scene.cubes] + (["bowl"] if scene.bowl else []) + list(scene.fixtures)


def understand(instruction: str, scene: SceneSpec | str, *, previous: Sequence[str] = ()) -> Understanding:
    """How `instruction` will be scored in `scene`. Raises ValidationError("instruction", ...) when it names
    an object the scene does not have, listing what it has. `previous` holds the instructions of the turns
    this one continues, oldest first: "it" then means the cube they were last about ("now put it in the bowl")."""
    spec = get_scene(scene) if isinstance(scene, str) else scene
    missing = missing_objects(instruction, spec)
    if missing:
        raise ValidationError("instruction", f"this scene has no {' or '.join(missing)}; "
                                             f"it has: {', '.join(scene_objects(spec))}")
    return parse(instruction, spec, previous=previous)


def parse(instruction: str, scene: SceneSpec, *, previous: Sequence[str] = ()) -> Understanding:
    """`understand` without the refusal: what the episode loop scores (old instructions keep running)."""
    clauses = interpret_clauses(instruction, bowl=scene.bowl, subject=_last_subject(previous, scene),
                                fixtures=scene.fixtures)
    parts: tuple[TaskSpec, ...] = ()
    for _, t in clauses:  # "pick up the red cube and hold it": one part, not the same part twice
        if _scorable(t, scene) and (not parts or parts[-1] != t):
            parts = (*parts, t)
    unscored = tuple(c for c, t in clauses if not _scorable(t, scene))
    task = parts[0] if parts else TaskSpec(family=TaskFamily.NONE)
    partial = bool(parts) and bool(unscored)
    summary = ", then ".join(describe(p) for p in parts) if parts else NO_METRIC
    if partial:
        summary += " (only the first part is scored)" if len(parts) == 1 and clauses[0][1] == task else \
            f" (not scored: {'; '.join(unscored)})"
    return Understanding(summary=summary, task=task, parts=parts, objects=_named(parts), unscored=unscored,
                         partial=partial)


def describe(task: TaskSpec) -> str:
    """A one-line summary of a scored part: "pick up · red cube", "put · blue cube · in the bowl",
    "put · red cube · on the shelf", "open · microwave", "move · kettle · to the left",
    "move · kettle · onto the left burner"."""
    obj = _label(task.object)
    if task.family is TaskFamily.OPEN:
        return f"open · {obj}"
    if task.family is TaskFamily.PLACE and task.object == "kettle":
        return f"move · {obj} · onto the {task.target}"
    if task.family is TaskFamily.PUSH and task.object == "kettle":
        return f"move · {obj} · {DIRECTION_TEXT.get(task.direction or '', task.direction)}"
    if task.family is TaskFamily.PICK:
        return f"pick up · {obj}"
    if task.family is TaskFamily.PUSH:
        return f"push · {obj} · {DIRECTION_TEXT.get(task.direction or '', task.direction)}"
    if task.family is TaskFamily.PLACE:
        if task.target in ("bowl", "bin", "microwave"):
            return f"put · {obj} · in the {task.target}"
        if task.target == "shelf":
            return f"put · {obj} · on the shelf"
        return f"stack · {obj} · on the {task.target} cube"
    return NO_METRIC


def missing_objects(instruction: str, scene: SceneSpec) -> list[str]:
    """The objects `instruction` names that `scene` lacks ("purple cube", "bowl"), each once, in order."""
    words = _tokens(instruction)
    missing: list[str] = []
    for i in range(len(words)):
        if _fixture(words, i, scene) in scene.fixtures:  # "the bin" in the warehouse is its bin, not a bowl
            continue
        name = _mention(words, i)
        if name is not None and name not in scene_objects(scene) and name not in missing:
            missing.append(name)
    return missing


def _mention(words: list[str], i: int) -> str | None:
    """The object named at word `i` ("red cube", "purple ball", "bowl", "mug"), or None."""
    w = words[i]
    if w in COLOUR_WORDS or w in OTHER_COLOURS:
        noun = next((n for n in words[i + 1 : i + 2 + MAX_GAP] if n in CUBE_NOUNS | OBJECT_NOUNS | BOWL_WORDS), None)
        if noun is None or (noun in BOWL_WORDS and noun != "box"):
            return None  # "the red one on the left"; a coloured bowl is checked as a bowl
        colour = COLOUR_WORDS.get(w, w)
        return f"{colour} cube" if noun in CUBE_NOUNS else f"{colour} {noun}"
    if w in BOWL_WORDS and not (w == "box" and _box_means_cube(words[: i + 1])):
        return "bowl"
    noun = _singular(w)
    if noun in OBJECT_NOUNS and not (i > 0 and words[i - 1] in {*COLOUR_WORDS, *OTHER_COLOURS}):
        return noun
    return None


def _singular(word: str) -> str:
    """"cabinets" -> "cabinet", "shelves" -> "shelf" (for object nouns; other words unchanged)."""
    if word == "shelves":
        return "shelf"
    return word[:-1] if word.endswith("s") and word[:-1] in OBJECT_NOUNS else word


def _fixture(words: list[str], i: int, scene: SceneSpec) -> str:
    """The fixture word `i` names ("cupboards" -> "cabinet"; "container" -> "bin" where there is a bin)."""
    w = words[i]
    if "bin" in scene.fixtures and w in BIN_WORDS and not (w == "box" and _box_means_cube(words[: i + 1])):
        return "bin"
    return FIXTURE_ALIASES.get(w) or FIXTURE_ALIASES.get(_singular(w), _singular(w))


def _scorable(task: TaskSpec, scene: SceneSpec) -> bool:
    if task.family is TaskFamily.OPEN:
        return task.object in scene.fixtures
    movable = {*scene.cubes, *(f for f in scene.fixtures if f == "kettle")}
    burners = (f"{side} burner" for side in SIDES) if "stove" in scene.fixtures else ()
    targets = {*scene.cubes, *(("bowl",) if scene.bowl else ()), *scene.fixtures, *burners}
    return task.has_metric and task.object in movable and task.target in (None, *targets)


def _label(name: str | None) -> str:
    """How an object of a TaskSpec is named to the voter: "red cube", "bowl", "microwave"."""
    return f"{name} cube" if name in COLOUR_WORDS.values() else str(name)


def _named(parts: tuple[TaskSpec, ...]) -> tuple[str, ...]:
    names: list[str] = []
    for p in parts:
        for n in (p.object, p.target):
            label = None if n is None else _label(n)
            if label is not None and label not in names:
                names.append(label)
    return tuple(names)


def _last_subject(previous: Sequence[str], scene: SceneSpec) -> str | None:
    """The cube the earlier turns were last about (what "it" refers to now), following their own "it"s."""
    if isinstance(previous, str):
        previous = (previous,)
    subject: str | None = None
    for text in previous:
        for _, task in interpret_clauses(text, bowl=scene.bowl, subject=subject, fixtures=scene.fixtures):
            subject = task.object if task.family is not TaskFamily.OPEN and task.object else subject
    return subject
