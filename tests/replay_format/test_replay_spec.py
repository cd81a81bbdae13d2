"""docs/replay-format.md must match the implementation: its example reader and worked example run here."""

from __future__ import annotations

import re
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest

from replay_format import FILE_EXTENSION, MEDIA_TYPE, codec, encode_replay, predict

SPEC = Path(__file__).resolve().parents[2] / "docs" / "replay-format.md"


def fenced_block_after(marker: str) -> str:
    """The first fenced code block following the HTML comment `<!-- marker -->` in the spec."""
    text = SPEC.read_text(encoding="utf-8")
    match = re.search(rf"<!-- {re.escape(marker)} -->\s*```\w*\n(.*?)```", text, re.DOTALL)
    assert match, f"marker {marker!r} with a fenced block not found in {SPEC}"
    return match.group(1)


@pytest.fixture(scope="module")
def read_vlar():
    namespace: dict = {}
    exec(compile(fenced_block_after("spec-example: read_vlar"), str(SPEC), "exec"), namespace)
    return namespace["read_vlar"]


@pytest.mark.parametrize("version", [(1, 0), (1, 1)])
def test_spec_reader_decodes_python_files_bit_exactly(read_vlar, episode, version) -> None:
    header, frames, steps = episode
    frames = {**frames, "qvel": frames["qvel"].copy(), "qpos": frames["qpos"].copy()}
    frames["qvel"][3, :3] = np.array([0x7FF0000000000BAD, 0x8000000000000000, 1], dtype=np.uint64).view(
        np.float64
    )
    qpos, qvel = frames["qpos"], frames["qvel"]
    for r in range(1, 23):  # the elbow (qpos 7) integrates qvel 6, so the velocity predictor is used
        qpos[r, 7] = qpos[r - 1, 7] + (0.009 * qvel[r - 1, 6] + 0.011 * qvel[r, 6])
    data = encode_replay(header, frames, steps, chunk_frames=8, version=version)
    index, arrays = read_vlar(data)
    if version == (1, 1):
        assert {p for c in index["chunks"] for p in c.get("predictors", [])} == {0, 1, 2}
    assert index["n_frames"] == 23
    assert index["header"]["step_frames"] == header.step_frames
    for name, expected in {**frames, **steps}.items():
        decoded = np.array(arrays[name], dtype=np.float64).reshape(expected.shape)
        np.testing.assert_array_equal(decoded.view(np.uint64), expected.view(np.uint64), err_msg=name)


def test_worked_example_bytes_match_the_codec() -> None:
    expected = bytes.fromhex(fenced_block_after("worked-example-bytes"))
    assert codec.forward(np.array([[1.0, -2.0], [1.5, -2.0]])) == expected
    assert codec.forward(np.array([1.5, 1.0]))[-4:] == bytes.fromhex("F8 F8 3F FF")


def test_predict_worked_example_bytes_match_the_codec() -> None:
    expected = bytes.fromhex(fenced_block_after("worked-example-predict-bytes"))
    rows = np.array([[1.0, -2.0], [1.5, -2.0], [2.0, -1.0]])
    assert codec.forward_predict(rows, np.array([1, 0]), None, (0.0, 0.0)) == expected
    qpos, qvel = np.array([[0.5], [0.52], [0.5405]]), np.array([[1.0], [1.0], [1.05]])
    residuals = predict.forward_residuals(qpos, np.array([2]), qvel, (0.009, 0.011))
    assert residuals[1:, 0].tolist() == [0, 0xD1B71758E1]


def test_spec_constants_match() -> None:
    text = SPEC.read_text(encoding="utf-8")
    assert f"`{FILE_EXTENSION}`" in text
    assert f"`{MEDIA_TYPE}`" in text
    assert "89 56 4C 41 52 0D 0A 1A" in text
    assert zlib.crc32(b"123456789") == 0xCBF43926
    assert struct.calcsize("<8sHHII") == 20
