"""`arena export trajectories --out DIR`: every battle's record as folders, streamed from the store.

    DIR/index.jsonl                      one line per episode: ids, robot, scene, instruction, seed, policy,
                                         side, outcome, the vote (null if none) and the file's path and sha256
    DIR/battles/<battle_id>/...          battle.json and episodes/*.vlar (api.lab.export_archive; the
                                         archive's per-episode header JSON is left out: see index.jsonl)

`selected_battles` picks what is written: by default every battle, voted or not, oldest first (creation
order, `Store.list_all_battles`), with `"vote": null` for those without a vote; with `voted_only` the voted
ones in vote order (`--since` then means vote time, else battle creation time). Both filter by robot and
scene. These are the operator's files and name the policies, unvoted battles' too: publishing an export
that holds battles still open for a vote would unblind them (docs/data.md). Memory stays bounded: one
trajectory is held at a time and the index is appended line by line; only battle ids and vote records
(a few hundred bytes each) are listed up front. Voter ids are salted hashes (`judge`), as in `arena export
votes`.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path

from api.lab.export_archive import battle_files
from api.store.port import Store, iter_battles
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


Selected = tuple[str, VoteRecord | None]  # a battle id and its vote, if it has one


def selected_battles(store: Store, robot: str | None, scene: str | None, since: float | None, *,
                     voted_only: bool = False) -> list[Selected]:
    """The battles to export: every battle in creation order (`since`: created from then on), or with
    `voted_only` the voted ones in vote order (`since`: voted from then on)."""
    if voted_only:
        return [(v.battle_id, v) for v in selected_votes(store, robot, scene, since)]
    votes = {v.battle_id: v for v in store.list_votes(robot)}
    return [(b.id, votes.get(b.id)) for b in iter_battles(store, robot)
            if (scene is None or b.scene_id == scene) and (since is None or b.created_at >= since)]


def export_battles(store: Store, battles: list[Selected], out: Path, salt: bytes,
                   tick: Callable[[], None] = lambda: None) -> dict[str, int]:
    """Write every selected battle under `out`; `tick()` after each battle. Returns counts."""
    out.mkdir(parents=True, exist_ok=True)
    counts = {"battles": 0, "episodes": 0, "bytes": 0}
    with (out / "index.jsonl").open("w", encoding="utf-8") as index:
        for battle_id, _vote in battles:
            for line in _write_battle(store, battle_id, out / "battles" / battle_id, salt, counts):
                index.write(json.dumps(line, sort_keys=True, allow_nan=False) + "\n")
            counts["battles"] += 1
            tick()
    return counts


def _write_battle(store: Store, battle_id: str, folder: Path, salt: bytes, counts: dict[str, int]
                  ) -> Iterator[dict]:
    battle_doc: dict = {}
    for path, data in battle_files(store, battle_id, salt, headers=False, unvoted=True):
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
    vote = battle["vote"] or {}
    return {"battle_id": battle["battle_id"], "turn": int(turn_seq), "side": side, "episode_id": episode["episode_id"],
            "robot_id": battle["robot_id"], "scene_id": battle["scene_id"], "instruction": turn["instruction"],
            "seed": turn["seed"], "policy": episode["policy"], "success": result.get("success"),
            "progress": result.get("progress"), "steps": result.get("steps"), "n_frames": result.get("n_frames"),
            "vote": vote.get("choice"), "judge": vote.get("judge"),
            "file": f"battles/{battle['battle_id']}/{path}", "sha256": hashlib.sha256(data).hexdigest()}
