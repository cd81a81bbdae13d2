"""The blinded view (api.blind): what a voter may receive before the vote, checked on real episodes."""

from __future__ import annotations

import numpy as np
import pytest

from api.blind import HIDDEN_ACTION_SPACE, SHARED_METADATA, BlindCache, blind_replay_uncached, failure_notice
from api.streaming import EndMessage, FramesMessage, HeaderMessage, decode, replay_messages
from policy_host.registry import Registry
from replay_format import decode_replay
from sim_engine.episode import EpisodeSpec, run_episode


@pytest.fixture(scope="module")
def stored() -> bytes:
    spec = EpisodeSpec(robot_id="franka", scene_id="table", instruction="pick up the red cube", seed=3, max_steps=8)
    return run_episode(spec, Registry.from_file().build("scripted-expert")).replay


def test_blinded_file_keeps_every_state_bit_for_bit(stored: bytes) -> None:
    full, blind = decode_replay(stored), decode_replay(blind_replay_uncached(stored))
    for name in ("time", "qpos", "qvel", "ctrl"):
        assert full.frames[name].tobytes() == blind.frames[name].tobytes(), name
    assert blind.header.step_frames == full.header.step_frames
    assert (blind.header.nq, blind.header.nv, blind.header.nu) == (full.header.nq, full.header.nv, full.header.nu)


def test_blinded_file_hides_action_space_chunks_and_the_metric(stored: bytes) -> None:
    full, blind = decode_replay(stored), decode_replay(blind_replay_uncached(stored))
    assert full.header.action_space == "ee_delta"
    assert "outcome" in full.header.metadata
    assert (blind.header.action_space, blind.header.action_dim) == (HIDDEN_ACTION_SPACE, 0)
    assert set(blind.steps) == {"action"}
    assert blind.steps["action"].shape == (len(full.header.step_frames), 0)
    assert set(blind.header.metadata) <= SHARED_METADATA | {"blinded"}
    assert blind.header.metadata["instruction"] == "pick up the red cube"


def test_cache_returns_the_same_projection(stored: bytes) -> None:
    cache = BlindCache(capacity=1)
    first = cache.get("a", stored)
    assert cache.get("a", b"not even a replay") is first  # served from the cache, keyed by sha256
    assert cache.get("b", stored) == first  # recomputed after eviction: same bytes (deterministic)


def test_streams_carry_states_only(stored: bytes) -> None:
    messages = [decode(m) for m in replay_messages("e", decode_replay(stored))]
    header, frames, end = messages[0], messages[1:-1], messages[-1]
    assert isinstance(header, HeaderMessage)
    assert header.header.action_space == HIDDEN_ACTION_SPACE
    assert "outcome" not in header.header.metadata
    assert all(isinstance(f, FramesMessage) for f in frames)
    assert isinstance(end, EndMessage)
    assert end.status == "done"
    assert end.steps > 0
    assert not {"success", "progress", "terminated", "action"} & set(EndMessage.__struct_fields__ +
                                                                      FramesMessage.__struct_fields__)
    qpos = np.frombuffer(b"".join(f.qpos for f in frames if isinstance(f, FramesMessage)), dtype="<f8")
    assert qpos.tobytes() == decode_replay(stored).frames["qpos"].tobytes()


@pytest.mark.parametrize("side", ["left", "right", None])
def test_failure_notice_says_what_to_do_and_nothing_about_why(side: str | None) -> None:
    notice = failure_notice(side)
    assert "could not produce an action" in notice
    assert "new battle" in notice
    assert "Error" not in notice
    assert "remote" not in notice.lower()
