"""Turn a free-text instruction into a TaskSpec. Paraphrases map to the same spec.

Conventions (robot frame): "left" is +y, "right" is -y, "forward"/"away" is +x, "back"/"towards you"
is -x, as seen by the robot. Anything not understood becomes TaskFamily.NONE: the episode still runs,
it just has no automatic metric.
"""

from __future__ import annotations

import re

from schemas.task import TaskFamily, TaskSpec

COLOUR_WORDS: dict[str, str] = {
    "red": "red", "crimson": "red", "scarlet": "red",
    "green": "green", "lime": "green", "emerald": "green",
    "blue": "blue", "navy": "blue", "azure": "blue", "cyan": "blue",
}
BOWL_WORDS = {"bowl", "basket", "container", "tray", "dish", "bin", "box"}
PICK_WORDS = {"pick", "lift", "grab", "grasp", "raise", "take", "hold", "get", "fetch", "elevate"}
PUSH_WORDS = {"push", "slide", "shove", "nudge", "move", "shift", "sweep", "drag"}
PLACE_WORDS = {"put", "place", "drop", "set", "stack", "move", "deposit", "insert", "load", "transfer"}
DIRECTIONS: dict[str, str] = {
    "left": "left", "right": "right", "forward": "forward", "forwards": "forward", "away": "forward",
    "far": "forward", "back": "back", "backward": "back", "backwards": "back", "toward": "back",
    "towards": "back", "closer": "back", "near": "back",
}
ON_PHRASES = ("on top of", "onto", "on", "atop", "over")


def _tokens(text: str) -> list[str]:
    return re.findall(r"[a-z]+", text.lower())


def interpret(instruction: str, *, bowl: bool = True) -> TaskSpec:
    """Parse an instruction. `bowl` says whether the scene has a bowl to place things in."""
    words = _tokens(instruction)
    colours = [COLOUR_WORDS[w] for w in words if w in COLOUR_WORDS]
    verbs = set(words)
    if not colours:
        return TaskSpec(family=TaskFamily.NONE)
    obj = colours[0]
    if verbs & PLACE_WORDS or "in" in verbs or "into" in verbs:
        place = _place_target(words, colours, bowl)
        if place is not None:
            return TaskSpec(family=TaskFamily.PLACE, object=obj, target=place)
    if verbs & PUSH_WORDS:
        direction = next((DIRECTIONS[w] for w in words if w in DIRECTIONS), None)
        if direction is not None:
            return TaskSpec(family=TaskFamily.PUSH, object=obj, direction=direction)
    if verbs & PICK_WORDS:
        return TaskSpec(family=TaskFamily.PICK, object=obj)
    return TaskSpec(family=TaskFamily.NONE)


def _place_target(words: list[str], colours: list[str], bowl: bool) -> str | None:
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
