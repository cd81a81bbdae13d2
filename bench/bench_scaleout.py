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
import redis

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import tests.integration.cluster as cluster_mod  # noqa: E402
from tests.integration.cluster import Api, Cluster  # noqa: E402
from tests.support.mongo_server import MongoServer  # noqa: E402

INSTRUCTION = "wave at the camera"


def new_battle(api: Api) -> tuple[str, str]:
    """(battle id, voter cookie) of a new battle, each of its own voter (turns of one voter are capped)."""
    with httpx.Client(timeout=60) as voter:
        battle = voter.post(f"{api.base}/api/sessions", json={"robot_id": "franka", "scene_id": "table"})
        battle.raise_for_status()
        return battle.json()["battle"]["battle_id"], voter.cookies["arena_voter"]


def post_turn(api: Api, battle: tuple[str, str], steps: int) -> tuple[str, str, list[str]]:
    """(turn id, voter cookie, its two episode ids)."""
    battle_id, cookie = battle
    turn = httpx.post(f"{api.base}/api/battles/{battle_id}/turns", cookies={"arena_voter": cookie}, timeout=60,
                      json={"instruction": INSTRUCTION, "max_steps": steps})
    turn.raise_for_status()
    sides = turn.json()["episodes"]
    return turn.json()["turn_id"], cookie, [sides["left"], sides["right"]]


def new_turn(api: Api, steps: int) -> str:
    turn_id, cookie, _ = post_turn(api, new_battle(api), steps)
    return f"{turn_id}|{cookie}"


def wait_stored(client: redis.Redis, episodes: list[str], timeout: float = 600.0) -> None:
    """Until every episode's live log holds its final message, which a worker publishes only after the
    trajectory is stored (`api.worker`). Asks Redis, not the API, so that waiting puts no load on the API
    or the store while throughput is measured."""
    keys = [f"arena:live:{e}:state" for e in episodes]
    deadline = time.monotonic() + timeout
    while not all(v == b"final" for v in client.mget(keys)):
        assert time.monotonic() < deadline, "episodes not stored in time"
        time.sleep(0.01)


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


def throughput(root: Path, mongo: MongoServer, workers: int, turns: int, steps: int,
               concurrency: int = 1) -> tuple[float, float, dict[str, float]]:
    """(episodes per wall second, episodes per worker CPU-second, CPU-seconds per episode of the API, Redis
    and MongoDB) with `workers` worker processes, all turns posted at once. The second is what one core
    does, whatever else the machine runs."""
    cluster = Cluster(root, mongo.url(f"bench{workers}"))
    try:
        cluster.start(apis=1, workers=workers, concurrency=concurrency)
        api = cluster.apis[0]
        for _ in range(workers):  # warm: policies built, scenes compiled in every worker
            wait_done(api, new_turn(api, 5))
        pids = [w.pid for w in cluster.workers]
        assert cluster.redis.process is not None
        assert mongo.process is not None
        others = {"API": group(api.pid), "Redis": [cluster.redis.process.pid], "MongoDB": [mongo.process.pid]}
        battles = [new_battle(api) for _ in range(turns)]  # sessions made before the clock starts
        client = redis.Redis.from_url(cluster.redis.url)
        t0, cpu0 = time.perf_counter(), cpu_seconds(pids)
        other0 = {k: cpu_seconds(v) for k, v in others.items()}
        episodes = [e for battle in battles for e in post_turn(api, battle, steps)[2]]
        wait_stored(client, episodes)
        wall, cpu = time.perf_counter() - t0, cpu_seconds(pids) - cpu0
        client.close()
        n = len(episodes)
        return n / wall, n / cpu, {k: (cpu_seconds(v) - other0[k]) / n for k, v in others.items()}
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


LEARNED_MODELS = """
[[model]]
name = "vla"
kind = "learned"
organisation = "test"
licence = "Apache-2.0"
latency_s = 0.0
params = { checkpoint = "vla-mnv2-minilm", action_horizon = 2 }

[[model]]
name = "vla-lite"
kind = "learned"
organisation = "test"
licence = "Apache-2.0"
latency_s = 0.0
params = { checkpoint = "vla-mnv2-minilm-lite", action_horizon = 2 }
"""


def overhead(per_process: dict[str, float]) -> str:
    return ", ".join(f"{k} {v * 1000:.0f}" for k, v in per_process.items()) + \
        f" (total {sum(per_process.values()) * 1000:.0f} ms)"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--turns", type=int, default=12, help="turns posted at once per throughput run (2 episodes each)")
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--latency-turns", type=int, default=5)
    ap.add_argument("--policies", choices=["scripted", "learned"], default="scripted",
                    help="learned: the two VLAs trained here (camera rendering and inference on every step)")
    ap.add_argument("--concurrency", type=int, default=1, help="episode threads per worker process")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-scaleout-") as tmp:
        root = Path(tmp)
        if args.policies == "learned":
            cluster_mod.MODELS = LEARNED_MODELS
        mongo = MongoServer(root / "mongo").start()
        try:
            load = os.getloadavg()[0]
            (one, one_cpu, one_other), (two, two_cpu, two_other) = (
                throughput(root / f"w{n}", mongo, n, args.turns, args.steps, args.concurrency) for n in (1, 2))
            embedded_s, scaled_s = latencies(root, mongo, args.steps, args.latency_turns)
            load = max(load, os.getloadavg()[0])
        finally:
            mongo.stop()
    print(f"episodes: {args.steps} steps, {args.policies}, pace 0; {2 * args.turns} episodes per run; "
          f"{args.concurrency} episode thread(s) per worker; {os.cpu_count()} cores, load average up to {load:.1f}")
    print(f"1 worker process : {one:6.2f} episodes/s  {one_cpu:6.2f} per worker CPU-second  (baseline)")
    print(f"2 worker processes: {two:6.2f} episodes/s  {two_cpu:6.2f} per worker CPU-second  = {two / one:.2f}x "
          f"the baseline, {two / (2 * one):.2f} of linear; per core {two_cpu / one_cpu:.2f} of the baseline's")
    print(f"CPU per episode outside the workers, ms: 1 worker: {overhead(one_other)}; "
          f"2 workers: {overhead(two_other)}")
    bound = (1 / two_cpu) / (1 / two_cpu + sum(two_other.values()))
    print(f"bound on 2 cores with that overhead: {bound:.2f} of linear (worker CPU / (worker + overhead CPU))")
    print(f"turn latency (POST -> both stored), median of {args.latency_turns}: embedded {embedded_s:.3f} s, "
          f"scaled-out {scaled_s:.3f} s ({scaled_s / embedded_s:.2f}x the embedded)")


if __name__ == "__main__":
    main()
