"""`decode_replay` and `read_header`: read `.vlar` bytes back into arrays."""

from __future__ import annotations

import zlib

import msgspec
import numpy as np
import zstandard

from schemas.errors import CorruptReplayError

from . import codec, predict
from .container import unpack_index
from .header import ChunkInfo, ReplayHeader
from .layout import chunk_label, columns, readable_streams
from .streams import FRAMES, STEPS

Buffer = bytes | bytearray | memoryview


class Replay(msgspec.Struct, frozen=True, kw_only=True, eq=False):
    """A decoded episode. Arrays are float64, bit-identical to what was encoded.

    `frames`: "time" (n,), "qpos" (n, nq), "qvel" (n, nv), "ctrl" (n, nu), plus any extra
    frame streams; `steps`: "action" (s, action_dim), optional "progress" (s,), plus extras.
    `version` is the file's format version; `chunks` is the file's chunk table.
    """

    header: ReplayHeader
    version: tuple[int, int]
    frames: dict[str, np.ndarray]
    steps: dict[str, np.ndarray]
    chunks: list[ChunkInfo]

    @property
    def n_frames(self) -> int:
        return int(self.frames["time"].shape[0])

    @property
    def n_steps(self) -> int:
        return len(self.header.step_frames)


def read_header(data: Buffer) -> tuple[tuple[int, int], ReplayHeader]:
    """Return (format version, header) without decompressing any chunk.

    Only the first 20 + H bytes are needed, so a prefix of the file (e.g. an HTTP range) works.
    Raises UnsupportedVersionError or CorruptReplayError.
    """
    version, index, _ = unpack_index(data)
    return version, index.header


def decode_replay(data: Buffer) -> Replay:
    """Decode a whole `.vlar` file, verifying every chunk's CRC-32 and length.

    Raises UnsupportedVersionError for an unknown major version (or codec/dtype) and
    CorruptReplayError, naming the stream and chunk, for damaged or truncated files.
    """
    version, index, start = unpack_index(data)
    streams = readable_streams(index)
    arrays = {name: np.empty((s.shape[0], columns(s)), dtype=np.float64) for name, s in streams.items()}
    section = memoryview(data).cast("B")[start:]
    decompressor = zstandard.ZstdDecompressor()  # reused across chunks; not shared between threads
    first: list[tuple[ChunkInfo, bytes]] = []
    deferred: list[tuple[ChunkInfo, bytes]] = []  # velocity-predicted chunks wait for all of qvel
    for number, chunk in enumerate(index.chunks):
        if chunk.stream in arrays:
            raw = _inflate_chunk(section, number, chunk, decompressor)
            (deferred if predict.VELOCITY in chunk.predictors else first).append((chunk, raw))
    _invert(arrays, first, None)
    if deferred:
        qvel = arrays["qvel"]
        mapped = predict.velocity_columns(index.header.joints, index.header.nq, index.header.nv)
        w = np.stack([qvel[:, c] if c >= 0 else np.full(len(qvel), np.nan) for c in mapped], axis=1)
        _invert(arrays, deferred, w)
    shaped = {name: arrays[name].reshape(s.shape) for name, s in streams.items()}
    return Replay(
        header=index.header,
        version=version,
        frames={name: shaped[name] for name, s in streams.items() if s.group == FRAMES},
        steps={name: shaped[name] for name, s in streams.items() if s.group == STEPS},
        chunks=index.chunks,
    )


def _invert(arrays: dict[str, np.ndarray], chunks: list[tuple[ChunkInfo, bytes]], w: np.ndarray | None) -> None:
    """Undo the chunks' transforms into their rows of the streams' arrays (predictive ones in one pass)."""
    jobs: list[predict.Job] = []
    targets = []
    for chunk, raw in chunks:
        target = arrays[chunk.stream]
        rows = slice(chunk.row_start, chunk.row_start + chunk.row_count)
        shape = (chunk.row_count, target.shape[1])
        if chunk.codec == codec.DELTA_SHUFFLE_ZSTD:
            target[rows] = codec.inverse(raw, *shape)
            continue
        increments = None
        if w is not None:
            increments = predict.velocity_increments(w[rows], (chunk.coefficients[0], chunk.coefficients[1]))
        jobs.append((codec.unshuffle(raw, *shape), np.array(chunk.predictors, dtype=np.int64), increments))
        targets.append((target, rows))
    for (target, rows), values in zip(targets, predict.inverse_many(jobs), strict=True):
        target[rows] = values


def _inflate_chunk(
    section: memoryview, number: int, chunk: ChunkInfo, decompressor: zstandard.ZstdDecompressor
) -> bytes:
    """Bounds, CRC-32 and zstd checks of one chunk; returns its transformed bytes."""
    label = chunk_label(number, chunk)
    end = chunk.offset + chunk.length
    if end > len(section):
        raise CorruptReplayError(
            f"truncated file: {label} needs data bytes {chunk.offset}..{end}, have {len(section)}"
        )
    payload = section[chunk.offset : end]
    if (crc := zlib.crc32(payload)) != chunk.crc32:
        raise CorruptReplayError(f"corrupt {label}: CRC-32 {crc:#010x} != stored {chunk.crc32:#010x}")
    try:
        return codec.inflate(payload, chunk.raw_length, decompressor)
    except codec.ChunkDecodeError as exc:
        raise CorruptReplayError(f"corrupt {label}: {exc}") from exc
