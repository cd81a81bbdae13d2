"""Turns that continue: an episode starts exactly where the previous one ended, and replays stay exact."""

import dataclasses
import hashlib

import mujoco
import numpy as np
import pytest

from policy_host.registry import Registry
from replay_format import decode_replay
from schemas.errors import ValidationError
from sim_engine.episode import EpisodeSpec, run_episode, spec_of
from sim_engine.scene import CUBE_HALF
from sim_engine.state import InitialState, final_state, initial_state_of, reset_state, restore
from sim_engine.world import load_world

REGISTRY = Registry.from_file()
PICK = EpisodeSpec(robot_id="franka", scene_id="table", instruction="pick up the red cube", seed=3)
THEN = EpisodeSpec(robot_id="franka", scene_id="table", instruction="now put it in the bowl", seed=8, max_steps=40,
                   previous_instructions=("pick up the red cube",))


def bits(a):
    return np.ascontiguousarray(a).view(np.uint64).tobytes()


@pytest.fixture(scope="module")
def picked():
    """A finished first turn: the expert holds the red cube up."""
    out = run_episode(PICK, REGISTRY.build("scripted-expert"))
    assert out.outcome.success
    return out


@pytest.fixture(scope="module")
def continued(picked):
    return run_episode(THEN, REGISTRY.build("scripted-expert"), initial_state=final_state(picked.replay))


def test_continued_frame_0_is_the_previous_last_frame_bit_for_bit(picked, continued):
    for key in ("qpos", "qvel", "ctrl"):
        assert bits(continued.frames[key][0]) == bits(picked.frames[key][-1]), key
    assert continued.frames["time"][0] == 0.0  # each episode keeps its own clock
    assert continued.header.metadata["initial_state"] == {
        "source": "continue", "from_trajectory_sha256": hashlib.sha256(picked.replay).hexdigest(),
        "from_frame": picked.outcome.n_frames - 1,
    }


def test_the_next_instruction_is_scored_from_the_continued_state(continued):
    assert continued.understanding.summary == "put · red cube · in the bowl"
    assert continued.outcome.success  # the expert carries the cube it holds to the bowl
    assert continued.outcome.steps < 40


def test_a_continued_episode_replays_from_its_own_file(continued):
    replay = decode_replay(continued.replay)
    assert replay.header.metadata["previous_instructions"] == ["pick up the red cube"]
    assert spec_of(replay.header) == THEN
    expert = REGISTRY.build("scripted-expert")
    again = run_episode(spec_of(replay.header), expert, initial_state=initial_state_of(replay))
    assert again.replay == continued.replay


def test_same_initial_state_gives_identical_bytes_and_the_seed_still_matters(picked):
    state = final_state(decode_replay(picked.replay), trajectory_sha256="ab" * 32, episode_id="ep-1")
    assert state.source["from_episode_id"] == "ep-1"
    spec = dataclasses.replace(THEN, instruction="push the blue cube to the left", max_steps=8)
    a = run_episode(spec, REGISTRY.build("scripted-noisy"), initial_state=state).replay
    b = run_episode(spec, REGISTRY.build("scripted-noisy"), initial_state=state).replay
    assert a == b
    c = run_episode(dataclasses.replace(spec, seed=9), REGISTRY.build("scripted-noisy"), initial_state=state).replay
    assert decode_replay(c).frames["qpos"][0].tobytes() == decode_replay(a).frames["qpos"][0].tobytes()
    assert c != a  # the seed seeds the policy's noise, not the layout


def test_a_reset_episode_reruns_exactly_from_its_frame_0(picked):
    replay = decode_replay(picked.replay)
    assert replay.header.metadata["initial_state"] == {"source": "reset"}
    again = run_episode(PICK, REGISTRY.build("scripted-expert"), initial_state=initial_state_of(replay))
    assert again.replay == picked.replay


def test_the_reset_state_is_known_before_the_episode_runs(picked):
    state = reset_state(load_world("franka", "table"), PICK.seed)
    for key in ("qpos", "qvel", "ctrl"):
        assert bits(getattr(state, key)) == bits(picked.frames[key][0]), key
    assert run_episode(PICK, REGISTRY.build("scripted-expert"), initial_state=state).replay == picked.replay


def test_positions_come_from_the_state_not_the_seed():
    """A state with the red cube already stacked on the blue one: the stack task succeeds at once."""
    world = load_world("franka", "table")
    data = mujoco.MjData(world.model)
    world.reset(data, 3)
    red, blue = world.objects["red"], world.objects["blue"]
    data.qpos[red : red + 7] = data.qpos[blue : blue + 7]
    data.qpos[red + 2] += 2 * CUBE_HALF
    state = InitialState(qpos=data.qpos.copy(), qvel=np.zeros(world.model.nv))
    spec = dataclasses.replace(PICK, instruction="stack the red cube on the blue cube", max_steps=5)
    out = run_episode(spec, REGISTRY.build("zero"), initial_state=state)
    assert out.outcome.success
    assert out.outcome.steps == 1
    assert out.header.metadata["initial_state"] == {"source": "continue"}
    assert bits(out.frames["qpos"][0]) == bits(state.qpos)


@pytest.mark.parametrize(("change", "field"), [
    ({"qpos": np.zeros(5)}, "initial_state.qpos"), ({"qvel": np.zeros((1, 33))}, "initial_state.qvel"),
    ({"ctrl": np.zeros(3)}, "initial_state.ctrl"), ({"qvel": np.full(33, np.nan)}, "initial_state.qvel"),
    ({"bundle_hash": "sha256:" + "0" * 64}, "initial_state"),
])
def test_a_state_that_does_not_fit_the_model_is_refused_by_field(picked, change, field):
    state = dataclasses.replace(final_state(picked.replay), **change)
    world = load_world("franka", "table")
    with pytest.raises(ValidationError) as err:
        restore(world, mujoco.MjData(world.model), state)
    assert err.value.field == field
    with pytest.raises(ValidationError):
        run_episode(dataclasses.replace(PICK, max_steps=1), REGISTRY.build("zero"), initial_state=state)


def test_a_state_from_another_scene_is_refused(picked):
    other = dataclasses.replace(PICK, scene_id="table-cubes", max_steps=1)
    with pytest.raises(ValidationError, match="initial_state: was recorded with another model"):
        run_episode(other, REGISTRY.build("zero"), initial_state=final_state(picked.replay))


def test_without_ctrl_the_arm_holds_where_it_is(picked):
    state = dataclasses.replace(final_state(picked.replay), ctrl=None)
    world = load_world("franka", "table")
    data = mujoco.MjData(world.model)
    restore(world, data, state)
    assert bits(data.ctrl[world.arm_act]) == bits(state.qpos[world.arm_qpos])


def test_a_compound_instruction_is_scored_in_order():
    spec = dataclasses.replace(PICK, instruction="pick up the red cube and then put it in the bowl")
    out = run_episode(spec, REGISTRY.build("scripted-expert"))
    parts = out.header.metadata["understanding"]["parts"]
    assert [p["family"] for p in parts] == ["pick", "place"]
    assert out.outcome.success  # the expert is shown the part being scored, so it goes on to the bowl
    progress = out.steps["progress"]
    first_done = int(np.argmax(progress >= 0.5))
    assert 0 < first_done < len(progress) - 1
    assert np.all(progress[:first_done] < 0.5)
    assert run_episode(PICK, REGISTRY.build("scripted-expert")).outcome.steps < out.outcome.steps
