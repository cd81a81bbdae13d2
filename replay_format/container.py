"""File layout: a 20-byte prelude, the msgpack header (FileIndex), then the chunk payloads.

offset  size  field (little-endian)
0       8     magic b"\\x89VLAR\\r\\n\\x1a"
8       2     major version (u16)
10      2     minor version (u16)
12      4     header length H (u32)
16      4     CRC-32: of the H header bytes (1.0); of prelude bytes 8..16 then the header (1.1+)
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
from .msgpack_shape import ShapeError, shape_of
from .rules import check_float_encoding, check_header_values

MAGIC = b"\x89VLAR\r\n\x1a"
PRELUDE = struct.Struct("<8sHHII")
PRELUDE_SIZE = PRELUDE.size  # 20


def header_crc(prelude: bytes | memoryview, header: bytes | memoryview, minor: int) -> int:
    """The prelude's CRC-32 field: from minor 1 on it also covers the version and length fields."""
    seed = zlib.crc32(prelude[8:16]) if minor >= 1 else 0
    return zlib.crc32(header, seed)


def pack(index: FileIndex, payloads: Sequence[bytes], version: tuple[int, int] = FORMAT_VERSION) -> bytes:
    """Assemble a whole file from its header and the chunk payloads in table order."""
    try:
        header = INDEX_ENCODER.encode(index)
        shape_of(header)  # the writer refuses what readers reject: bin/ext metadata, non-str keys...
    except (ShapeError, TypeError) as exc:
        raise ValueError(f"header: {exc}") from exc
    major, minor = version
    head = PRELUDE.pack(MAGIC, major, minor, len(header), 0)
    prelude = head[:16] + struct.pack("<I", header_crc(head, header, minor))
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
    header = view[PRELUDE_SIZE:end]
    if (actual := header_crc(view, header, minor)) != crc:
        covers = "prelude and header" if minor >= 1 else "header"
        raise CorruptReplayError(f"corrupt header: CRC-32 of the {covers} {actual:#010x} != stored {crc:#010x}")
    return (major, minor), decode_index(header), end


def decode_index(header: bytes | memoryview) -> FileIndex:
    """Header bytes -> FileIndex, checking wire types, field types and header values, in that order."""
    try:
        shape = shape_of(header)
        index = INDEX_DECODER.decode(header)
    except (ShapeError, msgspec.DecodeError) as exc:  # ValidationError is a DecodeError
        raise CorruptReplayError(f"corrupt header: {exc}") from exc
    try:
        check_float_encoding(shape)
        check_header_values(index.header)
        if index.n_frames < 0:
            raise ValueError(f"n_frames: must be >= 0, got {index.n_frames}")
    except ValueError as exc:
        raise CorruptReplayError(f"corrupt header: {exc}") from exc
    return index
