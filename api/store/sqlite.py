"""`SqliteStore`: the embedded default `Store`, one SQLite file in WAL mode with synchronous=FULL.

Records map to one table each, column for field (enums as their string values); the nested
`EpisodeResult` and `VoteRecord.flags` are msgspec-JSON columns. Turn and battle numbers (`seq`) are
assigned inside the inserting transaction and guarded by UNIQUE indexes; `create_turn` and
`record_vote` both run under SQLite's single write lock, which makes "no turn after the vote" atomic.
Trajectories live in `blobs`, keyed by sha256, so two episodes with identical bytes share one row.
See `sqlite_conn` for the threading model.
"""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path
from typing import Any, TypeVar

import msgspec

from api.store.schema import migrate
from api.store.sqlite_conn import DEFAULT_BUSY_TIMEOUT_S, ConnectionPool, driver_errors
from schemas.errors import AlreadyVotedError, NotFoundError, StoreError, ValidationError
from schemas.records import (
    BattleRecord,
    EpisodeRecord,
    EpisodeResult,
    EpisodeStatus,
    SessionRecord,
    TurnRecord,
    VoteRecord,
)

R = TypeVar("R", bound=msgspec.Struct)

_TABLES: dict[type[msgspec.Struct], str] = {
    SessionRecord: "sessions",
    BattleRecord: "battles",
    TurnRecord: "turns",
    EpisodeRecord: "episodes",
    VoteRecord: "votes",
}
_KINDS = {SessionRecord: "session", BattleRecord: "battle", TurnRecord: "turn", EpisodeRecord: "episode"}
_COLUMNS = {cls: tuple(f.name for f in msgspec.structs.fields(cls)) for cls in _TABLES}
_SELECT = {cls: f"SELECT {', '.join(cols)} FROM {_TABLES[cls]}" for cls, cols in _COLUMNS.items()}
_INSERT = {
    cls: f"INSERT INTO {_TABLES[cls]} ({', '.join(cols)}) VALUES ({', '.join(':' + c for c in cols)})"
    for cls, cols in _COLUMNS.items()
}
_EPISODE_ORDER = "CASE side WHEN 'left' THEN 0 ELSE 1 END, rowid"
_SET_STATE = (
    "UPDATE episodes SET status = :status, started_at = COALESCE(:started_at, started_at), "
    "finished_at = :finished_at, result = :result, error = :error, trajectory_sha256 = :sha "
    "WHERE id = :id"
)
_UNFINISHED = "status IN ('queued', 'running')"
_JSON_COLUMNS = {EpisodeRecord: ("result",), VoteRecord: ("flags",)}
_result_json = msgspec.json.Encoder()
_json_value = msgspec.json.Decoder(Any)


def _row(record: msgspec.Struct) -> dict[str, Any]:
    """Record -> named SQL parameters (enums become their values, nested values become JSON)."""
    row: dict[str, Any] = msgspec.to_builtins(record)
    for column in _JSON_COLUMNS.get(type(record), ()):
        value = getattr(record, column)
        row[column] = None if value is None else _result_json.encode(value).decode()
    return row


def _record(cls: type[R], columns: tuple[str, ...], values: sqlite3.Row | tuple[Any, ...]) -> R:
    data = dict(zip(columns, values, strict=True))
    for column in _JSON_COLUMNS.get(cls, ()):
        if data[column] is not None:
            data[column] = _json_value.decode(data[column])
    return msgspec.convert(data, cls)


def _next_seq(conn: sqlite3.Connection, table: str, parent: str, parent_id: str) -> int:
    """The next free number under `parent_id` (callers hold the write lock, so it stays free)."""
    found = conn.execute(f"SELECT COALESCE(MAX(seq) + 1, 0) FROM {table} WHERE {parent} = ?", (parent_id,))
    return int(found.fetchone()[0])


