"""`arena export lerobot`: battles (every one, or only the voted ones) as a LeRobot v3.0 dataset plus the exact
sidecar.

Validated against LeRobot's published v3.0 layout (lerobot.datasets.utils of LeRobot 0.4: path templates,
info.json keys, the episodes and tasks tables) by reading the files back with pyarrow and comparing every
frame with the source trajectories. `lerobot` itself cannot be installed beside torch 2.13 (it pins
torch < 2.11): scripts/lerobot_env builds an environment apart that has it, and when ARENA_LEROBOT_PYTHON
names its interpreter, LeRobot's own `LeRobotDataset` loads the export too (see docs/data.md).
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
from api.lab.export_trajectories import selected_battles
from api.store import SqliteStore
from policy_host.registry import Registry
from replay_format import Replay, decode_replay
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
    """A store with two voted battles of one turn each (four real episodes, 6 control steps), then one
    battle without a vote (the first two episodes again)."""
    folder = tmp_path_factory.mktemp("lerobot")
    registry = Registry.from_file()
    replays = []
    for policy, instruction, seed in EPISODES:
        spec = EpisodeSpec(robot_id="franka", scene_id="table", instruction=instruction, seed=seed, max_steps=6)
        replays.append(run_episode(spec, registry.build(policy)).replay)
    store = SqliteStore(folder / "arena.db")
    for b in range(3):
        sid, bid, tid = f"s{b}", f"b{b}", f"t{b}"
        store.create_session(records.session(sid, voter="v"), records.battle(bid, sid=sid))
        turn = msgspec.structs.replace(records.turn(tid, bid=bid), instruction=EPISODES[2 * b % 4][1])
        eps = [records.episode(f"e{b}{s.value[0]}", s, tid=tid, bid=bid) for s in (Side.LEFT, Side.RIGHT)]
        store.create_turn(turn, eps)
        for k, ep in enumerate(eps):
            data = replays[(2 * b + k) % len(replays)]
            store.finish_episode(ep.id, records.result_for(data), data, 300.0)
        if b == 2:
            continue
        vote = records.vote(f"v{b}", bid=bid, at=200.0 + b, choice=VoteChoice.RIGHT)
        store.record_vote(msgspec.structs.replace(vote, voter_id="voter-1"))
    store.close()
    return folder, replays


@pytest.fixture(scope="module")
def exported(source: tuple[Path, list[bytes]]) -> Path:
    folder, _ = source
    store = SqliteStore(folder / "arena.db")
    try:
        counts = export_lerobot(store, selected_battles(store, None, None, None, voted_only=True), folder / "out", SALT,
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


def test_without_voted_only_unvoted_battles_come_too_with_a_null_vote(source: tuple[Path, list[bytes]],
                                                                      tmp_path: Path) -> None:
    store = SqliteStore(source[0] / "arena.db")
    try:
        counts = export_lerobot(store, selected_battles(store, None, None, None), tmp_path, SALT, cameras=())
    finally:
        store.close()
    assert counts["episodes"] == 6
    lines = [json.loads(x) for x in (tmp_path / "arena" / "episodes.jsonl").read_text().splitlines()]
    assert [(x["battle_id"], x["vote"] is None) for x in lines] == [
        ("b0", False), ("b0", False), ("b1", False), ("b1", False), ("b2", True), ("b2", True)]
    assert [x["policy"] for x in lines[4:]] == ["pi0", "octo"]  # the operator's file: policies are named
    assert [(tmp_path / x["vlar"]).read_bytes() for x in lines[4:]] == source[1][:2]
    data = pq.read_table(tmp_path / "data" / "chunk-000" / "file-000.parquet").to_pydict()
    assert max(data["episode_index"]) == 5


def test_files_roll_over_by_size(source: tuple[Path, list[bytes]], tmp_path: Path,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(files, "DATA_FILE_MB", 1e-6)  # every episode starts a new file
    store = SqliteStore(source[0] / "arena.db")
    try:
        export_lerobot(store, selected_battles(store, None, None, None, voted_only=True), tmp_path, SALT,
                       cameras=CAMERAS, width=64, height=48)
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
import sys
import numpy as np
from lerobot.datasets.lerobot_dataset import LeRobotDataset
from lerobot.datasets.dataset_tools import delete_episodes
from lerobot.datasets.video_utils import get_safe_default_codec
root, out, scratch = sys.argv[1:4]
ds = LeRobotDataset("arena/export", root=root, download_videos=False, delta_timestamps={"action": [-0.02, 0.0, 0.02]})
items = [ds[i] for i in range(len(ds))]
keys = ("observation.state", "action", "action_is_pad", "timestamp", "frame_index", "episode_index", "index",
        "task_index")
arrays = {k: np.stack([item[k].numpy() for item in items]) for k in keys}
for k in ds.meta.video_keys:  # float32 in [0, 1], channels first, as a policy gets them
    arrays[k] = np.stack([np.rint(item[k].numpy().transpose(1, 2, 0) * 255).astype(np.uint8) for item in items])
# LeRobot's own editing tool: the new dataset's stats are aggregated from the kept episodes' stats/ columns
kept = delete_episodes(ds, [0], output_dir=scratch, repo_id="arena/kept")
for feature in ("observation.state", "action"):
    arrays |= {f"stats/{feature}/{k}": np.asarray(v) for k, v in ds.meta.stats[feature].items()}
    arrays |= {f"kept/{feature}/{k}": np.asarray(v) for k, v in kept.meta.stats[feature].items()}
np.savez(out, **arrays, task=np.array([item["task"] for item in items]), video_keys=np.array(ds.meta.video_keys),
         sizes=np.array([ds.num_episodes, ds.num_frames, ds.fps]), backend=np.array(get_safe_default_codec()))
"""


