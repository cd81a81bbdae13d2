"""Hand-edited `.vlar` files whose checksums are all valid, so only the rule under test can object."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from typing import Any

import msgspec


def split(data: bytes) -> tuple[dict[str, Any], bytes]:
    """(header as plain msgpack dict, data section) of a file."""
    length = struct.unpack_from("<I", data, 12)[0]
    return msgspec.msgpack.decode(data[20 : 20 + length]), data[20 + length :]


def assemble(prelude12: bytes, header: bytes, section: bytes) -> bytes:
    """Prelude (magic + version from `prelude12`) + header + section with a correct length and CRC.

    From minor 1 on the CRC covers prelude bytes 8..16 and then the header (spec section 2).
    """
    minor = struct.unpack_from("<H", prelude12, 10)[0]
    head = prelude12 + struct.pack("<I", len(header))
    crc = zlib.crc32(header, zlib.crc32(head[8:16]) if minor >= 1 else 0)
    return head + struct.pack("<I", crc) + header + section


def rebuild(
    data: bytes,
    edit: Callable[[dict[str, Any]], None] | None = None,
    section: bytes | None = None,
    *,
    header_bytes: bytes | None = None,
) -> bytes:
    """Re-encode a file's header after `edit` (or use `header_bytes`), with a correct length and CRC."""
    index, old_section = split(data)
    if edit is not None:
        edit(index)
    header = msgspec.msgpack.encode(index) if header_bytes is None else header_bytes
    return assemble(data[:12], header, old_section if section is None else section)


def with_version(data: bytes, major: int, minor: int) -> bytes:
    """The same file declaring another version, its CRC recomputed for that version's rule."""
    return rebuild(data[:8] + struct.pack("<HH", major, minor) + data[12:])


def replace_payload(data: bytes, number: int, payload: bytes) -> bytes:
    """Swap chunk `number`'s payload for `payload`, fixing offsets and CRCs (only zstd can object)."""
    index, section = split(data)
    chunks = index["chunks"]
    parts = [section[c["offset"] : c["offset"] + c["length"]] for c in chunks]
    parts[number] = payload
    offset = 0
    for chunk, part in zip(chunks, parts, strict=True):
        chunk.update(offset=offset, length=len(part), crc32=zlib.crc32(part))
        offset += len(part)
    return rebuild(data, lambda new: new.update(chunks=chunks), b"".join(parts))
