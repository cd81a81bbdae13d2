import msgspec
import numpy as np
import pytest

from policy_host.registry import Registry
from replay_format import decode_replay
from schemas.errors import SimulationError
from sim_engine.episode import EpisodeSpec, run_episode
from sim_engine.filmstrip import filmstrip


@pytest.fixture(scope="module")
def replay():
    spec = EpisodeSpec(robot_id="franka", scene_id="table", instruction="pick up the red cube", seed=2)
    return decode_replay(run_episode(spec, Registry.from_file().build("scripted-expert")).replay)


def test_filmstrip_renders_the_exact_states(replay):
    image = filmstrip(replay, tiles=4, width=96, height=72)
    assert image.shape == (72, 4 * 96, 3)
    assert image.dtype == np.uint8
    first, last = image[:, :96], image[:, -96:]
    assert first.std() > 10  # a rendered scene, not a blank buffer
    assert np.abs(first.astype(int) - last.astype(int)).mean() > 1  # the arm moved between them


def test_filmstrip_refuses_a_replay_of_another_model(replay):
    header = msgspec.structs.replace(replay.header, bundle_hash="sha256:" + "0" * 64)
    other = msgspec.structs.replace(replay, header=header)
    with pytest.raises(SimulationError, match="bundle"):
        filmstrip(other)
