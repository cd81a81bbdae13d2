"""The `Store` port: everything the arena persists, behind one small synchronous interface.

Adapters (`SqliteStore`, the embedded default, and `MongoStore`) implement it and pass the same
contract suite (`tests/api/test_store_contract*.py`). Relations between records are kept by the
application, not by foreign keys, so every adapter can offer the same guarantees.

Numbering: the store, not the caller, assigns `BattleRecord.seq` (0, 1, ... within the session) and
`TurnRecord.seq` (0, 1, ... within the battle). Numbers are unique under any concurrency; the `seq`
a caller passes in is ignored, and the create methods return the stored record.

Votes close a battle: once `record_vote` has returned, `create_turn` for that battle raises
`AlreadyVotedError`, and no turn created concurrently appears after the vote (the turns a battle has
when its vote is recorded are all it will ever have).

Errors (from `schemas.errors`), identical across adapters:

- `NotFoundError(kind, ident)`: a `get_*`/update names an id that does not exist.
- `AlreadyVotedError`: a battle already has its vote (atomic even under concurrent callers); also
  from `create_turn` on a voted battle.
- `ConflictError`: any other uniqueness clash, e.g. a record id that is already taken.
- `StoreError`: the storage driver failed; no driver exception ever escapes an adapter.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol, runtime_checkable

from schemas.records import (
    BattleRecord,
    EpisodeRecord,
    EpisodeResult,
    SessionRecord,
    TurnRecord,
    VoteRecord,
)


@runtime_checkable
class Store(Protocol):
    """Persistence for sessions, battles, turns, episodes (with trajectories) and votes.

    Every method is safe to call from several threads at once. Every write is atomic: it is either
    fully visible after the call returns, or (when it raises) not at all. One caveat for networked
    adapters: a `StoreError` raised because a reply was lost may follow a write that did commit (as
    with any database over a network); `MongoStore` documents how such half-known writes are repaired.
    """

    # -- sessions and battles -------------------------------------------------------------------
    def create_session(self, session: SessionRecord, battle: BattleRecord) -> None:
        """Store a new session together with its first battle (both or neither).

        The battle's `seq` is assigned as by `create_battle` (0 for a new session)."""
        ...

    def get_session(self, session_id: str) -> SessionRecord: ...

    def list_sessions_by_voter(self, voter_id: str, limit: int = 50) -> list[SessionRecord]:
        """The voter's sessions, newest (largest `created_at`) first, at most `limit`."""
        ...

    def create_battle(self, battle: BattleRecord) -> BattleRecord:
        """Store a battle numbered next in its session (`seq` = 0, 1, ...; the passed `seq` is ignored).

        Returns the stored record. Concurrent calls for one session get distinct numbers."""
        ...

    def get_battle(self, battle_id: str) -> BattleRecord: ...

    def list_battles(self, session_id: str) -> list[BattleRecord]:
        """The session's battles ordered by `seq`; empty for an unknown session."""
        ...

    def list_all_battles(self, robot_id: str | None = None, *, after: tuple[float, str] | None = None,
                         limit: int = 500) -> list[BattleRecord]:
        """Every battle (or one robot's), voted or not, in creation order: by `created_at`, then `id`.

        At most `limit`, and only those whose (`created_at`, `id`) key is greater than `after`: pass the
        last record's key to read the next page (`iter_battles` does). Battles created meanwhile with a
        larger key appear on later pages; nothing is skipped or repeated. (`MongoStore` also lists the
        inert battle a crash in `create_session` can leave: no session, no turns.)"""
        ...

    # -- turns and episodes ---------------------------------------------------------------------
    def create_turn(self, turn: TurnRecord, episodes: list[EpisodeRecord]) -> TurnRecord:
        """Store a turn and its episodes (normally one per side) atomically; return the stored turn.

        The turn is numbered next in its battle (`seq` = 0, 1, ...; the passed `seq` is ignored), unique
        under concurrency. Raises `AlreadyVotedError` if the battle has a vote (atomic with
        `record_vote`), `ConflictError` if an id is taken, `ValidationError` if an episode names
        another turn or battle."""
        ...

    def get_turn(self, turn_id: str) -> TurnRecord: ...

    def list_turns(self, battle_id: str) -> list[TurnRecord]:
        """The battle's turns ordered by `seq`."""
        ...

    def get_episode(self, episode_id: str) -> EpisodeRecord: ...

    def list_episodes(self, turn_id: str) -> list[EpisodeRecord]:
        """The turn's episodes, left side first, then right."""
        ...

    def list_battle_episodes(self, battle_id: str) -> list[EpisodeRecord]:
        """Every episode of the battle, by turn `seq`, left before right within a turn."""
        ...

    def list_unfinished_episodes(self) -> list[EpisodeRecord]:
        """Episodes still QUEUED or RUNNING (oldest first): after a crash these are run again."""
        ...

    def count_unfinished_episodes(self, voter_id: str) -> int:
        """How many of the voter's episodes (`EpisodeRecord.voter_id`) are QUEUED or RUNNING."""
        ...

    def mark_episode_running(self, episode_id: str, started_at: float) -> None:
        """Set status RUNNING (clearing any earlier outcome, so a redelivered job simply reruns)."""
        ...

    def finish_episode(
        self, episode_id: str, result: EpisodeResult, trajectory: bytes, finished_at: float
    ) -> None:
        """Set status DONE with `result`, storing `trajectory` in the same transaction.

        Trajectories are content-addressed by `result.trajectory_sha256` (which must be the sha256
        of `trajectory`, else `ValidationError`), so identical trajectories are stored once.
        """
        ...

    def fail_episode(self, episode_id: str, error: str, finished_at: float) -> None:
        """Set status FAILED with an error message."""
        ...

    def get_trajectory(self, episode_id: str) -> bytes:
        """The finished episode's trajectory bytes.

        Raises `NotFoundError("episode", id)` for an unknown episode and
        `NotFoundError("trajectory", id)` for one that is not DONE.
        """
        ...

    # -- votes ----------------------------------------------------------------------------------
    def record_vote(self, vote: VoteRecord) -> None:
        """Store the battle's one vote; a second raises `AlreadyVotedError`, even when racing.

        From then on `create_turn` for the battle raises `AlreadyVotedError` (see the module docstring).
        A vote id already used by another battle raises `ConflictError`."""
        ...

    def get_vote(self, battle_id: str) -> VoteRecord | None: ...

    def list_votes(self, robot_id: str | None = None) -> list[VoteRecord]:
        """All votes (or one robot's), in chronological order (`created_at`, then insertion)."""
        ...

    def count_votes(self, robot_id: str | None = None) -> int:
        """How many votes there are (or for one robot); cheap, to decide when to refit the ratings."""
        ...

    def close(self) -> None:
        """Release connections; later calls raise `StoreError`. Idempotent."""
        ...


def iter_battles(store: Store, robot_id: str | None = None, *, page: int = 500) -> Iterator[BattleRecord]:
    """Every battle (or one robot's) in creation order, read `page` records at a time (bounded memory)."""
    after: tuple[float, str] | None = None
    while True:
        batch = store.list_all_battles(robot_id, after=after, limit=page)
        yield from batch
        if len(batch) < page:
            return
        after = (batch[-1].created_at, batch[-1].id)
