"""The committed golden file (format 1.0) must keep decoding to exactly the same values.

Regenerate it only on a deliberate format change: see the steps in make_golden.py.
"""

from __future__ import annotations

import hashlib
import importlib.util
import struct
from pathlib import Path

import numpy as np
import pytest
import zstandard

from replay_format import codec, decode_replay, read_header

HERE = Path(__file__).resolve().parent
GOLDEN_SHA256 = "bfa0ea81f7412636bebb31ef36821d8f6235a39823bce0ff6ebe45066a076ac2"


def _load_make_golden():
    spec = importlib.util.spec_from_file_location("replay_make_golden", HERE / "make_golden.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


make_golden = _load_make_golden()


@pytest.fixture(scope="module")
def golden() -> bytes:
    return make_golden.GOLDEN.read_bytes()


def bits(value: float) -> int:
    return struct.unpack("<Q", struct.pack("<d", value))[0]


def test_golden_file_is_the_committed_one(golden) -> None:
    assert hashlib.sha256(golden).hexdigest() == GOLDEN_SHA256, "golden file changed: see make_golden.py"
    assert golden[:12] == b"\x89VLAR\r\n\x1a\x01\x00\x00\x00"


def test_golden_file_decodes_to_the_exact_inputs(golden) -> None:
    header, frames, steps = make_golden.golden_inputs()
    replay = decode_replay(golden)
    assert replay.version == (1, 0)
    assert read_header(golden) == ((1, 0), header)
    assert replay.header == header
    for decoded, expected in ((replay.frames, frames), (replay.steps, steps)):
        assert list(decoded) == list(expected)
        for name, array in expected.items():
            np.testing.assert_array_equal(decoded[name].view(np.uint64), array.view(np.uint64), err_msg=name)


def test_golden_spot_values(golden) -> None:
    replay = decode_replay(golden)
    qvel, action = replay.frames["qvel"], replay.steps["action"]
    assert [bits(v) for v in qvel[5, :5]] == make_golden.SPECIAL_BITS
    assert bits(qvel[5, 3]) == 0x7FF4000000000BAD  # a signalling NaN keeps its payload
    assert replay.frames["time"][11] == 11 * 0.02
    assert replay.frames["qpos"][7, 3] == 1.0
    assert bits(action[1, 3]) == 0x8000000000000000
    assert bits(action[2, 3]) == 1
    assert replay.header.metadata["outcome"] == {"success": True, "steps": 3}


def test_golden_chunk_table_and_transform(golden) -> None:
    header, frames, steps = make_golden.golden_inputs()
    replay = decode_replay(golden)
    layout = [(c.stream, c.row_start, c.row_count, c.codec) for c in replay.chunks]
    names = ["time", "qpos", "qvel", "ctrl"]
    assert layout == [(n, r, 4, "delta-shuffle-zstd") for n in names for r in (0, 4, 8)] + [
        ("action", 0, 3, "delta-shuffle-zstd"),
        ("progress", 0, 3, "delta-shuffle-zstd"),
    ]
    data_start = len(golden) - sum(c.length for c in replay.chunks)
    arrays = {**frames, **steps}
    for chunk in replay.chunks:
        payload = golden[data_start + chunk.offset : data_start + chunk.offset + chunk.length]
        raw = zstandard.ZstdDecompressor().decompress(payload)
        rows = arrays[chunk.stream][chunk.row_start : chunk.row_start + chunk.row_count]
        assert raw == codec.forward(rows), chunk.stream  # the transform is pinned, whatever zstd emits
