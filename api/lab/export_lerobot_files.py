"""The files of a LeRobot v3.0 dataset, written incrementally (api.lab.export_lerobot drives them).

Layout and names follow LeRobot 0.4's `lerobot.datasets.utils` (codebase_version "v3.0"):

    meta/info.json                                             features, fps, counts, path templates
    meta/stats.json                                            min/max/mean/std/count per numeric feature
    meta/tasks.parquet                                         task_index, indexed by the task string
    meta/episodes/chunk-000/file-000.parquet                   one row per episode: length, tasks, where
                                                               its rows and video frames are
    data/chunk-000/file-000.parquet                            one row per frame
    videos/observation.images.<camera>/chunk-000/file-000.mp4  episodes' frames back to back

Parquet files are appended row group by row group (`pyarrow.parquet.ParquetWriter`), videos frame by frame,
statistics as running sums: nothing grows with the number of episodes except the task table.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from schemas.errors import ArenaError

CODEBASE_VERSION = "v3.0"
CHUNKS_SIZE = 1000
DATA_FILE_MB = 100
VIDEO_FILE_MB = 200
DATA_PATH = "data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet"
VIDEO_PATH = "videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4"
EPISODES_PATH = "meta/episodes/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet"
TASKS_PATH = "meta/tasks.parquet"
VIDEO_CODEC = "libsvtav1"  # LeRobot's default encoder; AV1 in MP4


def vector(dim: int, dtype: pa.DataType | None = None) -> pa.DataType:
    """A fixed-length vector column (float32 by default), as HF datasets stores `Sequence(Value, length=dim)`."""
    return pa.list_(pa.float32() if dtype is None else dtype, dim)


class ParquetAppender:
    """One parquet file written a row group at a time."""

    def __init__(self, path: Path, schema: pa.Schema) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.writer = pq.ParquetWriter(path, schema)
        self.schema = schema

    def append(self, columns: dict[str, pa.Array]) -> None:
        self.writer.write_table(pa.Table.from_arrays([columns[f.name] for f in self.schema], schema=self.schema))

    def close(self) -> None:
        self.writer.close()


QUANTILES = (0.01, 0.10, 0.50, 0.90, 0.99)  # LeRobot's default quantiles, keyed q01 ... q99


def episode_stats(rows: np.ndarray) -> dict[str, np.ndarray]:
    """One episode's statistics of a float vector feature, as LeRobot's writer keeps them per episode
    (meta/episodes `stats/<feature>/<stat>`): min, max, mean, std, count and the quantiles (exact here)."""
    rows = rows.astype(np.float64).reshape(len(rows), -1)
    stats = {"min": rows.min(axis=0), "max": rows.max(axis=0), "mean": rows.mean(axis=0), "std": rows.std(axis=0),
             "count": np.array([len(rows)])}
    for q, value in zip(QUANTILES, np.quantile(rows, QUANTILES, axis=0), strict=True):
        stats[f"q{round(q * 100):02d}"] = value
    return stats


class RunningStats:
    """The dataset's statistics of a float vector feature, over every frame, in constant memory: min, max,
    mean and std exactly; each quantile as the frame-weighted mean of the episodes' quantiles (how LeRobot
    aggregates them, `lerobot.datasets.compute_stats.aggregate_feature_stats`)."""

    def __init__(self, dim: int) -> None:
        self.count = 0
        self.total = np.zeros(dim)
        self.squares = np.zeros(dim)
        self.low = np.full(dim, np.inf)
        self.high = np.full(dim, -np.inf)
        self.quantiles = {f"q{round(q * 100):02d}": np.zeros(dim) for q in QUANTILES}

    def add(self, rows: np.ndarray) -> dict[str, np.ndarray]:
        """Count one episode's rows; returns that episode's own statistics."""
        episode = episode_stats(rows)
        rows = rows.astype(np.float64).reshape(len(rows), -1)
        self.count += len(rows)
        self.total += rows.sum(axis=0)
        self.squares += (rows * rows).sum(axis=0)
        self.low = np.minimum(self.low, episode["min"])
        self.high = np.maximum(self.high, episode["max"])
        for key in self.quantiles:
            self.quantiles[key] += episode[key] * len(rows)
        return episode

    def as_json(self) -> dict:
        n = max(self.count, 1)
        mean = self.total / n
        std = np.sqrt(np.maximum(self.squares / n - mean * mean, 0.0))
        return {"min": self.low.tolist(), "max": self.high.tolist(), "mean": mean.tolist(), "std": std.tolist(),
                "count": [self.count], **{k: (v / n).tolist() for k, v in self.quantiles.items()}}


def write_tasks(out: Path, tasks: dict[str, int]) -> None:
    """meta/tasks.parquet: column task_index with the task strings as the (pandas) index, as LeRobot reads it."""
    names = sorted(tasks, key=tasks.__getitem__)
    pandas_meta = {"index_columns": ["task"], "column_indexes": [], "creator": {"library": "pyarrow"},
                   "columns": [{"name": "task_index", "field_name": "task_index", "pandas_type": "int64",
                                "numpy_type": "int64", "metadata": None},
                               {"name": "task", "field_name": "task", "pandas_type": "unicode",
                                "numpy_type": "object", "metadata": None}]}
    schema = pa.schema([("task_index", pa.int64()), ("task", pa.string())],
                       metadata={b"pandas": json.dumps(pandas_meta).encode()})
    table = pa.Table.from_arrays([pa.array([tasks[t] for t in names], pa.int64()), pa.array(names, pa.string())],
                                 schema=schema)
    pq.write_table(table, out / TASKS_PATH)


class VideoWriter:
    """One camera's MP4 file: episodes' frames appended back to back (needs PyAV: `pip install av`)."""

    def __init__(self, path: Path, fps: int, width: int, height: int) -> None:
        try:
            import av
        except ImportError as exc:
            raise ArenaError("camera videos need PyAV: pip install av (or export with --no-videos)") from exc
        path.parent.mkdir(parents=True, exist_ok=True)
        self.av = av
        self.container = av.open(str(path), mode="w")
        codec = VIDEO_CODEC if VIDEO_CODEC in av.codecs_available else "libx264"
        self.codec = "av1" if codec == VIDEO_CODEC else "h264"
        stream: Any = self.container.add_stream(codec, rate=fps)  # a VideoStream for a video codec
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        self.stream = stream
        self.frames = 0
        self.fps = fps

    def append(self, image: np.ndarray) -> None:
        frame = self.av.VideoFrame.from_ndarray(image, format="rgb24")
        frame.pts = self.frames
        for packet in self.stream.encode(frame):
            self.container.mux(packet)
        self.frames += 1

    def close(self) -> None:
        for packet in self.stream.encode():
            self.container.mux(packet)
        self.container.close()


def info_json(*, fps: int, robot: str, features: dict, episodes: int, frames: int, tasks: int, videos: int,
              files: int) -> dict:
    """meta/info.json."""
    return {"codebase_version": CODEBASE_VERSION, "robot_type": robot, "total_episodes": episodes,
            "total_frames": frames, "total_tasks": tasks, "total_videos": videos,
            "total_chunks": 1 + (files - 1) // CHUNKS_SIZE,
            "chunks_size": CHUNKS_SIZE, "data_files_size_in_mb": DATA_FILE_MB, "video_files_size_in_mb": VIDEO_FILE_MB,
            "fps": fps, "splits": {"train": f"0:{episodes}"}, "data_path": DATA_PATH,
            "video_path": VIDEO_PATH if videos else None, "features": features}


def scalar_features() -> dict:
    return {name: {"dtype": dtype, "shape": [1], "names": None} for name, dtype in
            (("timestamp", "float32"), ("frame_index", "int64"), ("episode_index", "int64"), ("index", "int64"),
             ("task_index", "int64"))}


def video_feature(width: int, height: int, fps: int, codec: str) -> dict:
    return {"dtype": "video", "shape": [height, width, 3], "names": ["height", "width", "channels"],
            "info": {"video.height": height, "video.width": width, "video.codec": codec, "video.pix_fmt": "yuv420p",
                     "video.is_depth_map": False, "video.fps": fps, "video.channels": 3, "has_audio": False}}
