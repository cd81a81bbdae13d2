"""`arena export trajectories --out DIR`: every voted battle's record as folders, streamed from the store.

    DIR/index.jsonl                      one line per episode: ids, robot, scene, instruction, seed, policy,
                                         side, outcome, the vote and the file's path and sha256
    DIR/battles/<battle_id>/...          battle.json and episodes/*.vlar (api.lab.export_archive; the
                                         archive's per-episode header JSON is left out: see index.jsonl)

Battles are taken from the votes (only voted battles have a record: before the vote the files would name
the policies), oldest first, filtered by robot, scene and vote time. Memory stays bounded: one trajectory
is held at a time, and the index is appended line by line; only the vote records (a few hundred bytes
each) are listed up front. Voter ids are salted hashes (`judge`), as in `arena export votes`.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path

from api.lab.export_archive import battle_files
from api.store.port import Store
from schemas.errors import ValidationError
from schemas.records import VoteRecord


def parse_since(text: str | None) -> float | None:
    """`--since`: an ISO date or date-time (UTC unless it says otherwise), or seconds since the epoch."""
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        pass
    try:
        moment = datetime.datetime.fromisoformat(text)
    except ValueError as exc:
        raise ValidationError("since", f"expected an ISO date such as 2026-11-30, got {text!r}") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment.timestamp()


def selected_votes(store: Store, robot: str | None, scene: str | None, since: float | None) -> list[VoteRecord]:
    """The votes whose battles are exported, oldest first."""
    return [v for v in store.list_votes(robot)
            if (scene is None or v.scene_id == scene) and (since is None or v.created_at >= since)]


def export_battles(store: Store, votes: list[VoteRecord], out: Path, salt: bytes,
                   tick: Callable[[], None] = lambda: None) -> dict[str, int]:
    """Write every vote's battle under `out`; `tick()` after each battle. Returns counts."""
    out.mkdir(parents=True, exist_ok=True)
    counts = {"battles": 0, "episodes": 0, "bytes": 0}
    with (out / "index.jsonl").open("w", encoding="utf-8") as index:
        for vote in votes:
            for line in _write_battle(store, vote, out / "battles" / vote.battle_id, salt, counts):
                index.write(json.dumps(line, sort_keys=True, allow_nan=False) + "\n")
            counts["battles"] += 1
            tick()
    return counts


def _write_battle(store: Store, vote: VoteRecord, folder: Path, salt: bytes, counts: dict[str, int]
                  ) -> Iterator[dict]:
    battle_doc: dict = {}
    for path, data in battle_files(store, vote.battle_id, salt, headers=False):
        target = folder / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        counts["bytes"] += len(data)
        if path == "battle.json":
            battle_doc = json.loads(data)
        elif path.endswith(".vlar"):
            counts["episodes"] += 1
            yield _index_line(battle_doc, path, data)


def _index_line(battle: dict, path: str, data: bytes) -> dict:
    turn_seq, side = path.removeprefix("episodes/turn").removesuffix(".vlar").split("-")
    turn = battle["turns"][int(turn_seq)]
    episode = turn["episodes"][side]
    result = episode["result"] or {}
    return {"battle_id": battle["battle_id"], "turn": int(turn_seq), "side": side, "episode_id": episode["episode_id"],
            "robot_id": battle["robot_id"], "scene_id": battle["scene_id"], "instruction": turn["instruction"],
            "seed": turn["seed"], "policy": episode["policy"], "success": result.get("success"),
            "progress": result.get("progress"), "steps": result.get("steps"), "n_frames": result.get("n_frames"),
            "vote": battle["vote"]["choice"], "judge": battle["vote"]["judge"],
            "file": f"battles/{battle['battle_id']}/{path}", "sha256": hashlib.sha256(data).hexdigest()}
