"""The `.vlar` trajectory format: versioned, chunked, lossless float64 MuJoCo replays.

A file is a 20-byte prelude (magic, version, header length, CRC-32 of the version, length and
header), a msgpack header (episode header, stream table, chunk table) and zstd-compressed chunks of
float64 rows, predicted per column (format 1.1; delta-coded in 1.0), zigzag residuals byte-shuffled.
The writer writes 1.1 by default (`version=(1, 0)` for old readers); readers read every 1.x. The
spec, precise enough for an independent reader, is docs/replay-format.md.
"""

from .header import (
    FILE_EXTENSION,
    FORMAT_VERSION,
    MEDIA_TYPE,
    ActuatorInfo,
    ChunkInfo,
    JointInfo,
    ReplayHeader,
    StreamInfo,
)
from .reader import Replay, decode_replay, read_header
from .writer import DEFAULT_CHUNK_FRAMES, DEFAULT_LEVEL, encode_replay

__all__ = [
    "DEFAULT_CHUNK_FRAMES",
    "DEFAULT_LEVEL",
    "FILE_EXTENSION",
    "FORMAT_VERSION",
    "MEDIA_TYPE",
    "ActuatorInfo",
    "ChunkInfo",
    "JointInfo",
    "Replay",
    "ReplayHeader",
    "StreamInfo",
    "decode_replay",
    "encode_replay",
    "read_header",
]
