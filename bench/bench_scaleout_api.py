"""API p50/p95 of the read routes in the scaled-out deployment, with one and with two API processes
(`arena serve --workers 0`, one redis-server, one MongoDB: nx-27017), at 25, 100 and 250 concurrent
clients, in the same run. The one-process run is the baseline.

    python bench/bench_scaleout_api.py [--clients 25 100 250] [--seconds 5] [--think 0]

Closed loop on loopback: each client has its own cookie (voter) and one session, made before the clock
starts, then loops over the read routes of `bench_load.py` (leaderboard global and per robot, models,
robots, scenes, its session, its battle, its battles), sending the next request as soon as the last one
answers. With two API processes every client alternates between them, request by request (the voter
cookie is valid on both: they share ARENA_SECRET), as a load balancer with no affinity would. No worker
processes and no votes: the figures are the API's own cost per read on Redis + MongoDB, not the fit's.
`--think 1` makes each client a voter who reads for a second (on average, exponentially distributed)
between requests: 250 clients then offer about 250 requests/s, which is what 250 voters with the page
open ask of the API, rather than the saturation figure of the closed loop.
For reference, the same load on the embedded default (one process, SQLite, no Redis) in the same run.
The load generator is one Python process on the same machine, so at high client counts it competes
with the servers for the cores: read the 2-process figures as a ratio to the 1-process ones. It speaks
HTTP/1.1 through bench/lean_http.py (a fraction of httpx's CPU per request; `--client httpx` for the
old generator) and prints its own CPU per request, so that its share can be read off.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.lean_http import LeanConnection  # noqa: E402
from tests.integration.cluster import Api, Cluster  # noqa: E402
from tests.support.mongo_server import MongoServer  # noqa: E402

NO_LIMITS = {f"ARENA_LIMIT_{k}": "1000000/600" for k in ("SESSIONS", "TURNS", "VOTES")}
Client = tuple[list, list[tuple[str, str]]]


async def open_client(bases: list[str], lean: bool) -> Client:
    """A client (own cookie, one session made through the first API), one connection per API process and
    its read routes, in a random order. `lean`: bench.lean_http's connections, else httpx's."""
    async with httpx.AsyncClient(timeout=120) as setup:
        created = await setup.post(f"{bases[0]}/api/sessions", json={"robot_id": "franka", "scene_id": "table"})
        created.raise_for_status()
        cookie = f"arena_voter={setup.cookies['arena_voter']}"
    session = created.json()
    routes = {"leaderboard": "/api/leaderboard", "leaderboard?robot_id": "/api/leaderboard?robot_id=franka",
              "models": "/api/models", "robots": "/api/robots", "scenes": "/api/scenes",
              "sessions/{id}": f"/api/sessions/{session['session_id']}",
              "battles/{id}": f"/api/battles/{session['battle']['battle_id']}", "me/battles": "/api/me/battles"}
    order = list(routes.items())
    random.Random(session["session_id"]).shuffle(order)
    if lean:
        return [await LeanConnection.open(base, cookie) for base in bases], order
    http = httpx.AsyncClient(timeout=120, headers={"cookie": cookie}, limits=httpx.Limits(max_connections=len(bases)))
    return [_HttpxGet(http, base) for base in bases], order


class _HttpxGet:
    """httpx behind LeanConnection's two methods (the generator this benchmark used first)."""

    def __init__(self, http: httpx.AsyncClient, base: str) -> None:
        self.http, self.base = http, base

    async def get(self, path: str) -> tuple[int, bytes]:
        r = await self.http.get(self.base + path)
        return r.status_code, r.content

    async def close(self) -> None:
        await self.http.aclose()


async def loop(client: Client, until: float, out: dict[str, list[float]], think_s: float) -> None:
    """Requests one after the other; with `think_s`, a pause between them drawn from an exponential
    distribution of that mean (a voter reading the page), starting at a random phase."""
    conns, order = client
    k = 0
    rng = random.Random(id(client))
    if think_s:
        await asyncio.sleep(rng.uniform(0, think_s))
    while time.monotonic() < until:
        name, path = order[k % len(order)]
        conn = conns[k % len(conns)]  # alternate between the API processes
        k += 1
        start = time.perf_counter()
        status, _ = await conn.get(path)
        took = time.perf_counter() - start
        out.setdefault(name if status == 200 else f"{name} [{status}]", []).append(took)
        if think_s:
            await asyncio.sleep(rng.expovariate(1 / think_s))


async def level(bases: list[str], clients: int, seconds: float, think_s: float = 0.0,
                lean: bool = True) -> tuple[dict[str, list[float]], float]:
    """Latencies per route, and the load generator's own CPU-seconds per request while it ran."""
    opened = [await open_client(bases, lean) for _ in range(clients)]
    out: dict[str, list[float]] = {}
    until = time.monotonic() + seconds
    cpu0 = time.process_time()
    try:
        await asyncio.gather(*(loop(c, until, out, think_s) for c in opened))
    finally:
        cpu = time.process_time() - cpu0
        for conns, _ in opened:
            for conn in conns[:1] if not lean else conns:  # httpx: one client behind every base
                await conn.close()
    return out, cpu / max(1, sum(map(len, out.values())))


