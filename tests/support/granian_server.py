"""A real arena server for tests: granian serving `api.app:create_app` in its own process group on a free
local port, with its own data dir and log; `start_server` is the fixture that starts and cleans up."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 30.0


class Server:
    """One granian process (it forks a worker) on a free local port, its own process group."""

    def __init__(self, data_dir: Path, log: Path, env: dict[str, str] | None = None) -> None:
        self.port = _free_port()
        self.log = log
        env = {**os.environ, "ARENA_DATA_DIR": str(data_dir), "ARENA_LEADERBOARD_ROUNDS": "20",
               "ARENA_STREAM_PACE": "4", **(env or {})}  # the turn clock at 4x real time: paced, but quick
        env.pop("PYTHONWARNINGS", None)
        cmd = [sys.executable, "-m", "granian", "--interface", "asgi", "--factory", "api.app:create_app",
               "--host", "127.0.0.1", "--port", str(self.port)]
        with log.open("wb") as out:
            self.process = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                            start_new_session=True)
        self.http = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=30)

    @property
    def ws_base(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def wait_ready(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"server exited with {self.process.returncode}:\n{self.output()}")
            try:
                if self.http.get("/api/health", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        pytest.fail(f"server not ready after {STARTUP_TIMEOUT_S} s:\n{self.output()}")

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-20_000:]

    def stop(self) -> int:
        """SIGTERM, then SIGKILL (of the whole group) if it has not exited in time; returns its code."""
        self.http.close()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.kill()
                pytest.fail(f"server ignored SIGTERM for {STOP_TIMEOUT_S} s:\n{self.output()}")
        return self.process.returncode

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)  # the group this Popen created (its worker too)
        self.process.wait(timeout=STOP_TIMEOUT_S)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """`start_server(data_dir, env=None)`: a ready server (extra ARENA_* settings in `env`); whatever a test
    leaves running is killed afterwards."""
    started: list[Server] = []

    def start(data_dir: Path, env: dict[str, str] | None = None) -> Server:
        server = Server(data_dir, tmp_path / f"server-{len(started)}.log", env)
        started.append(server)
        server.wait_ready()
        return server

    yield start
    for server in started:
        if server.process.poll() is None:
            server.kill()
        server.http.close()
