"""`encode_replay`: validate an episode and write it as one `.vlar` file."""

from __future__ import annotations

import zlib
from collections.abc import Mapping

import numpy as np
import zstandard

from . import codec, predict
from .container import pack
from .header import FORMAT_VERSION, ChunkInfo, FileIndex, ReplayHeader
from .validate import Prepared, check_header, check_options, prepare_streams

#: zstd level 15: 1-3% smaller than level 3 on MuJoCo rollouts, still ~15 MB/s; files are written once.
DEFAULT_LEVEL = 15
#: rows per chunk; 512 frames is ~10 s at 50 fps, so a typical episode is 1-3 chunks per stream.
DEFAULT_CHUNK_FRAMES = 512


def encode_replay(
    header: ReplayHeader,
    frames: Mapping[str, np.ndarray],
    steps: Mapping[str, np.ndarray],
    *,
    level: int = DEFAULT_LEVEL,
    chunk_frames: int = DEFAULT_CHUNK_FRAMES,
    version: tuple[int, int] = FORMAT_VERSION,
) -> bytes:
    """Encode one episode as `.vlar` bytes. The output depends only on the inputs (deterministic).

    `frames` holds "time" (n,), "qpos" (n, nq), "qvel" (n, nv), "ctrl" (n, nu); `steps` holds
    "action" (s, action_dim) and optionally "progress" (s,), with s = len(header.step_frames).
    Extra 1-D/2-D float streams are stored too. Any float dtype is stored as float64, bit-exact.
    `version` (1, 1) (the default) uses the predictive codec; (1, 0) writes a file 1.0 readers read.
    Raises ValueError naming the offending field.
    """
    check_options(level, chunk_frames, version)
    header = check_header(header)
    streams = prepare_streams(header, frames, steps)
    # The spec requires the content size in each frame header (fzstd needs it); the chunk CRC replaces zstd's.
    compressor = zstandard.ZstdCompressor(level=level, write_content_size=True, write_checksum=False)
    encode = _ChunkEncoder(header, streams, compressor, tuple(version) >= (1, 1))
    chunks, payloads = _compress(streams, encode, chunk_frames)
    n_frames = streams[0][1].shape[0]  # streams[0] is always "time"
    index = FileIndex(header=header, n_frames=n_frames, streams=[s for s, _ in streams], chunks=chunks)
    return pack(index, payloads, (int(version[0]), int(version[1])))


class _ChunkEncoder:
    """Turns a chunk's rows into (payload, ChunkInfo fields) with the codec of the file's version."""

    def __init__(self, header: ReplayHeader, streams: Prepared, compressor: zstandard.ZstdCompressor,
                 predictive: bool) -> None:
        self.compressor = compressor
        self.predictive = predictive
        qvel = next(array for info, array in streams if info.name == "qvel" and info.group == "frames")
        mapped = predict.velocity_columns(header.joints, header.nq, header.nv)
        self.mapped = np.array([c >= 0 for c in mapped], dtype=bool)
        nan = np.full(len(qvel), np.nan)
        self.velocity = np.stack([qvel[:, c] if c >= 0 else nan for c in mapped], axis=1) if mapped else None
        frame_period = 1.0 / header.frame_rate
        # qpos advances by ~timestep * (sum of the qvel of every physics step between two frames); with
        # qvel linear between frames that sum is a * qvel[r-1] + b * qvel[r]:
        self.coef = ((frame_period - header.timestep) / 2, (frame_period + header.timestep) / 2)

    def __call__(self, name: str, group: str, rows: np.ndarray, start: int) -> tuple[bytes, dict]:
        if not self.predictive:
            raw = codec.forward(rows)
            return self.compressor.compress(raw), {"codec": codec.DELTA_SHUFFLE_ZSTD, "raw_length": len(raw)}
        x = rows.reshape(len(rows), -1)
        w = None
        if (group, name) == ("frames", "qpos") and self.velocity is not None:
            w = self.velocity[start : start + len(rows)]
        modes = predict.choose_modes(x, w, self.mapped if w is not None else np.zeros(x.shape[1], bool), self.coef)
        raw = codec.forward_predict(x, modes, w, self.coef)
        fields: dict = {"codec": codec.PREDICT_SHUFFLE_ZSTD, "raw_length": len(raw), "predictors": modes.tolist()}
        if predict.VELOCITY in fields["predictors"]:
            fields["coefficients"] = [float(c) for c in self.coef]
        return self.compressor.compress(raw), fields


def _compress(streams: Prepared, encode: _ChunkEncoder, chunk_rows: int) -> tuple[list[ChunkInfo], list[bytes]]:
    """Cut every stream into `chunk_rows`-row chunks; payloads are laid out back to back."""
    chunks: list[ChunkInfo] = []
    payloads: list[bytes] = []
    offset = 0
    for info, array in streams:
        for start in range(0, array.shape[0], chunk_rows) if array.size else ():
            rows = array[start : start + chunk_rows]
            payload, fields = encode(info.name, info.group, rows, start)
            chunks.append(
                ChunkInfo(stream=info.name, row_start=start, row_count=len(rows), offset=offset,
                          length=len(payload), crc32=zlib.crc32(payload), **fields)
            )
            payloads.append(payload)
            offset += len(payload)
    return chunks, payloads
