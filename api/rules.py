"""The arena's small rules, apart from the service that applies them: how an instruction is cleaned and
checked, when a battle can take its vote, and when a vote came too early to count."""

from __future__ import annotations

import re
import time
import unicodedata

from api.pacing import anchor_time
from api.presenter import turn_status
from api.views import INSTRUCTION_PATTERN
from schemas.errors import NotReadyError, ValidationError
from schemas.records import EpisodeRecord
from sim_engine.episode import EpisodeSpec

# Unicode categories removed from instructions: controls, format characters (zero-width spaces and
# joiners, bidirectional overrides), private-use, surrogates and unassigned code points.
_DROPPED_CATEGORIES = {"Cc", "Cf", "Co", "Cs", "Cn"}


def normalise_instruction(text: str) -> str:
    """NFC, whitespace runs (any Unicode space, tabs, newlines) to one space, invisible and control
    characters removed, trimmed. What is stored, run and shown is this normalised text."""
    text = unicodedata.normalize("NFC", text)
    text = "".join(" " if ch.isspace() else ch for ch in text
                   if ch.isspace() or unicodedata.category(ch) not in _DROPPED_CATEGORIES)
    return " ".join(text.split())


def checked_instruction(instruction: str, max_chars: int) -> str:
    """The normalised instruction, or ValidationError("instruction", ...) saying what is wrong."""
    text = normalise_instruction(instruction)
    if not re.search(INSTRUCTION_PATTERN, text):
        raise ValidationError("instruction", "must not be empty: it needs a letter or a digit (spaces, "
                                             "punctuation and invisible characters do not count)")
    if len(text) > max_chars:
        raise ValidationError("instruction", f"must be at most {max_chars} characters")
    return text


def by_turn(episodes: list[EpisodeRecord]) -> list[list[EpisodeRecord]]:
    turns: dict[str, list[EpisodeRecord]] = {}
    for ep in episodes:
        turns.setdefault(ep.turn_id, []).append(ep)
    return list(turns.values())


def check_votable(episodes: list[EpisodeRecord]) -> None:
    """A vote needs a finished turn and none still running (NotReadyError says which is missing)."""
    statuses = [turn_status(eps) for eps in by_turn(episodes)]
    if not statuses:
        raise NotReadyError("the battle has no turns yet: submit an instruction first")
    if "running" in statuses:
        raise NotReadyError("a turn is still running: vote once every episode has ended")
    if "done" not in statuses:
        raise NotReadyError("no turn finished successfully: retry the instruction before voting")


def vote_flags(episodes: list[EpisodeRecord], stream_pace: float) -> list[str]:
    """["early"] when the vote comes before both sides of every turn could have been watched to the end
    at the stream's pace (the ranking leaves such votes out)."""
    if stream_pace <= 0 or not episodes:
        return []
    period = 1.0 / EpisodeSpec.control_rate / stream_pace
    watched = max(anchor_time([e.started_at for e in eps], now=time.time())
                  + max((e.result.steps if e.result else 0) for e in eps) * period
                  for eps in by_turn(episodes))
    return ["early"] if time.time() < watched else []
