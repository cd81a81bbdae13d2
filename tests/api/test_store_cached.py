"""CachedReads seen from two API processes at once: two caches over one SQLite file, one writing, the other
reading. What one process keeps in memory must never hide a change the other made: lists are kept only once
they are final (a voted battle's turns; a turn whose two episodes are done)."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.store import SqliteStore
from api.store.cached import CachedReads
from schemas.errors import ConflictError
from schemas.records import EpisodeStatus, Side
from tests.api.store_records import battle, episode, result_for, session, turn, vote


@pytest.fixture
def pair(tmp_path: Path):  # noqa: ANN201
    a, b = CachedReads(SqliteStore(tmp_path / "arena.db")), CachedReads(SqliteStore(tmp_path / "arena.db"))
    a.create_session(session(), battle())
    yield a, b
    a.close()
    b.close()


def _turn(store: CachedReads, tid: str, seq: int) -> None:
    sides = [episode(f"{tid}-l", Side.LEFT, tid=tid), episode(f"{tid}-r", Side.RIGHT, tid=tid)]
    store.create_turn(turn(tid, seq=seq), sides)


def test_an_open_battles_turns_are_read_again_every_time(pair) -> None:  # noqa: ANN001
    a, b = pair
    _turn(a, "t1", 0)
    assert b.get_vote("b1") is None
    assert [t.id for t in b.list_turns("b1")] == ["t1"]
    _turn(a, "t2", 1)  # through the other process
    assert [t.id for t in b.list_turns("b1")] == ["t1", "t2"]


def test_a_voted_battles_turns_are_kept_and_final(pair) -> None:  # noqa: ANN001
    a, b = pair
    _turn(a, "t1", 0)
    a.record_vote(vote("v1"))
    assert b.get_vote("b1") is not None
    first = [t.id for t in b.list_turns("b1")]
    with pytest.raises(ConflictError):
        _turn(a, "t2", 1)  # the store refuses a turn after the vote: the kept list cannot go stale
    assert first == ["t1"] == [t.id for t in b.list_turns("b1")]
    assert b._voted_turns.hits == 1  # the second read came from memory
    b.list_turns("b1").clear()  # a caller changing its copy changes nothing kept
    assert [t.id for t in b.list_turns("b1")] == ["t1"]


def test_episodes_are_kept_only_once_both_are_done(pair) -> None:  # noqa: ANN001
    a, b = pair
    _turn(a, "t1", 0)
    assert {e.status for e in b.list_episodes("t1")} == {EpisodeStatus.QUEUED}
    a.mark_episode_running("t1-l", 1.0)
    a.finish_episode("t1-l", result_for(b"left"), b"left", 2.0)
    assert [e.status for e in b.list_episodes("t1")] == [EpisodeStatus.DONE, EpisodeStatus.QUEUED]
    a.fail_episode("t1-r", "worker lost", 3.0)  # a failure may still be retried: not final
    assert [e.status for e in b.list_episodes("t1")] == [EpisodeStatus.DONE, EpisodeStatus.FAILED]
    a.mark_episode_running("t1-r", 4.0)
    assert [e.status for e in b.list_episodes("t1")] == [EpisodeStatus.DONE, EpisodeStatus.RUNNING]
    a.finish_episode("t1-r", result_for(b"right"), b"right", 5.0)
    done = b.list_episodes("t1")
    assert [e.status for e in done] == [EpisodeStatus.DONE, EpisodeStatus.DONE]
    assert b.list_episodes("t1") == done
    assert b._done_episodes.hits == 1
