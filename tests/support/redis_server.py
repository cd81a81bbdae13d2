"""A real `redis-server` (the Debian package) that the tests start on a free port and stop again.

    with RedisServer(tmp_path) as server:
        client = redis.Redis.from_url(server.url)

`stop()` / `start()` keep the port and the data dir, so a test can take Redis away and bring it back
(with `appendonly` on, what was written before the stop is still there). The `redis_server` fixture
is one server for the whole test session; tests keep apart by key prefix (`redis_prefix`).
"""

from __future__ import annotations

import contextlib
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis

STARTUP_TIMEOUT_S = 10.0


def redis_binary() -> str | None:
    return shutil.which("redis-server") or next(
        (p for p in ("/usr/bin/redis-server", "/usr/local/bin/redis-server") if Path(p).is_file()), None)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RedisServer:
    """One redis-server process on 127.0.0.1, data (append-only file) and log under `data_dir`."""

    def __init__(self, data_dir: Path, port: int | None = None, *, appendonly: bool = True) -> None:
        binary = redis_binary()
        if binary is None:
            raise RuntimeError("redis-server is not installed: apt-get install redis-server (scripts/dev does it)")
        self.binary, self.data_dir, self.port = binary, Path(data_dir), port or free_port()
        self.appendonly = appendonly
        self.process: subprocess.Popen[bytes] | None = None
        self.data_dir.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def log(self) -> Path:
        return self.data_dir / "redis.log"

    def start(self) -> RedisServer:
        cmd = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
               "--appendonly", "yes" if self.appendonly else "no", "--appendfsync", "everysec",
               "--dir", str(self.data_dir), "--logfile", str(self.log), "--daemonize", "no",
               "--protected-mode", "no"]
        self.process = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited with {self.process.returncode}: {self.output()}")
            if self.ping():
                return
            time.sleep(0.02)
        raise RuntimeError(f"redis-server not ready after {STARTUP_TIMEOUT_S} s: {self.output()}")

    def ping(self) -> bool:
        """Whether the server answers PING (a raw RESP exchange: no client library involved)."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log.is_file() else "(no log)"

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """Stop the server (SIGTERM: it writes its append-only file first; SIGKILL: it does not)."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """One redis-server for the test session (skips the tests that need it if it is not installed)."""
    if redis_binary() is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    with tempfile.TemporaryDirectory(prefix="arena-redis-") as tmp, RedisServer(Path(tmp)) as server:
        yield server


@pytest.fixture
def redis_prefix() -> str:
    """A key prefix of its own for each test, so tests sharing `redis_server` never see each other's keys."""
    return f"t{secrets.token_hex(4)}:"


@pytest.fixture
def redis_client(redis_server: RedisServer) -> Iterator[redis.Redis]:
    """A client of the session's server (the same settings as the arena's: `api.deploy.redis_client`)."""
    from api.deploy import redis_client as connect

    client = connect(redis_server.url)
    yield client
    client.close()


@pytest.fixture
def connect_redis() -> Iterator[Callable[..., redis.Redis]]:
    """`connect_redis(url, **kw)`: `api.deploy.redis_client`, every client closed after the test."""
    from api.deploy import redis_client as connect

    made: list[redis.Redis] = []

    def make(url: str, **kw: float) -> redis.Redis:
        made.append(connect(url, **kw))
        return made[-1]

    yield make
    for client in made:
        client.close()


@pytest.fixture
def make_redis_server(tmp_path: Path) -> Iterator[type[RedisServer]]:
    """Start private servers (for tests that stop or kill Redis); every one is stopped afterwards."""
    started: list[RedisServer] = []

    class _Tracked(RedisServer):
        def start(self) -> RedisServer:
            started.append(self)
            return super().start()

    if redis_binary() is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    yield _Tracked
    for server in started:
        with contextlib.suppress(Exception):
            server.stop(signal.SIGKILL)
