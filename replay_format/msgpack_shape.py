"""The wire types of a msgpack header, which decoders forget: int or float64, str or bin, ext.

`shape_of(data)` walks the header bytes once and returns a "shape" tree mirroring the value: a
`dict` (key -> shape) for a map, a `list` for an array, and for a scalar its msgpack family:
"int", "float64", "str", "nil", "bool". It raises ShapeError for what the spec forbids anywhere
in a header (section 3): bin, ext (timestamps included) and float32 values, map keys that are not
strings, duplicate keys, nesting deeper than MAX_DEPTH and bytes after the top-level value.
The JavaScript reader has the same walker (web/src/lib/vlar-shape.js).
"""

from __future__ import annotations

from typing import Any

MAX_DEPTH = 32
Shape = Any  # dict[str, Shape] | list[Shape] | str


class ShapeError(ValueError):
    """The header breaks a wire-type rule; the message names where."""


def shape_of(data: bytes | memoryview) -> Shape:
    """The shape tree of the one msgpack value that must fill `data` exactly."""
    walker = _Walker(memoryview(data).cast("B"))
    shape = walker.value("file", 0)
    if walker.at != len(walker.buf):
        raise ShapeError(f"{len(walker.buf) - walker.at} bytes after the header map")
    return shape


# first byte -> (family, length bytes or fixed payload size) for the non-fix formats
_FIXED = {0xC0: ("nil", 0), 0xC2: ("bool", 0), 0xC3: ("bool", 0), 0xCA: ("float32", 4), 0xCB: ("float64", 8)}
_INTS = {0xCC: 1, 0xCD: 2, 0xCE: 4, 0xCF: 8, 0xD0: 1, 0xD1: 2, 0xD2: 4, 0xD3: 8}
_SIZED = {0xC4: ("bin", 1), 0xC5: ("bin", 2), 0xC6: ("bin", 4), 0xC7: ("ext", 1), 0xC8: ("ext", 2),
          0xC9: ("ext", 4), 0xD9: ("str", 1), 0xDA: ("str", 2), 0xDB: ("str", 4)}
_CONTAINERS = {0xDC: ("array", 2), 0xDD: ("array", 4), 0xDE: ("map", 2), 0xDF: ("map", 4)}


class _Walker:
    def __init__(self, buf: memoryview) -> None:
        self.buf = buf
        self.at = 0

    def take(self, n: int, where: str) -> memoryview:
        if self.at + n > len(self.buf):
            raise ShapeError(f"{where}: truncated msgpack")
        chunk = self.buf[self.at : self.at + n]
        self.at += n
        return chunk

    def uint(self, n: int, where: str) -> int:
        return int.from_bytes(self.take(n, where), "big")

    def value(self, where: str, depth: int) -> Shape:
        if depth > MAX_DEPTH:
            raise ShapeError(f"{where}: nested deeper than {MAX_DEPTH} levels")
        b = self.uint(1, where)
        if b <= 0x7F or b >= 0xE0:
            return "int"
        if b in _INTS:
            self.take(_INTS[b], where)
            return "int"
        if 0xA0 <= b <= 0xBF:
            return self.text(b & 0x1F, where)
        if 0x80 <= b <= 0x8F:
            return self.map(b & 0x0F, where, depth)
        if 0x90 <= b <= 0x9F:
            return [self.value(f"{where}[{i}]", depth + 1) for i in range(b & 0x0F)]
        if b in _CONTAINERS:
            kind, n = _CONTAINERS[b]
            count = self.uint(n, where)
            if kind == "map":
                return self.map(count, where, depth)
            return [self.value(f"{where}[{i}]", depth + 1) for i in range(count)]
        return self.scalar(b, where)

    def scalar(self, b: int, where: str) -> Shape:
        if b in _FIXED:
            family, size = _FIXED[b]
            self.take(size, where)
        elif b in _SIZED:
            family, n = _SIZED[b]
            if family == "str":
                return self.text(self.uint(n, where), where)
            self.take(self.uint(n, where) + (1 if family == "ext" else 0), where)
        elif 0xD4 <= b <= 0xD8:
            family = "ext"
        else:
            raise ShapeError(f"{where}: byte {b:#04x} is not a msgpack value")
        if family in ("bin", "ext", "float32"):
            raise ShapeError(f"{where} is {_ARTICLE[family]}, which a replay header may not hold")
        return family

    def text(self, n: int, where: str) -> str:
        try:
            str(self.take(n, where), "utf-8")
        except UnicodeDecodeError as exc:
            raise ShapeError(f"{where}: a string is not valid UTF-8 ({exc.reason})") from exc
        return "str"

    def map(self, count: int, where: str, depth: int) -> dict[str, Shape]:
        out: dict[str, Shape] = {}
        for _ in range(count):
            start = self.at
            if self.value(f"{where} (a key)", depth + 1) != "str":
                raise ShapeError(f"{where} has a map key that is not a string")
            key = _key(bytes(self.buf[start : self.at]))
            if key in out:
                raise ShapeError(f"{where} has the key {key!r} twice")
            out[key] = self.value(f"{where}.{key}", depth + 1)
        return out


_ARTICLE = {"bin": "binary data", "ext": "extension data", "float32": "a float32"}


def _key(encoded: bytes) -> str:
    b = encoded[0]
    skip = 1 if 0xA0 <= b <= 0xBF else 1 + {0xD9: 1, 0xDA: 2, 0xDB: 4}[b]
    return encoded[skip:].decode("utf-8")  # checked by _Walker.text


def float64_at(shape: Shape, *path: str | int) -> bool:
    """Whether the value at `path` (keys and indices) was written as a msgpack float64."""
    for step in path:
        shape = shape[step]
    return shape == "float64"


