"""MongoStore specifics beyond the shared contract suite: opening by URL, write concerns, a server that
is down, chunked blobs, and the repair of a `create_turn` cut short by a crash (see `api.store.mongo`).

Runs against the session's nx-27017 server, or the real MongoDB that `ARENA_TEST_MONGO_URL` names.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator

import pytest
from pymongo.write_concern import WriteConcern

from api.store import mongo_docs, open_store
from api.store.mongo import MongoStore
from api.store.mongo_docs import to_doc
from schemas.errors import AlreadyVotedError, NotFoundError, StoreError
from schemas.records import EpisodeRecord, EpisodeResult, EpisodeStatus, Side, TurnRecord
from tests.api.store_records import run_threads, vote
from tests.support.mongo_server import free_port, with_options


@pytest.fixture
def mongo(mongo_url: str) -> Iterator[MongoStore]:
    with MongoStore.from_url(mongo_url) as store:
        yield store


def turn(tid: str, bid: str = "b1") -> TurnRecord:
    return TurnRecord(id=tid, battle_id=bid, seq=0, instruction="go", seed=1, max_steps=10, created_at=1.0)


def episode(eid: str, tid: str, bid: str = "b1") -> EpisodeRecord:
    return EpisodeRecord(id=eid, turn_id=tid, battle_id=bid, side=Side.LEFT, policy="pi0", created_at=1.0)


def test_open_store_mongodb_url_defaults_to_durable_writes(mongo_url: str) -> None:
    store = open_store(mongo_url)
    try:
        assert isinstance(store, MongoStore)
        assert store._db.write_concern == WriteConcern(w="majority", j=True)
        assert store.count_votes() == 0
    finally:
        store.close()


def test_url_options_choose_the_write_concern(mongo_url: str) -> None:
    with MongoStore.from_url(with_options(mongo_url, "w=1&journal=false")) as store:
        assert store._db.write_concern == WriteConcern(w=1, j=False)


@pytest.mark.parametrize("url", ["mongodb://127.0.0.1:27017", "mongodb://127.0.0.1:27017/", "mongodb://u:secret@h:x/db"])
def test_bad_mongodb_urls_are_value_errors_without_credentials(url: str) -> None:
    with pytest.raises(ValueError, match="mongodb") as info:
        open_store(url)
    assert "secret" not in str(info.value)


def test_a_server_that_is_down_is_a_store_error() -> None:
    url = f"mongodb://user:secret@127.0.0.1:{free_port()}/arena?serverSelectionTimeoutMS=200"
    with pytest.raises(StoreError) as info:
        open_store(url)
    assert "secret" not in str(info.value)


def test_collection_names_are_letters_and_underscores(mongo: MongoStore) -> None:
    data = b"x" * 10
    mongo.create_turn(turn("t1"), [episode("e1", "t1")])
    mongo.finish_episode("e1", _result(data), data, finished_at=2.0)
    names = mongo._db.list_collection_names()
    assert {"ballots", "blobs", "episodes", "turns"} <= set(names)
    assert all(re.fullmatch(r"[a-z_]+", name) for name in names), names


def _result(data: bytes) -> EpisodeResult:
    return EpisodeResult(success=None, progress=None, steps=1, n_frames=2, terminated="max_steps", wall_time_s=0.1,
                         trajectory_sha256=hashlib.sha256(data).hexdigest(), trajectory_bytes=len(data))


def test_large_trajectories_are_chunked_and_shared(mongo: MongoStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mongo_docs, "CHUNK_BYTES", 1000)  # stands in for 8 MiB, to keep the test small
    data = bytes(range(256)) * 14  # 3584 bytes: four chunks
    mongo.create_turn(turn("t1"), [episode("e1", "t1"), episode("e2", "t1")])
    mongo.finish_episode("e1", _result(data), data, finished_at=2.0)
    mongo.finish_episode("e2", _result(data), data, finished_at=3.0)
    assert mongo.get_trajectory("e1") == mongo.get_trajectory("e2") == data
    assert mongo._db.blobs.count_documents({}) == 1
    assert mongo._db.blob_chunks.count_documents({}) == 4


def test_reopening_a_database_keeps_its_records(mongo_url: str) -> None:
    with MongoStore.from_url(mongo_url) as first:
        first.create_turn(turn("t1"), [episode("e1", "t1")])
    with MongoStore.from_url(mongo_url) as second:
        assert [t.id for t in second.list_turns("b1")] == ["t1"]
        assert second.create_turn(turn("t2"), []).seq == 1


def test_turn_cut_short_before_its_commit_is_invisible_then_removed(mongo: MongoStore) -> None:
    """A crash after the turn and episode inserts but before the ballot's `$push` (the commit)."""
    mongo.create_turn(turn("t0"), [episode("e0", "t0")])
    mongo._db.turns.insert_one(to_doc(turn("t-crashed"), seq=None))
    mongo._db.episodes.insert_one(to_doc(episode("e-crashed", "t-crashed")))
    with pytest.raises(NotFoundError):
        mongo.get_turn("t-crashed")
    assert [t.id for t in mongo.list_turns("b1")] == ["t0"]
    assert [e.id for e in mongo.list_battle_episodes("b1")] == ["e0"]
    assert [e.id for e in mongo.list_unfinished_episodes()] == ["e0"]
    assert mongo.repair() == 0  # younger than the grace period: it may still be being written
    mongo.repair_grace_s = -1.0
    assert mongo.repair() == 1
    assert mongo._db.turns.count_documents({"_id": "t-crashed"}) == 0
    assert mongo._db.episodes.count_documents({"_id": "e-crashed"}) == 0
    assert mongo.create_turn(turn("t1"), []).seq == 1


