"""Request and response bodies of the public API (msgspec Structs).

Before a battle is voted on, no view carries a policy name: battle, turn and episode views are built
without access to the names, and the vote response is the only place that reveals them.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from schemas.records import EpisodeStatus, VoteChoice
from schemas.task import TaskSpec


class SessionCreate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    robot_id: str
    scene_id: str
    voter_id: str | None = None


class TurnCreate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    instruction: str
    max_steps: int | None = None


class VoteCreate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    choice: VoteChoice


class RobotView(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    name: str
    description: str
    scenes: list[str]


class SceneView(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    name: str
    description: str
    robots: list[str]
    objects: list[str]


class ModelView(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    organisation: str
    licence: str
    description: str


class EpisodeView(msgspec.Struct, frozen=True, kw_only=True):
    episode_id: str
    status: EpisodeStatus
    success: bool | None = None
    progress: float | None = None
    steps: int | None = None
    error: str | None = None
    stream_url: str
    trajectory_url: str | None = None
    trajectory_bytes: int | None = None


class Sides(msgspec.Struct, frozen=True, kw_only=True):
    left: EpisodeView
    right: EpisodeView


class TurnView(msgspec.Struct, frozen=True, kw_only=True):
    turn_id: str
    battle_id: str
    seq: int
    instruction: str
    seed: int
    max_steps: int
    status: Literal["running", "done", "failed"]
    task: TaskSpec
    episodes: Sides


class TurnCreated(msgspec.Struct, frozen=True, kw_only=True):
    turn_id: str
    battle_id: str
    seq: int
    episodes: dict[str, str]  # {"left": episode_id, "right": episode_id}


class Reveal(msgspec.Struct, frozen=True, kw_only=True):
    battle_id: str
    choice: VoteChoice
    left: ModelView
    right: ModelView


class BattleView(msgspec.Struct, frozen=True, kw_only=True):
    battle_id: str
    session_id: str
    seq: int
    robot_id: str
    scene_id: str
    created_at: float
    status: Literal["open", "voted"]
    turns: list[TurnView]
    vote: Reveal | None = None


class SessionView(msgspec.Struct, frozen=True, kw_only=True):
    session_id: str
    robot_id: str
    scene_id: str
    created_at: float
    battles: list[BattleView]


class SessionCreated(msgspec.Struct, frozen=True, kw_only=True):
    session_id: str
    robot_id: str
    scene_id: str
    battle: BattleView


class RatingRow(msgspec.Struct, frozen=True, kw_only=True):
    rank: int
    model: str
    organisation: str
    rating: float
    ci_low: float
    ci_high: float
    votes: int
    wins: int
    losses: int
    ties: int
    win_rate: float


class LeaderboardView(msgspec.Struct, frozen=True, kw_only=True):
    robot_id: str | None
    total_votes: int
    method: str
    models: list[RatingRow]


class VoteExport(msgspec.Struct, frozen=True, kw_only=True):
    vote_id: str
    battle_id: str
    robot_id: str
    scene_id: str
    left_model: str
    right_model: str
    choice: VoteChoice
    created_at: float
