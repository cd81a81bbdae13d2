"""`arena export lerobot --out DIR`: battles (all, or `--voted-only`) as a LeRobot v3.0 dataset, plus an exact
sidecar.

One LeRobot episode per arena episode (both sides of every turn), its task the instruction:

- `observation.state` (float32): the position of every actuated hinge/slide joint (the arm and the
  gripper fingers), in actuator order; `action` (float32): the executed command, `ctrl`, per frame;
- `observation.images.<camera>`: videos rendered from the exact recorded states (qpos set, mj_forward,
  render; never re-simulated), when PyAV is installed (else `--no-videos`);
- `arena/`: what a video dataset loses. `arena/vlar/episode_NNNNNN.vlar` (the full replay file),
  `arena/states/chunk-000/file-000.parquet` (exact float64 time, qpos, qvel, ctrl per frame) and
  `arena/episodes.jsonl` (ids, policy, scene bundle hash, outcome and the battle's vote, the voter as a
  salted hash; null for a battle without a vote).

Every episode of an export must share robot, frame rate and sizes (one LeRobot schema): export one robot
at a time (`--robot`). Streams battle by battle; see api.lab.export_lerobot_files for what is held. Data,
state and video files roll over to the next file index once a data file passes DATA_FILE_MB.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa

from api.lab import export_lerobot_files as files
from api.lab.export_archive import episode_stem, vote_doc
from api.lab.export_trajectories import Selected
from api.store.port import Store
from replay_format import Replay, decode_replay
from schemas.errors import ValidationError
from schemas.records import EpisodeStatus

DEFAULT_CAMERAS = ("exterior_1_left",)


def state_columns(replay: Replay) -> tuple[list[int], list[str]]:
    """qpos columns of the actuated hinge and slide joints, in actuator order, and their names."""
    joints = {j.name: j for j in replay.header.joints}
    picked = [joints[a.joint] for a in replay.header.actuators if a.joint in joints]
    picked = [j for j in picked if j.type in ("hinge", "slide")]
    return [j.qpos_adr for j in picked], [j.name for j in picked]


class LeRobotExport:
    """The dataset being written; `add(replay, ...)` appends one episode."""

    def __init__(self, out: Path, *, cameras: tuple[str, ...], width: int = 256, height: int = 256) -> None:
        self.out, self.cameras, self.width, self.height = out, cameras, width, height
        self.tasks: dict[str, int] = {}
        self.episodes = self.frames = self.file_index = self.file_bytes = 0
        self.schema_key: tuple | None = None
        self.features: dict = {}
        self.stats: dict[str, files.RunningStats] = {}
        self.videos: dict[str, files.VideoWriter] = {}
        self.data: files.ParquetAppender | None = None
        self.states: files.ParquetAppender | None = None
        self.meta: files.ParquetAppender | None = None
        (out / "arena").mkdir(parents=True, exist_ok=True)
        self.sidecar = (out / "arena" / "episodes.jsonl").open("w", encoding="utf-8")

    def _start(self, replay: Replay, names: list[str]) -> None:
        h = replay.header
        self.fps = round(h.frame_rate)
        self.robot = h.robot_id
        self.features = {"observation.state": {"dtype": "float32", "shape": [len(names)], "names": names},
                         "action": {"dtype": "float32", "shape": [h.nu], "names": [a.name for a in h.actuators]},
                         **files.scalar_features()}
        self.stats = {"observation.state": files.RunningStats(len(names)), "action": files.RunningStats(h.nu)}
        self.dims = (h.nq, h.nv, h.nu)
        self._open_files(*self.dims)

    def _where(self) -> dict[str, int]:
        return {"chunk_index": self.file_index // files.CHUNKS_SIZE, "file_index": self.file_index % files.CHUNKS_SIZE}

    def _open_files(self, nq: int, nv: int, nu: int) -> None:
        where = self._where()
        state_dim = self.features["observation.state"]["shape"][0]
        self.data = files.ParquetAppender(self.out / files.DATA_PATH.format(**where), pa.schema([
            ("observation.state", files.vector(state_dim)), ("action", files.vector(nu)),
            ("timestamp", pa.float32()), ("frame_index", pa.int64()), ("episode_index", pa.int64()),
            ("index", pa.int64()), ("task_index", pa.int64())]))
        states = self.out / "arena" / files.DATA_PATH.replace("data/", "states/").format(**where)
        self.states = files.ParquetAppender(states, pa.schema([("index", pa.int64()), ("episode_index", pa.int64()),
                                                       ("frame_index", pa.int64()), ("time", pa.float64()),
                                                       ("qpos", files.vector(nq, pa.float64())),
                                                       ("qvel", files.vector(nv, pa.float64())),
                                                       ("ctrl", files.vector(nu, pa.float64()))]))
        for camera in self.cameras:
            key = f"observation.images.{camera}"
            self.videos[key] = files.VideoWriter(self.out / files.VIDEO_PATH.format(video_key=key, **where),
                                                 self.fps, self.width, self.height)
            self.features[key] = files.video_feature(self.width, self.height, self.fps, self.videos[key].codec)

    def add(self, replay: Replay, data: bytes, record: dict) -> None:
        """Append one episode; `record` goes to arena/episodes.jsonl."""
        columns, names = state_columns(replay)
        h = replay.header
        key = (h.robot_id, h.frame_rate, h.nq, h.nv, h.nu, tuple(names))
        if self.schema_key is None:
            self.schema_key = key
            self._start(replay, names)
        elif key != self.schema_key:
            raise ValidationError("robot", f"episode {record['episode_id']} has robot/rate/sizes {key[:5]}, the "
                                  f"export {self.schema_key[:5]}: export one robot at a time (--robot)")
        elif self.file_bytes > files.DATA_FILE_MB * 2**20:
            self._roll()
        n = replay.n_frames
        first = self.frames
        task = self.tasks.setdefault(record["instruction"], len(self.tasks))
        stats = self._append_frames(replay, columns, task)
        video = self._append_videos(replay) if self.videos else {}
        self._append_episode(n, first, record["instruction"], video, stats)
        path = f"arena/vlar/episode_{self.episodes:06d}.vlar"
        (self.out / path).parent.mkdir(parents=True, exist_ok=True)
        (self.out / path).write_bytes(data)
        line = {**record, "episode_index": self.episodes, "vlar": path, "sha256": hashlib.sha256(data).hexdigest(),
                "bundle_hash": h.bundle_hash, "mujoco_version": h.mujoco_version, "length": n}
        self.sidecar.write(json.dumps(line, sort_keys=True) + "\n")
        self.episodes += 1
        self.frames += n
        self.file_bytes += n * 4 * (len(columns) + h.nu + 5)  # the data file's row size, roughly

    def _roll(self) -> None:
        """Start the next data, states and video files (LeRobot's file roll-over, by data file size)."""
        for writer in (self.data, self.states, *self.videos.values()):
            if writer is not None:
                writer.close()
        self.file_index += 1
        self.file_bytes = 0
        self._open_files(*self.dims)

    def _append_frames(self, replay: Replay, columns: list[int], task: int) -> dict[str, dict[str, np.ndarray]]:
        """Append the episode's rows; returns its per-feature statistics."""
        f = replay.frames
        n = replay.n_frames
        state = np.ascontiguousarray(f["qpos"][:, columns], dtype=np.float32)
        action = np.ascontiguousarray(f["ctrl"], dtype=np.float32)
        stats = {"observation.state": self.stats["observation.state"].add(state),
                 "action": self.stats["action"].add(action)}
        index = np.arange(self.frames, self.frames + n)
        frame_index = np.arange(n)
        flat = lambda a, dtype: pa.FixedSizeListArray.from_arrays(pa.array(a.reshape(-1), dtype), a.shape[1])  # noqa: E731
        assert self.data is not None
        assert self.states is not None
        self.data.append({"observation.state": flat(state, pa.float32()), "action": flat(action, pa.float32()),
                          "timestamp": pa.array((frame_index / self.fps).astype(np.float32)),
                          "frame_index": pa.array(frame_index), "episode_index": pa.array(np.full(n, self.episodes)),
                          "index": pa.array(index), "task_index": pa.array(np.full(n, task))})
        self.states.append({"index": pa.array(index), "episode_index": pa.array(np.full(n, self.episodes)),
                            "frame_index": pa.array(frame_index), "time": pa.array(f["time"]),
                            "qpos": flat(f["qpos"], pa.float64()), "qvel": flat(f["qvel"], pa.float64()),
                            "ctrl": flat(f["ctrl"], pa.float64())})
        return stats

    def _append_videos(self, replay: Replay) -> dict[str, tuple[float, float]]:
        from api.lab.export_render import render_frames

        spans = {key: writer.frames / self.fps for key, writer in self.videos.items()}
        for camera, image in render_frames(replay, self.cameras, self.width, self.height):
            self.videos[f"observation.images.{camera}"].append(image)
        return {key: (spans[key], writer.frames / self.fps) for key, writer in self.videos.items()}

    def _append_episode(self, n: int, first: int, task: str, video: dict[str, tuple[float, float]],
                        stats: dict[str, dict[str, np.ndarray]]) -> None:
        where = self._where()
        row: dict[str, pa.Array] = {"episode_index": pa.array([self.episodes]), "tasks": pa.array([[task]]),
                                    "length": pa.array([n]), "data/chunk_index": pa.array([where["chunk_index"]]),
                                    "data/file_index": pa.array([where["file_index"]]),
                                    "dataset_from_index": pa.array([first]), "dataset_to_index": pa.array([first + n]),
                                    "meta/episodes/chunk_index": pa.array([0]),
                                    "meta/episodes/file_index": pa.array([0])}
        for key, (start, end) in video.items():
            row |= {f"videos/{key}/chunk_index": pa.array([where["chunk_index"]]),
                    f"videos/{key}/file_index": pa.array([where["file_index"]]),
                    f"videos/{key}/from_timestamp": pa.array([start]), f"videos/{key}/to_timestamp": pa.array([end])}
        for feature, values in stats.items():  # LeRobot rebuilds stats.json from these when it edits a dataset
            row |= {f"stats/{feature}/{k}": pa.array([v.tolist()]) for k, v in values.items()}
        if self.meta is None:
            self.meta = files.ParquetAppender(self.out / files.EPISODES_PATH.format(chunk_index=0, file_index=0),
                                              pa.schema([(k, v.type) for k, v in row.items()]))
        self.meta.append(row)

    def close(self) -> dict[str, int]:
        """Finish every file and write meta/info.json, stats.json and tasks.parquet."""
        for writer in (self.data, self.states, self.meta, *self.videos.values()):
            if writer is not None:
                writer.close()
        self.sidecar.close()
        (self.out / "meta").mkdir(parents=True, exist_ok=True)
        files.write_tasks(self.out, self.tasks)
        stats = {k: s.as_json() for k, s in self.stats.items()}
        (self.out / "meta" / "stats.json").write_text(json.dumps(stats, indent=1))
        info = files.info_json(fps=getattr(self, "fps", 0), robot=getattr(self, "robot", ""), features=self.features,
                               episodes=self.episodes, frames=self.frames, tasks=len(self.tasks),
                               videos=len(self.videos), files=self.file_index + 1)
        (self.out / "meta" / "info.json").write_text(json.dumps(info, indent=1))
        return {"episodes": self.episodes, "frames": self.frames, "tasks": len(self.tasks)}


def export_lerobot(store: Store, battles: list[Selected], out: Path, salt: bytes, *,
                   cameras: tuple[str, ...] = DEFAULT_CAMERAS, tick: Callable[[], None] = lambda: None,
                   width: int = 256, height: int = 256) -> dict[str, int]:
    """Write every selected battle's episodes under `out` as a LeRobot v3.0 dataset; `tick()` per battle."""
    dataset = LeRobotExport(out, cameras=cameras, width=width, height=height)
    try:
        for battle_id, vote in battles:
            battle = store.get_battle(battle_id)
            turns = {t.id: t for t in store.list_turns(battle_id)}
            for ep in store.list_battle_episodes(battle_id):
                if ep.status is not EpisodeStatus.DONE or ep.result is None:
                    continue
                data = store.get_trajectory(ep.id)
                turn = turns[ep.turn_id]
                record = {"episode_id": ep.id, "battle_id": battle_id, "turn": turn.seq, "side": str(ep.side),
                          "policy": ep.policy, "robot_id": battle.robot_id, "scene_id": battle.scene_id,
                          "instruction": turn.instruction, "seed": turn.seed, "success": ep.result.success,
                          "progress": ep.result.progress, "vote": None if vote is None else vote_doc(vote, salt),
                          "archive_path": f"{episode_stem(turn, ep)}.vlar"}
                dataset.add(decode_replay(data), data, record)
            tick()
    finally:
        counts = dataset.close()
    return counts
