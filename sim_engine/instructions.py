"""Turn a free-text instruction into TaskSpecs. Paraphrases map to the same spec.

Conventions (robot frame): "left" is +y, "right" is -y, "forward"/"away" is +x, "back"/"towards you"
is -x, as seen by the robot. Anything not understood becomes TaskFamily.NONE: the episode still runs,
it just has no automatic metric.

A compound instruction ("pick up the red cube and then put it in the bowl") is split into clauses, each
interpreted on its own; a clause that names no cube, or says "it", is about the previous clause's cube.

Scene fixtures (`fixtures`, e.g. the warehouse's "bin" and "shelf") are resolved per scene: where there is a
bin, "bin", "container", "crate", "box" and "basket" mean it; elsewhere they still mean the table's bowl.
"open the microwave / cabinet / drawer", "move the kettle left" and, where there is a stove, "put the kettle on
the left burner" are scene tasks (`sim_engine.scene_tasks`).
"""

from __future__ import annotations

import re
from collections.abc import Collection

from schemas.task import TaskFamily, TaskSpec

COLOUR_WORDS: dict[str, str] = {
    "red": "red", "crimson": "red", "scarlet": "red",
    "green": "green", "lime": "green", "emerald": "green",
    "blue": "blue", "navy": "blue", "azure": "blue", "cyan": "blue",
}
BOWL_WORDS = {"bowl", "basket", "container", "tray", "dish", "bin", "box"}
BIN_WORDS = {"bin", "bins", "container", "basket", "box", "crate", "tote"}  # the bin, where the scene has one
SHELF_WORDS = {"shelf", "shelves", "shelving", "rack"}
OPEN_WORDS = {"open", "opened", "unlatch"}
DRAWER_WORDS = {"drawer", "drawers", "sliding", "slide"}  # the kitchen's slide cabinet
CABINET_WORDS = {"cabinet", "cabinets", "cupboard", "cupboards"}
BURNER_WORDS = {"burner", "burners", "stove", "hob", "cooktop", "hotplate"}  # the stove's burners
SIDES = ("left", "right")  # the stove's burners, as the robot sees them
PICK_WORDS = {"pick", "lift", "grab", "grasp", "raise", "take", "hold", "get", "fetch", "elevate"}
PUSH_WORDS = {"push", "slide", "shove", "nudge", "move", "shift", "sweep", "drag"}
PLACE_WORDS = {"put", "place", "drop", "set", "stack", "move", "deposit", "insert", "load", "transfer"}
DIRECTIONS: dict[str, str] = {
    "left": "left", "right": "right", "forward": "forward", "forwards": "forward", "away": "forward",
    "far": "forward", "back": "back", "backward": "back", "backwards": "back", "toward": "back",
    "towards": "back", "closer": "back", "near": "back",
}
ON_PHRASES = ("on top of", "onto", "on", "atop", "over")
PRONOUNS = {"it", "them"}
FILLER = {"up", "please", "the", "a", "and", "carefully", "gently", "slowly", "quickly"}
_VERB_SET = PICK_WORDS | PUSH_WORDS | PLACE_WORDS
_VERBS = "|".join(sorted(PICK_WORDS | PUSH_WORDS | PLACE_WORDS))
# Where a compound instruction splits: sentence ends, "then", "after that", "finally", and ", <verb>" or
# "and <verb>" (so "the red and the blue cube" stays one clause).
_SPLIT = re.compile(
    rf"[.;!?]+(?:\s+|$)|,?\s+(?:and\s+)?then\b,?\s*|,?\s+(?:and\s+)?after\s+that\b,?\s*|,?\s+afterwards\b,?\s*"
    rf"|,?\s+(?:and\s+)?finally\b,?\s*|,\s*(?:and\s+)?(?=(?:{_VERBS})\b)|\s+and\s+(?=(?:{_VERBS})\b)",
    re.IGNORECASE,
)


