"""Persistence: the `Store` port, its adapters, and `open_store(url)` to pick one by URL.

    store = open_store("sqlite:///data/arena.db")     # relative path
    store = open_store("sqlite:////var/lib/arena.db") # absolute path (four slashes)
    store = open_store("mongodb://127.0.0.1:27017/arena")  # MongoStore on database "arena"

SQLite URLs follow the SQLAlchemy convention: everything after `sqlite:///` is the file path.
MongoDB URLs are pymongo's connection strings and must name the database; their options (e.g.
`?w=1&journal=false`, `replicaSet=rs0`) apply, and writes default to w=majority, j=true. The
MongoDB adapter needs the `scale` extra (pymongo), imported only when such a URL is opened.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from api.store.port import Store
from api.store.sqlite import SqliteStore
from schemas.errors import MissingDependencyError

__all__ = ["SUPPORTED_SCHEMES", "SqliteStore", "Store", "open_store"]


def _open_mongo(scheme: str, rest: str) -> Store:
    try:
        from api.store.mongo import MongoStore
    except ImportError:
        raise MissingDependencyError("pymongo", "pip install 'vla-arena[scale]'") from None
    return MongoStore.from_url(f"{scheme}:{rest}")


def _open_sqlite(rest: str) -> Store:
    if not rest.startswith("///") or len(rest) == 3:
        raise ValueError("a SQLite store URL looks like sqlite:///relative/path.db or sqlite:////abs/path.db")
    return SqliteStore(rest[3:])


# scheme -> opener of the text after "scheme:".
_OPENERS: dict[str, Callable[[str], Store]] = {
    "sqlite": _open_sqlite,
    "mongodb": partial(_open_mongo, "mongodb"),
    "mongodb+srv": partial(_open_mongo, "mongodb+srv"),
}
SUPPORTED_SCHEMES = tuple(_OPENERS)


def open_store(url: str) -> Store:
    """Open the store a URL names; `ValueError` for an unknown scheme.

    Only the scheme is echoed in errors, so credentials in a URL never reach a log.
    """
    scheme, sep, rest = url.partition(":")
    opener = _OPENERS.get(scheme.lower()) if sep else None
    if opener is None:
        shown = f"{scheme}://" if sep else "(none)"
        raise ValueError(
            f"unsupported store URL scheme {shown}; supported: sqlite:///PATH, mongodb://HOST:PORT/DATABASE"
        )
    return opener(rest)