def _action_windows(replays: list[Replay]) -> tuple[np.ndarray, np.ndarray]:
    """The action window [t-1, t, t+1] LeRobot builds from delta_timestamps: at an episode's edge the
    episode's first/last action again, flagged as padding."""
    window, pad = [], []
    for r in replays:
        at = np.arange(r.n_frames)[:, None] + np.array([-1, 0, 1])
        window.append(r.frames["ctrl"].astype(np.float32)[np.clip(at, 0, r.n_frames - 1)])
        pad.append((at < 0) | (at >= r.n_frames))
    return np.concatenate(window), np.concatenate(pad)


def _check_video(frames: np.ndarray, mp4: Path, replays: list[Replay], camera: str) -> None:
    """Each item's image is the very frame PyAV decodes at the same place in the MP4 (LeRobot seeks to the
    episode's from_timestamp plus the frame's timestamp), up to the RGB conversion of two FFmpeg builds
    (seen: identical; an episode one frame off scores 1.0 to 1.5 at its worst frame here), and the render of
    the frame's own exact state up to the lossy codec (seen: at most 2.6)."""
    import av

    from api.lab.export_render import render_frames

    with av.open(str(mp4)) as container:
        decoded = np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)])
    assert frames.shape == decoded.shape == (sum(r.n_frames for r in replays), 96, 128, 3)
    assert np.abs(frames.astype(int) - decoded.astype(int)).mean(axis=(1, 2, 3)).max() < 0.1
    rendered = np.stack([image for r in replays for _, image in render_frames(r, (camera,), 128, 96)])
    assert np.abs(frames.astype(int) - rendered.astype(int)).mean(axis=(1, 2, 3)).max() < 5


@pytest.mark.skipif(not os.environ.get("ARENA_LEROBOT_PYTHON"),
                    reason="set ARENA_LEROBOT_PYTHON to an interpreter with lerobot 0.4.4 (scripts/lerobot_env)")
