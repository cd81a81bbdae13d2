"""Contract suite for the `Store` port, part 2 (every test runs against every adapter): numbers the
store assigns, unique under concurrency; a vote closes its battle atomically (no turn after the vote,
under any race); the voter and vote counts; the fields added to the records since the first release;
every battle, voted or not, in creation order and by pages (`list_all_battles`, `iter_battles`).
"""

from __future__ import annotations

import time
from typing import Any

import msgspec
import pytest

from api.store import Store
from api.store.port import iter_battles
from schemas.errors import AlreadyVotedError, NotFoundError
from schemas.records import BattleRecord, Side, TurnRecord
from tests.api.store_records import battle, episode, result_for, run_threads, seed_turn, session, turn, vote


def test_concurrent_battles_get_distinct_gap_free_numbers(store: Store) -> None:
    n = 12
    store.create_session(session(), battle("b-first"))
    outcomes = run_threads(n, lambda i: store.create_battle(battle(f"b{i}", seq=0)))
    assert all(isinstance(o, BattleRecord) for o in outcomes), outcomes
    assert sorted(o.seq for o in outcomes) == list(range(1, n + 1))
    listed = store.list_battles("s1")
    assert [b.seq for b in listed] == list(range(n + 1))
    assert {b.id: b.seq for b in listed[1:]} == {o.id: o.seq for o in outcomes}


def test_concurrent_turns_get_distinct_gap_free_numbers(store: Store) -> None:
    n = 12

    def create(i: int) -> TurnRecord:
        return store.create_turn(turn(f"t{i}"), [episode(f"e{i}l", Side.LEFT, tid=f"t{i}"),
                                                 episode(f"e{i}r", Side.RIGHT, tid=f"t{i}")])

    outcomes = run_threads(n, create)
    assert all(isinstance(o, TurnRecord) for o in outcomes), outcomes
    assert sorted(o.seq for o in outcomes) == list(range(n))
    assert store.list_turns("b1") == sorted(outcomes, key=lambda t: t.seq)
    by_seq = {o.seq: o.id for o in outcomes}
    expected = [f"e{by_seq[k][1:]}{side}" for k in range(n) for side in "lr"]
    assert [e.id for e in store.list_battle_episodes("b1")] == expected


def test_no_turn_after_the_vote(store: Store) -> None:
    seed_turn(store)
    store.record_vote(vote("v1"))
    with pytest.raises(AlreadyVotedError) as info:
        store.create_turn(turn("t2"), [episode("late", Side.LEFT, tid="t2")])
    assert info.value.battle_id == "b1"
    for lookup in (lambda: store.get_turn("t2"), lambda: store.get_episode("late")):
        with pytest.raises(NotFoundError):
            lookup()
    assert [t.id for t in store.list_turns("b1")] == ["t1"]
    assert {e.id for e in store.list_unfinished_episodes()} == {"e-l", "e-r"}
    assert store.create_turn(turn("t9", bid="b-open"), []).seq == 0  # other battles stay open


@pytest.mark.parametrize("rounds", [12])
def test_vote_racing_turns_never_leaves_a_turn_after_the_vote(store: Store, rounds: int) -> None:
    """Turn creators hammer a battle while one thread votes: the turns the voter sees right after its
    vote is acknowledged are all the battle ever gets, and every refused turn leaves nothing behind."""
    writers = 5
    for r in range(rounds):
        bid = f"race{r}"
        made: list[list[str]] = [[] for _ in range(writers)]

        def work(i: int, r: int = r, bid: str = bid, made: list[list[str]] = made) -> Any:
            if i == writers:  # the voter
                time.sleep(0.001 * (r % 4))
                store.record_vote(vote(f"v{r}", bid=bid))
                return [t.id for t in store.list_turns(bid)]
            for k in range(50_000):  # until the vote refuses it (a writer used to finish 200 before a slow
                tid = f"{bid}-{i}-{k}"  # voter thread ran, on a loaded machine; this bound only stops a hang)
                store.create_turn(turn(tid, bid=bid), [episode(f"{tid}-e", Side.LEFT, tid=tid, bid=bid)])
                made[i].append(tid)
            return None

        outcomes = run_threads(writers + 1, work)
        seen_at_vote = outcomes[writers]
        assert isinstance(seen_at_vote, list), seen_at_vote
        assert all(isinstance(o, AlreadyVotedError) for o in outcomes[:writers]), outcomes
        final = store.list_turns(bid)
        assert [t.id for t in final] == seen_at_vote
        assert [t.seq for t in final] == list(range(len(final)))
        assert sorted(seen_at_vote) == sorted(t for ids in made for t in ids)
        assert {e.turn_id for e in store.list_battle_episodes(bid)} == set(seen_at_vote)
    unfinished = {e.turn_id for e in store.list_unfinished_episodes()}
    assert unfinished == {t.id for r in range(rounds) for t in store.list_turns(f"race{r}")}


