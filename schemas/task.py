"""Task specs: what an instruction was understood to ask for."""

from __future__ import annotations

import enum

import msgspec


class TaskFamily(enum.StrEnum):
    PICK = "pick"  # pick up / lift an object
    PUSH = "push"  # push an object towards a side of the table
    PLACE = "place"  # put an object in or on a target
    OPEN = "open"  # open a fixture's door (microwave, cabinet, drawer)
    NONE = "none"  # not understood: runs, but has no automatic metric


class TaskSpec(msgspec.Struct, frozen=True, kw_only=True):
    family: TaskFamily
    # colour of the manipulated cube ("red" | "green" | "blue"), or a fixture: "kettle" (PICK, PUSH), or
    # OPEN's "microwave" | "cabinet" | "drawer"
    object: str | None = None
    direction: str | None = None  # PUSH: "left" | "right" | "forward" | "back"
    target: str | None = None  # PLACE: "bowl" | a cube colour (stack on it) | "bin" | "shelf" | "microwave"

    @property
    def has_metric(self) -> bool:
        return self.family is not TaskFamily.NONE


class Understanding(msgspec.Struct, frozen=True, kw_only=True):
    """How an instruction was understood, shown to the voter before it runs.

    A compound instruction ("pick up the red cube, then put it in the bowl") is scored part by part, in
    order: `parts` lists every scored part; `task` is the first of them (TaskFamily.NONE when nothing is
    scored). Clauses with no automatic metric are listed in `unscored` and make the understanding `partial`.
    """

    summary: str  # e.g. "pick up · red cube", "no automatic metric for this instruction"
    task: TaskSpec
    parts: tuple[TaskSpec, ...] = ()
    objects: tuple[str, ...] = ()  # the scene objects the instruction names: "red cube", "bowl"
    unscored: tuple[str, ...] = ()  # clauses of the instruction that are not scored
    partial: bool = False

    @property
    def has_metric(self) -> bool:
        return bool(self.parts)
