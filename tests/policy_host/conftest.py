"""Fixtures: `serve(factory, protocol=...)` starts a real `PolicyServer` (websockets, a real socket on a free
port) in a thread and returns it, shut down after the test; `policy_server_process(models, name)` starts
`arena policy-server` as a real subprocess and returns it with its port, killed after the test."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from policy_host.server import PolicyServer
from tests.policy_host.helpers import start_policy_server, stop_policy_server


@pytest.fixture
def serve() -> Iterator[Callable[..., PolicyServer]]:
    """`serve(factory, protocol="openpi", **kwargs)`: a running PolicyServer on 127.0.0.1 (port 0)."""
    servers: list[PolicyServer] = []

    def start(factory: Callable[[], object], protocol: str = "openpi", **kwargs: object) -> PolicyServer:
        server = PolicyServer(factory, protocol=protocol, **kwargs).__enter__()  # type: ignore[arg-type]
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.shutdown()


@pytest.fixture
def policy_server_process() -> Iterator[Callable[..., tuple[subprocess.Popen[str], int]]]:
    """`policy_server_process(models, name, port=0, protocol="openpi")`: see start_policy_server; every
    process it started is killed after the test."""
    procs: list[subprocess.Popen[str]] = []

    def start(models: Path, name: str, port: int = 0, protocol: str = "openpi") -> tuple[subprocess.Popen[str], int]:
        proc, bound = start_policy_server(models, name, port, protocol)
        procs.append(proc)
        return proc, bound

    yield start
    for proc in procs:
        stop_policy_server(proc)
