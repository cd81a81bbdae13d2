"""Fixtures for the api tests.

`store` is parametrized over every `Store` adapter, so the contract suite runs once per adapter:
SQLite in the test's tmp_path, and MongoStore on a fresh database of the session's nx-27017 server
(or of the real MongoDB that `ARENA_TEST_MONGO_URL` names; see tests/support/mongo_server.py).
To add an adapter, add a factory to `STORE_FACTORIES`; no test changes.

The app fixtures (`client`, `make_client`, `build_app`) and helpers (`new_battle`, `play_turn`,
`wait_turn`, `read_stream`) serve the HTTP/WebSocket tests; apps keep their data in the test's tmp_path.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.exceptions import WebSocketDisconnect
from litestar.testing import TestClient

from api.app import create_app
from api.config import Settings
from api.live.memory import MemoryLiveBus
from api.live.port import LiveBus
from api.live.redis import RedisLiveBus
from api.store import SqliteStore, Store
from api.store.cached import CachedReads
from tests.support.mongo_server import scratch_store


def _sqlite(tmp_path: Path) -> Store:
    return SqliteStore(tmp_path / "arena.db")


def _mongo(tmp_path: Path) -> Store:
    return scratch_store()  # a fresh database, dropped when the fixture closes the store


def _cached(tmp_path: Path) -> Store:
    return CachedReads(SqliteStore(tmp_path / "arena.db"))  # what API processes use (api.deploy)


STORE_FACTORIES: dict[str, Callable[[Path], Store]] = {"sqlite": _sqlite, "mongo": _mongo, "sqlite-cached": _cached}


@pytest.fixture(params=sorted(STORE_FACTORIES))
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A fresh, empty store of each adapter kind, closed after the test."""
    opened = STORE_FACTORIES[request.param](tmp_path)
    yield opened
    opened.close()


@pytest.fixture(params=["memory", "redis"])
def bus(request: pytest.FixtureRequest) -> Iterator[LiveBus]:
    """A fresh `LiveBus` of each adapter kind: in memory, and on the session's redis-server."""
    if request.param == "memory":
        yield MemoryLiveBus()
    else:
        yield RedisLiveBus(request.getfixturevalue("redis_client"), prefix=request.getfixturevalue("redis_prefix"),
                           block_ms=100)


# ---- the HTTP/WebSocket app (tests/api/test_app.py, test_streaming.py, test_identity_leak.py) ----------

TURN_TIMEOUT_S = 60.0
RED_CUBE = "pick up the red cube"


def _create_app(settings: Settings) -> Litestar:
    return create_app(settings)  # any deprecation warning while building the app fails the test


@pytest.fixture(scope="session")
def build_app() -> Callable[[Settings], Litestar]:
    """`build_app(settings)`: `api.app.create_app`, for tests that manage the app's lifetime themselves."""
    return _create_app


@pytest.fixture
def make_client(tmp_path: Path) -> Iterator[Callable[..., TestClient]]:
    """Start apps with test settings (startup hooks run); every one is shut down after the test.

    Keyword arguments override `Settings`; the default data dir is `tmp_path`.
    """
    with ExitStack() as stack:

        def make(**overrides: Any) -> TestClient:
            # Unpaced streams by default (pacing has its own tests), so turns end as fast as they run.
            settings = Settings(**{"data_dir": str(tmp_path), "leaderboard_rounds": 20, "stream_pace": 0.0,
                                   **overrides})
            return stack.enter_context(TestClient(_create_app(settings)))

        yield make


@pytest.fixture
def client(make_client: Callable[..., TestClient]) -> TestClient:
    """A running app on a fresh data dir."""
    return make_client()


def _wait_turn(client: TestClient, turn_id: str, timeout: float = TURN_TIMEOUT_S) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        response = client.get(f"/api/turns/{turn_id}")
        assert response.status_code == 200, response.text
        view = response.json()
        if view["status"] != "running":
            return view
        assert time.monotonic() < deadline, f"turn {turn_id} still running after {timeout} s: {view}"
        time.sleep(0.02)


def _new_battle(client: TestClient, robot_id: str = "franka", scene_id: str = "table") -> str:
    response = client.post("/api/sessions", json={"robot_id": robot_id, "scene_id": scene_id})
    assert response.status_code == 201, response.text
    return response.json()["battle"]["battle_id"]


def _play_turn(client: TestClient, battle_id: str, instruction: str = RED_CUBE,
               max_steps: int | None = None, start: str | None = None) -> dict:
    body: dict[str, Any] = {"instruction": instruction}
    if max_steps is not None:
        body["max_steps"] = max_steps
    if start is not None:
        body["start"] = start
    response = client.post(f"/api/battles/{battle_id}/turns", json=body)
    assert response.status_code == 202, response.text
    return _wait_turn(client, response.json()["turn_id"])


def _read_stream(client: TestClient, episode_id: str, timeout: float = TURN_TIMEOUT_S) -> list[bytes]:
    """Every binary message of an episode stream, until the server closes it normally."""
    messages: list[bytes] = []
    with client.websocket_connect(f"/api/episodes/{episode_id}/stream") as ws:
        while True:
            try:
                message = ws.receive(timeout=timeout)
            except WebSocketDisconnect as exc:
                closed = exc
                break
            messages.append(message["bytes"])
    assert closed.code == 1000, f"stream closed with {closed.code}: {closed.detail}"
    return messages


@pytest.fixture
def wait_turn() -> Callable[..., dict]:
    """`wait_turn(client, turn_id)`: poll the turn until it is no longer running; returns its view."""
    return _wait_turn


@pytest.fixture
def new_battle() -> Callable[..., str]:
    """`new_battle(client)`: create a session (franka, table); returns its first battle's id."""
    return _new_battle


@pytest.fixture
def play_turn() -> Callable[..., dict]:
    """`play_turn(client, battle_id, instruction=..., max_steps=None)`: run a turn to its end."""
    return _play_turn


@pytest.fixture
def read_stream() -> Callable[..., list[bytes]]:
    """`read_stream(client, episode_id)`: all messages of the episode's WebSocket stream."""
    return _read_stream
