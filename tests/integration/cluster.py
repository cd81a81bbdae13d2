"""A scaled-out arena on this machine, for tests and benchmarks: one redis-server, one MongoDB (nx-27017,
or the store a URL names), API processes (`arena serve --workers 0`) and worker processes (`arena worker`),
each in its own process group and log file. Everything it started is killed by `close()`.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.support.redis_server import RedisServer, free_port

ROOT = Path(__file__).resolve().parents[2]
READY_TIMEOUT_S = 90.0
# Two fast scripted policies: the tests measure the plumbing, not the policies.
MODELS = """
[[model]]
name = "expert"
kind = "scripted"
organisation = "test"
licence = "MIT"
latency_s = 0.0

[[model]]
name = "noisy"
kind = "scripted"
organisation = "test"
licence = "MIT"
latency_s = 0.0
params = { noise = 0.02 }
"""


class Proc:
    def __init__(self, name: str, cmd: list[str], env: dict[str, str], log: Path) -> None:
        self.name, self.log = name, log
        with log.open("wb") as out:
            self.process = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                            start_new_session=True)

    @property
    def pid(self) -> int:
        return self.process.pid

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-8000:]

    def signal(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, sig)

    def stop(self, timeout: float = 60.0) -> int:
        """SIGTERM and wait; SIGKILL if it does not exit in time (then the test fails on the code)."""
        if self.process.poll() is None:
            self.signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.signal(signal.SIGKILL)
                self.process.wait(timeout=10)
                return -9
        return self.process.returncode


class Api(Proc):
    def __init__(self, name: str, env: dict[str, str], log: Path, workers: int = 0) -> None:
        self.port = free_port()
        cmd = [sys.executable, "-m", "api.cli", "serve", "--workers", str(workers), "--port", str(self.port)]
        super().__init__(name, cmd, env, log)
        self.base = f"http://127.0.0.1:{self.port}"
        self.ws_base = f"ws://127.0.0.1:{self.port}"

    def wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}:\n{self.output()}")
            try:
                if httpx.get(f"{self.base}/api/health", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} not ready after {READY_TIMEOUT_S} s:\n{self.output()}")


class Cluster:
    """`Cluster(tmp, store_url)`, then `start(apis=2, workers=3)`."""

    def __init__(self, root: Path, store_url: str, *, visibility_s: float = 4.0, pace: float = 0.0) -> None:
        self.root = root
        self.redis = RedisServer(root / "redis").start()
        models = root / "models.toml"
        models.write_text(MODELS)
        self.env = {**os.environ, "ARENA_REDIS_URL": self.redis.url, "ARENA_STORE_URL": store_url,
                    "ARENA_SECRET": "scale-out-test-secret-0123456789", "ARENA_DATA_DIR": str(root / "data"),
                    "ARENA_MODELS": str(models), "ARENA_STREAM_PACE": str(pace), "ARENA_LEADERBOARD_ROUNDS": "20",
                    "ARENA_QUEUE_VISIBILITY_S": str(visibility_s), "ARENA_LIMIT_SESSIONS": "1000/60",
                    "ARENA_LIMIT_TURNS": "1000/60", "ARENA_LIMIT_VOTES": "1000/60", "ARENA_MAX_RUNNING_TURNS": "50"}
        self.env.pop("PYTHONWARNINGS", None)
        self.apis: list[Api] = []
        self.workers: list[Proc] = []

    def start(self, apis: int = 2, workers: int = 3, concurrency: int = 1) -> Cluster:
        for _ in range(workers):
            self.add_worker(concurrency)
        for i in range(apis):
            self.apis.append(Api(f"api-{i}", self.env, self.root / f"api-{i}.log"))
        for api in self.apis:
            api.wait_ready()
        self.wait_workers(workers)
        return self

    def add_worker(self, concurrency: int = 1) -> Proc:
        name = f"worker-{len(self.workers)}"
        cmd = [sys.executable, "-m", "api.cli", "worker", "--concurrency", str(concurrency), "--reconcile", "2"]
        proc = Proc(name, cmd, self.env, self.root / f"{name}.log")
        self.workers.append(proc)
        return proc

    def wait_workers(self, n: int) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if httpx.get(f"{self.apis[0].base}/api/health", timeout=5).json().get("workers") == n:
                return
            time.sleep(0.2)
        raise RuntimeError(f"not {n} live workers after {READY_TIMEOUT_S} s")

    def logs(self) -> str:
        return "\n".join(f"---- {p.name}\n{p.output()}" for p in [*self.apis, *self.workers])

    def close(self) -> None:
        for proc in [*self.apis, *self.workers]:
            proc.signal(signal.SIGKILL)
        for proc in [*self.apis, *self.workers]:
            with contextlib.suppress(Exception):
                proc.process.wait(timeout=10)
        self.redis.stop(signal.SIGKILL)
