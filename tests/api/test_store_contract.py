"""Contract suite for the `Store` port: every test runs against every adapter (`store` fixture).

Part 1: records, lookups, episode lifecycle, votes, lifecycle and property-based round trips. Part 2
(test_store_contract_rules.py): store-assigned numbers under concurrency, no turn after a vote, counts
and the newer fields. SQLite-only checks are in test_store_sqlite.py, MongoStore-only ones in
test_store_mongo.py.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.store import Store
from schemas.errors import AlreadyVotedError, ConflictError, NotFoundError, StoreError, ValidationError
from schemas.records import EpisodeStatus, Side, VoteChoice
from tests.api.store_records import battle, episode, result_for, run_threads, seed_turn, session, turn, vote

# -- sessions and battles -----------------------------------------------------------------------


def test_adapter_satisfies_the_port(store: Store) -> None:
    assert isinstance(store, Store)


@pytest.mark.parametrize("voter", [None, "voter-1"])
def test_session_and_first_battle_round_trip(store: Store, voter: str | None) -> None:
    s, b = session(voter=voter), battle()
    store.create_session(s, b)
    assert store.get_session("s1") == s
    assert store.get_battle("b1") == b
    assert store.list_battles("s1") == [b]


def test_create_session_is_atomic(store: Store) -> None:
    store.create_session(session("s1"), battle("b1"))
    with pytest.raises(ConflictError):
        store.create_session(session("s2"), battle("b1", sid="s2"))  # battle id taken
    with pytest.raises(NotFoundError):
        store.get_session("s2")
    assert store.get_battle("b1").session_id == "s1"


def test_duplicate_ids_conflict(store: Store) -> None:
    store.create_session(session(), battle())
    with pytest.raises(ConflictError):
        store.create_battle(battle("b1", seq=1))
    with pytest.raises(ConflictError):
        store.create_session(session("s1"), battle("b9"))


@pytest.mark.parametrize(
    ("method", "kind"),
    [("get_session", "session"), ("get_battle", "battle"), ("get_turn", "turn"), ("get_episode", "episode")],
)
def test_get_unknown_id_raises_not_found(store: Store, method: str, kind: str) -> None:
    with pytest.raises(NotFoundError) as info:
        getattr(store, method)("nope")
    assert (info.value.kind, info.value.ident) == (kind, "nope")


def test_battles_are_numbered_by_the_store_in_creation_order(store: Store) -> None:
    store.create_session(session(), battle("b0", seq=7))  # a passed seq is ignored
    assert store.create_battle(battle("b2", seq=2)) == msgspec.structs.replace(battle("b2", seq=2), seq=1)
    assert store.create_battle(battle("b1", seq=1)).seq == 2
    store.create_battle(battle("other", sid="s-other", seq=1))
    assert [(b.id, b.seq) for b in store.list_battles("s1")] == [("b0", 0), ("b2", 1), ("b1", 2)]
    assert store.get_battle("b2").seq == 1
    assert store.get_battle("other").seq == 0
    assert store.list_battles("unknown") == []


def test_list_sessions_by_voter_newest_first_with_limit(store: Store) -> None:
    for i, at in enumerate([5.0, 9.0, 1.0, 7.0]):
        store.create_session(session(f"s{i}", voter="v", at=at), battle(f"b{i}", sid=f"s{i}"))
    store.create_session(session("anon", at=50.0), battle("b-anon", sid="anon"))
    store.create_session(session("x", voter="other", at=60.0), battle("b-x", sid="x"))
    assert [s.id for s in store.list_sessions_by_voter("v")] == ["s1", "s3", "s0", "s2"]
    assert [s.id for s in store.list_sessions_by_voter("v", limit=2)] == ["s1", "s3"]
    assert store.list_sessions_by_voter("nobody") == []


# -- turns and episodes -------------------------------------------------------------------------


def test_turn_and_episodes_round_trip(store: Store) -> None:
    seed_turn(store)
    assert store.get_turn("t1") == turn()
    left = store.get_episode("e-l")
    assert left == episode("e-l", Side.LEFT)
    assert (left.status, left.started_at, left.finished_at, left.result, left.error) == (
        EpisodeStatus.QUEUED,
        None,
        None,
        None,
        None,
    )


def test_create_turn_is_atomic(store: Store) -> None:
    store.create_session(session(), battle())
    store.create_turn(turn("t1"), [episode("dup", Side.LEFT)])
    with pytest.raises(ConflictError):
        store.create_turn(
            turn("t2", seq=1), [episode("fresh", Side.LEFT, tid="t2"), episode("dup", Side.RIGHT, tid="t2")]
        )
    with pytest.raises(NotFoundError):
        store.get_turn("t2")
    with pytest.raises(NotFoundError):
        store.get_episode("fresh")
    assert store.get_episode("dup").turn_id == "t1"
    assert [t.id for t in store.list_turns("b1")] == ["t1"]


def test_create_turn_rejects_episodes_of_another_turn(store: Store) -> None:
    with pytest.raises(ValidationError):
        store.create_turn(turn("t1"), [episode("e", Side.LEFT, tid="t-other")])
    with pytest.raises(NotFoundError):
        store.get_turn("t1")


def test_turns_are_numbered_by_the_store_in_creation_order(store: Store) -> None:
    created = [store.create_turn(turn(tid, seq=seq), []) for tid, seq in [("t2", 2), ("t0", 0), ("t1", 1)]]
    assert [(t.id, t.seq) for t in created] == [("t2", 0), ("t0", 1), ("t1", 2)]
    assert created[0] == msgspec.structs.replace(turn("t2", seq=2), seq=0)  # all else as passed
    assert store.list_turns("b1") == created
    assert store.get_turn("t1") == created[2]
    assert store.create_turn(turn("x", bid="b-other", seq=5), []).seq == 0
    assert store.list_turns("unknown") == []


def test_list_episodes_left_then_right(store: Store) -> None:
    store.create_turn(turn(), [episode("r", Side.RIGHT), episode("l", Side.LEFT)])
    assert [e.id for e in store.list_episodes("t1")] == ["l", "r"]
    assert store.list_episodes("unknown") == []


def test_list_battle_episodes_by_turn_then_side(store: Store) -> None:
    store.create_turn(
        turn("t0", seq=1), [episode("0r", Side.RIGHT, tid="t0"), episode("0l", Side.LEFT, tid="t0")]
    )
    store.create_turn(
        turn("t1", seq=0), [episode("1r", Side.RIGHT, tid="t1"), episode("1l", Side.LEFT, tid="t1")]
    )
    store.create_turn(turn("tx", bid="b-other"), [episode("x", Side.LEFT, tid="tx", bid="b-other")])
    assert [e.id for e in store.list_battle_episodes("b1")] == ["0l", "0r", "1l", "1r"]


def test_episode_lifecycle_done(store: Store) -> None:
    seed_turn(store)
    store.mark_episode_running("e-l", started_at=102.0)
    running = store.get_episode("e-l")
    assert (running.status, running.started_at) == (EpisodeStatus.RUNNING, 102.0)
    data = b"\x00traj\xff" * 1000
    result = result_for(data)
    store.finish_episode("e-l", result, data, finished_at=105.5)
    done = store.get_episode("e-l")
    assert done == msgspec.structs.replace(
        episode("e-l", Side.LEFT),
        status=EpisodeStatus.DONE,
        started_at=102.0,
        finished_at=105.5,
        result=result,
    )
    assert store.get_trajectory("e-l") == data
    assert store.get_episode("e-r").status is EpisodeStatus.QUEUED


def test_result_with_null_metrics_round_trips(store: Store) -> None:
    seed_turn(store)
    result = result_for(b"x", success=None, progress=None)
    store.finish_episode("e-r", result, b"x", finished_at=1.0)
    assert store.get_episode("e-r").result == result


def test_episode_lifecycle_failed(store: Store) -> None:
    seed_turn(store)
    store.mark_episode_running("e-r", started_at=102.0)
    store.fail_episode("e-r", "policy server timed out", finished_at=110.0)
    failed = store.get_episode("e-r")
    assert (failed.status, failed.error, failed.started_at, failed.finished_at, failed.result) == (
        EpisodeStatus.FAILED,
        "policy server timed out",
        102.0,
        110.0,
        None,
    )
    with pytest.raises(NotFoundError) as info:
        store.get_trajectory("e-r")
    assert info.value.kind == "trajectory"


@pytest.mark.parametrize(
    "update",
    [
        lambda s: s.mark_episode_running("nope", 1.0),
        lambda s: s.finish_episode("nope", result_for(b"t"), b"t", 1.0),
        lambda s: s.fail_episode("nope", "boom", 1.0),
    ],
    ids=["mark_running", "finish", "fail"],
)
def test_updating_unknown_episode_raises_not_found(store: Store, update: Callable[[Store], None]) -> None:
    with pytest.raises(NotFoundError) as info:
        update(store)
    assert (info.value.kind, info.value.ident) == ("episode", "nope")


def test_get_trajectory_not_found(store: Store) -> None:
    seed_turn(store)
    with pytest.raises(NotFoundError) as unknown:
        store.get_trajectory("nope")
    assert unknown.value.kind == "episode"
    with pytest.raises(NotFoundError) as queued:
        store.get_trajectory("e-l")
    assert (queued.value.kind, queued.value.ident) == ("trajectory", "e-l")


def test_finish_rejects_a_wrong_sha256(store: Store) -> None:
    seed_turn(store)
    with pytest.raises(ValidationError):
        store.finish_episode("e-l", result_for(b"other bytes"), b"trajectory", finished_at=1.0)
    assert store.get_episode("e-l").status is EpisodeStatus.QUEUED


def test_identical_trajectories_share_storage(store: Store) -> None:
    seed_turn(store)
    data = bytes(range(256)) * 64
    store.finish_episode("e-l", result_for(data), data, finished_at=1.0)
    store.finish_episode("e-r", result_for(data, success=False), data, finished_at=2.0)
    assert store.get_trajectory("e-l") == store.get_trajectory("e-r") == data
    assert store.get_episode("e-r").result == result_for(data, success=False)


def test_concurrent_episode_writers(store: Store) -> None:
    n = 12
    store.create_turn(turn(), [episode(f"e{i}", Side.LEFT) for i in range(n)])

    def finish(i: int) -> None:
        data = f"trajectory {i}".encode() * 500
        store.mark_episode_running(f"e{i}", started_at=float(i))
        store.finish_episode(f"e{i}", result_for(data), data, finished_at=float(i) + 0.5)
        assert store.get_trajectory(f"e{i}") == data

    assert run_threads(n, finish) == [None] * n
    assert all(e.status is EpisodeStatus.DONE for e in store.list_episodes("t1"))


# -- votes --------------------------------------------------------------------------------------


@pytest.mark.parametrize("choice", list(VoteChoice))
def test_vote_round_trip(store: Store, choice: VoteChoice) -> None:
    v = vote("v1", choice=choice)
    store.record_vote(v)
    assert store.get_vote("b1") == v
    assert store.get_vote("b-unvoted") is None


def test_second_vote_is_rejected(store: Store) -> None:
    store.record_vote(vote("v1", choice=VoteChoice.LEFT))
    with pytest.raises(AlreadyVotedError) as info:
        store.record_vote(vote("v2", choice=VoteChoice.RIGHT))
    assert info.value.battle_id == "b1"
    assert store.get_vote("b1") == vote("v1", choice=VoteChoice.LEFT)
    assert store.list_votes() == [vote("v1", choice=VoteChoice.LEFT)]


def test_reused_vote_id_on_another_battle_conflicts(store: Store) -> None:
    store.record_vote(vote("v1", bid="b1"))
    with pytest.raises(ConflictError) as info:
        store.record_vote(vote("v1", bid="b2"))
    assert not isinstance(info.value, AlreadyVotedError)
    assert store.get_vote("b2") is None


def test_racing_votes_exactly_one_wins(store: Store) -> None:
    n = 16
    outcomes = run_threads(n, lambda i: store.record_vote(vote(f"v{i}", choice=list(VoteChoice)[i % 4])))
    winners = [i for i, outcome in enumerate(outcomes) if outcome is None]
    assert len(winners) == 1
    assert all(isinstance(o, AlreadyVotedError) for i, o in enumerate(outcomes) if i != winners[0])
    stored = store.get_vote("b1")
    assert stored is not None
    assert stored.id == f"v{winners[0]}"
    assert len(store.list_votes()) == 1


def test_list_votes_chronological_and_by_robot(store: Store) -> None:
    store.record_vote(vote("late", bid="b1", at=300.0))
    store.record_vote(vote("early", bid="b2", at=100.0, robot="aloha"))
    store.record_vote(vote("mid", bid="b3", at=200.0))
    assert [v.id for v in store.list_votes()] == ["early", "mid", "late"]
    assert [v.id for v in store.list_votes("panda")] == ["mid", "late"]
    assert [v.id for v in store.list_votes(robot_id="aloha")] == ["early"]
    assert store.list_votes("no-such-robot") == []


# -- lifecycle and property-based round trips ---------------------------------------------------


def test_close_is_idempotent_and_final(store: Store) -> None:
    store.close()
    store.close()
    with pytest.raises(StoreError):
        store.get_vote("b1")


_keys = itertools.count()
_text = st.text(max_size=40)
_time = st.floats(allow_nan=False, allow_infinity=False)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    robot=_text,
    voter=st.none() | _text,
    at=_time,
    progress=st.none() | _time,
    success=st.none() | st.booleans(),
    steps=st.integers(-(2**63), 2**63 - 1),
)
def test_arbitrary_values_round_trip(
    store: Store,
    robot: str,
    voter: str | None,
    at: float,
    progress: float | None,
    success: bool | None,
    steps: int,
) -> None:
    key = f"k{next(_keys)}"  # the store outlives examples, and Hypothesis may replay one
    s = msgspec.structs.replace(session(key, voter=voter, at=at), robot_id=robot)
    store.create_session(s, battle(key, sid=key))
    assert store.get_session(key) == s
    store.create_turn(turn(key, bid=key), [episode(key, Side.RIGHT, tid=key, bid=key)])
    result = msgspec.structs.replace(
        result_for(key.encode(), success=success, progress=progress), steps=steps
    )
    store.finish_episode(key, result, key.encode(), finished_at=at)
    assert store.get_episode(key).result == result
    v = msgspec.structs.replace(vote(key, bid=key, at=at), robot_id=robot)
    store.record_vote(v)
    assert store.get_vote(key) == v
