import hashlib

import numpy as np
import pytest

from policy_host.registry import Registry
from replay_format import decode_replay
from schemas.errors import PolicyOutputError, ValidationError
from sim_engine.episode import EpisodeSpec, run_episode
from tests.sim_engine.conftest import BadOutput, ScriptedJoints

HOME = np.r_[0.0, -0.259, 0.0, -2.4322, 0.0, 0.6032, 0.0, 0.0]
REGISTRY = Registry.from_file()


def spec(**kw):
    base = {"robot_id": "franka", "scene_id": "table", "instruction": "pick up the red cube", "seed": 3}
    return EpisodeSpec(**{**base, **kw})


@pytest.mark.parametrize("policy", ["scripted-expert", "scripted-noisy", "scripted-slow", "random"])
def test_same_seed_policy_instruction_gives_identical_bytes(policy):
    a = run_episode(spec(), REGISTRY.build(policy), policy_name=policy).replay
    b = run_episode(spec(), REGISTRY.build(policy), policy_name=policy).replay
    assert hashlib.sha256(a).hexdigest() == hashlib.sha256(b).hexdigest()
    c = run_episode(spec(seed=4), REGISTRY.build(policy), policy_name=policy).replay
    assert a != c


def test_replay_matches_the_recorded_arrays_bit_for_bit():
    out = run_episode(spec(), REGISTRY.build("scripted-expert"))
    replay = decode_replay(out.replay)
    for key, arr in out.frames.items():
        assert replay.frames[key].view(np.uint64).tobytes() == arr.view(np.uint64).tobytes(), key
    assert "policy" not in replay.header.metadata
    assert replay.header.metadata["outcome"]["success"] is True


def test_frames_are_fixed_rate_with_a_step_index():
    out = run_episode(spec(max_steps=7, instruction="wave"), ScriptedJoints(HOME))
    h = out.header
    assert h.frame_rate >= 30
    assert h.step_frames == [5 * k for k in range(7)]
    assert out.frames["time"].shape[0] == 36
    np.testing.assert_allclose(np.diff(out.frames["time"]), 1 / h.frame_rate, atol=1e-9)
    assert out.outcome.steps == 7
    assert out.outcome.terminated == "max_steps"
    assert out.outcome.success is None  # "wave" has no automatic metric


def test_episode_ends_early_on_success():
    out = run_episode(spec(), REGISTRY.build("scripted-expert"))
    assert out.outcome.success
    assert out.outcome.terminated == "success"
    assert out.outcome.steps < 50


def test_latency_holds_the_previous_action_in_simulated_time():
    target = HOME.copy()
    target[0] = 0.5
    fast = run_episode(spec(max_steps=3, instruction="wave"), ScriptedJoints(target))
    slow = run_episode(spec(max_steps=3, instruction="wave"), ScriptedJoints(target, latency_s=0.15))
    ctrl_fast, ctrl_slow = fast.frames["ctrl"][:, 0], slow.frames["ctrl"][:, 0]
    assert ctrl_fast[1] == 0.5  # applied from the first physics step
    # held at home for 0.15 s = 7.5 frames at 50 fps, then switched
    assert np.all(ctrl_slow[1:8] == 0.0)
    assert np.all(ctrl_slow[8:] == 0.5)


def test_chunks_are_executed_up_to_the_horizon_before_replanning():
    policy = ScriptedJoints(HOME, chunk=4, horizon=2)
    run_episode(spec(max_steps=6, instruction="wave"), policy)
    assert len(policy.calls) == 3


def test_observations_use_droid_keys_and_render_only_on_request(camera_policy):
    run_episode(spec(max_steps=1), camera_policy)
    obs = camera_policy.calls[0]
    assert obs["observation/joint_position"].shape == (7,)
    assert obs["observation/gripper_position"].shape == (1,)
    assert obs["prompt"] == "pick up the red cube"
    assert obs["observation/exterior_image_1_left"].shape == (96, 128, 3)
    assert obs["observation/wrist_image_left"].shape == (64, 64, 3)
    assert obs["observation/exterior_image_1_left"].std() > 5  # a real picture, not a blank buffer
    assert not any(k.startswith("privileged/") for k in obs)
    plain = ScriptedJoints(HOME)
    run_episode(spec(max_steps=1), plain)
    assert "observation/exterior_image_1_left" not in plain.calls[0]


@pytest.mark.parametrize("output", [np.zeros((1, 7)), np.zeros((0, 8)), np.full((1, 8), np.nan), np.zeros((2, 2, 8))])
def test_malformed_actions_raise_a_named_error(output):
    with pytest.raises(PolicyOutputError):
        run_episode(spec(max_steps=2), BadOutput(output))


@pytest.mark.parametrize("steps", [0, 301])
def test_max_steps_is_bounded(steps):
    with pytest.raises(ValidationError, match="max_steps"):
        spec(max_steps=steps)


def test_sink_receives_header_frames_and_end():
    events = []

    class Sink:
        def on_header(self, header):
            events.append(("header", header.step_frames))

        def on_step(self, frames):
            events.append(("step", frames.step, frames.start_frame, len(frames.time)))

        def on_end(self, outcome):
            events.append(("end", outcome.steps))

    out = run_episode(spec(max_steps=3, instruction="wave"), ScriptedJoints(HOME), Sink())
    assert events[0] == ("header", [])
    assert events[1] == ("step", -1, 0, 1)
    assert events[2:5] == [("step", 0, 1, 5), ("step", 1, 6, 5), ("step", 2, 11, 5)]
    assert events[-1] == ("end", 3)
    assert out.outcome.n_frames == 16
