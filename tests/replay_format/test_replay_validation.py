"""encode_replay validates at the boundary: ValueError naming the offending field."""

from __future__ import annotations

import msgspec
import numpy as np
import pytest

from replay_format import JointInfo, decode_replay, encode_replay


def _set(group: str, name: str, value):
    return lambda frames, steps: {"frames": frames, "steps": steps}[group].__setitem__(name, value)


def _drop(group: str, name: str):
    return lambda frames, steps: {"frames": frames, "steps": steps}[group].pop(name)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (_set("frames", "qpos", np.zeros((23, 7))), r"frames\['qpos'\]: expected shape \(23, 8\)"),
        (_set("frames", "qvel", np.zeros((22, 7))), r"frames\['qvel'\]: expected shape \(23, 7\)"),
        (_set("frames", "ctrl", np.zeros(23)), r"frames\['ctrl'\]: expected shape \(23, 2\)"),
        (_set("frames", "time", np.zeros((23, 1))), r"frames\['time'\]: expected a 1-D array"),
        (_set("frames", "qpos", np.zeros((23, 8), dtype=np.int64)), r"frames\['qpos'\]: expected a floating"),
        (
            _set("frames", "extra", np.zeros((22, 2))),
            r"frames\['extra'\]: expected a 1-D or 2-D array with 23",
        ),
        (_set("frames", "extra", np.zeros((23, 2, 2))), r"frames\['extra'\]: expected a 1-D or 2-D array"),
        (_drop("frames", "qvel"), r"frames: missing required stream\(s\) \['qvel'\]"),
        (_drop("steps", "action"), r"steps: missing required stream\(s\) \['action'\]"),
        (_set("steps", "action", np.zeros((5, 4))), r"steps\['action'\]: expected shape \(5, 3\)"),
        (_set("steps", "action", np.zeros((6, 3))), r"steps\['action'\]: .*len of header.step_frames"),
        (_set("steps", "progress", np.zeros(4)), r"steps\['progress'\]: expected shape \(5,\)"),
        (_set("steps", "qpos", np.zeros(5)), r"steps: stream name\(s\) \['qpos'\] already used in frames"),
        (_set("steps", "", np.zeros(5)), r"stream name '': stream names must be non-empty"),
    ],
)
def test_bad_arrays_raise_value_error_naming_the_stream(episode, mutate, message) -> None:
    header, frames, steps = episode
    frames, steps = dict(frames), dict(steps)
    mutate(frames, steps)
    with pytest.raises(ValueError, match=message):
        encode_replay(header, frames, steps)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"step_frames": [0, 5, 10, 15, 23]}, r"header.step_frames\[4\]: 23 is outside \[0, n_frames=23\)"),
        ({"step_frames": [0, 5, 10, 9, 20]}, r"header.step_frames\[3\]: 9 < 10; must be non-decreasing"),
        ({"step_frames": [-1, 5, 10, 15, 20]}, r"header.step_frames\[0\]: -1 is outside"),
        ({"step_frames": [0, 5, 10, 15]}, r"steps\['action'\]: expected shape \(4, 3\)"),
        ({"bundle_hash": "md5:abc"}, r"header.bundle_hash: expected 'sha256:'"),
        ({"timestep": 0.0}, r"header.timestep: must be a finite number > 0"),
        ({"frame_rate": float("nan")}, r"header.frame_rate"),
        ({"nq": "8"}, r"header: Expected `int`, got `str` - at `\$.nq`"),
        ({"metadata": {"seed": np.int64(3)}}, r"header: .*numpy.int64"),
        ({"metadata": {1: "a", "b": 2}}, r"header: "),
        (
            {"joints": [JointInfo(name="j", type="prismatic", qpos_adr=0, dof_adr=0)]},
            r"header.joints\[0\].type",
        ),
    ],
)
def test_bad_header_raises_value_error_naming_the_field(episode, changes, message) -> None:
    header, frames, steps = episode
    with pytest.raises(ValueError, match=message):
        encode_replay(msgspec.structs.replace(header, **changes), frames, steps)


def test_numpy_step_frames_and_int_rates_are_normalised(episode) -> None:
    header, frames, steps = episode
    loose = msgspec.structs.replace(header, step_frames=list(np.array(header.step_frames)), frame_rate=50)
    data = encode_replay(loose, frames, steps)
    assert data == encode_replay(header, frames, steps)
    assert isinstance(decode_replay(data).header.frame_rate, float)


@pytest.mark.parametrize(
    ("options", "message"), [({"level": 0}, "level"), ({"chunk_frames": 0}, "chunk_frames")]
)
def test_bad_options(episode, options, message) -> None:
    with pytest.raises(ValueError, match=message):
        encode_replay(*episode, **options)


def test_header_must_be_a_replay_header(episode) -> None:
    _, frames, steps = episode
    with pytest.raises(ValueError, match="header: expected a ReplayHeader"):
        encode_replay({"nq": 8}, frames, steps)  # type: ignore[arg-type]
