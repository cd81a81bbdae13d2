"""Reader-side consistency checks of a decoded FileIndex (stream table vs chunk table vs header).

The header CRC already rules out transmission damage; these checks catch broken writers and
decide which streams this reader can decode (forward compatibility within a major version).
"""

from __future__ import annotations

import math

from schemas.errors import CorruptReplayError, UnsupportedVersionError

from .codec import CODECS, PREDICT_SHUFFLE_ZSTD
from .header import ChunkInfo, FileIndex, StreamInfo
from .predict import PREDICTORS, VELOCITY, velocity_columns
from .rules import check_step_frames
from .streams import FLOAT64, FRAMES, KNOWN, REQUIRED, describe, expected_shape


def chunk_label(number: int, chunk: ChunkInfo) -> str:
    """How a chunk is named in error messages."""
    end = chunk.row_start + chunk.row_count
    return f"chunk {number} (stream {chunk.stream!r}, rows {chunk.row_start}..{end})"


def readable_streams(index: FileIndex) -> dict[str, StreamInfo]:
    """Check the stream and chunk tables; return the streams this reader decodes, by name."""
    declared = _declared(index.streams)
    streams = {name: s for name, s in declared.items() if s.group in KNOWN and s.dtype == FLOAT64}
    for group, names in REQUIRED.items():
        for name in names:
            _check_required(declared, streams, group, name)
    for stream in streams.values():
        _check_shape(index, stream)
    _check_step_frames(index)
    _check_chunks(index, declared, streams)
    return streams


def _declared(streams: list[StreamInfo]) -> dict[str, StreamInfo]:
    declared: dict[str, StreamInfo] = {}
    for stream in streams:
        if stream.name in declared:
            raise CorruptReplayError(f"stream table: stream {stream.name!r} is declared twice")
        declared[stream.name] = stream
    return declared


def _check_required(
    declared: dict[str, StreamInfo], streams: dict[str, StreamInfo], group: str, name: str
) -> None:
    if name not in declared or declared[name].group != group:
        raise CorruptReplayError(f"stream table: required stream {describe(group, name)} is missing")
    if name not in streams:
        raise UnsupportedVersionError(
            f"stream {describe(group, name)} has dtype {declared[name].dtype!r}, unknown to this reader"
        )


def _check_shape(index: FileIndex, stream: StreamInfo) -> None:
    n_rows = index.n_frames if stream.group == FRAMES else len(index.header.step_frames)
    shape = tuple(stream.shape)
    expected = expected_shape(stream.group, stream.name, index.header, n_rows)
    ok = shape == expected if expected is not None else len(shape) in (1, 2) and shape[0] == n_rows
    if not ok or min(shape, default=0) < 0:
        want = expected if expected is not None else f"({n_rows},) or ({n_rows}, columns)"
        raise CorruptReplayError(
            f"stream table: {describe(stream.group, stream.name)} has shape {shape}, expected {want}"
        )


def _check_step_frames(index: FileIndex) -> None:
    try:
        check_step_frames(index.header.step_frames, index.n_frames)
    except ValueError as exc:
        raise CorruptReplayError(str(exc)) from exc


def _check_chunks(index: FileIndex, declared: dict[str, StreamInfo], streams: dict[str, StreamInfo]) -> None:
    next_row = dict.fromkeys(streams, 0)
    for number, chunk in enumerate(index.chunks):
        if chunk.stream not in declared:
            raise CorruptReplayError(f"chunk table: {chunk_label(number, chunk)} names an undeclared stream")
        if chunk.stream not in streams:
            continue  # a stream this reader skips
        if chunk.codec not in CODECS:
            label = chunk_label(number, chunk)
            raise UnsupportedVersionError(f"{label} uses codec {chunk.codec!r}, unknown to this reader")
        _check_chunk(number, chunk, streams[chunk.stream], next_row[chunk.stream])
        _check_predictors(number, chunk, streams[chunk.stream], index)
        next_row[chunk.stream] += chunk.row_count
    for name, stream in streams.items():
        rows = stream.shape[0] if columns(stream) else 0
        if next_row[name] != rows:
            raise CorruptReplayError(
                f"chunk table: chunks of stream {name!r} cover {next_row[name]} of {rows} rows"
            )


def _check_chunk(number: int, chunk: ChunkInfo, stream: StreamInfo, expected_start: int) -> None:
    if problem := _chunk_problem(chunk, stream, expected_start):
        raise CorruptReplayError(f"chunk table: {chunk_label(number, chunk)} {problem}")


def _chunk_problem(chunk: ChunkInfo, stream: StreamInfo, expected_start: int) -> str | None:
    if chunk.row_start != expected_start or chunk.row_count < 1:
        return f"does not continue the stream at row {expected_start}"
    if chunk.row_start + chunk.row_count > stream.shape[0]:
        return f"runs past the stream's {stream.shape[0]} rows"
    if chunk.raw_length != chunk.row_count * columns(stream) * 8:
        return f"has raw_length {chunk.raw_length}, expected rows * columns * 8"
    if chunk.offset < 0 or chunk.length < 0:
        return "has a negative offset or length"
    return None


def _check_predictors(number: int, chunk: ChunkInfo, stream: StreamInfo, index: FileIndex) -> None:
    if problem := _predictor_problem(chunk, stream, index):
        raise CorruptReplayError(f"chunk table: {chunk_label(number, chunk)} {problem}")


def _predictor_problem(chunk: ChunkInfo, stream: StreamInfo, index: FileIndex) -> str | None:
    if chunk.codec != PREDICT_SHUFFLE_ZSTD:
        return "has predictors or coefficients, which its codec does not use" if (
            chunk.predictors or chunk.coefficients) else None
    if len(chunk.predictors) != columns(stream) or any(p not in PREDICTORS for p in chunk.predictors):
        return f"needs one predictor in {list(PREDICTORS)} per column ({columns(stream)}), got {chunk.predictors}"
    if VELOCITY not in chunk.predictors:
        return "has coefficients but no velocity predictor" if chunk.coefficients else None
    if len(chunk.coefficients) != 2 or not all(math.isfinite(c) for c in chunk.coefficients):
        return f"needs 2 finite coefficients for its velocity predictor, got {chunk.coefficients}"
    if (stream.group, stream.name) != (FRAMES, "qpos"):
        return "uses the velocity predictor outside frames['qpos']"
    mapped = velocity_columns(index.header.joints, index.header.nq, index.header.nv)
    if bad := [c for c, p in enumerate(chunk.predictors) if p == VELOCITY and mapped[c] < 0]:
        return f"uses the velocity predictor on qpos column(s) {bad}, which no joint maps to a qvel column"
    return None


def columns(stream: StreamInfo) -> int:
    """Columns of a stream (1 for a 1-D stream)."""
    return stream.shape[1] if len(stream.shape) == 2 else 1