def run(root: Path, store_url: str, apis: int, clients: list[int], seconds: float,
        think_s: float = 0.0, lean: bool = True) -> dict[int, tuple[dict[str, list[float]], float]]:
    """`apis` API processes (`--workers 0`) on Redis and `store_url`; `apis=0`: the embedded default
    instead (one process, SQLite, no Redis, two episode threads that stay idle)."""
    cluster = Cluster(root, store_url)
    cluster.env.update(NO_LIMITS)
    try:
        if apis:
            cluster.start(apis=apis, workers=0)
        else:
            cluster.env.pop("ARENA_REDIS_URL")
            cluster.apis.append(Api("embedded", cluster.env, root / "embedded.log", workers=2))
            cluster.apis[0].wait_ready()
        bases = [api.base for api in cluster.apis]
        asyncio.run(level(bases, 5, 1.0, lean=lean))  # warm: imports, connections, first reads
        return {n: asyncio.run(level(bases, n, seconds, think_s, lean)) for n in clients}
    finally:
        cluster.close()


def pct(times: list[float], q: float) -> float:
    return float(np.percentile(times, q)) * 1e3 if times else float("nan")


Level = tuple[dict[str, list[float]], float]


def report(clients: int, one_: Level, two_: Level, seconds: float, embedded_: Level) -> None:
    (one, cpu1), (two, cpu2), (embedded, cpu_e) = one_, two_, embedded_
    print(f"\n{clients} concurrent clients, {seconds:g} s each")
    print(f"  {'route':24s} {'1 API: n':>9s} {'p50':>7s} {'p95':>7s} {'2 APIs: n':>10s} {'p50':>7s} {'p95':>7s}"
          f" {'p95 2/1':>8s} {'embedded: p50':>14s} {'p95':>7s}")
    everything = (sorted(set(one) | set(two)), [("all reads", [t for v in one.values() for t in v],
                                                  [t for v in two.values() for t in v])])
    rows = [(name, one.get(name, []), two.get(name, []), embedded.get(name, [])) for name in everything[0]]
    rows.append((*everything[1][0], [t for v in embedded.values() for t in v]))
    for name, a, b, e in rows:
        ratio = pct(b, 95) / pct(a, 95) if a and b else float("nan")
        print(f"  {name:24s} {len(a):9d} {pct(a, 50):7.1f} {pct(a, 95):7.1f} {len(b):10d} {pct(b, 50):7.1f}"
              f" {pct(b, 95):7.1f} {ratio:8.2f} {pct(e, 50):14.1f} {pct(e, 95):7.1f}")
    print(f"  throughput: {sum(map(len, one.values())) / seconds:.0f} req/s (1 API), "
          f"{sum(map(len, two.values())) / seconds:.0f} req/s (2 APIs), "
          f"{sum(map(len, embedded.values())) / seconds:.0f} req/s (embedded)")
    print(f"  load generator CPU per request: {cpu1 * 1e3:.2f} ms (1 API), {cpu2 * 1e3:.2f} ms (2 APIs), "
          f"{cpu_e * 1e3:.2f} ms (embedded)")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--clients", type=int, nargs="+", default=[25, 100, 250])
    p.add_argument("--seconds", type=float, default=5.0)
    p.add_argument("--think", type=float, default=0.0,
                   help="mean seconds a client waits between requests (exponential); 0: none, a closed loop")
    p.add_argument("--client", choices=["lean", "httpx"], default="lean",
                   help="load generator's HTTP client: bench/lean_http.py (default) or httpx (costs 5-10x the CPU)")
    args = p.parse_args()
    lean = args.client == "lean"
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-scaleout-api-") as tmp:
        root = Path(tmp)
        mongo = MongoServer(root / "mongo").start()
        try:
            one = run(root / "one", mongo.url("bench_api1"), 1, args.clients, args.seconds, args.think, lean)
            two = run(root / "two", mongo.url("bench_api2"), 2, args.clients, args.seconds, args.think, lean)
            embedded = run(root / "embedded", f"sqlite:///{root}/embedded.db", 0, args.clients, args.seconds,
                           args.think, lean)
        finally:
            mongo.stop()
    load = max(load, os.getloadavg()[0])
    pattern = f"each client pausing {args.think:g} s on average between requests" if args.think else "closed loop"
    print(f"read routes, {pattern}, on loopback; {os.cpu_count()} cores, load average up to {load:.1f}; "
          f"latencies in ms; baseline: 1 API process, same run; load generator: {args.client}")
    for n in args.clients:
        report(n, one[n], two[n], args.seconds, embedded[n])


if __name__ == "__main__":
    main()
