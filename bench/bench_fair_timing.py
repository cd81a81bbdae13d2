"""Fair timing: per-step arrival intervals of both sides of a turn, unpaced (before) and on the turn clock
(after), through the real server (granian) with WebSocket clients, in the same run.

Unpaced, a learned VLA's frames arrive every ~40 ms per control step and a scripted policy's every few
ms, so the arrival rhythm names the kind. On the turn clock (ARENA_STREAM_PACE=1) both sides arrive at
the simulation's pace, 100 ms per 10 Hz control step, whatever computed them.

    python bench/bench_fair_timing.py [--turns 3] [--steps 30]
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
from websockets.sync.client import connect

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from api.streaming import EndMessage, FramesMessage, decode  # noqa: E402

MODELS = """
[[model]]
name = "vla-mnv2-minilm"
kind = "learned"
organisation = "VLA Arena"
licence = "Apache-2.0"
latency_s = 0.04
params = { checkpoint = "vla-mnv2-minilm", action_horizon = 2 }

[[model]]
name = "scripted-expert"
kind = "scripted"
organisation = "VLA Arena"
licence = "Apache-2.0"
latency_s = 0.0
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(data: str, port: int, pace: float) -> subprocess.Popen:
    models = Path(data) / "models.toml"
    models.write_text(MODELS)
    env = {**os.environ, "ARENA_DATA_DIR": data, "ARENA_MODELS": str(models), "ARENA_STREAM_PACE": str(pace),
           "ARENA_LIMIT_TURNS": "1000/60", "ARENA_LIMIT_SESSIONS": "1000/60"}
    cmd = [sys.executable, "-m", "granian", "--interface", "asgi", "--factory", "api.app:create_app",
           "--host", "127.0.0.1", "--port", str(port)]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(300):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.2)
    raise SystemExit("server did not start")


def _read(url: str, cookie: str, out: list[float], first: list[float]) -> None:
    with connect(url, max_size=None, additional_headers={"Cookie": cookie}) as ws:
        while True:
            message = decode(ws.recv(timeout=120))
            if isinstance(message, FramesMessage) and message.step == -1:
                first.append(time.perf_counter())  # the initial state: when the side appears
            if isinstance(message, FramesMessage) and message.step >= 0:
                out.append(time.perf_counter())
            if isinstance(message, EndMessage):
                return


STARTS: list[float] = []  # |difference| between the two sides' first-frame arrivals, ms, per turn


def turn_intervals(port: int, steps: int) -> dict[str, list[float]]:
    """One turn; per-step arrival intervals (ms) of each side, keyed by the revealed policy name."""
    http = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60)
    battle = http.post("/api/sessions", json={"robot_id": "franka", "scene_id": "table"}).json()["battle"]
    turn = http.post(f"/api/battles/{battle['battle_id']}/turns",
                     json={"instruction": "wave at the camera", "max_steps": steps}).json()
    cookie = "; ".join(f"{k}={v}" for k, v in http.cookies.items())
    arrivals: dict[str, list[float]] = {side: [] for side in turn["episodes"]}
    firsts: dict[str, list[float]] = {side: [] for side in turn["episodes"]}
    threads = [threading.Thread(target=_read, args=(f"ws://127.0.0.1:{port}/api/episodes/{eid}/stream", cookie,
                                                    arrivals[side], firsts[side]))
               for side, eid in turn["episodes"].items()]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    STARTS.append(1000 * abs(firsts["left"][0] - firsts["right"][0]))
    reveal = http.post(f"/api/battles/{battle['battle_id']}/vote", json={"choice": "tie"}).json()
    return {reveal[side]["name"]: [1000 * (b - a) for a, b in zip(times, times[1:], strict=False)]
            for side, times in arrivals.items()}


def summarise(label: str, runs: list[dict[str, list[float]]]) -> dict[str, float]:
    pooled: dict[str, list[float]] = {}
    for run in runs:
        for name, gaps in run.items():
            pooled.setdefault(name, []).extend(gaps)
    medians = {}
    for name, gaps in sorted(pooled.items()):
        q = statistics.quantiles(gaps, n=10)
        medians[name] = statistics.median(gaps)
        print(f"  {label:<12} {name:<18} median {medians[name]:6.1f} ms   p10 {q[0]:6.1f}   p90 {q[-1]:6.1f}"
              f"   n={len(gaps)}")
    return medians


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--turns", type=int, default=3)
    ap.add_argument("--steps", type=int, default=30)
    args = ap.parse_args()
    results = {}
    for label, pace in (("unpaced", 0.0), ("turn clock", 1.0)):
        with tempfile.TemporaryDirectory() as data:
            port = free_port()
            proc = serve(data, port, pace)
            try:
                turn_intervals(port, 3)  # warm-up: encoders loaded, models compiled
                STARTS.clear()
                results[label] = summarise(label, [turn_intervals(port, args.steps) for _ in range(args.turns)])
                print(f"  {label:<12} sides' first frames apart: " + ", ".join(f"{d:.0f}" for d in STARTS) + " ms")
            finally:
                proc.terminate()
                proc.wait(timeout=30)
    for label, medians in results.items():
        a, b = medians.values()
        print(f"{label}: ratio of median intervals learned/scripted = {max(a, b) / min(a, b):.2f}"
              " (1.00 = indistinguishable by rhythm)")


if __name__ == "__main__":
    main()
