"""Fixtures for the api tests.

`store` is parametrized over every `Store` adapter, so the contract suite runs once per adapter.
To add one (e.g. MongoStore against a real mongod the run starts itself), add a factory to
`STORE_FACTORIES`; no test changes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from api.store import SqliteStore, Store


def _sqlite(tmp_path: Path) -> Store:
    return SqliteStore(tmp_path / "arena.db")


STORE_FACTORIES: dict[str, Callable[[Path], Store]] = {"sqlite": _sqlite}


@pytest.fixture(params=sorted(STORE_FACTORIES))
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A fresh, empty store of each adapter kind, closed after the test."""
    opened = STORE_FACTORIES[request.param](tmp_path)
    yield opened
    opened.close()
