"""A battle's research record as files: its episodes (`.vlar`), their headers, the battle and the vote.

`battle_files(store, battle_id, salt)` yields (path, bytes) one file at a time, so a caller holds at most one
trajectory in memory; `zip_battle` packs them into one zip (GET /api/battles/{id}/archive) and
`api.lab.export_trajectories` writes them into folders (`arena export trajectories`). Layout:

    battle.json                      battle, turns, every episode's outcome, the vote (voter as a salted hash)
    episodes/turn000-left.vlar       the full replay file (docs/replay-format.md), exactly as stored
    episodes/turn000-left.json       its header (read_header) and outcome, for tools that do not read .vlar

Voters get a record only after the vote (GET /api/battles/{id}/archive): before it these files would name the
policies. The operator's bulk exports may also write unvoted battles (`unvoted=True`), with `"vote": null`.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator

import msgspec

from api.ratings.export import judge
from api.store.port import Store
from replay_format import FILE_EXTENSION, read_header
from schemas.errors import NotFoundError
from schemas.records import BattleRecord, EpisodeRecord, EpisodeStatus, TurnRecord, VoteRecord

ARCHIVE_MEDIA_TYPE = "application/zip"
_EPOCH = (1980, 1, 1, 0, 0, 0)  # fixed zip timestamps: the same battle always gives the same bytes


def episode_stem(turn: TurnRecord, episode: EpisodeRecord) -> str:
    """`episodes/turn000-left`: where an episode's files go inside a battle's record."""
    return f"episodes/turn{turn.seq:03d}-{episode.side}"


def vote_doc(vote: VoteRecord, salt: bytes) -> dict:
    """The vote without the raw voter id (`judge` is the same salted hash as in `arena export votes`)."""
    return {"choice": str(vote.choice), "created_at": vote.created_at, "judge": judge(salt, vote.voter_id),
            "left_progress": vote.left_progress, "right_progress": vote.right_progress, "note": vote.note,
            "flags": list(vote.flags)}


def _episode_doc(episode: EpisodeRecord, stem: str) -> dict:
    result = msgspec.to_builtins(episode.result) if episode.result is not None else None
    done = episode.status is EpisodeStatus.DONE and episode.result is not None
    return {"episode_id": episode.id, "policy": episode.policy, "status": str(episode.status), "result": result,
            "error": episode.error, "file": f"{stem}{FILE_EXTENSION}" if done else None}


def battle_doc(battle: BattleRecord, turns: list[TurnRecord], episodes: list[EpisodeRecord],
               vote: VoteRecord | None, salt: bytes) -> dict:
    """battle.json: the battle, its turns with both episodes' outcomes, and the vote (null if none yet)."""
    by_turn: dict[str, dict] = {t.id: {} for t in turns}
    seq = {t.id: t for t in turns}
    for ep in episodes:
        by_turn.setdefault(ep.turn_id, {})[str(ep.side)] = _episode_doc(ep, episode_stem(seq[ep.turn_id], ep))
    return {"battle_id": battle.id, "session_id": battle.session_id, "robot_id": battle.robot_id,
            "scene_id": battle.scene_id, "created_at": battle.created_at, "left_policy": battle.left_policy,
            "right_policy": battle.right_policy, "vote": None if vote is None else vote_doc(vote, salt),
            "turns": [{"seq": t.seq, "instruction": t.instruction, "seed": t.seed, "max_steps": t.max_steps,
                       "start": t.start, "episodes": by_turn[t.id]} for t in turns]}


def _json(doc: object) -> bytes:
    return msgspec.json.format(msgspec.json.encode(doc, order="sorted"), indent=1) + b"\n"


def battle_files(store: Store, battle_id: str, salt: bytes, *, headers: bool = True,
                 unvoted: bool = False) -> Iterator[tuple[str, bytes]]:
    """(path, bytes) of every file of a battle's record; raises NotFoundError("archive") before the vote
    unless `unvoted` (the operator's exports only: never for a voter).

    `headers=False` leaves out the per-episode JSON (the `.vlar` holds the header; bulk exports index it)."""
    vote = store.get_vote(battle_id)
    if vote is None and not unvoted:
        raise NotFoundError("archive", battle_id)
    battle = store.get_battle(battle_id)
    turns = store.list_turns(battle_id)
    episodes = store.list_battle_episodes(battle_id)
    yield "battle.json", _json(battle_doc(battle, turns, episodes, vote, salt))
    seq = {t.id: t for t in turns}
    for ep in episodes:
        if ep.status is not EpisodeStatus.DONE or ep.result is None:
            continue
        data = store.get_trajectory(ep.id)
        stem = episode_stem(seq[ep.turn_id], ep)
        yield f"{stem}{FILE_EXTENSION}", data
        if headers:
            version, header = read_header(data)
            doc = {"episode_id": ep.id, "format_version": list(version), "header": msgspec.to_builtins(header),
                   "result": msgspec.to_builtins(ep.result), "policy": ep.policy, "side": str(ep.side)}
            yield f"{stem}.json", _json(doc)


def zip_battle(store: Store, battle_id: str, salt: bytes) -> bytes:
    """The battle's record as one zip: `.vlar` files stored as they are (already compressed), JSON deflated."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path, data in battle_files(store, battle_id, salt):
            info = zipfile.ZipInfo(f"{battle_id}/{path}", date_time=_EPOCH)
            info.compress_type = zipfile.ZIP_STORED if path.endswith(FILE_EXTENSION) else zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return buffer.getvalue()
