"""Storage records: what a `Store` keeps. Every adapter stores and returns exactly these.

Times are UNIX seconds (float). Ids are opaque URL-safe strings that carry no
information about the policies behind them.
"""

from __future__ import annotations

import enum

import msgspec


class Side(enum.StrEnum):
    LEFT = "left"
    RIGHT = "right"


class VoteChoice(enum.StrEnum):
    LEFT = "left"
    RIGHT = "right"
    TIE = "tie"
    BOTH_BAD = "both_bad"


class EpisodeStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class SessionRecord(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    robot_id: str
    scene_id: str
    created_at: float
    voter_id: str | None = None


class BattleRecord(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    session_id: str
    seq: int
    robot_id: str
    scene_id: str
    left_policy: str
    right_policy: str
    created_at: float


class TurnRecord(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    battle_id: str
    seq: int
    instruction: str
    seed: int
    max_steps: int
    created_at: float
    start: str = "reset"  # "reset" | "continue": where the episodes' initial states came from


class EpisodeResult(msgspec.Struct, frozen=True, kw_only=True):
    """Outcome of a finished episode. `success`/`progress` are None when the
    instruction has no automatic metric."""

    success: bool | None
    progress: float | None
    steps: int
    n_frames: int
    terminated: str  # "success" | "max_steps"
    wall_time_s: float
    trajectory_sha256: str
    trajectory_bytes: int


class EpisodeRecord(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    turn_id: str
    battle_id: str
    side: Side
    policy: str
    status: EpisodeStatus = EpisodeStatus.QUEUED
    created_at: float
    started_at: float | None = None
    finished_at: float | None = None
    result: EpisodeResult | None = None
    error: str | None = None
    voter_id: str | None = None


class VoteRecord(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    battle_id: str
    session_id: str
    robot_id: str
    scene_id: str
    left_policy: str
    right_policy: str
    choice: VoteChoice
    created_at: float
    voter_id: str | None = None
    left_progress: float | None = None
    right_progress: float | None = None
    note: str | None = None
    flags: list[str] = []  # e.g. "early" (voted while a turn ran), "excluded" (left out of the ratings)
