"""Header types of the `.vlar` replay format: what the msgpack header of a file holds.

`ReplayHeader` is the episode description callers build and read back. `StreamInfo`
and `ChunkInfo` describe the file's data layout; `FileIndex` is the whole msgpack
header (episode header + stream table + chunk table) exactly as it is stored.
"""

from __future__ import annotations

from typing import Any

import msgspec

#: (major, minor) written by default. Readers accept any minor of a known major.
FORMAT_VERSION: tuple[int, int] = (1, 1)
#: Every version `encode_replay(..., version=...)` can write.
WRITABLE_VERSIONS: frozenset[tuple[int, int]] = frozenset({(1, 0), (1, 1)})
FILE_EXTENSION = ".vlar"
MEDIA_TYPE = "application/vnd.vla-arena.replay"


class JointInfo(msgspec.Struct, frozen=True, kw_only=True):
    """One MuJoCo joint: its name, type and where it starts in qpos / qvel."""

    name: str
    type: str  # "free" | "ball" | "slide" | "hinge"
    qpos_adr: int
    dof_adr: int


class ActuatorInfo(msgspec.Struct, frozen=True, kw_only=True):
    """One MuJoCo actuator and the joint it drives (None for tendon/site/body transmissions)."""

    name: str
    joint: str | None


class ReplayHeader(msgspec.Struct, frozen=True, kw_only=True):
    """Everything about an episode except its per-frame and per-step arrays.

    `step_frames[i]` is the frame index at the start of control step `i`; the step
    ends where the next one starts (the last one at `n_frames`). `metadata` is opaque
    to the codec (instruction, seed, task, outcome...) and must be msgpack-encodable.
    """

    mujoco_version: str
    bundle_hash: str  # "sha256:<hex>" of the scene bundle
    robot_id: str
    scene_id: str
    nq: int
    nv: int
    nu: int
    timestep: float
    frame_rate: float  # frames per simulated second
    control_rate: float  # control steps per simulated second
    joints: list[JointInfo]
    actuators: list[ActuatorInfo]
    action_space: str
    action_dim: int
    step_frames: list[int]
    metadata: dict[str, Any] = msgspec.field(default_factory=dict)


class StreamInfo(msgspec.Struct, frozen=True, kw_only=True):
    """One array stored in the file: `shape` is `[rows]` or `[rows, columns]`."""

    name: str
    group: str  # "frames" (one row per frame) | "steps" (one row per control step)
    dtype: str  # "float64" (the only dtype of format 1.x so far)
    shape: list[int]


class ChunkInfo(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One compressed slice of rows `[row_start, row_start + row_count)` of one stream.

    `offset` is relative to the start of the data section; `crc32` is CRC-32 (IEEE,
    as `zlib.crc32`) of the `length` stored bytes; `raw_length` is the byte size
    after decompression, before the inverse transform. Codec `predict-shuffle-zstd`
    (format 1.1) adds `predictors` (one id per column) and, when a column uses the
    velocity predictor, `coefficients` [a, b]; other codecs leave both empty (not stored).
    """

    stream: str
    row_start: int
    row_count: int
    offset: int
    length: int
    raw_length: int
    codec: str
    crc32: int
    predictors: list[int] = []
    coefficients: list[float] = []


class FileIndex(msgspec.Struct, frozen=True, kw_only=True):
    """The msgspec-encoded header of a file: episode header, frame count, streams, chunks."""

    header: ReplayHeader
    n_frames: int
    streams: list[StreamInfo]
    chunks: list[ChunkInfo]


# Built once and reused. "deterministic" sorts dict keys (metadata) so equal inputs give equal bytes.
INDEX_ENCODER = msgspec.msgpack.Encoder(order="deterministic")
INDEX_DECODER = msgspec.msgpack.Decoder(FileIndex)