def test_turn_cut_short_after_its_commit_gets_its_seq(mongo: MongoStore) -> None:
    """A crash after the ballot's `$push` but before the turn's seq was written."""
    mongo.create_turn(turn("t0"), [])
    mongo._db.turns.insert_one(to_doc(turn("t1"), seq=None))
    mongo._db.episodes.insert_one(to_doc(episode("e1", "t1")))
    mongo._db.ballots.update_one({"_id": "b1"}, {"$push": {"turn_ids": "t1"}})
    assert [(t.id, t.seq) for t in mongo.list_turns("b1")] == [("t0", 0), ("t1", 1)]
    assert [e.id for e in mongo.list_unfinished_episodes()] == ["e1"]
    mongo.repair_grace_s = -1.0
    assert mongo.repair() == 1  # sets the seq; deletes nothing
    assert mongo._db.turns.find_one({"_id": "t1"}, {"seq": 1}) == {"_id": "t1", "seq": 1}
    assert mongo.get_turn("t1").seq == 1
    assert mongo.get_episode("e1").status is EpisodeStatus.QUEUED


def test_turn_numbers_and_vote_race_across_clients(mongo_url: str) -> None:
    """Two stores with their own clients (like two API processes): turn numbers stay unique and no turn
    follows the vote."""
    with MongoStore.from_url(mongo_url) as first, MongoStore.from_url(mongo_url) as second:
        made = run_threads(12, lambda i: (first, second)[i % 2].create_turn(turn(f"t{i}"), []))
        assert sorted(t.seq for t in made) == list(range(12))

        def turn_or_vote(i: int) -> object:
            store = (first, second)[i % 2]
            if i == 0:
                store.record_vote(vote("v"))
                return [t.id for t in store.list_turns("b1")]  # what the voter saw once acknowledged
            return store.create_turn(turn(f"late{i}"), [episode(f"e{i}", f"late{i}")])

        outcomes = run_threads(8, turn_or_vote)
        assert [t.id for t in second.list_turns("b1")] == outcomes[0]
        assert all(isinstance(o, TurnRecord | AlreadyVotedError) for o in outcomes[1:]), outcomes
        refused = [f"e{i}" for i, o in enumerate(outcomes) if isinstance(o, AlreadyVotedError)]
        assert first._db.episodes.count_documents({"_id": {"$in": refused}}) == 0  # undone, not left behind
