"""Persistence: the `Store` port, its adapters, and `open_store(url)` to pick one by URL.

    store = open_store("sqlite:///data/arena.db")     # relative path
    store = open_store("sqlite:////var/lib/arena.db") # absolute path (four slashes)

URLs follow the SQLAlchemy convention: everything after `sqlite:///` is the file path.
"""

from __future__ import annotations

from collections.abc import Callable

from api.store.port import Store
from api.store.sqlite import SqliteStore

__all__ = ["SUPPORTED_SCHEMES", "SqliteStore", "Store", "open_store"]


def _open_sqlite(rest: str) -> Store:
    if not rest.startswith("///") or len(rest) == 3:
        raise ValueError("a SQLite store URL looks like sqlite:///relative/path.db or sqlite:////abs/path.db")
    return SqliteStore(rest[3:])


# scheme -> opener of the text after "scheme:". A mongodb:// adapter (MongoStore) is planned.
_OPENERS: dict[str, Callable[[str], Store]] = {"sqlite": _open_sqlite}
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
            f"unsupported store URL scheme {shown}; supported: sqlite:///PATH "
            "(a mongodb:// adapter is planned but not available yet)"
        )
    return opener(rest)
