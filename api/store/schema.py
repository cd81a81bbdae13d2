"""SQLite schema and its migrations, versioned by `PRAGMA user_version`.

`MIGRATIONS[i]` takes a database from version `i` to `i + 1`; a fresh file is version 0. To change
the schema, append a migration (never edit a released one) and old files upgrade on open.
"""

from __future__ import annotations

import sqlite3

from schemas.errors import StoreError


def _renumber(table: str, parent: str) -> tuple[str, ...]:
    """Statements that set `seq` to 0..n-1 within each `parent`, ordered by (seq, rowid)."""
    return (
        f"""CREATE TEMP TABLE renumbered AS SELECT rowid AS row,
            row_number() OVER (PARTITION BY {parent} ORDER BY seq, rowid) - 1 AS seq FROM {table}""",
        f"UPDATE {table} SET seq = (SELECT r.seq FROM renumbered AS r WHERE r.row = {table}.rowid)",
        "DROP TABLE renumbered",
    )


MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE sessions (
            id TEXT PRIMARY KEY, robot_id TEXT NOT NULL, scene_id TEXT NOT NULL,
            created_at REAL NOT NULL, voter_id TEXT)""",
        "CREATE INDEX sessions_by_voter ON sessions (voter_id, created_at)",
        """CREATE TABLE battles (
            id TEXT PRIMARY KEY, session_id TEXT NOT NULL, seq INTEGER NOT NULL,
            robot_id TEXT NOT NULL, scene_id TEXT NOT NULL, left_policy TEXT NOT NULL,
            right_policy TEXT NOT NULL, created_at REAL NOT NULL)""",
        "CREATE INDEX battles_by_session ON battles (session_id, seq)",
        """CREATE TABLE turns (
            id TEXT PRIMARY KEY, battle_id TEXT NOT NULL, seq INTEGER NOT NULL,
            instruction TEXT NOT NULL, seed INTEGER NOT NULL, max_steps INTEGER NOT NULL,
            created_at REAL NOT NULL)""",
        "CREATE INDEX turns_by_battle ON turns (battle_id, seq)",
        # `result` is EpisodeResult as JSON; `trajectory_sha256` keys into `blobs` once DONE.
        """CREATE TABLE episodes (
            id TEXT PRIMARY KEY, turn_id TEXT NOT NULL, battle_id TEXT NOT NULL,
            side TEXT NOT NULL, policy TEXT NOT NULL, status TEXT NOT NULL,
            created_at REAL NOT NULL, started_at REAL, finished_at REAL,
            result TEXT, error TEXT, trajectory_sha256 TEXT)""",
        "CREATE INDEX episodes_by_turn ON episodes (turn_id)",
        "CREATE INDEX episodes_by_battle ON episodes (battle_id)",
        "CREATE INDEX episodes_by_status ON episodes (status)",
        "CREATE TABLE blobs (sha256 TEXT PRIMARY KEY, size INTEGER NOT NULL, data BLOB NOT NULL)",
        # UNIQUE(battle_id) is what makes a vote exactly-once, whoever races.
        """CREATE TABLE votes (
            id TEXT PRIMARY KEY, battle_id TEXT NOT NULL UNIQUE, session_id TEXT NOT NULL,
            robot_id TEXT NOT NULL, scene_id TEXT NOT NULL, left_policy TEXT NOT NULL,
            right_policy TEXT NOT NULL, choice TEXT NOT NULL, created_at REAL NOT NULL)""",
        "CREATE INDEX votes_by_time ON votes (created_at)",
        "CREATE INDEX votes_by_robot ON votes (robot_id, created_at)",
    ),
    (
        # Voter identity, vote details and where a turn's initial states came from (all defaulted).
        "ALTER TABLE votes ADD COLUMN voter_id TEXT",
        "ALTER TABLE votes ADD COLUMN left_progress REAL",
        "ALTER TABLE votes ADD COLUMN right_progress REAL",
        "ALTER TABLE votes ADD COLUMN note TEXT",
        "ALTER TABLE votes ADD COLUMN flags TEXT NOT NULL DEFAULT '[]'",  # JSON list of strings
        "ALTER TABLE turns ADD COLUMN start TEXT NOT NULL DEFAULT 'reset'",
        "ALTER TABLE episodes ADD COLUMN voter_id TEXT",
        "CREATE INDEX episodes_by_voter ON episodes (voter_id, status)",
        # Turn and battle numbers become unique. Older code could store duplicates under concurrency:
        # renumber each battle's turns (and each session's battles) 0..n-1 by (seq, insertion order).
        *_renumber("turns", "battle_id"),
        *_renumber("battles", "session_id"),
        "DROP INDEX turns_by_battle",
        "DROP INDEX battles_by_session",
        "CREATE UNIQUE INDEX turns_seq ON turns (battle_id, seq)",
        "CREATE UNIQUE INDEX battles_seq ON battles (session_id, seq)",
    ),
)

SCHEMA_VERSION = len(MIGRATIONS)


def user_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection) -> None:
    """Bring the database to `SCHEMA_VERSION` in one transaction (caller holds a write lock)."""
    version = user_version(conn)
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"database schema version {version} is newer than this code supports ({SCHEMA_VERSION})"
        )
    for target in range(version, SCHEMA_VERSION):
        for statement in MIGRATIONS[target]:
            conn.execute(statement)
    if version != SCHEMA_VERSION:
        # PRAGMA takes no bound parameters; SCHEMA_VERSION is an int we own.
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION:d}")