def _tokens(text: str) -> list[str]:
    return re.findall(r"[a-z]+", text.lower())


_LEADING = re.compile(r"^(?:(?:and|then|after\s+that|afterwards|finally|first|now)\b[\s,]*)+", re.IGNORECASE)


def split_clauses(instruction: str) -> list[str]:
    """The clauses of a (possibly compound) instruction, in order, without connectives or empty ones."""
    clauses = (_LEADING.sub("", c.strip(" ,")).strip(" ,") for c in _SPLIT.split(instruction))
    return [c for c in clauses if c]


def interpret(instruction: str, *, bowl: bool = True, fixtures: Collection[str] = ()) -> TaskSpec:
    """Parse an instruction: its first scored part (TaskFamily.NONE if none is). `bowl` says whether the
    scene has a bowl to place things in, `fixtures` which furniture it has ("bin", "shelf", "microwave", ...)."""
    parts = [task for _, task in interpret_clauses(instruction, bowl=bowl, fixtures=fixtures) if task.has_metric]
    return parts[0] if parts else TaskSpec(family=TaskFamily.NONE)


def interpret_clauses(instruction: str, *, bowl: bool = True, subject: str | None = None,
                      fixtures: Collection[str] = ()) -> list[tuple[str, TaskSpec]]:
    """(clause, TaskSpec) for each clause in order. `subject` is the cube (or "kettle") "it" means before any
    clause names one (e.g. the previous turn's). A clause of bare verbs ("grab and lift the red cube") joins
    the next."""
    out: list[tuple[str, TaskSpec]] = []
    pending, opened = "", None  # opened: the fixture an earlier clause opened ("put the cube in it")
    for clause in split_clauses(instruction):
        text = f"{pending} {clause}".strip()
        words = _resolve(_inside_it(_tokens(text), opened), subject)
        scene_task = _fixture_task(words, fixtures)
        if scene_task is not None:
            pending, subject = "", scene_task.object if scene_task.object == "kettle" else subject
            opened = scene_task.object if scene_task.family is TaskFamily.OPEN else opened
            out.append((text, scene_task))
            continue
        colours = [COLOUR_WORDS[w] for w in words if w in COLOUR_WORDS]
        if not colours:  # "grab" in "grab and lift the red cube" joins the next clause; "wave" stays apart
            pending = text if set(words) <= _VERB_SET | FILLER else ""
            if not pending:
                out.append((text, TaskSpec(family=TaskFamily.NONE)))
            continue
        pending, subject = "", colours[0]
        task = _interpret_words(words, colours, bowl, fixtures)
        if not task.has_metric and out and not set(words) & (_VERB_SET | {"in", "into", "on", "onto"}):
            task = _same_with(out[-1][1], colours[0])  # "put the red cube in the bowl, then the blue one"
        out.append((text, task))
    if pending:
        out.append((pending, TaskSpec(family=TaskFamily.NONE)))
    return out


def _same_with(previous: TaskSpec, colour: str) -> TaskSpec:
    """The previous clause's task, for another cube (NONE if that makes no sense)."""
    if not previous.has_metric or previous.object not in COLOUR_WORDS or colour in (previous.object, previous.target):
        return TaskSpec(family=TaskFamily.NONE)
    return TaskSpec(family=previous.family, object=colour, direction=previous.direction, target=previous.target)


def _resolve(words: list[str], subject: str | None) -> list[str]:
    """Replace the first "it"/"them" by the subject cube; a clause naming no cube at all is about the subject."""
    if subject is None:
        return words
    noun = [subject] if subject == "kettle" else [subject, "cube"]
    for i, w in enumerate(words):
        if w in PRONOUNS:
            return [*words[:i], *noun, *words[i + 1 :]]
    if not any(w in COLOUR_WORDS or w == "kettle" for w in words):
        return [*words, *noun]
    return words


