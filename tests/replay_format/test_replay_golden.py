"""The committed golden files (formats 1.0 and 1.1) must keep decoding to exactly the same values.

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

from replay_format import codec, decode_replay, predict, read_header

HERE = Path(__file__).resolve().parent
GOLDEN_SHA256 = {
    (1, 0): "bfa0ea81f7412636bebb31ef36821d8f6235a39823bce0ff6ebe45066a076ac2",
    (1, 1): "d046681fe9cca8dbcb697af0e4e56e0b39bd5406808f07e5395e18cee0c9e800",
}
VERSIONS = sorted(GOLDEN_SHA256)


def _load_make_golden():
    spec = importlib.util.spec_from_file_location("replay_make_golden", HERE / "make_golden.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


make_golden = _load_make_golden()


@pytest.fixture(scope="module", params=VERSIONS, ids=lambda v: f"v{v[0]}.{v[1]}")
def version(request) -> tuple[int, int]:
    return request.param


@pytest.fixture(scope="module")
def golden(version) -> bytes:
    return make_golden.GOLDENS[version].read_bytes()


def bits(value: float) -> int:
    return struct.unpack("<Q", struct.pack("<d", value))[0]


def test_golden_file_is_the_committed_one(golden, version) -> None:
    assert hashlib.sha256(golden).hexdigest() == GOLDEN_SHA256[version], "golden file changed: see make_golden.py"
    assert golden[:12] == b"\x89VLAR\r\n\x1a" + struct.pack("<HH", *version)


def test_the_writer_still_writes_the_golden_bytes(golden, version) -> None:
    assert make_golden.golden_bytes(version) == golden, "the writer's output changed for a committed version"


def test_golden_file_decodes_to_the_exact_inputs(golden, version) -> None:
    header, frames, steps = make_golden.golden_inputs(version)
    replay = decode_replay(golden)
    assert replay.version == version
    assert read_header(golden) == (version, header)
    assert replay.header == header
    for decoded, expected in ((replay.frames, frames), (replay.steps, steps)):
        assert list(decoded) == list(expected)
        for name, array in expected.items():
            np.testing.assert_array_equal(decoded[name].view(np.uint64), array.view(np.uint64), err_msg=name)


def test_golden_spot_values(golden) -> None:  # the same in every version
    replay = decode_replay(golden)
    qvel, action = replay.frames["qvel"], replay.steps["action"]
    assert [bits(v) for v in qvel[5, :5]] == make_golden.SPECIAL_BITS
    assert bits(qvel[5, 3]) == 0x7FF4000000000BAD  # a signalling NaN keeps its payload
    assert replay.frames["time"][11] == 11 * 0.02
    assert replay.frames["qpos"][7, 3] == 1.0
    assert bits(action[1, 3]) == 0x8000000000000000
    assert bits(action[2, 3]) == 1
    assert replay.header.metadata["outcome"] == {"success": True, "steps": 3}


def test_golden_chunk_table_and_transform(golden, version) -> None:
    header, frames, steps = make_golden.golden_inputs(version)
    replay = decode_replay(golden)
    layout = [(c.stream, c.row_start, c.row_count, c.codec) for c in replay.chunks]
    names = ["time", "qpos", "qvel", "ctrl"]
    name = "delta-shuffle-zstd" if version == (1, 0) else "predict-shuffle-zstd"
    assert layout == [(n, r, 4, name) for n in names for r in (0, 4, 8)] + [
        ("action", 0, 3, name),
        ("progress", 0, 3, name),
    ]
    data_start = len(golden) - sum(c.length for c in replay.chunks)
    arrays = {**frames, **steps}
    velocity = [predict.velocity_columns(header.joints, header.nq, header.nv)[c] for c in range(header.nq)]
    qvel = frames["qvel"]
    w = np.stack([qvel[:, c] if c >= 0 else np.full(len(qvel), np.nan) for c in velocity], axis=1)
    for chunk in replay.chunks:
        payload = golden[data_start + chunk.offset : data_start + chunk.offset + chunk.length]
        raw = zstandard.ZstdDecompressor().decompress(payload)
        rows = arrays[chunk.stream][chunk.row_start : chunk.row_start + chunk.row_count]
        if version == (1, 0):
            assert raw == codec.forward(rows), chunk.stream  # the transform is pinned, whatever zstd emits
            continue
        chunk_w = w[chunk.row_start : chunk.row_start + chunk.row_count] if chunk.stream == "qpos" else None
        coef = tuple(chunk.coefficients) or (0.0, 0.0)
        modes = np.array(chunk.predictors)
        assert raw == codec.forward_predict(rows.reshape(len(rows), -1), modes, chunk_w, coef), chunk.stream
    if version >= (1, 1):  # every predictor is exercised by the golden file
        used = {p for c in replay.chunks for p in c.predictors}
        assert used == {predict.DELTA, predict.LINEAR, predict.VELOCITY}
