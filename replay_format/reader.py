"""`decode_replay` and `read_header`: read `.vlar` bytes back into arrays."""

from __future__ import annotations

import zlib

import msgspec
import numpy as np
import zstandard

from schemas.errors import CorruptReplayError

from . import codec
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
    for number, chunk in enumerate(index.chunks):
        if chunk.stream in arrays:
            rows = slice(chunk.row_start, chunk.row_start + chunk.row_count)
            shape = (chunk.row_count, columns(streams[chunk.stream]))
            arrays[chunk.stream][rows] = _decode_chunk(section, number, chunk, shape, decompressor)
    shaped = {name: arrays[name].reshape(s.shape) for name, s in streams.items()}
    return Replay(
        header=index.header,
        version=version,
        frames={name: shaped[name] for name, s in streams.items() if s.group == FRAMES},
        steps={name: shaped[name] for name, s in streams.items() if s.group == STEPS},
        chunks=index.chunks,
    )


def _decode_chunk(
    section: memoryview,
    number: int,
    chunk: ChunkInfo,
    shape: tuple[int, int],
    decompressor: zstandard.ZstdDecompressor,
) -> np.ndarray:
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
        return codec.decompress(payload, chunk.codec, chunk.raw_length, shape, decompressor)
    except codec.ChunkDecodeError as exc:
        raise CorruptReplayError(f"corrupt {label}: {exc}") from exc
