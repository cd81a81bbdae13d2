"""`arena export lerobot`: voted battles as a LeRobot v3.0 dataset plus the exact sidecar.

Validated against LeRobot's published v3.0 layout (lerobot.datasets.utils of LeRobot 0.4: path templates,
info.json keys, the episodes and tasks tables) by reading the files back with pyarrow and comparing every
frame with the source trajectories. `lerobot` itself cannot be installed beside torch 2.13 (it pins
torch < 2.11); when ARENA_LEROBOT_PYTHON names an interpreter that has it, its `LeRobotDataset` loads the
export too (see docs/data.md).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import msgspec
import numpy as np
import pyarrow.parquet as pq
import pytest

from api.lab import export_lerobot_files as files
from api.lab.export_lerobot import export_lerobot, state_columns
from api.lab.export_trajectories import selected_votes
from api.store import SqliteStore
from policy_host.registry import Registry
from replay_format import decode_replay
from schemas.records import Side, VoteChoice
from sim_engine.episode import EpisodeSpec, run_episode
from tests.api import store_records as records

SALT = b"test-salt-0123456789"
RED, GREEN = "pick up the red cube", "put the green cube in the bowl"
EPISODES = [("scripted-expert", RED, 1), ("random", RED, 2), ("scripted-noisy", GREEN, 3),
            ("scripted-expert", GREEN, 4)]
try:
    import av  # noqa: F401

    CAMERAS: tuple[str, ...] = ("exterior_1_left",)
except ImportError:  # PyAV is optional (pip install av); without it the export has no videos
    CAMERAS = ()


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[bytes]]:
    """A store with two voted battles of one turn each (four real episodes, 6 control steps)."""
    folder = tmp_path_factory.mktemp("lerobot")
    registry = Registry.from_file()
    replays = []
    for policy, instruction, seed in EPISODES:
        spec = EpisodeSpec(robot_id="franka", scene_id="table", instruction=instruction, seed=seed, max_steps=6)
        replays.append(run_episode(spec, registry.build(policy)).replay)
    store = SqliteStore(folder / "arena.db")
    for b in range(2):
        sid, bid, tid = f"s{b}", f"b{b}", f"t{b}"
        store.create_session(records.session(sid, voter="v"), records.battle(bid, sid=sid))
        turn = msgspec.structs.replace(records.turn(tid, bid=bid), instruction=EPISODES[2 * b][1])
        eps = [records.episode(f"e{b}{s.value[0]}", s, tid=tid, bid=bid) for s in (Side.LEFT, Side.RIGHT)]
        store.create_turn(turn, eps)
        for k, ep in enumerate(eps):
            store.finish_episode(ep.id, records.result_for(replays[2 * b + k]), replays[2 * b + k], 300.0)
        vote = records.vote(f"v{b}", bid=bid, at=200.0 + b, choice=VoteChoice.RIGHT)
        store.record_vote(msgspec.structs.replace(vote, voter_id="voter-1"))
    store.close()
    return folder, replays


@pytest.fixture(scope="module")
def exported(source: tuple[Path, list[bytes]]) -> Path:
    folder, _ = source
    store = SqliteStore(folder / "arena.db")
    try:
        counts = export_lerobot(store, selected_votes(store, None, None, None), folder / "out", SALT,
                                cameras=CAMERAS, width=128, height=96)
    finally:
        store.close()
    assert counts["episodes"] == 4
    assert counts["tasks"] == 2
    return folder / "out"


def test_v3_layout_and_info(exported: Path, source: tuple[Path, list[bytes]]) -> None:
    info = json.loads((exported / "meta" / "info.json").read_text())
    frames = sum(decode_replay(r).n_frames for r in source[1])
    assert info["codebase_version"] == "v3.0"
    assert (info["total_episodes"], info["total_frames"], info["total_tasks"]) == (4, frames, 2)
    assert info["fps"] == 50
    assert info["data_path"] == "data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet"
    assert info["splits"] == {"train": "0:4"}
    for name in ("observation.state", "action", "timestamp", "frame_index", "episode_index", "index", "task_index"):
        assert name in info["features"], name
    assert info["features"]["observation.state"]["shape"] == [9]  # 7 arm joints and the 2 gripper fingers
    assert (exported / "data" / "chunk-000" / "file-000.parquet").is_file()
    assert (exported / "meta" / "episodes" / "chunk-000" / "file-000.parquet").is_file()
    tasks = pq.read_table(exported / "meta" / "tasks.parquet")
    assert tasks.column("task").to_pylist() == ["pick up the red cube", "put the green cube in the bowl"]
    assert json.loads(tasks.schema.metadata[b"pandas"])["index_columns"] == ["task"]  # LeRobot indexes by task
    stats = json.loads((exported / "meta" / "stats.json").read_text())
    assert stats["action"]["count"] == [frames]
    if CAMERAS:
        key = f"observation.images.{CAMERAS[0]}"
        assert info["video_path"] == "videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4"
        assert info["features"][key]["shape"] == [96, 128, 3]
        assert (exported / "videos" / key / "chunk-000" / "file-000.mp4").stat().st_size > 1000


def test_frames_and_actions_match_the_source(exported: Path, source: tuple[Path, list[bytes]]) -> None:
    data = pq.read_table(exported / "data" / "chunk-000" / "file-000.parquet").to_pydict()
    episodes = pq.read_table(exported / "meta" / "episodes" / "chunk-000" / "file-000.parquet").to_pylist()
    assert [e["episode_index"] for e in episodes] == [0, 1, 2, 3]
    for e, raw in zip(episodes, source[1], strict=True):
        replay = decode_replay(raw)
        rows = slice(e["dataset_from_index"], e["dataset_to_index"])
        assert e["length"] == replay.n_frames == rows.stop - rows.start
        columns, _ = state_columns(replay)
        np.testing.assert_array_equal(np.array(data["observation.state"][rows], np.float32),
                                      replay.frames["qpos"][:, columns].astype(np.float32))
        np.testing.assert_array_equal(np.array(data["action"][rows], np.float32),
                                      replay.frames["ctrl"].astype(np.float32))
        assert data["frame_index"][rows] == list(range(replay.n_frames))
        assert set(data["episode_index"][rows]) == {e["episode_index"]}
        np.testing.assert_allclose(data["timestamp"][rows], np.arange(replay.n_frames) / 50, atol=1e-6)
        if CAMERAS:
            key = f"videos/observation.images.{CAMERAS[0]}"
            assert e[f"{key}/to_timestamp"] - e[f"{key}/from_timestamp"] == pytest.approx(replay.n_frames / 50)
    assert data["index"] == list(range(len(data["index"])))


def test_sidecar_keeps_the_exact_states_the_vlar_and_the_vote(exported: Path, source: tuple[Path, list[bytes]]
                                                               ) -> None:
    lines = [json.loads(x) for x in (exported / "arena" / "episodes.jsonl").read_text().splitlines()]
    states = pq.read_table(exported / "arena" / "states" / "chunk-000" / "file-000.parquet").to_pydict()
    for line, raw in zip(lines, source[1], strict=True):
        assert (exported / line["vlar"]).read_bytes() == raw
        replay = decode_replay(raw)
        assert line["bundle_hash"] == replay.header.bundle_hash
        assert line["vote"]["choice"] == "right"
        assert len(line["vote"]["judge"]) == 16
        rows = [i for i, e in enumerate(states["episode_index"]) if e == line["episode_index"]]
        qpos = np.array([states["qpos"][i] for i in rows], dtype=np.float64)
        qvel = np.array([states["qvel"][i] for i in rows], dtype=np.float64)
        np.testing.assert_array_equal(qpos.view(np.uint64), replay.frames["qpos"].view(np.uint64))  # bit for bit
        np.testing.assert_array_equal(qvel.view(np.uint64), replay.frames["qvel"].view(np.uint64))
    assert [x["side"] for x in lines] == ["left", "right", "left", "right"]


def test_files_roll_over_by_size(source: tuple[Path, list[bytes]], tmp_path: Path,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(files, "DATA_FILE_MB", 1e-6)  # every episode starts a new file
    store = SqliteStore(source[0] / "arena.db")
    try:
        export_lerobot(store, selected_votes(store, None, None, None), tmp_path, SALT, cameras=CAMERAS,
                       width=64, height=48)
    finally:
        store.close()
    episodes = pq.read_table(tmp_path / "meta" / "episodes" / "chunk-000" / "file-000.parquet").to_pylist()
    assert [e["data/file_index"] for e in episodes] == [0, 1, 2, 3]
    for e in episodes:
        table = pq.read_table(tmp_path / "data" / "chunk-000" / f"file-{e['data/file_index']:03d}.parquet")
        assert table.column("index").to_pylist() == list(range(e["dataset_from_index"], e["dataset_to_index"]))
        if CAMERAS:
            assert e[f"videos/observation.images.{CAMERAS[0]}/from_timestamp"] == 0.0
    assert json.loads((tmp_path / "meta" / "info.json").read_text())["total_episodes"] == 4


LOADER = """
import json, sys
import numpy as np
from lerobot.datasets.lerobot_dataset import LeRobotDataset
ds = LeRobotDataset("arena/export", root=sys.argv[1], download_videos=False)
out = {"episodes": ds.num_episodes, "frames": ds.num_frames, "first": {}}
for i in (0, len(ds) - 1):
    item = ds[i]
    out["first"][str(i)] = {"state": item["observation.state"].tolist(), "action": item["action"].tolist(),
                            "task": item["task"], "episode": int(item["episode_index"])}
print(json.dumps(out))
"""


@pytest.mark.skipif(not os.environ.get("ARENA_LEROBOT_PYTHON"),
                    reason="set ARENA_LEROBOT_PYTHON to an interpreter with lerobot 0.4 (docs/data.md)")
def test_lerobot_loads_the_export(exported: Path, source: tuple[Path, list[bytes]]) -> None:
    run = subprocess.run([os.environ["ARENA_LEROBOT_PYTHON"], "-c", LOADER, str(exported)], capture_output=True,
                         text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    loaded = json.loads(run.stdout.strip().splitlines()[-1])
    assert (loaded["episodes"], loaded["frames"]) == (4, sum(decode_replay(r).n_frames for r in source[1]))
    first = decode_replay(source[1][0])
    columns, _ = state_columns(first)
    expected = first.frames["qpos"][0, columns].astype(np.float32)
    np.testing.assert_array_equal(np.float32(loaded["first"]["0"]["state"]), expected)
    assert loaded["first"]["0"]["task"] == "pick up the red cube"
