"""`MongoStore`: the `Store` on MongoDB through pymongo, for scaled-out deployments.

No multi-document transactions (they need a replica set): every guarantee rests on single-document
atomicity, and each multi-document write puts its *commit point* last.

Documents (`api.store.mongo_docs` has the field mapping and indexes):
- `sessions`, `battles`, `turns`, `episodes`: one record each, `_id` = record id.
- `ballots`, one per battle: its committed turn ids (a turn's `seq` is its position) and its vote.
  `create_turn` and `record_vote` commit with conditional updates of this one document, so a vote
  is exactly-once and no turn can follow it (`api.store.mongo_ballots`).
- `vote_ids`: one per vote id, reserving it so a vote id is unique across battles.
- `blobs` (`_id` = sha256; `data` inline up to 8 MiB, else `chunks` in `blob_chunks`).
Battle numbers come from a unique index on (session_id, seq): insert max+1, retry on a clash.

Writes use w="majority", j=true unless configured otherwise (see `client_from_url`).

Crash between two writes (the process dies, or a write's acknowledgement is lost):
- `create_session`: battle, then session. A lone battle names a session that does not exist, so
  nothing reaches it but `list_all_battles`, which lists it with no turns; it is inert garbage.
- `create_turn`: turn (seq null), episodes, then the ballot `$push` (commit), then the turn's seq.
  Uncommitted turns and their episodes are invisible: reads go through the ballot, and
  `list_unfinished_episodes`/`count_unfinished_episodes` keep only committed turns' episodes.
  `repair()` (run on open) sets the seq of committed turns and deletes uncommitted ones (with their
  episodes) older than `repair_grace_s`; `get_turn` also fills a missing seq from the ballot.
- `record_vote`: reservation, then the ballot `$set` (commit). A stray reservation only keeps a
  random id from being reused.
- `finish_episode`: blob chunks, blob, then the episode update (commit). A stray blob is reused by
  the episode's rerun (content addressing) and is otherwise inert.
On a failed write the completed steps are undone at once, so the above only follows a crash.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator
from typing import Any

import msgspec
from pymongo import ASCENDING, DESCENDING, MongoClient
from pymongo.errors import PyMongoError
from pymongo.write_concern import WriteConcern

from api.store import mongo_ballots as ballots
from api.store.mongo_docs import (
    DURABLE,
    ORD,
    Doc,
    R,
    battles_page,
    client_from_url,
    driver_errors,
    ensure_indexes,
    from_doc,
    put_blob,
    read_blob,
    to_doc,
)
from schemas.errors import ConflictError, NotFoundError, StoreError, ValidationError
from schemas.records import (
    BattleRecord,
    EpisodeRecord,
    EpisodeResult,
    EpisodeStatus,
    SessionRecord,
    TurnRecord,
    VoteRecord,
)

_UNFINISHED = {"$in": [EpisodeStatus.QUEUED.value, EpisodeStatus.RUNNING.value]}
_EPISODE_SORT = [("side", ASCENDING), (ORD, ASCENDING)]


class MongoStore:
    """A `Store` in one MongoDB database. `MongoStore.from_url("mongodb://host:27017/arena")`."""

    def __init__(self, client: MongoClient[Doc], database: str, *, write_concern: WriteConcern = DURABLE,
                 owns_client: bool = False, repair_grace_s: float = 600.0) -> None:
        self._client, self._owns_client, self._closed = client, owns_client, False
        self.database = database
        self.repair_grace_s = repair_grace_s
        with driver_errors():
            self._db = client.get_database(database, write_concern=write_concern)
            ensure_indexes(self._db)
            self.repair()

    @classmethod
    def from_url(cls, url: str, **options: Any) -> MongoStore:
        client, database, concern = client_from_url(url)
        try:
            return cls(client, database, write_concern=concern, owns_client=True, **options)
        except BaseException:
            client.close()
            raise

    @contextlib.contextmanager
    def _op(self) -> Iterator[Any]:
        """One store operation: refused once closed; driver errors translated. Yields the database."""
        if self._closed:
            raise StoreError("store is closed")
        with driver_errors():
            yield self._db

    # -- sessions and battles -------------------------------------------------------------------
    def create_session(self, session: SessionRecord, battle: BattleRecord) -> None:
        with self._op() as db:
            if db.sessions.find_one({"_id": session.id}, {"_id": 1}) is not None:
                raise ConflictError(f"session {session.id!r} already exists")
            stored = ballots.insert_battle(db.battles, battle)
            try:
                db.sessions.insert_one(to_doc(session))
            except BaseException:
                with contextlib.suppress(PyMongoError):
                    db.battles.delete_one({"_id": stored.id})
                raise

    def get_session(self, session_id: str) -> SessionRecord:
        return self._get(SessionRecord, "sessions", "session", session_id)

    def list_sessions_by_voter(self, voter_id: str, limit: int = 50) -> list[SessionRecord]:
        if limit <= 0:
            return []
        with self._op() as db:
            found = db.sessions.find({"voter_id": voter_id}).sort([("created_at", DESCENDING), (ORD, DESCENDING)])
            return [from_doc(SessionRecord, d) for d in found.limit(limit)]

    def create_battle(self, battle: BattleRecord) -> BattleRecord:
        with self._op() as db:
            return ballots.insert_battle(db.battles, battle)

    def get_battle(self, battle_id: str) -> BattleRecord:
        return self._get(BattleRecord, "battles", "battle", battle_id)

    def list_battles(self, session_id: str) -> list[BattleRecord]:
        with self._op() as db:
            found = db.battles.find({"session_id": session_id}).sort("seq", ASCENDING)
            return [from_doc(BattleRecord, d) for d in found]

    def list_all_battles(self, robot_id: str | None = None, *, after: tuple[float, str] | None = None,
                         limit: int = 500) -> list[BattleRecord]:
        with self._op() as db:
            return [from_doc(BattleRecord, d) for d in battles_page(db, robot_id, after, limit)]

    # -- turns ----------------------------------------------------------------------------------
    def create_turn(self, turn: TurnRecord, episodes: list[EpisodeRecord]) -> TurnRecord:
        if any(e.turn_id != turn.id or e.battle_id != turn.battle_id for e in episodes):
            raise ValidationError("episodes", "every episode must name this turn and its battle")
        with self._op() as db:
            db.turns.insert_one(to_doc(turn, seq=None))
            inserted: list[str] = []
            try:
                for episode in episodes:
                    db.episodes.insert_one(to_doc(episode))
                    inserted.append(episode.id)
                seq = ballots.commit_turn(db.ballots, turn.battle_id, turn.id)
            except Exception:  # not committed: undo what was written
                with contextlib.suppress(PyMongoError):
                    db.episodes.delete_many({"_id": {"$in": inserted}})
                    db.turns.delete_one({"_id": turn.id})
                raise
            with contextlib.suppress(PyMongoError):  # committed; a missing seq is filled on read
                db.turns.update_one({"_id": turn.id}, {"$set": {"seq": seq}})
        return msgspec.structs.replace(turn, seq=seq)

    def get_turn(self, turn_id: str) -> TurnRecord:
        with self._op() as db:
            doc = db.turns.find_one({"_id": turn_id})
            seq = None if doc is None else doc.get("seq")
            if doc is not None and seq is None:
                ids = ballots.turn_ids(self._db.ballots, doc["battle_id"])
                if turn_id in ids:
                    seq = ids.index(turn_id)
                    db.turns.update_one({"_id": turn_id}, {"$set": {"seq": seq}})
            if doc is None or seq is None:
                raise NotFoundError("turn", turn_id)
            return from_doc(TurnRecord, doc, seq=seq)

    def list_turns(self, battle_id: str) -> list[TurnRecord]:
        with self._op() as db:
            ids = ballots.turn_ids(self._db.ballots, battle_id)
            docs = {d["_id"]: d for d in db.turns.find({"_id": {"$in": ids}})}
            return [from_doc(TurnRecord, docs[t], seq=seq) for seq, t in enumerate(ids) if t in docs]

    # -- episodes -------------------------------------------------------------------------------
    def get_episode(self, episode_id: str) -> EpisodeRecord:
        return self._get(EpisodeRecord, "episodes", "episode", episode_id)

    def list_episodes(self, turn_id: str) -> list[EpisodeRecord]:
        with self._op() as db:
            return [from_doc(EpisodeRecord, d) for d in db.episodes.find({"turn_id": turn_id}).sort(_EPISODE_SORT)]

    def list_battle_episodes(self, battle_id: str) -> list[EpisodeRecord]:
        with self._op() as db:
            order = {t: i for i, t in enumerate(ballots.turn_ids(self._db.ballots, battle_id))}
            found = db.episodes.find({"battle_id": battle_id, "turn_id": {"$in": list(order)}})
            docs = sorted(found, key=lambda d: (order[d["turn_id"]], d["side"], d[ORD]))
            return [from_doc(EpisodeRecord, d) for d in docs]

    def list_unfinished_episodes(self) -> list[EpisodeRecord]:
        with self._op() as db:
            found = db.episodes.find({"status": _UNFINISHED}).sort([("created_at", ASCENDING), ("_id", ASCENDING)])
            return [from_doc(EpisodeRecord, d) for d in ballots.committed(db.ballots, found)]

    def count_unfinished_episodes(self, voter_id: str) -> int:
        with self._op() as db:
            found = db.episodes.find({"voter_id": voter_id, "status": _UNFINISHED}, {"turn_id": 1, "battle_id": 1})
            return len(ballots.committed(db.ballots, found))

    def mark_episode_running(self, episode_id: str, started_at: float) -> None:
        self._set_state(episode_id, EpisodeStatus.RUNNING, started_at=started_at, finished_at=None)

    def finish_episode(
        self, episode_id: str, result: EpisodeResult, trajectory: bytes, finished_at: float
    ) -> None:
        sha = result.trajectory_sha256
        if hashlib.sha256(trajectory).hexdigest() != sha:
            raise ValidationError("trajectory_sha256", "does not match the sha256 of the trajectory bytes")
        with self._op() as db:
            if db.episodes.find_one({"_id": episode_id}, {"_id": 1}) is None:
                raise NotFoundError("episode", episode_id)
            put_blob(db, sha, trajectory)
        self._set_state(episode_id, EpisodeStatus.DONE, finished_at=finished_at,
                        result=msgspec.to_builtins(result), trajectory_sha256=sha)

    def fail_episode(self, episode_id: str, error: str, finished_at: float) -> None:
        self._set_state(episode_id, EpisodeStatus.FAILED, finished_at=finished_at, error=error)

    def _set_state(self, episode_id: str, status: EpisodeStatus, **fields: Any) -> None:
        update = {"result": None, "error": None, "trajectory_sha256": None, **fields, "status": status.value}
        with self._op() as db:
            if db.episodes.update_one({"_id": episode_id}, {"$set": update}).matched_count == 0:
                raise NotFoundError("episode", episode_id)

    def get_trajectory(self, episode_id: str) -> bytes:
        with self._op() as db:
            episode = db.episodes.find_one({"_id": episode_id}, {"trajectory_sha256": 1})
            if episode is None:
                raise NotFoundError("episode", episode_id)
            sha = episode.get("trajectory_sha256")
            data = None if sha is None else read_blob(db, sha)
            if data is None:
                raise NotFoundError("trajectory", episode_id)
            return data

    # -- votes ----------------------------------------------------------------------------------
    def record_vote(self, vote: VoteRecord) -> None:
        with self._op() as db:
            ballots.record_vote(db, vote)

    def get_vote(self, battle_id: str) -> VoteRecord | None:
        with self._op():
            doc = ballots.vote_of(self._db.ballots, battle_id)
            return None if doc is None else from_doc(VoteRecord, doc)

    def list_votes(self, robot_id: str | None = None) -> list[VoteRecord]:
        with self._op() as db:
            found = db.ballots.find(ballots.votes_filter(robot_id), {"vote": 1}).sort(
                [("vote.created_at", ASCENDING), (f"vote.{ORD}", ASCENDING)])
            return [from_doc(VoteRecord, d["vote"]) for d in found]

    def count_votes(self, robot_id: str | None = None) -> int:
        with self._op() as db:
            return int(db.ballots.count_documents(ballots.votes_filter(robot_id)))

    # -- upkeep ---------------------------------------------------------------------------------
    def repair(self) -> int:
        """Finish or undo `create_turn`s cut short by a crash (see the module docstring); returns how
        many turns it touched. Safe to run while other processes write."""
        with self._op() as db:
            return ballots.repair_turns(db, self.repair_grace_s)

    def _get(self, cls: type[R], collection: str, kind: str, ident: str) -> R:
        with self._op() as db:
            found = db[collection].find_one({"_id": ident})
            if found is None:
                raise NotFoundError(kind, ident)
            return from_doc(cls, found)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            if self._owns_client:
                with driver_errors():
                    self._client.close()

    def __enter__(self) -> MongoStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"MongoStore(database={self.database!r})"
