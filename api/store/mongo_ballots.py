"""How `MongoStore` numbers battles and turns and closes a battle with its vote, one document at a time.

Battles: a unique index on (session_id, seq); a battle is inserted with the session's max seq + 1,
and on a duplicate-key clash (another writer took that number) the next number is tried.

Ballots: one document per battle decides, atomically, which turns it has and its one vote:

    {_id: battle_id, turn_ids: [turn ids in seq order], vote: VoteRecord document | null}

A turn commits with a conditional `$push` on `{_id, vote: null}` (its seq is its position) and the
vote with a conditional `$set` on the same filter. MongoDB applies each to one document atomically,
so a vote is exactly-once, and once it is set no `$push` can match: no turn after the vote. Ballots
are created on first use, so turns and votes need no battle document (the contract has no foreign
keys); creation is a plain insert whose duplicate-key error means someone else created it first.
"""

from __future__ import annotations

import contextlib
import datetime
from collections.abc import Iterable
from typing import Any

import msgspec
from pymongo import DESCENDING, ReturnDocument
from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from api.store.mongo_docs import ORD, Doc, sub_doc, to_doc
from schemas.errors import AlreadyVotedError, ConflictError, StoreError
from schemas.records import BattleRecord, VoteRecord

_RETRIES = 1000  # each retry follows another writer's progress, so this bounds only pathological cases

Ballots = Collection[Doc]


def insert_battle(battles: Collection[Doc], battle: BattleRecord) -> BattleRecord:
    """Insert the battle numbered next in its session; return the stored record."""
    for _ in range(_RETRIES):
        last = battles.find_one({"session_id": battle.session_id}, {"seq": 1}, sort=[("seq", DESCENDING)])
        stored = msgspec.structs.replace(battle, seq=0 if last is None else last["seq"] + 1)
        try:
            battles.insert_one(to_doc(stored))
            return stored
        except DuplicateKeyError:  # the id is taken, or another writer took this seq: try the next
            if battles.find_one({"_id": battle.id}, {"_id": 1}) is not None:
                raise ConflictError(f"battle {battle.id!r} already exists") from None
    raise StoreError(f"could not number a battle in session {battle.session_id!r}: too much contention")


def open_ballot(ballots: Ballots, battle_id: str) -> None:
    """Create the battle's ballot if it is missing; `AlreadyVotedError` if it holds a vote."""
    found = ballots.find_one({"_id": battle_id}, {"vote": 1})
    if found is not None and found.get("vote") is not None:
        raise AlreadyVotedError(battle_id)
    if found is None:
        with contextlib.suppress(DuplicateKeyError):
            ballots.insert_one({"_id": battle_id, "vote": None, "turn_ids": []})


def commit_turn(ballots: Ballots, battle_id: str, turn_id: str) -> int:
    """Add the turn to an unvoted battle and return its seq; `AlreadyVotedError` once voted."""
    for _ in range(_RETRIES):
        ballot = ballots.find_one_and_update(
            {"_id": battle_id, "vote": None}, {"$push": {"turn_ids": turn_id}}, return_document=ReturnDocument.AFTER
        )
        if ballot is not None:
            return int(ballot["turn_ids"].index(turn_id))
        open_ballot(ballots, battle_id)
    raise StoreError(f"could not add a turn to battle {battle_id!r}: too much contention")


def commit_vote(ballots: Ballots, battle_id: str, vote: Doc) -> None:
    """Set the battle's vote; `AlreadyVotedError` if it has one."""
    for _ in range(_RETRIES):
        if ballots.update_one({"_id": battle_id, "vote": None}, {"$set": {"vote": vote}}).matched_count:
            return
        open_ballot(ballots, battle_id)
    raise StoreError(f"could not record the vote on battle {battle_id!r}: too much contention")


def turn_ids(ballots: Ballots, battle_id: str) -> list[str]:
    """The battle's committed turns, in seq order."""
    found = ballots.find_one({"_id": battle_id}, {"turn_ids": 1})
    return list(found.get("turn_ids") or []) if found else []


def vote_of(ballots: Ballots, battle_id: str) -> Doc | None:
    found = ballots.find_one({"_id": battle_id}, {"vote": 1})
    return None if found is None else found.get("vote")


def committed(ballots: Ballots, episodes: Iterable[Doc]) -> list[Doc]:
    """The episode documents whose turn is committed (listed in its battle's ballot)."""
    docs = list(episodes)
    battles = list({d["battle_id"] for d in docs})
    found: Iterable[Doc] = ballots.find({"_id": {"$in": battles}}, {"turn_ids": 1}) if battles else []
    listed = {t for ballot in found for t in ballot.get("turn_ids") or []}
    return [d for d in docs if d["turn_id"] in listed]


def votes_filter(robot_id: str | None) -> dict[str, Any]:
    return {"vote": {"$ne": None}} if robot_id is None else {"vote.robot_id": robot_id}


def repair_turns(db: Database[Doc], grace_s: float) -> int:
    """Turns left with no seq by a crash inside `create_turn`: committed ones get their seq, uncommitted
    ones older than `grace_s` (so not still being written) are deleted with their episodes."""
    cutoff = datetime.datetime.now(datetime.UTC) - datetime.timedelta(seconds=grace_s)
    touched = 0
    for doc in db.turns.find({"seq": None}, {"battle_id": 1, ORD: 1}):
        ids = turn_ids(db.ballots, doc["battle_id"])
        if doc["_id"] in ids:
            db.turns.update_one({"_id": doc["_id"]}, {"$set": {"seq": ids.index(doc["_id"])}})
        elif doc[ORD].generation_time < cutoff:
            db.episodes.delete_many({"turn_id": doc["_id"]})
            db.turns.delete_one({"_id": doc["_id"]})
        else:
            continue
        touched += 1
    return touched


def record_vote(db: Database[Doc], vote: VoteRecord) -> None:
    """`MongoStore.record_vote`: reserve the vote id in `vote_ids`, then commit it on the ballot (undoing
    the reservation if the battle already has its vote)."""
    try:
        db.vote_ids.insert_one({"_id": vote.id, "battle_id": vote.battle_id})
    except DuplicateKeyError:
        if vote_of(db.ballots, vote.battle_id) is not None:
            raise AlreadyVotedError(vote.battle_id) from None
        raise ConflictError(f"vote id {vote.id!r} is already taken") from None
    try:
        commit_vote(db.ballots, vote.battle_id, sub_doc(vote))
    except AlreadyVotedError:
        db.vote_ids.delete_one({"_id": vote.id})
        raise
