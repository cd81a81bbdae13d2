"""Closed-loop load on the read routes of a real granian server on loopback, with N votes in its store.

    python bench/bench_load.py [--votes 100000] [--clients 25 100 250] [--seconds 10]

Seeds a fresh SQLite store with `--votes` synthetic votes (8 policies, 200 voters) in one transaction,
starts `arena serve` (granian, one process, the thread pools of `api.threads`) on a free port, waits
until the background ratings fit has covered every vote, then, for each client count, runs that many
clients for `--seconds`: each client has its own cookie (voter), creates one session, then loops over
the read routes (leaderboard global and per robot, models, robots, scenes, its session, its battle,
its battles), sending the next request as soon as the last one answers. Prints p50/p95/p99 per route
and, as the baseline measured in the same run, each route's p95 as a multiple of /api/robots's (a
static route that touches neither the store nor the fit).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

from api.store import open_store  # noqa: E402
from schemas.records import VoteChoice, VoteRecord  # noqa: E402


def seed(data_dir: Path, votes: int) -> None:
    """`votes` votes between the registry's franka policies (fake battle ids: no episodes behind them)."""
    names = [f"policy-{k}" for k in range(8)]  # only the names' count matters to the fit
    rng = random.Random(0)
    strength = {n: 700 + 85 * k for k, n in enumerate(names)}
    store = open_store(f"sqlite:///{data_dir}/arena.db")
    # One transaction for speed: the store's private insert (record_vote commits each vote, ~3 ms).
    with store._pool.transaction() as conn:  # type: ignore[attr-defined]
        for k in range(votes):
            a, b = rng.sample(names, 2)
            p = 1 / (1 + 10 ** ((strength[b] - strength[a]) / 400))
            choice = VoteChoice.LEFT if rng.random() < p else VoteChoice.RIGHT
            store._insert(conn, VoteRecord(  # type: ignore[attr-defined]
                id=f"v{k}", battle_id=f"b{k}", session_id="s", robot_id="franka", scene_id="table", left_policy=a,
                right_policy=b, choice=choice, created_at=1.7e9 + k, voter_id=f"voter{k % 200}"))
    store.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def open_client(url: str) -> tuple[httpx.AsyncClient, list[tuple[str, str]]]:
    """A client with its own voter cookie and session; the routes it will read, in a random order."""
    http = httpx.AsyncClient(base_url=url, timeout=120, limits=httpx.Limits(max_connections=1))
    created = await http.post("/api/sessions", json={"robot_id": "franka", "scene_id": "table"})
    created.raise_for_status()
    session = created.json()
    routes = {"leaderboard": "/api/leaderboard", "leaderboard?robot_id": "/api/leaderboard?robot_id=franka",
              "models": "/api/models", "robots": "/api/robots", "scenes": "/api/scenes",
              "sessions/{id}": f"/api/sessions/{session['session_id']}",
              "battles/{id}": f"/api/battles/{session['battle']['battle_id']}", "me/battles": "/api/me/battles"}
    order = list(routes.items())
    random.Random(session["session_id"]).shuffle(order)
    return http, order


async def loop(http: httpx.AsyncClient, order: list[tuple[str, str]], until: float,
               out: dict[str, list[float]]) -> None:
    k = 0
    while time.monotonic() < until:
        name, path = order[k % len(order)]
        k += 1
        start = time.perf_counter()
        r = await http.get(path)
        took = time.perf_counter() - start
        out.setdefault(name if r.status_code == 200 else f"{name} [{r.status_code}]", []).append(took)


async def level(url: str, clients: int, seconds: float) -> dict[str, list[float]]:
    """Open `clients` clients (sessions made before the clock starts), then run them for `seconds`."""
    opened = [await open_client(url) for _ in range(clients)]
    out: dict[str, list[float]] = {}
    until = time.monotonic() + seconds
    try:
        await asyncio.gather(*(loop(http, order, until, out) for http, order in opened))
    finally:
        for http, _ in opened:
            await http.aclose()
    return out


def report(clients: int, out: dict[str, list[float]]) -> None:
    base = float(np.percentile(out.get("robots", [np.nan]), 95))
    print(f"\n{clients} concurrent clients")
    print(f"  {'route':24s} {'n':>6s} {'p50 ms':>8s} {'p95 ms':>8s} {'p99 ms':>8s} {'p95/robots':>10s}")
    for name, times in sorted(out.items()):
        p50, p95, p99 = (float(np.percentile(times, q)) * 1e3 for q in (50, 95, 99))
        print(f"  {name:24s} {len(times):6d} {p50:8.1f} {p95:8.1f} {p99:8.1f} {p95 / 1e3 / base:10.2f}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--votes", type=int, default=100_000)
    p.add_argument("--clients", type=int, nargs="+", default=[1, 25, 100, 250])
    p.add_argument("--seconds", type=float, default=10.0)
    args = p.parse_args()
    data = Path(tempfile.mkdtemp(prefix="arena-load-"))
    started = time.perf_counter()
    seed(data, args.votes)
    print(f"seeded {args.votes} votes in {time.perf_counter() - started:.1f} s")
    port = free_port()
    limits = {f"ARENA_LIMIT_{k}": "1000000/600" for k in ("SESSIONS", "TURNS", "VOTES")}
    env = {**os.environ, "ARENA_DATA_DIR": str(data), "ARENA_PORT": str(port), **limits}
    server = subprocess.Popen([sys.executable, "-m", "api.cli", "serve"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:  # up, and the fit covers every seeded vote
            try:
                board = httpx.get(f"{url}/api/leaderboard", timeout=30).json()
                if board["total_votes"] == args.votes:
                    break
            except (httpx.HTTPError, ValueError):
                pass
            time.sleep(0.5)
        print(f"server ready, fit covers {args.votes} votes after {time.perf_counter() - started:.1f} s")
        for clients in args.clients:
            report(clients, asyncio.run(level(url, clients, args.seconds)))
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
