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


def throughput(root: Path, mongo: MongoServer, workers: int, turns: int, steps: int) -> float:
    """Episodes per second with `workers` worker processes (all turns queued at once)."""
    cluster = Cluster(root, mongo.url(f"bench{workers}"))
    try:
        cluster.start(apis=1, workers=workers)
        api = cluster.apis[0]
        wait_done(api, new_turn(api, 5))  # warm: policies built, scenes compiled in every worker
        for _ in range(workers - 1):
            wait_done(api, new_turn(api, 5))
        t0 = time.perf_counter()
        handles = [new_turn(api, steps) for _ in range(turns)]
        for handle in handles:
            wait_done(api, handle)
        return 2 * turns / (time.perf_counter() - t0)
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
            one = throughput(root / "w1", mongo, 1, args.turns, args.steps)
            two = throughput(root / "w2", mongo, 2, args.turns, args.steps)
            embedded_s, scaled_s = latencies(root, mongo, args.steps, args.latency_turns)
        finally:
            mongo.stop()
    print(f"episodes: {args.steps} steps, scripted, pace 0; {2 * args.turns} episodes per run")
    print(f"1 worker process : {one:6.2f} episodes/s  (baseline)")
    print(f"2 worker processes: {two:6.2f} episodes/s  = {two / one:.2f}x the baseline, "
          f"{two / (2 * one):.2f} of linear")
    print(f"turn latency (POST -> both stored), median of {args.latency_turns}: embedded {embedded_s:.3f} s, "
          f"scaled-out {scaled_s:.3f} s ({scaled_s / embedded_s:.2f}x the embedded)")


if __name__ == "__main__":
    main()
