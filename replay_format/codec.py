"""Chunk codecs: a lossless float64 transform followed by zstd.

Codec `"delta-shuffle-zstd"` (the only one in format 1.0), for a chunk of R rows x C columns:

1. view every float64 as its uint64 bit pattern (little-endian);
2. delta along time per column, wrapping: d[r] = u[r] - u[r-1] mod 2**64, with u[-1] = 0;
3. order the deltas column-major (each column's time series contiguous);
4. byte-shuffle: byte k (k = 0 is least significant) of every value together, plane 0 first;
5. compress the R*C*8 bytes as one zstd frame.

Integer arithmetic on bit patterns makes it bit-exact for every value (NaN payloads,
-0.0, inf, subnormals). See docs/replay-format.md for why this variant was kept.
"""

from __future__ import annotations

import numpy as np
import zstandard

DELTA_SHUFFLE_ZSTD = "delta-shuffle-zstd"
CODECS = frozenset({DELTA_SHUFFLE_ZSTD})


class ChunkDecodeError(ValueError):
    """A chunk's payload did not decode; the caller adds which chunk it was."""


def _as_2d(rows: np.ndarray) -> np.ndarray:
    return rows.reshape(rows.shape[0], -1)


def forward(rows: np.ndarray) -> bytes:
    """Steps 1-4: float64 rows (R,) or (R, C) -> R*C*8 transformed bytes (uncompressed)."""
    bits = np.ascontiguousarray(_as_2d(rows), dtype="<f8").view("<u8")
    delta = np.empty_like(bits)
    delta[:1] = bits[:1]
    np.subtract(bits[1:], bits[:-1], out=delta[1:])  # uint64 arrays wrap modulo 2**64
    values = np.ascontiguousarray(delta.T).reshape(-1)
    planes = values.view(np.uint8).reshape(-1, 8).T
    return np.ascontiguousarray(planes).tobytes()


def inverse(raw: bytes, n_rows: int, n_cols: int) -> np.ndarray:
    """Undo steps 1-4: transformed bytes -> float64 array of shape (n_rows, n_cols)."""
    n_values = n_rows * n_cols
    if len(raw) != n_values * 8:
        raise ChunkDecodeError(f"transformed length {len(raw)} != {n_values} values * 8 bytes")
    planes = np.frombuffer(raw, dtype=np.uint8).reshape(8, n_values)
    values = np.ascontiguousarray(planes.T).view("<u8").reshape(n_cols, n_rows)
    bits = np.cumsum(values, axis=1, dtype=np.uint64)  # wraps modulo 2**64 like the encoder
    return np.ascontiguousarray(bits.T).view("<f8").astype(np.float64, copy=False)


def compress(rows: np.ndarray, compressor: zstandard.ZstdCompressor) -> tuple[bytes, int]:
    """Encode rows with `delta-shuffle-zstd`; returns (payload, raw_length)."""
    raw = forward(rows)
    return compressor.compress(raw), len(raw)


def decompress(
    payload: bytes | memoryview,
    codec: str,
    raw_length: int,
    shape: tuple[int, int],
    decompressor: zstandard.ZstdDecompressor,
) -> np.ndarray:
    """Decode one chunk payload to a (rows, cols) float64 array; raises ChunkDecodeError."""
    if codec != DELTA_SHUFFLE_ZSTD:
        raise ChunkDecodeError(f"unknown codec {codec!r}")
    try:
        raw = decompressor.decompress(payload, max_output_size=raw_length)
    except zstandard.ZstdError as exc:
        raise ChunkDecodeError(f"bad zstd data ({exc})") from exc
    if len(raw) != raw_length:
        raise ChunkDecodeError(f"decompressed {len(raw)} bytes, chunk table says {raw_length}")
    return inverse(raw, *shape)
