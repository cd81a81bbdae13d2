"""SQLite-only checks of `SqliteStore`: on-disk layout, pragmas, schema migrations, `open_store` URLs."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from api.store import SqliteStore, open_store
from api.store.schema import MIGRATIONS, SCHEMA_VERSION
from schemas.errors import AlreadyVotedError, StoreError
from schemas.records import TurnRecord
from tests.api.store_records import battle, result_for, run_threads, seed_turn, turn, vote


def test_sqlite_file_settings_and_blob_dedup(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "arena.db"
    with SqliteStore(path) as store:
        seed_turn(store)
        data = b"same bytes" * 100
        store.finish_episode("e-l", result_for(data), data, finished_at=1.0)
        store.finish_episode("e-r", result_for(data), data, finished_at=1.0)
    raw = sqlite3.connect(path)
    try:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert raw.execute("SELECT count(*), sum(size) FROM blobs").fetchone() == (1, len(data))
        assert raw.execute("SELECT status, side FROM episodes ORDER BY side").fetchall() == [
            ("done", "left"),
            ("done", "right"),
        ]
    finally:
        raw.close()


def test_sqlite_connections_use_synchronous_full(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "arena.db")
    with store._pool.connection() as conn:
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    store.close()


def test_sqlite_reopen_keeps_data(tmp_path: Path) -> None:
    with SqliteStore(tmp_path / "arena.db") as first:
        first.record_vote(vote("v1"))
    with SqliteStore(tmp_path / "arena.db") as second:
        assert second.get_vote("b1") == vote("v1")


def test_sqlite_votes_race_across_store_instances(tmp_path: Path) -> None:
    """Two stores on one file share no mutex (like two processes): the UNIQUE index still decides."""
    first, second = SqliteStore(tmp_path / "arena.db"), SqliteStore(tmp_path / "arena.db")
    try:
        outcomes = run_threads(12, lambda i: (first, second)[i % 2].record_vote(vote(f"v{i}")))
        assert sum(o is None for o in outcomes) == 1
        assert all(isinstance(o, AlreadyVotedError) for o in outcomes if o is not None)
        assert first.list_votes() == second.list_votes()
    finally:
        first.close()
        second.close()


def test_sqlite_turn_numbers_and_vote_race_across_store_instances(tmp_path: Path) -> None:
    """Across stores on one file (like processes), turn numbers stay unique and no turn follows the vote."""
    first, second = SqliteStore(tmp_path / "arena.db"), SqliteStore(tmp_path / "arena.db")
    try:
        made = run_threads(12, lambda i: (first, second)[i % 2].create_turn(turn(f"t{i}"), []))
        assert sorted(t.seq for t in made) == list(range(12))

        def turn_or_vote(i: int) -> object:
            store = (first, second)[i % 2]
            if i == 0:
                store.record_vote(vote("v"))
                return [t.id for t in store.list_turns("b1")]  # what the voter saw once acknowledged
            return store.create_turn(turn(f"late{i}"), [])

        outcomes = run_threads(8, turn_or_vote)
        assert [t.id for t in second.list_turns("b1")] == outcomes[0]
        assert all(isinstance(o, TurnRecord | AlreadyVotedError) for o in outcomes[1:]), outcomes
        with pytest.raises(AlreadyVotedError):
            first.create_turn(turn("after"), [])
    finally:
        first.close()
        second.close()


def test_sqlite_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "arena.db"
    SqliteStore(path).close()
    raw = sqlite3.connect(path)
    raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    raw.close()
    with pytest.raises(StoreError, match="newer"):
        SqliteStore(path)


def test_sqlite_version_1_database_upgrades_on_open(tmp_path: Path) -> None:
    """A file written by the first release (duplicate numbers from its race included) opens, is
    renumbered 0..n-1 in (seq, insertion) order, and old rows read with the newer fields' defaults."""
    path = tmp_path / "old.db"
    raw = sqlite3.connect(path)
    for statement in MIGRATIONS[0]:
        raw.execute(statement)
    raw.execute("PRAGMA user_version = 1")
    for tid, seq in [("t-a", 0), ("t-b", 1), ("t-c", 1), ("t-d", 1), ("t-e", 0)]:
        raw.execute("INSERT INTO turns VALUES (?, 'b1', ?, 'go', 1, 10, 1.0)", (tid, seq))
    for bid in ["b1", "b2", "b3"]:
        raw.execute("INSERT INTO battles VALUES (?, 's1', 0, 'panda', 'kitchen', 'pi0', 'octo', 1.0)", (bid,))
    raw.execute("INSERT INTO episodes (id, turn_id, battle_id, side, policy, status, created_at) "
                "VALUES ('e', 't-a', 'b1', 'left', 'pi0', 'queued', 1.0)")
    raw.execute("INSERT INTO votes VALUES ('v', 'b9', 's1', 'panda', 'kitchen', 'pi0', 'octo', 'tie', 2.0)")
    raw.commit()
    raw.close()
    with SqliteStore(path) as store:
        assert [(t.id, t.seq, t.start) for t in store.list_turns("b1")] == [
            ("t-a", 0, "reset"), ("t-e", 1, "reset"), ("t-b", 2, "reset"), ("t-c", 3, "reset"), ("t-d", 4, "reset")]
        assert [(b.id, b.seq) for b in store.list_battles("s1")] == [("b1", 0), ("b2", 1), ("b3", 2)]
        assert store.get_episode("e").voter_id is None
        old_vote = store.get_vote("b9")
        assert old_vote is not None
        assert (old_vote.voter_id, old_vote.flags, old_vote.note, old_vote.left_progress) == (None, [], None, None)
        assert store.create_turn(turn("t-new"), []).seq == 5
        assert store.create_battle(battle("b4")).seq == 3
    check = sqlite3.connect(path)
    try:
        assert check.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 2
        with pytest.raises(sqlite3.IntegrityError):  # the numbers are now a constraint of the file itself
            check.execute("INSERT INTO turns (id, battle_id, seq, instruction, seed, max_steps, created_at) "
                          "VALUES ('dup', 'b1', 0, 'go', 1, 10, 1.0)")
    finally:
        check.close()


def test_sqlite_driver_errors_become_store_error(tmp_path: Path) -> None:
    path = tmp_path / "garbage.db"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError):
        SqliteStore(path)


@pytest.mark.parametrize("prefix", ["sqlite:///", "SQLITE:///"])
def test_open_store_sqlite_url(tmp_path: Path, prefix: str) -> None:
    store = open_store(f"{prefix}{tmp_path}/via-url.db")  # tmp_path is absolute: four slashes in all
    try:
        assert isinstance(store, SqliteStore)
        assert store.path == tmp_path / "via-url.db"
    finally:
        store.close()


@pytest.mark.parametrize("url", ["postgres://user:secret@host/arena", "arena.db", "sqlite://"])
def test_open_store_rejects_unknown_urls(url: str) -> None:
    with pytest.raises(ValueError, match="sqlite") as info:
        open_store(url)
    assert "secret" not in str(info.value)


def test_open_store_error_mentions_mongodb() -> None:
    with pytest.raises(ValueError, match="mongodb://"):
        open_store("redis://localhost")
