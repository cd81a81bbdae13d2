"""Value rules of a replay header, shared by the writer (ValueError) and both readers (corrupt header).

One function per rule family so that the writer refuses exactly what the readers reject
(docs/replay-format.md section 9 lists them). Messages name the field, e.g. `header.timestep`.
"""

from __future__ import annotations

import math
import re

from .header import ReplayHeader
from .msgpack_shape import Shape, float64_at

JOINT_TYPES = frozenset({"free", "ball", "slide", "hinge"})
BUNDLE_HASH = re.compile(r"sha256:[0-9a-f]{64}")
FLOAT_FIELDS = ("timestep", "frame_rate", "control_rate")
COUNT_FIELDS = ("nq", "nv", "nu", "action_dim")


def check_header_values(header: ReplayHeader) -> None:
    """Counts >= 0, finite positive rates, a lower-case sha256 bundle hash, known joint types."""
    for field in COUNT_FIELDS:
        if getattr(header, field) < 0:
            raise ValueError(f"header.{field}: must be >= 0, got {getattr(header, field)}")
    for field in FLOAT_FIELDS:
        value = getattr(header, field)
        if not (math.isfinite(value) and value > 0):
            raise ValueError(f"header.{field}: must be a finite number > 0, got {value}")
    if not BUNDLE_HASH.fullmatch(header.bundle_hash):
        raise ValueError(
            f"header.bundle_hash: expected 'sha256:' + 64 lowercase hex digits, got {header.bundle_hash!r}"
        )
    for i, joint in enumerate(header.joints):
        if joint.type not in JOINT_TYPES:
            raise ValueError(
                f"header.joints[{i}].type: expected one of {sorted(JOINT_TYPES)}, got {joint.type!r}"
            )


def check_float_encoding(shape: Shape) -> None:
    """The float fields of the header map must be msgpack float64 values, not ints (reader side)."""
    for field in FLOAT_FIELDS:
        if not float64_at(shape, "header", field):
            raise ValueError(f"header.{field}: must be encoded as a msgpack float64, got {shape['header'][field]}")
    for i, chunk in enumerate(shape["chunks"]):
        for j, kind in enumerate(chunk.get("coefficients", [])):
            if kind != "float64":
                raise ValueError(f"chunks[{i}].coefficients[{j}]: must be a msgpack float64, got {kind}")


def check_step_frames(step_frames: list[int], n_frames: int) -> None:
    """Non-decreasing, each in the half-open range [0, n_frames)."""
    for i, frame in enumerate(step_frames):
        if not 0 <= frame < n_frames:
            raise ValueError(f"header.step_frames[{i}]: {frame} is outside [0, n_frames={n_frames})")
        if i and frame < step_frames[i - 1]:
            raise ValueError(
                f"header.step_frames[{i}]: {frame} < {step_frames[i - 1]}; must be non-decreasing"
            )
