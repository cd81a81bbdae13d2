"""Scale-out throughput: episodes per second with 1 and with 2 `arena worker` processes (one episode
thread each) behind one API process, one redis-server and one MongoDB (nx-27017), as a ratio to linear
(2 workers doing exactly twice the work of 1 = 1.00). The 1-worker run is the baseline, measured in the
same run. Also the turn latency (POST the turn -> turn done) of the embedded default (one process, two
episode threads) against the scaled-out deployment (API + 2 workers), in the same run.

Episodes: the scripted expert against a noisy copy, "wave at the camera" (no task metric, so every
episode runs all its steps), stream pace 0 (no pacing: pure throughput).

    python bench/bench_scaleout.py [--turns 12] [--steps 100]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.integration.cluster import Api, Cluster  # noqa: E402
from tests.support.mongo_server import MongoServer  # noqa: E402

INSTRUCTION = "wave at the camera"


def new_turn(api: Api, steps: int) -> str:
    with httpx.Client(timeout=60) as voter:  # a voter of its own: turns of one voter are capped
        battle = voter.post(f"{api.base}/api/sessions", json={"robot_id": "franka", "scene_id": "table"})
        battle.raise_for_status()
        turn = voter.post(f"{api.base}/api/battles/{battle.json()['battle']['battle_id']}/turns",
                          json={"instruction": INSTRUCTION, "max_steps": steps})
        turn.raise_for_status()
        return f"{turn.json()['turn_id']}|{voter.cookies['arena_voter']}"


def wait_done(api: Api, handle: str, timeout: float = 600.0) -> None:
    turn_id, cookie = handle.split("|")
    deadline = time.monotonic() + timeout
    while True:
        view = httpx.get(f"{api.base}/api/turns/{turn_id}", cookies={"arena_voter": cookie}, timeout=30).json()
        if view["status"] != "running":
            assert view["status"] == "done", view
            return
        assert time.monotonic() < deadline, view
        time.sleep(0.05)


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of these processes (all their threads) so far, from /proc."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat(5))
    return total / os.sysconf("SC_CLK_TCK")


def group(pgid: int) -> list[int]:
    """The processes of a process group (a granian server and the worker it forks)."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # field 5 of stat(5): the process group
            pids.append(int(stat.parent.name))
    return pids


def throughput(root: Path, mongo: MongoServer, workers: int, turns: int, steps: int) -> tuple[float, float, float]:
    """(episodes per wall second, episodes per worker CPU-second, CPU-seconds of the API, Redis and MongoDB
    per episode) with `workers` worker processes, all turns queued at once. The second is what one core
    does, whatever else the machine runs."""
    cluster = Cluster(root, mongo.url(f"bench{workers}"))
    try:
        cluster.start(apis=1, workers=workers)
        api = cluster.apis[0]
        for _ in range(workers):  # warm: policies built, scenes compiled in every worker
            wait_done(api, new_turn(api, 5))
        pids = [w.pid for w in cluster.workers]
        assert cluster.redis.process is not None
        assert mongo.process is not None
        others = [*group(api.pid), cluster.redis.process.pid, mongo.process.pid]  # granian forks its worker
        t0, cpu0, other0 = time.perf_counter(), cpu_seconds(pids), cpu_seconds(others)
        handles = [new_turn(api, steps) for _ in range(turns)]
        for handle in handles:
            wait_done(api, handle)
        wall, cpu = time.perf_counter() - t0, cpu_seconds(pids) - cpu0
        return 2 * turns / wall, 2 * turns / cpu, (cpu_seconds(others) - other0) / (2 * turns)
    finally:
        cluster.close()


def latency(api: Api, steps: int, n: int) -> float:
    """Median seconds from POST turn to both episodes stored, one turn at a time."""
    walls = []
    for _ in range(n):
        t0 = time.perf_counter()
        wait_done(api, new_turn(api, steps))
        walls.append(time.perf_counter() - t0)
    return statistics.median(walls)


def latencies(root: Path, mongo: MongoServer, steps: int, n: int) -> tuple[float, float]:
    scaled = Cluster(root / "scaled", mongo.url("benchlat"))
    try:
        scaled.start(apis=1, workers=2)
        latency(scaled.apis[0], 5, 1)
        scaled_s = latency(scaled.apis[0], steps, n)
    finally:
        scaled.close()
    embedded = Cluster(root / "embedded", f"sqlite:///{root}/embedded.db")
    embedded.env.pop("ARENA_REDIS_URL")
    try:
        embedded.apis.append(Api("embedded", embedded.env, root / "embedded.log", workers=2))
        embedded.apis[0].wait_ready()
        latency(embedded.apis[0], 5, 1)
        embedded_s = latency(embedded.apis[0], steps, n)
    finally:
        embedded.close()
    return embedded_s, scaled_s


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--turns", type=int, default=12, help="turns queued at once per throughput run (2 episodes each)")
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--latency-turns", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-scaleout-") as tmp:
        root = Path(tmp)
        mongo = MongoServer(root / "mongo").start()
        try:
            load = os.getloadavg()[0]
            (one, one_cpu, one_other), (two, two_cpu, two_other) = (
                throughput(root / f"w{n}", mongo, n, args.turns, args.steps) for n in (1, 2))
            embedded_s, scaled_s = latencies(root, mongo, args.steps, args.latency_turns)
            load = max(load, os.getloadavg()[0])
        finally:
            mongo.stop()
    print(f"episodes: {args.steps} steps, scripted, pace 0; {2 * args.turns} episodes per run; "
          f"{os.cpu_count()} cores, load average up to {load:.1f}")
    print(f"1 worker process : {one:6.2f} episodes/s  {one_cpu:6.2f} per worker CPU-second  (baseline)")
    print(f"2 worker processes: {two:6.2f} episodes/s  {two_cpu:6.2f} per worker CPU-second  = {two / one:.2f}x "
          f"the baseline, {two / (2 * one):.2f} of linear; per core {two_cpu / one_cpu:.2f} of the baseline's")
    print(f"API + Redis + MongoDB (nx-27017) CPU per episode: {one_other * 1000:.0f} ms (1 worker), "
          f"{two_other * 1000:.0f} ms (2 workers)")
    print(f"turn latency (POST -> both stored), median of {args.latency_turns}: embedded {embedded_s:.3f} s, "
          f"scaled-out {scaled_s:.3f} s ({scaled_s / embedded_s:.2f}x the embedded)")


if __name__ == "__main__":
    main()