class SqliteStore:
    """A `Store` on one SQLite file (created, with parent directories, if missing).

    Durability: WAL journal + `synchronous=FULL`, so once a write method returns, the write survives
    a process crash or power loss. Safe to share between threads and processes.
    """

    def __init__(self, path: str | Path, *, busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create directory for {self.path}: {exc}") from exc
        self._pool = ConnectionPool(self.path, busy_timeout_s)
        try:
            self._initialize()
        except BaseException:
            self._pool.close()
            raise

    def _initialize(self) -> None:
        with self._pool.connection() as conn:
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise StoreError(f"{self.path}: cannot enable WAL journal mode (got {mode!r})")
        with self._pool.transaction() as conn:
            migrate(conn)

    # -- generic helpers --------------------------------------------------------------------------
    def _insert(self, conn: sqlite3.Connection, record: msgspec.Struct) -> None:
        conn.execute(_INSERT[type(record)], _row(record))

    def _get(self, cls: type[R], ident: str) -> R:
        with self._pool.connection() as conn:
            found = conn.execute(f"{_SELECT[cls]} WHERE id = ?", (ident,)).fetchone()
        if found is None:
            raise NotFoundError(_KINDS[cls], ident)
        return _record(cls, _COLUMNS[cls], found)

    def _list(self, cls: type[R], where: str, params: tuple[Any, ...]) -> list[R]:
        with self._pool.connection() as conn:
            rows = conn.execute(f"{_SELECT[cls]} {where}", params).fetchall()
        return [_record(cls, _COLUMNS[cls], row) for row in rows]

    def _count(self, query: str, params: tuple[Any, ...]) -> int:
        with self._pool.connection() as conn:
            return int(conn.execute(query, params).fetchone()[0])

    def _insert_battle(self, conn: sqlite3.Connection, battle: BattleRecord) -> BattleRecord:
        stored = msgspec.structs.replace(battle, seq=_next_seq(conn, "battles", "session_id", battle.session_id))
        self._insert(conn, stored)
        return stored

    def _set_state(self, episode_id: str, **state: Any) -> None:
        with self._pool.transaction() as conn:
            self._update_episode(conn, episode_id, state)

    @staticmethod
    def _update_episode(conn: sqlite3.Connection, episode_id: str, state: dict[str, Any]) -> None:
        params = {"started_at": None, "finished_at": None, "result": None, "error": None, "sha": None}
        params |= state
        if conn.execute(_SET_STATE, {**params, "id": episode_id}).rowcount == 0:
            raise NotFoundError("episode", episode_id)

    # -- sessions and battles -------------------------------------------------------------------
    def create_session(self, session: SessionRecord, battle: BattleRecord) -> None:
        with self._pool.transaction() as conn:
            self._insert(conn, session)
            self._insert_battle(conn, battle)

    def get_session(self, session_id: str) -> SessionRecord:
        return self._get(SessionRecord, session_id)

    def list_sessions_by_voter(self, voter_id: str, limit: int = 50) -> list[SessionRecord]:
        where = "WHERE voter_id = ? ORDER BY created_at DESC, rowid DESC LIMIT ?"
        return self._list(SessionRecord, where, (voter_id, max(limit, 0)))

    def create_battle(self, battle: BattleRecord) -> BattleRecord:
        with self._pool.transaction() as conn:
            return self._insert_battle(conn, battle)

    def get_battle(self, battle_id: str) -> BattleRecord:
        return self._get(BattleRecord, battle_id)

    def list_battles(self, session_id: str) -> list[BattleRecord]:
        return self._list(BattleRecord, "WHERE session_id = ? ORDER BY seq, rowid", (session_id,))

    def list_all_battles(self, robot_id: str | None = None, *, after: tuple[float, str] | None = None,
                         limit: int = 500) -> list[BattleRecord]:
        at, ident = after if after is not None else (float("-inf"), "")
        where = "WHERE (?1 IS NULL OR robot_id = ?1) AND (created_at > ?2 OR (created_at = ?2 AND id > ?3))"
        params = (robot_id, at, ident, max(limit, 0))
        return self._list(BattleRecord, f"{where} ORDER BY created_at, id LIMIT ?4", params)

    # -- turns and episodes ---------------------------------------------------------------------
    def create_turn(self, turn: TurnRecord, episodes: list[EpisodeRecord]) -> TurnRecord:
        if any(e.turn_id != turn.id or e.battle_id != turn.battle_id for e in episodes):
            raise ValidationError("episodes", "every episode must name this turn and its battle")
        with self._pool.transaction() as conn:
            # record_vote takes the same write lock, so no vote can land between this check and the commit.
            if conn.execute("SELECT 1 FROM votes WHERE battle_id = ?", (turn.battle_id,)).fetchone():
                raise AlreadyVotedError(turn.battle_id)
            stored = msgspec.structs.replace(turn, seq=_next_seq(conn, "turns", "battle_id", turn.battle_id))
            self._insert(conn, stored)
            for episode in episodes:
                self._insert(conn, episode)
        return stored

    def get_turn(self, turn_id: str) -> TurnRecord:
        return self._get(TurnRecord, turn_id)

    def list_turns(self, battle_id: str) -> list[TurnRecord]:
        return self._list(TurnRecord, "WHERE battle_id = ? ORDER BY seq, rowid", (battle_id,))

    def get_episode(self, episode_id: str) -> EpisodeRecord:
        return self._get(EpisodeRecord, episode_id)

    def list_episodes(self, turn_id: str) -> list[EpisodeRecord]:
        return self._list(EpisodeRecord, f"WHERE turn_id = ? ORDER BY {_EPISODE_ORDER}", (turn_id,))

    def list_battle_episodes(self, battle_id: str) -> list[EpisodeRecord]:
        # Correlated subquery rather than a join so the shared SELECT prefix stays unqualified.
        seq = "(SELECT seq FROM turns WHERE turns.id = episodes.turn_id)"
        where = f"WHERE battle_id = ? ORDER BY {seq}, {_EPISODE_ORDER}"
        return self._list(EpisodeRecord, where, (battle_id,))

    def list_unfinished_episodes(self) -> list[EpisodeRecord]:
        return self._list(EpisodeRecord, f"WHERE {_UNFINISHED} ORDER BY created_at, id", ())

    def count_unfinished_episodes(self, voter_id: str) -> int:
        return self._count(f"SELECT count(*) FROM episodes WHERE voter_id = ? AND {_UNFINISHED}", (voter_id,))

    def mark_episode_running(self, episode_id: str, started_at: float) -> None:
        self._set_state(episode_id, status=EpisodeStatus.RUNNING.value, started_at=started_at)

    def finish_episode(
        self, episode_id: str, result: EpisodeResult, trajectory: bytes, finished_at: float
    ) -> None:
        sha = result.trajectory_sha256
        if hashlib.sha256(trajectory).hexdigest() != sha:
            raise ValidationError("trajectory_sha256", "does not match the sha256 of the trajectory bytes")
        state = {
            "status": EpisodeStatus.DONE.value,
            "finished_at": finished_at,
            "result": _result_json.encode(result).decode(),
            "sha": sha,
        }
        with self._pool.transaction() as conn:
            self._update_episode(conn, episode_id, state)
            conn.execute(
                "INSERT INTO blobs (sha256, size, data) VALUES (?, ?, ?) ON CONFLICT (sha256) DO NOTHING",
                (sha, len(trajectory), trajectory),
            )

    def fail_episode(self, episode_id: str, error: str, finished_at: float) -> None:
        self._set_state(episode_id, status=EpisodeStatus.FAILED.value, finished_at=finished_at, error=error)

    def get_trajectory(self, episode_id: str) -> bytes:
        query = (
            "SELECT b.data FROM episodes e LEFT JOIN blobs b ON b.sha256 = e.trajectory_sha256 WHERE e.id = ?"
        )
        with self._pool.connection() as conn:
            found = conn.execute(query, (episode_id,)).fetchone()
        if found is None:
            raise NotFoundError("episode", episode_id)
        if found[0] is None:
            raise NotFoundError("trajectory", episode_id)
        return bytes(found[0])

    # -- votes ----------------------------------------------------------------------------------
    def record_vote(self, vote: VoteRecord) -> None:
        with self._pool.transaction() as conn:
            try:
                self._insert(conn, vote)
            except sqlite3.IntegrityError:
                # Inside BEGIN IMMEDIATE nobody else can write, so this check is not racy.
                taken = conn.execute("SELECT 1 FROM votes WHERE battle_id = ?", (vote.battle_id,))
                if taken.fetchone() is not None:
                    raise AlreadyVotedError(vote.battle_id) from None
                raise

    def get_vote(self, battle_id: str) -> VoteRecord | None:
        found = self._list(VoteRecord, "WHERE battle_id = ?", (battle_id,))
        return found[0] if found else None

    def list_votes(self, robot_id: str | None = None) -> list[VoteRecord]:
        if robot_id is None:
            return self._list(VoteRecord, "ORDER BY created_at, rowid", ())
        return self._list(VoteRecord, "WHERE robot_id = ? ORDER BY created_at, rowid", (robot_id,))

    def count_votes(self, robot_id: str | None = None) -> int:
        if robot_id is None:
            return self._count("SELECT count(*) FROM votes", ())
        return self._count("SELECT count(*) FROM votes WHERE robot_id = ?", (robot_id,))

    def close(self) -> None:
        with driver_errors():
            self._pool.close()

    def __enter__(self) -> SqliteStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SqliteStore({str(self.path)!r})"
