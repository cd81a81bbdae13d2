"""`CachedReads`: any `Store`, with the records that never change once written served from memory.

Sessions, battles and turns are written once (the port has no method that changes them) and a battle's
vote, once recorded, is final (exactly-once). Every read route asks for some of them again and again: the
owner check alone reads a battle and its session on every request. On a networked store (MongoDB) each
is a round trip, so an API process keeps the last `size` of each kind it read in a bounded LRU and asks
the store only for what can change: lists, episodes (their status moves), counts, and a vote that is not
there yet. Entries are only ever added after the store returned them, so a cached record is always one the
store holds; nothing is cached for an id the store does not know (it may be created later). The cache is
per process and needs no invalidation, so API processes stay stateless: a record is the same everywhere.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Generic, TypeVar

from api.store.port import Store
from schemas.errors import StoreError
from schemas.records import (
    BattleRecord,
    EpisodeRecord,
    EpisodeResult,
    EpisodeStatus,
    SessionRecord,
    TurnRecord,
    VoteRecord,
)

K = TypeVar("K")
V = TypeVar("V")


class _Lru(Generic[K, V]):
    def __init__(self, size: int) -> None:
        self.size, self._items, self._lock = size, OrderedDict[K, V](), threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: K) -> V | None:
        with self._lock:
            value = self._items.get(key)
            if value is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return value

    def put(self, key: K, value: V) -> V:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value


class CachedReads:
    """A `Store` (wraps one): `get_session`, `get_battle`, `get_turn` and a present `get_vote` from memory."""

    def __init__(self, store: Store, size: int = 20_000) -> None:
        self.inner = store
        self._sessions: _Lru[str, SessionRecord] = _Lru(size)
        self._battles: _Lru[str, BattleRecord] = _Lru(size)
        self._turns: _Lru[str, TurnRecord] = _Lru(size)
        self._votes: _Lru[str, VoteRecord] = _Lru(size)
        self._voted_turns: _Lru[str, list[TurnRecord]] = _Lru(size)
        self._done_episodes: _Lru[str, list[EpisodeRecord]] = _Lru(size)
        self._closed = False

    def _open(self) -> None:
        if self._closed:
            raise StoreError("the store is closed")

    # -- cached: written once, never changed --------------------------------------------------------
    def get_session(self, session_id: str) -> SessionRecord:
        self._open()
        return self._sessions.get(session_id) or self._sessions.put(session_id, self.inner.get_session(session_id))

    def get_battle(self, battle_id: str) -> BattleRecord:
        self._open()
        return self._battles.get(battle_id) or self._battles.put(battle_id, self.inner.get_battle(battle_id))

    def get_turn(self, turn_id: str) -> TurnRecord:
        self._open()
        return self._turns.get(turn_id) or self._turns.put(turn_id, self.inner.get_turn(turn_id))

    def get_vote(self, battle_id: str) -> VoteRecord | None:
        self._open()
        cached = self._votes.get(battle_id)
        if cached is not None:
            return cached
        vote = self.inner.get_vote(battle_id)
        return None if vote is None else self._votes.put(battle_id, vote)

    # -- passed through ------------------------------------------------------------------------------
    def create_session(self, session: SessionRecord, battle: BattleRecord) -> None:
        self.inner.create_session(session, battle)

    def list_sessions_by_voter(self, voter_id: str, limit: int = 50) -> list[SessionRecord]:
        return self.inner.list_sessions_by_voter(voter_id, limit)

    def create_battle(self, battle: BattleRecord) -> BattleRecord:
        return self.inner.create_battle(battle)

    def list_battles(self, session_id: str) -> list[BattleRecord]:
        return self.inner.list_battles(session_id)

    def list_all_battles(self, robot_id: str | None = None, *, after: tuple[float, str] | None = None,
                         limit: int = 500) -> list[BattleRecord]:
        return self.inner.list_all_battles(robot_id, after=after, limit=limit)

    def create_turn(self, turn: TurnRecord, episodes: list[EpisodeRecord]) -> TurnRecord:
        return self.inner.create_turn(turn, episodes)

    def list_turns(self, battle_id: str) -> list[TurnRecord]:
        """From memory once the battle's vote has been seen (and the list read after it)."""
        self._open()
        cached = self._voted_turns.get(battle_id)
        if cached is not None:
            return list(cached)
        final = self._votes.get(battle_id) is not None  # asked before the read: the read comes after the vote
        turns = self.inner.list_turns(battle_id)
        return list(self._voted_turns.put(battle_id, turns)) if final else turns

    def get_episode(self, episode_id: str) -> EpisodeRecord:
        return self.inner.get_episode(episode_id)

    def list_episodes(self, turn_id: str) -> list[EpisodeRecord]:
        """From memory once both sides are done."""
        self._open()
        cached = self._done_episodes.get(turn_id)
        if cached is not None:
            return list(cached)
        episodes = self.inner.list_episodes(turn_id)
        done = len(episodes) == 2 and all(e.status is EpisodeStatus.DONE for e in episodes)
        return list(self._done_episodes.put(turn_id, episodes)) if done else episodes

    def list_battle_episodes(self, battle_id: str) -> list[EpisodeRecord]:
        return self.inner.list_battle_episodes(battle_id)

    def list_unfinished_episodes(self) -> list[EpisodeRecord]:
        return self.inner.list_unfinished_episodes()

    def count_unfinished_episodes(self, voter_id: str) -> int:
        return self.inner.count_unfinished_episodes(voter_id)

    def mark_episode_running(self, episode_id: str, started_at: float) -> None:
        self.inner.mark_episode_running(episode_id, started_at)

    def finish_episode(self, episode_id: str, result: EpisodeResult, trajectory: bytes, finished_at: float) -> None:
        self.inner.finish_episode(episode_id, result, trajectory, finished_at)

    def fail_episode(self, episode_id: str, error: str, finished_at: float) -> None:
        self.inner.fail_episode(episode_id, error, finished_at)

    def get_trajectory(self, episode_id: str) -> bytes:
        return self.inner.get_trajectory(episode_id)

    def record_vote(self, vote: VoteRecord) -> None:
        self.inner.record_vote(vote)

    def list_votes(self, robot_id: str | None = None) -> list[VoteRecord]:
        return self.inner.list_votes(robot_id)

    def count_votes(self, robot_id: str | None = None) -> int:
        return self.inner.count_votes(robot_id)

    def close(self) -> None:
        self._closed = True
        self.inner.close()

    def __getattr__(self, name: str) -> object:
        """Anything an adapter offers beyond the port (e.g. `MongoStore.repair`), from the wrapped store."""
        if name == "inner":  # not set yet (copying, unpickling): no recursion through __getattr__
            raise AttributeError(name)
        return getattr(self.inner, name)
