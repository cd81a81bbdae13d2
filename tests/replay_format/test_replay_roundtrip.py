"""Round trips: property-based bit-exactness, determinism, dtype handling, chunking, header reads.

Hypothesis prints a reproduction blob for any failure (`print_blob=True`); the seed of a run is
shown by `pytest --hypothesis-show-statistics` and fixed with `--hypothesis-seed=N`.
"""

from __future__ import annotations

import struct

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from replay_format import FORMAT_VERSION, Replay, decode_replay, encode_replay, read_header

SPECIAL_BITS = [
    0x0000000000000000,  # +0.0
    0x8000000000000000,  # -0.0
    0x7FF0000000000000,  # +inf
    0xFFF0000000000000,  # -inf
    0x7FF8000000000000,  # quiet NaN
    0x7FF0000000000001,  # signalling NaN, payload 1
    0xFFFDEADBEEF00042,  # negative quiet NaN with a payload
    0x0000000000000001,  # smallest subnormal
    0x800FFFFFFFFFFFFF,  # largest negative subnormal
    0x7FEFFFFFFFFFFFFF,  # largest finite
    0x3FF0000000000000,  # 1.0
]
BITS = st.one_of(st.integers(0, 2**64 - 1), st.sampled_from(SPECIAL_BITS))


def bits_array(draw: st.DrawFn, shape: tuple[int, ...]) -> np.ndarray:
    return draw(hnp.arrays(np.uint64, shape, elements=BITS)).view(np.float64)


@st.composite
def episodes(draw: st.DrawFn) -> tuple[dict, dict, dict, int]:
    n_frames = draw(st.integers(0, 40))
    nq, nv, nu, action_dim = (draw(st.integers(0, 6)) for _ in range(4))
    n_steps = draw(st.integers(0, 8)) if n_frames else 0
    step_frames = sorted(
        draw(st.lists(st.integers(0, max(n_frames - 1, 0)), min_size=n_steps, max_size=n_steps))
    )
    frames = {
        "time": bits_array(draw, (n_frames,)),
        "qpos": bits_array(draw, (n_frames, nq)),
        "qvel": bits_array(draw, (n_frames, nv)),
        "ctrl": bits_array(draw, (n_frames, nu)),
    }
    steps = {"action": bits_array(draw, (n_steps, action_dim))}
    if draw(st.booleans()):
        steps["progress"] = bits_array(draw, (n_steps,))
    dims = {"nq": nq, "nv": nv, "nu": nu, "action_dim": action_dim, "step_frames": step_frames}
    return dims, frames, steps, draw(st.integers(1, 9))


def assert_bit_exact(actual: dict[str, np.ndarray], expected: dict[str, np.ndarray]) -> None:
    assert actual.keys() == expected.keys()
    for name, array in expected.items():
        assert actual[name].dtype == np.float64, name
        assert actual[name].shape == array.shape, name
        np.testing.assert_array_equal(actual[name].view(np.uint64), array.view(np.uint64), err_msg=name)


@settings(max_examples=150, deadline=None, print_blob=True, suppress_health_check=[HealthCheck.too_slow])
@given(data=episodes())
def test_round_trip_is_bit_exact(make_header, data) -> None:
    dims, frames, steps, chunk_frames = data
    header = make_header(**dims)
    replay = decode_replay(encode_replay(header, frames, steps, level=1, chunk_frames=chunk_frames))
    assert replay.header == header
    assert replay.version == FORMAT_VERSION
    assert_bit_exact(replay.frames, frames)
    assert_bit_exact(replay.steps, steps)


def test_smooth_episode_round_trip(episode) -> None:
    header, frames, steps = episode
    replay = decode_replay(encode_replay(header, frames, steps))
    assert isinstance(replay, Replay)
    assert (replay.n_frames, replay.n_steps) == (23, 5)
    assert_bit_exact(replay.frames, frames)
    assert_bit_exact(replay.steps, steps)
    assert replay.header.metadata == header.metadata


def test_encoding_is_deterministic(make_header, episode) -> None:
    header, frames, steps = episode
    assert encode_replay(header, frames, steps) == encode_replay(header, frames, steps)
    forward = make_header(metadata={"a": 1, "b": {"x": 1, "y": [1.5, None]}})
    backward = make_header(metadata={"b": {"y": [1.5, None], "x": 1}, "a": 1})
    assert encode_replay(forward, frames, steps) == encode_replay(backward, frames, steps)
    swapped = dict(reversed(list(frames.items())))
    assert encode_replay(header, swapped, steps) == encode_replay(header, frames, steps)


def test_chunk_table_splits_streams_by_rows(episode) -> None:
    header, frames, steps = episode
    replay = decode_replay(encode_replay(header, frames, steps, chunk_frames=8))
    qpos = [(c.row_start, c.row_count) for c in replay.chunks if c.stream == "qpos"]
    assert qpos == [(0, 8), (8, 8), (16, 7)]
    assert [c.stream for c in replay.chunks][::3] == ["time", "qpos", "qvel", "ctrl", "action"]
    assert all(c.raw_length == c.row_count * 8 * (1 if c.stream == "time" else 8) for c in replay.chunks[:6])
    offsets = [c.offset for c in replay.chunks]
    assert offsets == sorted(offsets)
    assert offsets[0] == 0


def test_other_float_dtypes_are_stored_as_float64(episode) -> None:
    header, frames, steps = episode
    as32 = {name: a.astype(np.float32) for name, a in frames.items()}
    replay = decode_replay(encode_replay(header, as32, steps))
    assert_bit_exact(replay.frames, {name: a.astype(np.float64) for name, a in as32.items()})
    big_endian = {**frames, "qpos": frames["qpos"].astype(">f8")}
    assert_bit_exact(decode_replay(encode_replay(header, big_endian, steps)).frames, frames)


def test_progress_is_optional_and_extra_streams_round_trip(episode) -> None:
    header, frames, steps = episode
    extra_frames = {**frames, "sensordata": frames["qpos"][:, :3] * 2, "energy": frames["time"] ** 2}
    replay = decode_replay(encode_replay(header, extra_frames, {"action": steps["action"]}))
    assert "progress" not in replay.steps
    assert list(replay.frames) == ["time", "qpos", "qvel", "ctrl", "energy", "sensordata"]
    assert_bit_exact(replay.frames, extra_frames)


def test_empty_episode_round_trips(make_header) -> None:
    header = make_header(nq=3, nv=2, nu=1, action_dim=2, step_frames=[])
    frames = {
        "time": np.zeros(0),
        "qpos": np.zeros((0, 3)),
        "qvel": np.zeros((0, 2)),
        "ctrl": np.zeros((0, 1)),
    }
    replay = decode_replay(encode_replay(header, frames, {"action": np.zeros((0, 2))}))
    assert replay.n_frames == 0
    assert replay.chunks == []
    assert replay.frames["qpos"].shape == (0, 3)


def test_read_header_needs_only_the_header_bytes(episode) -> None:
    header, frames, steps = episode
    data = encode_replay(header, frames, steps)
    header_end = 20 + struct.unpack_from("<I", data, 12)[0]
    assert read_header(data[:header_end]) == (FORMAT_VERSION, header)
    assert read_header(memoryview(data)) == (FORMAT_VERSION, header)


def test_decode_accepts_other_buffers(episode) -> None:
    header, frames, steps = episode
    data = encode_replay(header, frames, steps)
    assert_bit_exact(decode_replay(bytearray(data)).frames, decode_replay(memoryview(data)).frames)