def test_count_unfinished_episodes_per_voter(store: Store) -> None:
    mine = [msgspec.structs.replace(episode(f"m{i}", Side.LEFT), voter_id="me") for i in range(4)]
    theirs = msgspec.structs.replace(episode("o", Side.RIGHT), voter_id="them")
    store.create_turn(turn(), [*mine, theirs, episode("anon", Side.RIGHT)])
    assert store.count_unfinished_episodes("me") == 4
    store.mark_episode_running("m0", started_at=1.0)
    assert store.count_unfinished_episodes("me") == 4
    store.finish_episode("m1", result_for(b"x"), b"x", finished_at=2.0)
    store.fail_episode("m2", "boom", finished_at=2.0)
    assert store.count_unfinished_episodes("me") == 2
    assert store.count_unfinished_episodes("them") == 1
    assert store.count_unfinished_episodes("nobody") == 0
    assert store.get_episode("m3").voter_id == "me"


def test_count_votes(store: Store) -> None:
    assert store.count_votes() == 0
    store.record_vote(vote("v1", bid="b1"))
    store.record_vote(vote("v2", bid="b2", robot="aloha"))
    store.record_vote(vote("v3", bid="b3"))
    with pytest.raises(AlreadyVotedError):
        store.record_vote(vote("v4", bid="b3"))
    assert (store.count_votes(), store.count_votes("panda"), store.count_votes("aloha")) == (3, 2, 1)
    assert store.count_votes("nobody") == 0


def test_newer_fields_round_trip(store: Store) -> None:
    t = msgspec.structs.replace(turn(), start="continue")
    e = msgspec.structs.replace(episode("e", Side.LEFT), voter_id="voter-9")
    assert store.create_turn(t, [e]) == t
    assert store.get_turn("t1").start == "continue"
    assert store.get_episode("e") == e
    v = msgspec.structs.replace(vote("v1"), voter_id="voter-9", left_progress=0.25, right_progress=None,
                                note="left dropped it", flags=["early", "excluded"])
    store.record_vote(v)
    assert store.get_vote("b1") == v
    assert store.list_votes() == [v]
    assert vote("plain").flags == []
    assert turn().start == "reset"


def _battles(store: Store) -> list[BattleRecord]:
    """Five battles in three sessions, created out of key order; two robots, a created_at tie."""
    made = [("s2", "b-c", 50.0, "panda"), ("s1", "b-b", 10.0, "aloha"), ("s1", "b-a", 30.0, "panda"),
            ("s3", "b-e", 10.0, "panda"), ("s2", "b-d", 30.0, "panda")]
    stored = []
    for sid, bid, at, robot in made:
        record = msgspec.structs.replace(battle(bid, sid=sid), created_at=at, robot_id=robot)
        if sid not in {b.session_id for b in stored}:
            store.create_session(session(sid), record)
            stored.append(store.get_battle(bid))
        else:
            stored.append(store.create_battle(record))
    return stored


def test_list_all_battles_in_creation_order_voted_or_not(store: Store) -> None:
    assert store.list_all_battles() == []
    stored = {b.id: b for b in _battles(store)}
    store.record_vote(vote("v1", bid="b-a"))
    assert [b.id for b in store.list_all_battles()] == ["b-b", "b-e", "b-a", "b-d", "b-c"]
    assert store.list_all_battles()[0] == stored["b-b"]
    assert [b.id for b in store.list_all_battles("panda")] == ["b-e", "b-a", "b-d", "b-c"]
    assert store.list_all_battles("nobody") == []


def test_list_all_battles_pages_by_key_without_gaps_or_repeats(store: Store) -> None:
    _battles(store)
    assert [b.id for b in store.list_all_battles(limit=2)] == ["b-b", "b-e"]
    assert [b.id for b in store.list_all_battles(after=(10.0, "b-e"), limit=2)] == ["b-a", "b-d"]
    assert [b.id for b in store.list_all_battles(after=(30.0, "b-a"))] == ["b-d", "b-c"]
    assert [b.id for b in store.list_all_battles("panda", after=(10.0, "b-b"), limit=1)] == ["b-e"]
    assert store.list_all_battles(limit=0) == []
    assert store.list_all_battles(after=(50.0, "b-c")) == []
    assert [b.id for b in iter_battles(store, page=2)] == ["b-b", "b-e", "b-a", "b-d", "b-c"]
    assert [b.id for b in iter_battles(store, "panda", page=1)] == ["b-e", "b-a", "b-d", "b-c"]
