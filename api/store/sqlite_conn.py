"""SQLite connections for `SqliteStore`: a small thread-safe pool, durable pragmas, transactions,
and the translation of driver errors into the project's error tree.

Threading model: each operation borrows a connection from the pool for its duration, so no
connection is ever used by two threads at once, while readers run concurrently with a writer
(WAL). The pool grows to the peak number of concurrent callers and closes everything on `close()`.
Writers serialize: first on a per-store mutex (cheap queueing within the process), then on SQLite's
own lock, since every write transaction starts with `BEGIN IMMEDIATE` (taking the write lock up
front, so no read-to-write upgrade can deadlock) and waits up to `busy_timeout_s` for it; the
latter also holds across processes sharing one file.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

from schemas.errors import ConflictError, StoreError

DEFAULT_BUSY_TIMEOUT_S = 10.0


@contextlib.contextmanager
def driver_errors() -> Iterator[None]:
    """Re-raise sqlite3 errors as ConflictError (constraint clash) or StoreError (anything else)."""
    try:
        yield
    except sqlite3.IntegrityError as exc:
        raise ConflictError(f"sqlite: {exc}") from exc
    except sqlite3.Error as exc:
        raise StoreError(f"sqlite: {exc}") from exc


def connect(path: Path, busy_timeout_s: float) -> sqlite3.Connection:
    """Open one connection with the durability settings every connection needs."""
    # isolation_level=None: no implicit transactions; we issue BEGIN/COMMIT ourselves.
    conn = sqlite3.connect(path, timeout=busy_timeout_s, isolation_level=None, check_same_thread=False)
    try:
        # FULL: the WAL is fsynced at every commit, so an acknowledged write survives power loss
        # (NORMAL, the usual WAL pairing, may lose the last commits). fullfsync matters on macOS.
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA fullfsync = ON")
    except BaseException:
        conn.close()
        raise
    return conn


class ConnectionPool:
    """Hands each caller a connection of its own; see the module docstring."""

    def __init__(self, path: Path, busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S) -> None:
        self._path = path
        self._busy_timeout_s = busy_timeout_s
        self._idle: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._closed = False

    @contextlib.contextmanager
    def connection(self) -> Iterator[sqlite3.Connection]:
        """Borrow a connection (driver errors translated); it goes back to the pool afterwards."""
        with driver_errors():
            conn = self._checkout()
            try:
                yield conn
            finally:
                self._checkin(conn)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction: committed if the block returns, rolled back if it raises."""
        with self._writer(), self.connection() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    with contextlib.suppress(sqlite3.Error):
                        conn.rollback()
                raise

    @contextlib.contextmanager
    def _writer(self) -> Iterator[None]:
        # SQLite admits one writer at a time anyway; queueing this process's writers on a mutex
        # spares them SQLite's busy handler, which polls with sleeps of up to 100 ms.
        if not self._write_lock.acquire(timeout=self._busy_timeout_s):
            raise StoreError(f"timed out after {self._busy_timeout_s} s waiting to write")
        try:
            yield
        finally:
            self._write_lock.release()

    def close(self) -> None:
        """Close idle connections now and borrowed ones when they come back. Idempotent."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    def _checkout(self) -> sqlite3.Connection:
        with self._lock:
            if self._closed:
                raise StoreError("store is closed")
            if self._idle:
                return self._idle.pop()
        return connect(self._path, self._busy_timeout_s)

    def _checkin(self, conn: sqlite3.Connection) -> None:
        if conn.in_transaction:  # a failed COMMIT/ROLLBACK left it unusable: drop it
            conn.close()
            return
        with self._lock:
            if not self._closed:
                self._idle.append(conn)
                return
        conn.close()
