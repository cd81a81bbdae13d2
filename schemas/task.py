"""Task specs: what an instruction was understood to ask for."""

from __future__ import annotations

import enum

import msgspec


class TaskFamily(enum.StrEnum):
    PICK = "pick"  # pick up / lift an object
    PUSH = "push"  # push an object towards a side of the table
    PLACE = "place"  # put an object in or on a target
    NONE = "none"  # not understood: runs, but has no automatic metric


class TaskSpec(msgspec.Struct, frozen=True, kw_only=True):
    family: TaskFamily
    object: str | None = None  # colour of the manipulated cube: "red" | "green" | "blue"
    direction: str | None = None  # PUSH: "left" | "right" | "forward" | "back"
    target: str | None = None  # PLACE: "bowl" | "zone" | a cube colour (stack on it)

    @property
    def has_metric(self) -> bool:
        return self.family is not TaskFamily.NONE
