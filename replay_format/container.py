"""File layout: a 20-byte prelude, the msgpack header (FileIndex), then the chunk payloads.

offset  size  field (little-endian)
0       8     magic b"\\x89VLAR\\r\\n\\x1a"
8       2     major version (u16)
10      2     minor version (u16)
12      4     header length H (u32)
16      4     CRC-32 of the H header bytes (u32)
20      H     header: msgpack map (FileIndex)
20 + H  ...   data section; ChunkInfo.offset is relative to its start
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence

import msgspec

from schemas.errors import CorruptReplayError, UnsupportedVersionError

from .header import FORMAT_VERSION, INDEX_DECODER, INDEX_ENCODER, FileIndex

MAGIC = b"\x89VLAR\r\n\x1a"
PRELUDE = struct.Struct("<8sHHII")
PRELUDE_SIZE = PRELUDE.size  # 20


def pack(index: FileIndex, payloads: Sequence[bytes]) -> bytes:
    """Assemble a whole file from its header and the chunk payloads in table order."""
    header = INDEX_ENCODER.encode(index)
    major, minor = FORMAT_VERSION
    prelude = PRELUDE.pack(MAGIC, major, minor, len(header), zlib.crc32(header))
    return b"".join([prelude, header, *payloads])


def unpack_index(data: bytes | bytearray | memoryview) -> tuple[tuple[int, int], FileIndex, int]:
    """Parse the prelude and header; returns (version, index, data-section offset).

    Needs only the first 20 + H bytes of the file; no chunk is touched.
    """
    view = memoryview(data).cast("B")
    if bytes(view[: len(MAGIC)]) != MAGIC[: len(view)]:
        raise CorruptReplayError("bad magic: not a .vlar replay file")
    if len(view) < PRELUDE_SIZE:
        raise CorruptReplayError(f"truncated file: {len(view)} bytes, the prelude alone is {PRELUDE_SIZE}")
    _, major, minor, length, crc = PRELUDE.unpack_from(view)
    if major != FORMAT_VERSION[0]:
        supported = f"{FORMAT_VERSION[0]}.x"
        raise UnsupportedVersionError(
            f"replay format version {major}.{minor} is not supported (this reader reads {supported})"
        )
    end = PRELUDE_SIZE + length
    if len(view) < end:
        raise CorruptReplayError(
            f"truncated file: header needs bytes {PRELUDE_SIZE}..{end}, file has {len(view)}"
        )
    return (major, minor), _decode_index(view[PRELUDE_SIZE:end], crc), end


def _decode_index(header: memoryview, crc: int) -> FileIndex:
    if (actual := zlib.crc32(header)) != crc:
        raise CorruptReplayError(f"corrupt header: CRC-32 {actual:#010x} != stored {crc:#010x}")
    try:
        return INDEX_DECODER.decode(header)
    except msgspec.DecodeError as exc:  # ValidationError is a subclass
        raise CorruptReplayError(f"corrupt header: {exc}") from exc
