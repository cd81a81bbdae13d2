"""The wire types of a msgpack header, which decoders forget: int or float64, str or bin, ext.

`shape_of(data)` walks the header bytes once and returns a "shape" tree mirroring the value: a
`dict` (key -> shape) for a map, a `list` for an array, and for a scalar its msgpack family:
"int", "float64", "str", "nil", "bool". It raises ShapeError for what the spec forbids anywhere
in a header (section 3): bin, ext (timestamps included) and float32 values, map keys that are not
strings, duplicate keys, invalid UTF-8, nesting deeper than MAX_DEPTH and bytes after the top-level
value. The JavaScript reader has the same walker (web/src/lib/vlar-shape.js).

Written for speed (it runs on every header read): no per-value allocation beyond the shape tree, and
the path of a problem (e.g. `file.header.metadata.x`) is assembled only when one is found.
"""

from __future__ import annotations

from typing import Any

MAX_DEPTH = 32
Shape = Any  # dict[str, Shape] | list[Shape] | str


class ShapeError(ValueError):
    """The header breaks a wire-type rule; the message names where."""

    def __init__(self, problem: str, path: list[str] | None = None) -> None:
        self.problem = problem
        self.path = path or []
        super().__init__(problem)

    def __str__(self) -> str:
        where = "file" + "".join(self.path)
        return f"{where}{self.problem}"


def shape_of(data: bytes | memoryview) -> Shape:
    """The shape tree of the one msgpack value that must fill `data` exactly."""
    buf = bytes(data)
    shape, at = _value(buf, 0, 0)
    if at != len(buf):
        raise ShapeError(f": {len(buf) - at} bytes after the header map")
    return shape


_INTS = {0xCC: 1, 0xCD: 2, 0xCE: 4, 0xCF: 8, 0xD0: 1, 0xD1: 2, 0xD2: 4, 0xD3: 8}
_STRS = {0xD9: 1, 0xDA: 2, 0xDB: 4}
_ARRAYS = {0xDC: 2, 0xDD: 4}
_MAPS = {0xDE: 2, 0xDF: 4}
_FORBIDDEN = {0xC4: "binary data", 0xC5: "binary data", 0xC6: "binary data", 0xC7: "extension data",
              0xC8: "extension data", 0xC9: "extension data", 0xCA: "a float32", 0xD4: "extension data",
              0xD5: "extension data", 0xD6: "extension data", 0xD7: "extension data", 0xD8: "extension data"}


def _need(buf: bytes, end: int) -> None:
    if end > len(buf):
        raise ShapeError(": truncated msgpack")


def _count(buf: bytes, at: int, n: int) -> int:
    _need(buf, at + n)
    return int.from_bytes(buf[at : at + n], "big")


def _text(buf: bytes, at: int, n: int) -> tuple[str, int]:
    _need(buf, at + n)
    try:
        return buf[at : at + n].decode("utf-8"), at + n
    except UnicodeDecodeError as exc:
        raise ShapeError(f": a string is not valid UTF-8 ({exc.reason})") from exc


def _value(buf: bytes, at: int, depth: int) -> tuple[Shape, int]:  # noqa: C901 (one branch per format)
    if depth > MAX_DEPTH:
        raise ShapeError(f": nested deeper than {MAX_DEPTH} levels")
    _need(buf, at + 1)
    b = buf[at]
    at += 1
    if b <= 0x7F or b >= 0xE0:
        return "int", at
    if 0xA0 <= b <= 0xBF:
        return "str", _text(buf, at, b & 0x1F)[1]
    if 0x90 <= b <= 0x9F:
        return _array(buf, at, b & 0x0F, depth)
    if 0x80 <= b <= 0x8F:
        return _map(buf, at, b & 0x0F, depth)
    if b == 0xCB:
        _need(buf, at + 8)
        return "float64", at + 8
    if b in _INTS:
        _need(buf, at + _INTS[b])
        return "int", at + _INTS[b]
    if b == 0xC0:
        return "nil", at
    if b in (0xC2, 0xC3):
        return "bool", at
    if b in _STRS:
        n = _count(buf, at, _STRS[b])
        return "str", _text(buf, at + _STRS[b], n)[1]
    if b in _ARRAYS:
        return _array(buf, at + _ARRAYS[b], _count(buf, at, _ARRAYS[b]), depth)
    if b in _MAPS:
        return _map(buf, at + _MAPS[b], _count(buf, at, _MAPS[b]), depth)
    if b in _FORBIDDEN:
        raise ShapeError(f" is {_FORBIDDEN[b]}, which a replay header may not hold")
    raise ShapeError(f": byte {b:#04x} is not a msgpack value")


def _array(buf: bytes, at: int, count: int, depth: int) -> tuple[list[Shape], int]:
    out: list[Shape] = []
    i = 0
    try:
        for i in range(count):  # noqa: B007 (i names the item in an error)
            b = buf[at] if at < len(buf) else -1
            if 0 <= b <= 0x7F:  # fast paths: the small ints of step_frames and predictors, float64s
                out.append("int")
                at += 1
            elif b == 0xCB and at + 9 <= len(buf):
                out.append("float64")
                at += 9
            else:
                shape, at = _value(buf, at, depth + 1)
                out.append(shape)
    except ShapeError as exc:
        exc.path.insert(0, f"[{i}]")
        raise
    return out, at


def _map(buf: bytes, at: int, count: int, depth: int) -> tuple[dict[str, Shape], int]:
    out: dict[str, Shape] = {}
    for _ in range(count):
        _need(buf, at + 1)
        b = buf[at]
        if 0xA0 <= b <= 0xBF:
            key, at = _text(buf, at + 1, b & 0x1F)
        elif b in _STRS:
            key, at = _text(buf, at + 1 + _STRS[b], _count(buf, at + 1, _STRS[b]))
        else:
            try:
                _value(buf, at, depth + 1)
            except ShapeError as exc:
                exc.path.insert(0, " (a key)")
                raise
            raise ShapeError(" has a map key that is not a string")
        if key in out:
            raise ShapeError(f" has the key {key!r} twice")
        v = buf[at] if at < len(buf) else -1
        if 0 <= v <= 0x7F:  # fast paths: small ints and float64s, the usual map values
            out[key], at = "int", at + 1
            continue
        if v == 0xCB and at + 9 <= len(buf):
            out[key], at = "float64", at + 9
            continue
        try:
            out[key], at = _value(buf, at, depth + 1)
        except ShapeError as exc:
            exc.path.insert(0, f".{key}")
            raise
    return out, at


def float64_at(shape: Shape, *path: str | int) -> bool:
    """Whether the value at `path` (keys and indices) was written as a msgpack float64."""
    for step in path:
        shape = shape[step]
    return shape == "float64"