def _inside_it(words: list[str], opened: str | None) -> list[str]:
    """"in it" after "open the microwave" is the microwave."""
    if opened is None:
        return words
    return [opened if w in PRONOUNS and i and words[i - 1] in {"in", "into", "inside"} else w
            for i, w in enumerate(words)]


def _fixture_task(words: list[str], fixtures: Collection[str]) -> TaskSpec | None:
    """A task on a fixture itself: open the microwave / cabinet / drawer, move or lift the kettle."""
    ws = set(words)
    if ws & OPEN_WORDS:
        if "microwave" in ws and "microwave" in fixtures:
            return TaskSpec(family=TaskFamily.OPEN, object="microwave")
        if ws & DRAWER_WORDS and "drawer" in fixtures:
            return TaskSpec(family=TaskFamily.OPEN, object="drawer")
        if ws & CABINET_WORDS and "cabinet" in fixtures:
            return TaskSpec(family=TaskFamily.OPEN, object="cabinet")
    if "kettle" in ws and "kettle" in fixtures and not ws & set(COLOUR_WORDS):
        if ws & BURNER_WORDS:
            return _burner_task(words, fixtures)
        direction = next((DIRECTIONS[w] for w in words if w in DIRECTIONS), None)
        if direction is not None and ws & (PUSH_WORDS | PLACE_WORDS):
            return TaskSpec(family=TaskFamily.PUSH, object="kettle", direction=direction)
        if direction is None and ws & PICK_WORDS:
            return TaskSpec(family=TaskFamily.PICK, object="kettle")
    return None


def _burner_task(words: list[str], fixtures: Collection[str]) -> TaskSpec | None:
    """"put the kettle on the left burner": the side named last ("from the left burner to the right one" is
    the right); None where there is no stove, NONE where no side is named ("put the kettle on the stove")."""
    if "stove" not in fixtures:
        return None
    side = next((w for w in reversed(words) if w in SIDES), None)
    if side is None:
        return TaskSpec(family=TaskFamily.NONE)
    return TaskSpec(family=TaskFamily.PLACE, object="kettle", target=f"{side} burner")


def _interpret_words(words: list[str], colours: list[str], bowl: bool, fixtures: Collection[str]) -> TaskSpec:
    verbs = set(words)
    obj = colours[0]
    if verbs & PLACE_WORDS or verbs & {"in", "into", "inside", "onto"}:
        place = _place_target(words, colours, bowl, fixtures)
        if place is not None:
            return TaskSpec(family=TaskFamily.PLACE, object=obj, target=place)
    if verbs & PUSH_WORDS:
        direction = next((DIRECTIONS[w] for w in words if w in DIRECTIONS), None)
        if direction is not None:
            return TaskSpec(family=TaskFamily.PUSH, object=obj, direction=direction)
    if verbs & PICK_WORDS:
        return TaskSpec(family=TaskFamily.PICK, object=obj)
    return TaskSpec(family=TaskFamily.NONE)


def _place_target(words: list[str], colours: list[str], bowl: bool, fixtures: Collection[str]) -> str | None:
    ws = set(words)
    if "shelf" in fixtures and ws & SHELF_WORDS:
        return "shelf"
    if "microwave" in fixtures and "microwave" in ws:
        return "microwave"
    if "bin" in fixtures and (ws & BIN_WORDS - {"box"} or ("box" in words and not _box_means_cube(words))):
        return "bin"
    if set(words) & BOWL_WORDS - {"box"} or ("box" in words and not _box_means_cube(words)):
        return "bowl" if bowl else None
    if len(colours) >= 2 and colours[1] != colours[0] and _mentions_on(words):
        return colours[1]
    return None


def _box_means_cube(words: list[str]) -> bool:
    """'the red box' names a cube; 'in the box' names the bowl."""
    i = words.index("box")
    return i > 0 and words[i - 1] in COLOUR_WORDS


def _mentions_on(words: list[str]) -> bool:
    text = " ".join(words)
    return any(re.search(rf"\b{p}\b", text) for p in ON_PHRASES)
