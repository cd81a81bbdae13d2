"""Request and response bodies of the public API (msgspec Structs).

Before a battle is voted on, no view carries a policy name or anything from the automatic metric:
`api.presenter` builds them blinded (`api.blind`), and the vote response is the only place that
reveals the names.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from schemas.records import EpisodeStatus, VoteChoice
from schemas.task import TaskSpec, Understanding
from sim_engine.episode import MAX_STEPS_LIMIT


class SessionCreate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The voter is the caller (the server-issued `arena_voter` cookie), never a field of the body."""

    robot_id: str
    scene_id: str


INSTRUCTION_MAX_CHARS = 300  # the API's cap (ARENA_INSTRUCTION_MAX_CHARS can lower it, not raise it)
INSTRUCTION_PATTERN = r"\w"  # what is left after normalising needs a letter or a digit (ArenaService checks it)
INSTRUCTION_RULE = {"pattern": INSTRUCTION_PATTERN, "description": (
    "What the robots are asked to do. Normalised before use (Unicode NFC, whitespace runs to one space, control, "
    "format and zero-width characters removed); it must then hold a letter or a digit, and at most "
    f"{INSTRUCTION_MAX_CHARS} characters (fewer when the server's ARENA_INSTRUCTION_MAX_CHARS says so).")}
Instruction = Annotated[str, msgspec.Meta(max_length=INSTRUCTION_MAX_CHARS,
                                          extra_json_schema={"extra": INSTRUCTION_RULE})]


class TurnCreate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """`start`: "continue" runs the instruction from where each side's robot ended the previous turn
    (its final qpos/qvel, restored exactly); "reset" draws a fresh layout from a new seed. The first
    turn of a battle, or one after a turn that did not finish on both sides, always resets."""

    instruction: Instruction
    max_steps: Annotated[int, msgspec.Meta(ge=1, le=MAX_STEPS_LIMIT)] | None = None
    start: Literal["continue", "reset"] = "continue"


# The extra "minimum" because Litestar leaves a bound of 0 out of the OpenAPI document.
Progress = Annotated[float, msgspec.Meta(ge=0, le=100, extra_json_schema={"extra": {"minimum": 0}})]


class VoteCreate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The vote, and optionally (as RoboArena asks) how far each side got, 0-100, and a free-text note."""

    choice: VoteChoice
    left_progress: Progress | None = None
    right_progress: Progress | None = None
    note: Annotated[str, msgspec.Meta(max_length=2000)] | None = None


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
    start: str  # "reset" (a fresh layout from `seed`) or "continue" (each side's previous final state)
    status: Literal["running", "done", "failed"]
    task: TaskSpec  # the first scored part (kept for older clients); `understanding` has every part
    understanding: Understanding
    episodes: Sides


class TurnCreated(msgspec.Struct, frozen=True, kw_only=True):
    turn_id: str
    battle_id: str
    seq: int
    start: str
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
    """One model on a board (see docs/ratings.md). `rank` is Rank (UB) within `group` (models connected by
    votes); `provisional` below the board's `min_votes`; `success_rate` is the automatic metric over the
    model's episodes in the board's voted battles (None without any)."""

    rank: int
    model: str
    organisation: str
    rating: float
    ci_low: float
    ci_high: float
    provisional: bool
    group: int
    votes: int
    wins: int
    losses: int
    ties: int
    both_bad: int
    win_rate: float
    success_rate: float | None
    episodes: int  # episodes with a success metric behind success_rate


class LeaderboardView(msgspec.Struct, frozen=True, kw_only=True):
    robot_id: str | None
    scene_id: str | None = None
    total_votes: int  # votes on this board (what the fit saw, up to a few seconds behind the store)
    fitted_votes: int  # votes the fit used: total_votes less the excluded ones (flags in GET /api/votes)
    min_votes: int  # below this a model is provisional
    method: str
    scope: str  # what the board compares (and, for pooled boards, what it does not)
    groups: int  # sets of models connected by votes; ratings compare only within one
    metric_correlation: float | None  # Kendall tau between rating and success rate across the models
    fitted_at: float  # UNIX time of the fit (0 before the first)
    models: list[RatingRow]


class VoteExport(msgspec.Struct, frozen=True, kw_only=True):
    """One voted battle in FastChat's battle format (model_a = left), plus the robot arena's fields."""

    question_id: str  # the battle id
    vote_id: str
    model_a: str
    model_b: str
    winner: str  # "model_a" | "model_b" | "tie" | "tie (bothbad)"
    judge: str  # salted hash of the voter ("" when the vote has none)
    turn: int
    anony: bool = True
    robot: str
    scene: str
    instructions: list[str]
    tstamp: float  # vote time
    first_turn_tstamp: float | None
    episodes_a: list[str]
    episodes_b: list[str]
    success_a: list[bool | None]
    success_b: list[bool | None]
    progress_a: list[float | None]
    progress_b: list[float | None]
    judge_progress_a: float | None  # the voter's own 0-100 progress estimate, if given
    judge_progress_b: float | None
    note: str | None
    flags: list[str]
    excluded: bool  # left out of the ratings (see flags)
