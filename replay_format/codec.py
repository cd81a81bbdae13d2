"""Chunk codecs: a lossless float64 transform, a byte shuffle, then one zstd frame.

`"delta-shuffle-zstd"` (format 1.0), for a chunk of R rows x C columns:

1. view every float64 as its uint64 bit pattern (little-endian);
2. delta along time per column, wrapping: d[r] = u[r] - u[r-1] mod 2**64, with u[-1] = 0;
3. order the deltas column-major (each column's time series contiguous);
4. byte-shuffle: byte k (k = 0 is least significant) of every value together, plane 0 first;
5. compress the R*C*8 bytes as one zstd frame.

`"predict-shuffle-zstd"` (format 1.1) replaces step 2 by the per-column float64 predictors and
zigzag residuals of `predict.py`. Integer arithmetic on bit patterns (and float arithmetic only on
finite predictions) makes both bit-exact for every value (NaN payloads, -0.0, inf, subnormals).
See docs/replay-format.md sections 6 and 7.
"""

from __future__ import annotations

import numpy as np
import zstandard

from . import predict

DELTA_SHUFFLE_ZSTD = "delta-shuffle-zstd"
PREDICT_SHUFFLE_ZSTD = "predict-shuffle-zstd"
CODECS = frozenset({DELTA_SHUFFLE_ZSTD, PREDICT_SHUFFLE_ZSTD})
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


class ChunkDecodeError(ValueError):
    """A chunk's payload did not decode; the caller adds which chunk it was."""


def _as_2d(rows: np.ndarray) -> np.ndarray:
    return rows.reshape(rows.shape[0], -1)


def shuffle(values: np.ndarray) -> bytes:
    """(R, C) uint64 -> column-major, byte-shuffled R*C*8 bytes (steps 3-4)."""
    flat = np.ascontiguousarray(values.T).reshape(-1)
    return np.ascontiguousarray(flat.view(np.uint8).reshape(-1, 8).T).tobytes()


def unshuffle(raw: bytes, n_rows: int, n_cols: int) -> np.ndarray:
    """Inverse of `shuffle`: bytes -> (R, C) uint64."""
    n_values = n_rows * n_cols
    if len(raw) != n_values * 8:
        raise ChunkDecodeError(f"transformed length {len(raw)} != {n_values} values * 8 bytes")
    planes = np.frombuffer(raw, dtype=np.uint8).reshape(8, n_values)
    return np.ascontiguousarray(planes.T).view("<u8").reshape(n_cols, n_rows).T


def forward(rows: np.ndarray) -> bytes:
    """`delta-shuffle-zstd` steps 1-4: float64 rows (R,) or (R, C) -> R*C*8 transformed bytes."""
    bits = np.ascontiguousarray(_as_2d(rows), dtype="<f8").view("<u8")
    delta = np.empty_like(bits)
    delta[:1] = bits[:1]
    np.subtract(bits[1:], bits[:-1], out=delta[1:])  # uint64 arrays wrap modulo 2**64
    return shuffle(delta)


def inverse(raw: bytes, n_rows: int, n_cols: int) -> np.ndarray:
    """Undo `delta-shuffle-zstd` steps 1-4: transformed bytes -> float64 (n_rows, n_cols)."""
    values = unshuffle(raw, n_rows, n_cols)
    bits = np.cumsum(values, axis=0, dtype=np.uint64)  # wraps modulo 2**64 like the encoder
    return np.ascontiguousarray(bits).view("<f8")


def forward_predict(rows: np.ndarray, modes: np.ndarray, w: np.ndarray | None, coef: tuple[float, float]) -> bytes:
    """`predict-shuffle-zstd` before zstd: float64 (R, C) -> R*C*8 transformed bytes."""
    x = np.ascontiguousarray(_as_2d(rows), dtype=np.float64)
    return shuffle(predict.forward_residuals(x, modes, w, coef))


def inverse_predict(
    raw: bytes, shape: tuple[int, int], modes: np.ndarray, w: np.ndarray | None, coef: tuple[float, float]
) -> np.ndarray:
    """Undo `forward_predict`."""
    return predict.inverse_residuals(unshuffle(raw, *shape), modes, w, coef)


def zstd_frame_length(payload: bytes | memoryview) -> int:
    """Length of the zstd frame at the start of `payload` from its headers (RFC 8878 3.1.1).

    Raises ChunkDecodeError when the bytes are not one well-formed frame header and block chain.
    """
    p = memoryview(payload).cast("B")
    if len(p) < 6 or bytes(p[:4]) != ZSTD_MAGIC:
        raise ChunkDecodeError("bad zstd data (not a zstd frame)")
    fhd = p[4]
    single, fcs_flag, dict_flag = (fhd >> 5) & 1, fhd >> 6, fhd & 3
    at = 5 + (0 if single else 1) + (0, 1, 2, 4)[dict_flag] + ((1 if single else 0), 2, 4, 8)[fcs_flag]
    while True:
        if at + 3 > len(p):
            raise ChunkDecodeError("bad zstd data (truncated block header)")
        head = p[at] | (p[at + 1] << 8) | (p[at + 2] << 16)
        kind, size = (head >> 1) & 3, head >> 3
        at += 3 + (1 if kind == 1 else size)
        if head & 1:
            return at + (4 if fhd & 4 else 0)


def content_size(payload: bytes | memoryview) -> int | None:
    """The decompressed size the frame header declares, or None."""
    size = zstandard.frame_content_size(payload)
    return None if size < 0 else size


def inflate(payload: bytes | memoryview, raw_length: int, decompressor: zstandard.ZstdDecompressor) -> bytes:
    """zstd-decompress one payload: exactly one frame, no trailing bytes, declared size == raw_length."""
    if (length := zstd_frame_length(payload)) != len(payload):
        extra = len(payload) - length
        why = "the frame runs past the payload" if extra < 0 else f"{extra} bytes after the frame"
        raise ChunkDecodeError(f"bad zstd data ({why})")
    try:
        declared = content_size(payload)
        if declared is None:
            raise ChunkDecodeError("zstd frame does not declare its content size")
        if declared != raw_length:
            raise ChunkDecodeError(f"zstd frame declares {declared} decompressed bytes, chunk table says {raw_length}")
        raw = decompressor.decompress(payload, max_output_size=raw_length)
    except zstandard.ZstdError as exc:
        raise ChunkDecodeError(f"bad zstd data ({exc})") from exc
    if len(raw) != raw_length:
        raise ChunkDecodeError(f"decompressed {len(raw)} bytes, chunk table says {raw_length}")
    return raw
