"""Whole-turn wall time through the real server: POST the instruction, stream both episodes over
WebSocket, stop when both end messages arrived. Baseline, in the same process: the same two episodes
run back to back in-process (no server, no threads), so the ratio shows what serving + parallelism cost
or save.

    python bench/bench_turn.py [--turns 5]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import msgspec
from websockets.sync.client import connect

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from policy_host.registry import Registry  # noqa: E402
from sim_engine.episode import EpisodeSpec, run_episode  # noqa: E402
from sim_engine.world import load_world  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(data_dir: str, port: int) -> subprocess.Popen:
    env = dict(os.environ, ARENA_DATA_DIR=data_dir, ARENA_PORT=str(port), ARENA_LEADERBOARD_ROUNDS="20")
    cmd = [
        sys.executable,
        "-m",
        "granian",
        "--interface",
        "asgi",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
        "api.app:create_app",
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"server did not start: {proc.stderr.read().decode() if proc.stderr else ''}")


def follow(url: str, ends: dict, side: str) -> None:
    with connect(url, max_size=None) as ws:
        for message in ws:
            msg = msgspec.msgpack.decode(message)
            if msg["type"] == "end":
                ends[side] = (time.perf_counter(), msg)


def one_turn(base: str, port: int, battle: str, instruction: str) -> tuple[float, dict]:
    t0 = time.perf_counter()
    turn = httpx.post(f"{base}/api/battles/{battle}/turns", json={"instruction": instruction}).json()
    ends: dict = {}
    threads = [
        threading.Thread(target=follow, args=(f"ws://127.0.0.1:{port}/api/episodes/{eid}/stream", ends, side))
        for side, eid in turn["episodes"].items()
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return max(e[0] for e in ends.values()) - t0, turn


def sequential_baseline(turn_view: dict, registry: Registry, battle_pair: tuple[str, str]) -> float:
    t0 = time.perf_counter()
    for policy in battle_pair:
        spec = EpisodeSpec(
            robot_id="franka", scene_id="table", instruction=turn_view["instruction"], seed=turn_view["seed"]
        )
        run_episode(spec, registry.build(policy))
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--turns", type=int, default=5)
    args = ap.parse_args()
    load_world("franka", "table")
    registry = Registry.from_file()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as data:
        proc = start_server(data, port)
        try:
            rows = []
            for i in range(args.turns):
                session = httpx.post(f"{base}/api/sessions", json={"robot_id": "franka", "scene_id": "table"}).json()
                battle = session["battle"]["battle_id"]
                wall, turn = one_turn(base, port, battle, "put the red cube in the bowl")
                view = httpx.get(f"{base}/api/turns/{turn['turn_id']}").json()
                reveal = httpx.post(f"{base}/api/battles/{battle}/vote", json={"choice": "tie"}).json()
                pair = (reveal["left"]["name"], reveal["right"]["name"])
                seq = sequential_baseline(view, registry, pair)
                rows.append((wall, seq, pair))
                print(
                    f"turn {i}: {wall * 1000:7.1f} ms server (both streams ended)   "
                    f"{seq * 1000:7.1f} ms in-process back to back   {pair[0]} vs {pair[1]}"
                )
        finally:
            proc.terminate()
            proc.wait(timeout=20)
    walls = [r[0] for r in rows]
    seqs = [r[1] for r in rows]
    print(
        f"median turn wall time {statistics.median(walls) * 1000:.1f} ms; in-process sequential "
        f"{statistics.median(seqs) * 1000:.1f} ms; ratio {statistics.median(walls) / statistics.median(seqs):.2f}"
    )


if __name__ == "__main__":
    main()
