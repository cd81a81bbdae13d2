"""Open vote data in FastChat's battle format: one row per voted battle, with the exclusion flags.

Fields follow FastChat's `clean_battle_data` output where one exists (model_a, model_b, winner, judge,
turn, anony, tstamp) and add the robot arena's own: robot, scene, the instructions of every turn, the
automatic metrics (success, progress) and episode ids per side, the voter's optional per-side progress
and note, and the flags. model_a is the policy shown on the left. `judge` is an HMAC of the voter id
under a server secret: stable across exports of one deployment, useless for recovering the id.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Iterator

import msgspec

from api.ratings.cleaning import EXCLUDING, voter_of
from api.store.port import Store
from api.views import VoteExport
from schemas.errors import ValidationError
from schemas.records import Side, VoteChoice, VoteRecord

WINNER = {VoteChoice.LEFT: "model_a", VoteChoice.RIGHT: "model_b", VoteChoice.TIE: "tie",
          VoteChoice.BOTH_BAD: "tie (bothbad)"}


class BattleFacts(msgspec.Struct, frozen=True, kw_only=True):
    """What a voted battle ran: its turns' instructions and, per side, episodes and automatic metrics."""

    instructions: list[str]
    first_turn_at: float | None
    episodes: dict[str, list[str]]
    success: dict[str, list[bool | None]]
    progress: dict[str, list[float | None]]


def load_facts(store: Store, battle_id: str) -> BattleFacts:
    """Two store reads; a voted battle never changes again, so callers may keep the result."""
    turns = store.list_turns(battle_id)
    episodes: dict[str, list[str]] = {Side.LEFT.value: [], Side.RIGHT.value: []}
    success: dict[str, list[bool | None]] = {Side.LEFT.value: [], Side.RIGHT.value: []}
    progress: dict[str, list[float | None]] = {Side.LEFT.value: [], Side.RIGHT.value: []}
    for ep in store.list_battle_episodes(battle_id):
        side = Side(ep.side).value
        episodes[side].append(ep.id)
        success[side].append(ep.result.success if ep.result else None)
        progress[side].append(ep.result.progress if ep.result else None)
    return BattleFacts(instructions=[t.instruction for t in turns],
                       first_turn_at=turns[0].created_at if turns else None,
                       episodes=episodes, success=success, progress=progress)


def judge(salt: bytes, voter_id: str | None) -> str:
    """The voter as a salted hash (16 hex digits); "" for votes that carry no voter."""
    if not voter_id:
        return ""
    return hmac.new(salt, b"judge:" + voter_id.encode(), hashlib.sha256).hexdigest()[:16]


def export_row(v: VoteRecord, facts: BattleFacts, flags: list[str], salt: bytes) -> VoteExport:
    left, right = Side.LEFT.value, Side.RIGHT.value
    return VoteExport(
        question_id=v.battle_id, vote_id=v.id, model_a=v.left_policy, model_b=v.right_policy,
        winner=WINNER[VoteChoice(v.choice)], judge=judge(salt, voter_of(v)), turn=len(facts.instructions),
        robot=v.robot_id, scene=v.scene_id, instructions=facts.instructions, tstamp=v.created_at,
        first_turn_tstamp=facts.first_turn_at, episodes_a=facts.episodes[left], episodes_b=facts.episodes[right],
        success_a=facts.success[left], success_b=facts.success[right],
        progress_a=facts.progress[left], progress_b=facts.progress[right],
        judge_progress_a=getattr(v, "left_progress", None), judge_progress_b=getattr(v, "right_progress", None),
        note=getattr(v, "note", None), flags=flags, excluded=bool(EXCLUDING.intersection(flags)))


def to_jsonl(rows: Iterable[VoteExport]) -> Iterator[bytes]:
    """One JSON object per line."""
    encoder = msgspec.json.Encoder()
    for row in rows:
        yield encoder.encode(row) + b"\n"


def to_parquet(rows: list[VoteExport]) -> bytes:
    """The rows as a Parquet file (needs pyarrow: pip install 'vla-arena[data]')."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise ValidationError("format", "Parquet needs pyarrow on the server (pip install "
                              "'vla-arena[data]'); format=jsonl works everywhere") from exc
    table = pa.Table.from_pylist([msgspec.to_builtins(r) for r in rows])
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    return bytes(sink.getvalue().to_pybytes())
