"""A MongoDB wire-protocol server for the tests: `nx-27017` (PyPI, MIT; MongoDB's protocol over SQLite),
started as a subprocess on a free port with its own data dir, PID file and log file, and stopped again.

    with MongoServer(tmp_path) as server:
        store = MongoStore.from_url(server.url("arena"))

`kill()` (SIGKILL) and `start()` keep the port and the data dir, so a test can crash the server and
bring it back on the same files. `database_url()` (and the `mongo_url` fixture) names a fresh
database on one server shared by the test session, started on first use; when `ARENA_TEST_MONGO_URL`
is set (e.g. mongodb://127.0.0.1:27017) the tests use that real MongoDB instead. What nx-27017 does
differently from MongoDB, and what the adapter therefore avoids, is in `api.store.mongo_docs`.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

import pymongo
import pytest
from pymongo import uri_parser
from pymongo.errors import PyMongoError

from api.store.mongo import MongoStore

STARTUP_TIMEOUT_S = 30.0
URL_ENV = "ARENA_TEST_MONGO_URL"
_LAUNCH = "import sys; from nx_27017.nx_27017 import main; sys.exit(main())"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class MongoServer:
    """One nx-27017 process on 127.0.0.1; one SQLite file per database under `root/data`."""

    def __init__(self, root: Path, port: int | None = None) -> None:
        self.root, self.port = Path(root), port or free_port()
        self.process: subprocess.Popen[bytes] | None = None
        (self.root / "data").mkdir(parents=True, exist_ok=True)

    def url(self, database: str) -> str:
        return f"mongodb://127.0.0.1:{self.port}/{database}"

    @property
    def log(self) -> Path:
        return self.root / "nx-27017.log"

    def start(self) -> MongoServer:
        cmd = [sys.executable, "-c", _LAUNCH, "--data-dir", str(self.root / "data"), "--host", "127.0.0.1",
               "-p", str(self.port), "--log-file", str(self.log), "--pid-file", str(self.root / "nx-27017.pid")]
        with (self.root / "stderr.log").open("ab") as stderr:
            self.process = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=stderr, start_new_session=True)
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"nx-27017 exited with {self.process.returncode}: {self.output()}")
            if self.ping():
                return
            time.sleep(0.05)
        raise RuntimeError(f"nx-27017 not ready after {STARTUP_TIMEOUT_S} s: {self.output()}")

    def ping(self) -> bool:
        client: pymongo.MongoClient[dict] = pymongo.MongoClient(
            "127.0.0.1", self.port, serverSelectionTimeoutMS=300, connectTimeoutMS=300)
        try:
            client.admin.command("ping")
            return True
        except PyMongoError:
            return False
        finally:
            client.close()

    def output(self) -> str:
        parts = [p.read_text(errors="replace")[-3000:] for p in (self.log, self.root / "stderr.log") if p.is_file()]
        return "\n".join(parts) or "(no log)"

    def kill(self) -> None:
        """SIGKILL: no chance to flush or clean up (the PID file stays behind, as after a real crash)."""
        self.stop(signal.SIGKILL)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None

    def __enter__(self) -> MongoServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class ScratchMongoStore(MongoStore):
    """A MongoStore on a throwaway database that is dropped when the store closes."""

    def close(self) -> None:
        if not self._closed:
            with contextlib.suppress(PyMongoError):
                self._client.drop_database(self.database)
        super().close()


def scratch_store() -> MongoStore:
    """A MongoStore on a fresh database of the session's MongoDB, dropped again by `close()`."""
    return ScratchMongoStore.from_url(database_url())


_shared: MongoServer | None = None


def _stop_shared(server: MongoServer) -> None:
    server.stop()
    shutil.rmtree(server.root, ignore_errors=True)


def database_url(database: str | None = None) -> str:
    """A URL for `database` (default: a fresh random name) on the session's MongoDB: the one that
    `ARENA_TEST_MONGO_URL` names, else an nx-27017 started on first use and stopped at exit."""
    global _shared
    name = database or f"t{secrets.token_hex(6)}"
    real = os.environ.get(URL_ENV)
    if real:
        base, sep, query = real.partition("?")
        scheme, _, rest = base.partition("://")
        return f"{scheme}://{rest.split('/', 1)[0]}/{name}{sep}{query}"
    if _shared is None:
        _shared = MongoServer(Path(tempfile.mkdtemp(prefix="arena-mongo-"))).start()
        atexit.register(_stop_shared, _shared)
    return _shared.url(name)


def drop_database(url: str) -> None:
    client: pymongo.MongoClient[dict] = pymongo.MongoClient(url, serverSelectionTimeoutMS=2000)
    try:
        with contextlib.suppress(PyMongoError):
            client.drop_database(uri_parser.parse_uri(url)["database"])
    finally:
        client.close()


def with_options(url: str, options: str) -> str:
    """`url` with query options (`"w=1&journal=false"`) added, replacing any of the same name."""
    base, _, query = url.partition("?")
    merged = dict(parse_qsl(query)) | dict(parse_qsl(options))
    return f"{base}?{urlencode(merged)}"


@pytest.fixture
def mongo_url() -> Iterator[str]:
    """A fresh, empty database on the session's MongoDB (see `database_url`), dropped afterwards."""
    url = database_url()
    yield url
    drop_database(url)


@pytest.fixture
def make_mongo_server(tmp_path: Path) -> Iterator[Callable[[], MongoServer]]:
    """`make_mongo_server()`: a private, started nx-27017 (for tests that kill it); all stopped afterwards."""
    started: list[MongoServer] = []

    def make() -> MongoServer:
        server = MongoServer(tmp_path / f"mongo{len(started)}")
        started.append(server)
        return server.start()

    yield make
    for server in started:
        with contextlib.suppress(Exception):
            server.kill()
