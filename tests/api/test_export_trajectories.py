"""`arena export trajectories` (every battle, or `--voted-only`) and GET /api/battles/{id}/archive (a voted
battle's full record, for its voter only), streamed.

The bulk export runs against a real SQLite store (on /dev/shm when there is one, so 5,000 battles take a
few seconds) holding 10,000 episodes; the process's peak resident memory bounds what the export holds
(tracemalloc would be exact but makes the run 4x slower).
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from litestar.testing import TestClient

from api.cli import main as arena
from api.lab.export_trajectories import parse_since, selected_battles, selected_votes
from api.store import SqliteStore
from replay_format import ActuatorInfo, JointInfo, ReplayHeader, decode_replay, encode_replay
from schemas.errors import ValidationError
from schemas.records import Side, VoteChoice
from tests.api import store_records as records

SALT = b"test-salt-0123456789"


def tiny_replay(seed: int) -> bytes:
    """A small valid .vlar (40 frames, nq=8): its header is real, its numbers are random."""
    rng = np.random.default_rng(seed)
    n = 40
    header = ReplayHeader(
        mujoco_version="3.14.0", bundle_hash="sha256:" + "cd" * 32, robot_id="panda", scene_id="kitchen",
        nq=8, nv=7, nu=2, timestep=0.002, frame_rate=50.0, control_rate=10.0,
        joints=[JointInfo(name="box", type="free", qpos_adr=0, dof_adr=0),
                JointInfo(name="elbow", type="hinge", qpos_adr=7, dof_adr=6)],
        actuators=[ActuatorInfo(name="elbow", joint="elbow")], action_space="joint_pos", action_dim=2,
        step_frames=list(range(0, n, 5)), metadata={"instruction": "put the red block in the bowl", "seed": seed},
    )
    frames = {"time": np.arange(n) * 0.02, "qpos": rng.normal(size=(n, 8)), "qvel": rng.normal(size=(n, 7)),
              "ctrl": rng.normal(size=(n, 2))}
    return encode_replay(header, frames, {"action": rng.normal(size=(n // 5, 2))}, level=1)


Indexed = Callable[[int], str]


def fill(store: SqliteStore, n_battles: int, replays: list[bytes], *, scene_of: Indexed = lambda i: "kitchen",
         at_of: Callable[[int], float] = lambda i: 200.0 + i, voted: Callable[[int], bool] = lambda i: True) -> None:
    """n_battles battles of one turn, two finished episodes each; voted unless `voted(i)` says not."""
    for i in range(n_battles):
        sid, bid, tid = f"s{i}", f"b{i}", f"t{i}"
        battle = records.battle(bid, sid=sid)
        store.create_session(records.session(sid, voter=f"voter{i % 7}"), battle.__class__(
            **{**{f: getattr(battle, f) for f in battle.__struct_fields__}, "scene_id": scene_of(i)}))
        episodes = [records.episode(f"e{i}{s.value[0]}", s, tid=tid, bid=bid) for s in (Side.LEFT, Side.RIGHT)]
        store.create_turn(records.turn(tid, bid=bid), episodes)
        for k, ep in enumerate(episodes):
            data = replays[(2 * i + k) % len(replays)]
            store.finish_episode(ep.id, records.result_for(data), data, 300.0)
        if not voted(i):
            continue
        vote = records.vote(f"v{i}", bid=bid, at=at_of(i), choice=VoteChoice.LEFT)
        store.record_vote(vote.__class__(**{**{f: getattr(vote, f) for f in vote.__struct_fields__},
                                            "scene_id": scene_of(i), "voter_id": f"voter{i % 7}"}))


# Run in a fresh interpreter, so its peak resident memory before the export is a meaningful baseline.
EXPORT_SCRIPT = """
import json, resource, sys
from pathlib import Path
from api.lab.export_trajectories import export_battles, selected_battles
from api.store import SqliteStore
peak = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
store = SqliteStore(sys.argv[1])
battles = selected_battles(store, None, None, None)
before = peak()
counts = export_battles(store, battles, Path(sys.argv[2]), b"test-salt-0123456789")
print(json.dumps({"before": before, "after": peak(), **counts}))
"""


@pytest.fixture
def fast_dir(tmp_path: Path) -> Iterator[Path]:
    """A scratch folder on tmpfs when available (SQLite's fsyncs are free there)."""
    if not os.path.isdir("/dev/shm"):
        yield tmp_path
        return
    with tempfile.TemporaryDirectory(dir="/dev/shm") as folder:
        yield Path(folder)


def test_ten_thousand_episodes_stream_with_bounded_memory(fast_dir: Path) -> None:
    replays = [tiny_replay(seed) for seed in range(8)]
    store = SqliteStore(fast_dir / "arena.db")
    fill(store, 5_000, replays, voted=lambda i: i % 5 != 0)  # every fifth battle has no vote yet
    store.close()
    out = fast_dir / "export"
    run = subprocess.run([sys.executable, "-c", EXPORT_SCRIPT, str(fast_dir / "arena.db"), str(out)],
                         capture_output=True, text=True, timeout=600, cwd=Path(__file__).resolve().parents[2])
    assert run.returncode == 0, run.stderr
    counts = json.loads(run.stdout)
    assert counts["battles"] == 5_000
    assert counts["episodes"] == 10_000
    written = sum(len(r) for r in replays) * 10_000 // len(replays)
    assert counts["bytes"] > written > 30 * 2**20  # the .vlar files plus battle.json
    # Holding the trajectories would add 30+ MiB; streaming one battle at a time adds almost nothing.
    grown = counts["after"] - counts["before"]
    assert grown < 8 * 2**20, f"peak grew {grown / 2**20:.1f} MiB while writing {counts['bytes'] / 2**20:.1f} MiB"
    lines = (out / "index.jsonl").read_text().splitlines()
    assert len(lines) == 10_000
    row = json.loads(lines[-1])
    assert (row["battle_id"], row["side"], row["turn"]) == ("b999", "right", 0)  # creation order, then id
    stored = (out / row["file"]).read_bytes()
    assert decode_replay(stored).header.metadata["seed"] in range(8)
    assert row["judge"]
    assert "voter" not in json.dumps(row)  # voters only as salted hashes
    unvoted = [json.loads(x) for x in lines[:20] if json.loads(x)["battle_id"] in {"b0", "b10", "b100", "b1000"}]
    assert len(unvoted) == 8
    assert all(x["vote"] is None and x["judge"] is None and x["policy"] for x in unvoted)


def test_filters_and_since(fast_dir: Path) -> None:
    store = SqliteStore(fast_dir / "arena.db")
    fill(store, 6, [tiny_replay(1)], scene_of=lambda i: "kitchen" if i % 2 else "table", at_of=lambda i: 1000.0 * i)
    try:
        assert [v.battle_id for v in selected_votes(store, None, "table", None)] == ["b0", "b2", "b4"]
        assert [v.battle_id for v in selected_votes(store, None, None, 3000.0)] == ["b3", "b4", "b5"]
        assert selected_votes(store, "nobody", None, None) == []
    finally:
        store.close()
    store = SqliteStore(fast_dir / "arena2.db")
    fill(store, 6, [tiny_replay(1)], scene_of=lambda i: "kitchen" if i % 2 else "table",
         at_of=lambda i: 1000.0 * (6 - i), voted=lambda i: i != 3)
    try:  # every battle in creation order (battle id here), `since` on the battle's creation; or voted, by vote
        assert selected_battles(store, None, "kitchen", None) == [
            ("b1", store.get_vote("b1")), ("b3", None), ("b5", store.get_vote("b5"))]
        assert [b for b, _ in selected_battles(store, None, None, None, voted_only=True)] == ["b5", "b4", "b2", "b1",
                                                                                              "b0"]
        assert [b for b, _ in selected_battles(store, None, None, 101.0)] == []
        assert len(selected_battles(store, None, None, 100.0)) == 6
        assert selected_battles(store, "nobody", None, None) == []
    finally:
        store.close()
    assert parse_since("2026-11-30") == parse_since("2026-11-30T00:00:00+00:00") == 1_795_996_800.0
    assert parse_since("1234.5") == 1234.5
    with pytest.raises(ValidationError, match="since"):
        parse_since("last tuesday")


def test_cli_exports_a_store(fast_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    store = SqliteStore(fast_dir / "arena.db")
    fill(store, 3, [tiny_replay(2), tiny_replay(3)])
    store.close()
    monkeypatch.setenv("ARENA_STORE_URL", f"sqlite:///{fast_dir / 'arena.db'}")
    monkeypatch.setenv("ARENA_DATA_DIR", str(fast_dir))
    assert arena(["export", "trajectories", "--out", str(fast_dir / "out"), "--since", "1970-01-01"]) == 0
    assert "3 battles, 6 episodes" in capsys.readouterr().err
    battle = json.loads((fast_dir / "out" / "battles" / "b1" / "battle.json").read_text())
    assert battle["vote"]["choice"] == "left"
    assert battle["turns"][0]["episodes"]["right"]["file"] == "episodes/turn000-right.vlar"
    assert arena(["export", "lerobot"]) == 2  # needs --out


def test_cli_exports_unvoted_battles_unless_voted_only(fast_dir: Path, monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture) -> None:
    store = SqliteStore(fast_dir / "arena.db")
    fill(store, 3, [tiny_replay(2)], voted=lambda i: i != 1)
    store.close()
    monkeypatch.setenv("ARENA_STORE_URL", f"sqlite:///{fast_dir / 'arena.db'}")
    monkeypatch.setenv("ARENA_DATA_DIR", str(fast_dir))
    assert arena(["export", "trajectories", "--out", str(fast_dir / "all")]) == 0
    assert "3 battles, 6 episodes" in capsys.readouterr().err
    battle = json.loads((fast_dir / "all" / "battles" / "b1" / "battle.json").read_text())
    assert battle["vote"] is None
    assert (battle["left_policy"], battle["right_policy"]) == ("pi0", "octo")
    rows = [json.loads(x) for x in (fast_dir / "all" / "index.jsonl").read_text().splitlines()]
    assert [(r["battle_id"], r["vote"]) for r in rows] == [("b0", "left"), ("b0", "left"), ("b1", None), ("b1", None),
                                                           ("b2", "left"), ("b2", "left")]
    assert arena(["export", "trajectories", "--out", str(fast_dir / "voted"), "--voted-only"]) == 0
    assert "2 battles, 4 episodes" in capsys.readouterr().err
    assert sorted(p.name for p in (fast_dir / "voted" / "battles").iterdir()) == ["b0", "b2"]


# ---- GET /api/battles/{id}/archive -----------------------------------------------------------------------


def test_archive_only_after_the_vote_and_only_for_its_voter(make_client: Callable[..., TestClient],
                                                            new_battle: Callable[..., str],
                                                            play_turn: Callable[..., dict]) -> None:
    client = make_client()
    other = make_client()
    battle_id = new_battle(client)
    view = play_turn(client, battle_id, max_steps=3)
    assert view["status"] == "done"
    before = client.get(f"/api/battles/{battle_id}/archive")
    assert before.status_code == 404, before.text  # nothing before the vote: the files name the policies
    assert "archive" in before.json()["detail"]
    assert client.post(f"/api/battles/{battle_id}/vote", json={"choice": "right"}).status_code == 200
    assert other.get(f"/api/battles/{battle_id}/archive").status_code == 404  # another voter's battle
    response = client.get(f"/api/battles/{battle_id}/archive")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/zip")
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    names = sorted(archive.namelist())
    assert names == sorted(f"{battle_id}/{n}" for n in ["battle.json", "episodes/turn000-left.vlar",
                                                         "episodes/turn000-left.json", "episodes/turn000-right.vlar",
                                                         "episodes/turn000-right.json"])
    battle = json.loads(archive.read(f"{battle_id}/battle.json"))
    assert battle["vote"]["choice"] == "right"
    assert len(battle["vote"]["judge"]) == 16
    for side in ("left", "right"):
        episode_id = view["episodes"][side]["episode_id"]
        full = client.get(f"/api/episodes/{episode_id}/trajectory").content  # after the vote: the full file
        assert archive.read(f"{battle_id}/episodes/turn000-{side}.vlar") == full
        assert battle["turns"][0]["episodes"][side]["episode_id"] == episode_id
        header = json.loads(archive.read(f"{battle_id}/episodes/turn000-{side}.json"))["header"]
        assert header["action_space"] != "hidden"
        assert "action" in decode_replay(full).steps
    assert client.get(f"/api/battles/{battle_id}/archive").content == response.content  # deterministic