def test_lerobot_loads_the_export(exported: Path, source: tuple[Path, list[bytes]], tmp_path: Path) -> None:
    """LeRobot 0.4.4's own `LeRobotDataset`, offline, on the export: every frame's state and action (with an
    action window across the episode edges), timestamps, indices, tasks, and the video frame it decodes."""
    before = sorted(p.relative_to(exported) for p in exported.rglob("*"))
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf")}
    run = subprocess.run([os.environ["ARENA_LEROBOT_PYTHON"], "-c", LOADER, str(exported), str(tmp_path / "got.npz"),
                          str(tmp_path / "kept")],
                         capture_output=True, text=True, timeout=600, env=env)
    assert run.returncode == 0, run.stderr[-3000:]
    assert sorted(p.relative_to(exported) for p in exported.rglob("*")) == before  # nothing fetched or written
    got = np.load(tmp_path / "got.npz")
    replays = [decode_replay(r) for r in source[1]]
    lengths = [r.n_frames for r in replays]
    assert got["sizes"].tolist() == [4, sum(lengths), 50]
    columns, _ = state_columns(replays[0])
    np.testing.assert_array_equal(got["observation.state"],
                                  np.concatenate([r.frames["qpos"][:, columns] for r in replays]).astype(np.float32))
    actions, padding = _action_windows(replays)
    np.testing.assert_array_equal(got["action"], actions)
    np.testing.assert_array_equal(got["action_is_pad"], padding)
    np.testing.assert_array_equal(got["frame_index"], np.concatenate([np.arange(n) for n in lengths]))
    np.testing.assert_array_equal(got["episode_index"], np.repeat(np.arange(4), lengths))
    np.testing.assert_array_equal(got["index"], np.arange(sum(lengths)))
    np.testing.assert_allclose(got["timestamp"], got["frame_index"] / 50, atol=1e-6)
    assert got["task"].tolist() == [e[1] for e, n in zip(EPISODES, lengths, strict=True) for _ in range(n)]
    np.testing.assert_array_equal(got["task_index"], np.repeat([0, 0, 1, 1], lengths))
    assert got["video_keys"].tolist() == [f"observation.images.{c}" for c in CAMERAS]
    for camera in CAMERAS:
        key = f"observation.images.{camera}"
        _check_video(got[key], exported / "videos" / key / "chunk-000" / "file-000.mp4", replays, camera)
    _check_stats(got, replays, columns)


QUANTILE_KEYS = ("q01", "q10", "q50", "q90", "q99")


def _expected_stats(rows: list[np.ndarray]) -> dict[str, np.ndarray]:
    """min/max/mean/std over every row; each quantile as the row-weighted mean of the episodes' quantiles."""
    every = np.concatenate(rows).astype(np.float64)
    n = np.array([len(r) for r in rows], dtype=np.float64)[:, None]
    quantiles = np.stack([np.quantile(r.astype(np.float64), [0.01, 0.1, 0.5, 0.9, 0.99], axis=0) for r in rows])
    return {"min": every.min(axis=0), "max": every.max(axis=0), "mean": every.mean(axis=0), "std": every.std(axis=0),
            "count": np.array([len(every)]),
            **{k: (quantiles[:, i] * n).sum(axis=0) / n.sum() for i, k in enumerate(QUANTILE_KEYS)}}


def _check_stats(got: np.lib.npyio.NpzFile, replays: list[Replay], columns: list[int]) -> None:
    """stats.json as LeRobot reads it, and the stats LeRobot's `delete_episodes` rebuilds from the kept
    episodes' `stats/...` columns (empty without them), both equal to the statistics of the source frames."""
    rows = {"observation.state": [r.frames["qpos"][:, columns].astype(np.float32) for r in replays],
            "action": [r.frames["ctrl"].astype(np.float32) for r in replays]}
    for feature, per_episode in rows.items():
        for prefix, episodes in (("stats", per_episode), ("kept", per_episode[1:])):
            expected = _expected_stats(episodes)
            assert {k.split("/")[-1] for k in got.files if k.startswith(f"{prefix}/{feature}/")} == set(expected)
            for key, value in expected.items():
                np.testing.assert_allclose(got[f"{prefix}/{feature}/{key}"].reshape(-1), value, rtol=1e-9, atol=1e-9,
                                           err_msg=f"{prefix}/{feature}/{key}")
