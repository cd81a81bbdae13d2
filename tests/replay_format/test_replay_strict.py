"""Readers enforce every rule the writer enforces (spec section 9): hand-built files, valid checksums.

Each mutant below is a file `encode_replay` would never write, with its header length and CRC-32
recomputed, so the only thing wrong with it is the rule under test. The JavaScript reader has the
same table (web/test/unit/vlar-strict.test.js).
"""

from __future__ import annotations

import datetime
import struct
from collections.abc import Callable
from typing import Any

import msgspec
import numpy as np
import pytest
from vlar_handmade import rebuild, split

from replay_format import decode_replay, encode_replay, read_header
from schemas.errors import CorruptReplayError

Edit = Callable[[dict[str, Any]], None]


@pytest.fixture(scope="module")
def encoded(make_header) -> bytes:
    n = 23
    t = np.arange(n) * 0.02
    frames = {
        "time": t,
        "qpos": np.sin(np.outer(t, np.arange(1, 9))),
        "qvel": np.cos(np.outer(t, np.arange(1, 8))),
        "ctrl": np.zeros((n, 2)),
    }
    return encode_replay(make_header(), frames, {"action": np.zeros((5, 3))}, chunk_frames=8)


def header_field(name: str, value: object) -> Edit:
    return lambda index: index["header"].__setitem__(name, value)


def metadata(value: object) -> Edit:
    return lambda index: index["header"]["metadata"].__setitem__("x", value)


def chunk_field(number: int, name: str, value: object) -> Edit:
    return lambda index: index["chunks"][number].__setitem__(name, value)


def drop_chunk_field(number: int, name: str) -> Edit:
    return lambda index: index["chunks"][number].pop(name)


# qpos chunks are 3..5 (8-row chunks of 23 frames); nq=8: box_free (free) maps qpos 0..2, elbow qpos 7.
EDITS: list[tuple[str, Edit, str]] = [
    ("timestep 0", header_field("timestep", 0.0), r"header.timestep: must be a finite number > 0"),
    ("negative frame rate", header_field("frame_rate", -50.0), r"header.frame_rate: must be a finite"),
    ("NaN frame rate", header_field("frame_rate", float("nan")), r"header.frame_rate: .* got nan"),
    ("infinite control rate", header_field("control_rate", float("inf")), r"header.control_rate"),
    ("int timestep", header_field("timestep", 1), r"header.timestep: must be encoded as a msgpack float64, got int"),
    ("int frame rate", header_field("frame_rate", 50), r"header.frame_rate: must be encoded as a msgpack float64"),
    ("upper-case hash", header_field("bundle_hash", "sha256:" + "AB" * 32), r"header.bundle_hash: expected"),
    ("short hash", header_field("bundle_hash", "sha256:abc"), r"header.bundle_hash"),
    ("negative nq", header_field("nq", -1), r"header.nq: must be >= 0"),
    (
        "unknown joint type",
        lambda i: i["header"]["joints"][1].__setitem__("type", "prismatic"),
        r"header.joints\[1\].type: expected one of",
    ),
    ("binary metadata", metadata(b"\x00\x01"), r"file.header.metadata.x is binary data"),
    ("ext metadata", metadata(msgspec.msgpack.Ext(5, b"x")), r"file.header.metadata.x is extension data"),
    (
        "timestamp metadata",
        metadata(datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)),
        r"file.header.metadata.x is extension data",
    ),
    ("non-string key", metadata({1: "a"}), r"file.header.metadata.x has a map key that is not a string"),
    ("negative n_frames", lambda i: i.__setitem__("n_frames", -1), r"n_frames: must be >= 0"),
    (
        "step at n_frames (half-open)",
        header_field("step_frames", [0, 5, 10, 15, 23]),
        r"header.step_frames\[4\]: 23 is outside \[0, n_frames=23\)",
    ),
    ("too few predictors", chunk_field(3, "predictors", [0, 0]), r"chunk 3 .*in \[0, 1, 2\] per column \(8\)"),
    ("unknown predictor", chunk_field(6, "predictors", [3] * 7), r"chunk 6 .*needs one predictor"),
    ("predictors, delta codec", chunk_field(3, "codec", "delta-shuffle-zstd"), r"chunk 3 .*its codec does not use"),
    ("velocity outside qpos", chunk_field(6, "predictors", [2] * 7), r"chunk 6 .*(coefficients|outside frames)"),
    (
        "velocity on an unmapped column",
        lambda i: i["chunks"][3].update(predictors=[2] * 8, coefficients=[0.009, 0.011]),
        r"chunk 3 .*velocity predictor on qpos column\(s\) \[3, 4, 5, 6\]",
    ),
    (
        "velocity without coefficients",
        lambda i: i["chunks"][3].update(predictors=[2, 0, 0, 0, 0, 0, 0, 0], coefficients=[]),
        r"chunk 3 .*needs 2 finite coefficients",
    ),
    (
        "int coefficients",
        lambda i: i["chunks"][3].update(predictors=[2, 0, 0, 0, 0, 0, 0, 0], coefficients=[0, 1]),
        r"chunks\[3\].coefficients\[0\]: must be a msgpack float64",
    ),
    (
        "coefficients without velocity",
        lambda i: i["chunks"][3].update(predictors=[0] * 8, coefficients=[0.5, 0.5]),
        r"chunk 3 .*has coefficients but no velocity predictor",
    ),
]


