"""Boundary checks for `encode_replay`: every problem raises ValueError naming the field."""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Mapping

import msgspec
import numpy as np

from .header import ReplayHeader, StreamInfo
from .streams import FLOAT64, FRAMES, REQUIRED, STEPS, describe, expected_shape, ordered_names

JOINT_TYPES = frozenset({"free", "ball", "slide", "hinge"})
_BUNDLE_HASH = re.compile(r"sha256:[0-9a-f]{64}")
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
    _check_header_values(checked)
    return msgspec.structs.replace(checked, metadata=header.metadata)


def _check_header_values(header: ReplayHeader) -> None:
    for field in ("nq", "nv", "nu", "action_dim"):
        if getattr(header, field) < 0:
            raise ValueError(f"header.{field}: must be >= 0, got {getattr(header, field)}")
    for field in ("timestep", "frame_rate", "control_rate"):
        value = getattr(header, field)
        if not (math.isfinite(value) and value > 0):
            raise ValueError(f"header.{field}: must be a finite number > 0, got {value}")
    if not _BUNDLE_HASH.fullmatch(header.bundle_hash):
        raise ValueError(
            f"header.bundle_hash: expected 'sha256:' + 64 lowercase hex digits, got {header.bundle_hash!r}"
        )
    for i, joint in enumerate(header.joints):
        if joint.type not in JOINT_TYPES:
            raise ValueError(
                f"header.joints[{i}].type: expected one of {sorted(JOINT_TYPES)}, got {joint.type!r}"
            )


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
    _check_step_frames(header.step_frames, n_frames)
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


def _check_step_frames(step_frames: list[int], n_frames: int) -> None:
    for i, frame in enumerate(step_frames):
        if not 0 <= frame < n_frames:
            raise ValueError(f"header.step_frames[{i}]: {frame} is outside [0, n_frames={n_frames})")
        if i and frame < step_frames[i - 1]:
            raise ValueError(
                f"header.step_frames[{i}]: {frame} < {step_frames[i - 1]}; must be non-decreasing"
            )


def check_options(level: int, chunk_frames: int) -> None:
    """Range-check the encoder knobs."""
    if not 1 <= level <= 22:
        raise ValueError(f"level: zstd level must be in 1..22, got {level}")
    if chunk_frames < 1:
        raise ValueError(f"chunk_frames: must be >= 1, got {chunk_frames}")
