"""Boundary checks for `encode_replay`: every problem raises ValueError naming the field."""

from __future__ import annotations

import operator
from collections.abc import Mapping

import msgspec
import numpy as np

from .header import WRITABLE_VERSIONS, ReplayHeader, StreamInfo
from .rules import JOINT_TYPES, check_header_values, check_step_frames
from .streams import FLOAT64, FRAMES, REQUIRED, STEPS, describe, expected_shape, ordered_names

__all__ = ["JOINT_TYPES", "Prepared", "check_header", "check_options", "prepare_streams"]
Prepared = list[tuple[StreamInfo, np.ndarray]]


def check_header(header: ReplayHeader) -> ReplayHeader:
    """Type-check every header field; return it normalised (int step_frames, float rates).

    `metadata` is kept as given; it only has to be msgpack-encodable.
    """
    if not isinstance(header, ReplayHeader):
        raise ValueError(f"header: expected a ReplayHeader, got {type(header).__name__}")
    try:
        steps = [operator.index(i) for i in header.step_frames]
        plain = msgspec.to_builtins(msgspec.structs.replace(header, step_frames=steps), order="deterministic")
        checked = msgspec.convert(plain, type=ReplayHeader)
    except (TypeError, msgspec.ValidationError) as exc:
        raise ValueError(f"header: {exc}") from exc
    check_header_values(checked)
    return msgspec.structs.replace(checked, metadata=header.metadata)


def prepare_streams(
    header: ReplayHeader, frames: Mapping[str, object], steps: Mapping[str, object]
) -> Prepared:
    """Validate the arrays against `header`; return (StreamInfo, float64 array) in write order."""
    for group, arrays in ((FRAMES, frames), (STEPS, steps)):
        missing = [name for name in REQUIRED[group] if name not in arrays]
        if missing:
            raise ValueError(f"{group}: missing required stream(s) {missing}")
    if clash := sorted(set(frames) & set(steps)):
        raise ValueError(f"steps: stream name(s) {clash} already used in frames")
    for name in [*frames, *steps]:
        if not isinstance(name, str) or not name:
            raise ValueError(f"stream name {name!r}: stream names must be non-empty strings")
    time = _as_float64(describe(FRAMES, "time"), frames["time"])
    if time.ndim != 1:
        raise ValueError(
            f"{describe(FRAMES, 'time')}: expected a 1-D array (n_frames,), got shape {time.shape}"
        )
    n_frames = time.shape[0]
    n_steps = len(header.step_frames)
    prepared = _prepare_group(FRAMES, frames, header, n_frames)
    prepared += _prepare_group(STEPS, steps, header, n_steps)
    check_step_frames(header.step_frames, n_frames)
    return prepared


def _prepare_group(group: str, arrays: Mapping[str, object], header: ReplayHeader, n_rows: int) -> Prepared:
    prepared = []
    for name in ordered_names(group, list(arrays)):
        field = describe(group, name)
        array = _as_float64(field, arrays[name])
        _check_shape(field, array, expected_shape(group, name, header, n_rows), n_rows, group)
        prepared.append((StreamInfo(name=name, group=group, dtype=FLOAT64, shape=list(array.shape)), array))
    return prepared


def _as_float64(field: str, value: object) -> np.ndarray:
    array = np.asarray(value)
    if array.dtype.kind != "f":
        raise ValueError(f"{field}: expected a floating-point array, got dtype {array.dtype}")
    return np.ascontiguousarray(array, dtype="<f8")


def _check_shape(
    field: str, array: np.ndarray, expected: tuple[int, ...] | None, n_rows: int, group: str
) -> None:
    rows_of = "n_frames (len of frames['time'])" if group == FRAMES else "n_steps (len of header.step_frames)"
    if expected is not None and array.shape != expected:
        raise ValueError(f"{field}: expected shape {expected} from header and {rows_of}, got {array.shape}")
    if expected is None and (array.ndim not in (1, 2) or array.shape[0] != n_rows):
        raise ValueError(
            f"{field}: expected a 1-D or 2-D array with {n_rows} rows ({rows_of}), got {array.shape}"
        )


def check_options(level: int, chunk_frames: int, version: tuple[int, int]) -> None:
    """Range-check the encoder knobs."""
    if tuple(version) not in WRITABLE_VERSIONS:
        raise ValueError(f"version: this writer writes {sorted(WRITABLE_VERSIONS)}, got {version!r}")
    if not 1 <= level <= 22:
        raise ValueError(f"level: zstd level must be in 1..22, got {level}")
    if chunk_frames < 1:
        raise ValueError(f"chunk_frames: must be >= 1, got {chunk_frames}")
