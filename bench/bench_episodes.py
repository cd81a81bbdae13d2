"""Episode wall time and success per policy, and the scripted expert's pick success over 50 seeds.

    python bench/bench_episodes.py [--seeds 50] [--json out.json]

Wall time includes simulation, policy inference, recording and replay encoding. Success rates carry a
Wilson 95% interval. The baseline row is the `zero` policy (pure simulation + recording cost), so the
"x zero" column (per control step, since episodes end early on success) isolates what each policy adds.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from policy_host.registry import Registry  # noqa: E402
from sim_engine.episode import EpisodeSpec, run_episode  # noqa: E402
from sim_engine.world import load_world  # noqa: E402

COLOURS = ("red", "green", "blue")


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    if n == 0:
        return 0.0, 1.0
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def run(policy: str, registry: Registry, seeds: int) -> dict:
    walls, infer, steps, wins = [], [], [], 0
    for seed in range(seeds):
        spec = EpisodeSpec(
            robot_id="franka", scene_id="table", instruction=f"pick up the {COLOURS[seed % 3]} cube", seed=seed
        )
        out = run_episode(spec, registry.build(policy))
        walls.append(out.wall_time_s)
        infer.append(out.infer_time_s / out.outcome.steps)
        steps.append(out.outcome.steps)
        wins += bool(out.outcome.success)
    lo, hi = wilson(wins, seeds)
    return {
        "policy": policy,
        "episodes": seeds,
        "wall_s_mean": statistics.mean(walls),
        "wall_s_p95": sorted(walls)[int(0.95 * (len(walls) - 1))],
        "infer_ms_per_step": 1000 * statistics.mean(infer),
        "steps_mean": statistics.mean(steps),
        "ms_per_step": 1000 * sum(walls) / sum(steps),
        "success": wins / seeds,
        "success_ci": [lo, hi],
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=50)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    load_world("franka", "table")  # compile once, outside the timings
    registry = Registry.from_file()
    rows = [run(name, registry, args.seeds) for name in registry.entries]
    base = next(r for r in rows if r["policy"] == "zero")["ms_per_step"]
    print(f"pick-up episodes, {args.seeds} seeds each (instruction cycles red/green/blue; two distractor cubes + bowl)")
    print(
        f"{'policy':18} {'wall ms':>8} {'p95 ms':>7} {'ms/step':>7} {'x zero':>6} {'infer ms/step':>13} {'steps':>6} "
        f"{'success':>8}  95% CI"
    )
    for r in rows:
        lo, hi = r["success_ci"]
        print(
            f"{r['policy']:18} {1000 * r['wall_s_mean']:8.1f} {1000 * r['wall_s_p95']:7.1f} "
            f"{r['ms_per_step']:7.2f} {r['ms_per_step'] / base:6.2f} {r['infer_ms_per_step']:13.3f} "
            f"{r['steps_mean']:6.1f} "
            f"{r['success']:8.2f}  [{lo:.2f}, {hi:.2f}]"
        )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