@pytest.mark.parametrize(("edit", "message"), [e[1:] for e in EDITS], ids=[e[0] for e in EDITS])
def test_reader_rejects_what_the_writer_refuses(encoded, edit, message) -> None:
    index, _ = split(encoded)
    assert index["chunks"][3]["stream"] == "qpos"
    assert index["chunks"][6]["stream"] == "qvel"
    with pytest.raises(CorruptReplayError, match=message):
        decode_replay(rebuild(encoded, edit))


def _swap(encoded: bytes, old: bytes, new: bytes) -> bytes:
    length = struct.unpack_from("<I", encoded, 12)[0]
    header = encoded[20 : 20 + length]
    assert header.count(old) == 1, old
    return rebuild(encoded, header_bytes=header.replace(old, new))


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (b"\xa8robot_id", b"\xa8scene_id", r"has the key 'scene_id' twice"),
        (b"\xa4arm7", b"\xa4\xff\xfe\xfd\xfc", r"not valid UTF-8"),
        (
            b"\xa8timestep\xcb" + struct.pack(">d", 0.002),
            b"\xa8timestep\xca" + struct.pack(">f", 0.002),
            r"file.header.timestep is a float32",
        ),
        (b"\xa8n_frames", b"\xa8n_frames", r""),  # unchanged: the base file reads
    ],
)
def test_wire_rules_on_raw_header_bytes(encoded, old, new, message) -> None:
    data = _swap(encoded, old, new)
    if not message:
        assert read_header(data)[1].robot_id == "arm7"
        return
    with pytest.raises(CorruptReplayError, match=message):
        read_header(data)


def test_trailing_bytes_inside_the_header_are_corrupt(encoded) -> None:
    length = struct.unpack_from("<I", encoded, 12)[0]
    with pytest.raises(CorruptReplayError, match="1 bytes after the header map"):
        read_header(rebuild(encoded, header_bytes=encoded[20 : 20 + length] + b"\xc0"))


@pytest.mark.parametrize(("at", "bit"), [(10, 0x01), (11, 0x04), (12, 0x01), (13, 0x80)])
def test_the_crc_covers_version_and_length_from_1_1(encoded, at, bit) -> None:
    damaged = bytearray(encoded)
    damaged[at] ^= bit
    with pytest.raises(CorruptReplayError, match=r"CRC-32 of the (prelude and )?header|truncated file"):
        read_header(bytes(damaged))


def test_a_1_0_file_whose_minor_flips_to_1_fails(make_header) -> None:
    frames = {"time": np.zeros(2), "qpos": np.zeros((2, 8)), "qvel": np.zeros((2, 7)), "ctrl": np.zeros((2, 2))}
    old = bytearray(encode_replay(make_header(step_frames=[0]), frames, {"action": np.zeros((1, 3))}, version=(1, 0)))
    assert read_header(bytes(old))[0] == (1, 0)
    old[10] ^= 0x01
    with pytest.raises(CorruptReplayError, match=r"CRC-32 of the prelude and header"):
        read_header(bytes(old))


def test_the_writer_refuses_binary_and_extension_metadata(make_header) -> None:
    frames = {"time": np.zeros(1), "qpos": np.zeros((1, 8)), "qvel": np.zeros((1, 7)), "ctrl": np.zeros((1, 2))}
    for value in (b"raw", msgspec.msgpack.Ext(1, b"x"), {"nested": {2: "int key"}}):
        with pytest.raises(ValueError, match=r"header: (file.header.metadata|Encoding objects of type|Only dicts)"):
            encode_replay(make_header(step_frames=[], metadata={"x": value}), frames, {"action": np.zeros((0, 3))})
