"""The robot x scene grid: bundle sizes and the scripted expert's pick success and episode wall time per cell.

Usage: python bench/bench_robots.py [episodes per cell, default 20] [--policy scripted-expert]

Success is over `arena eval`'s held-out seeds (the same instructions: pick up the red / green / blue cube in
turn). Wall times are printed as ratios against the Franka on the table, measured in the same run.
"""

from __future__ import annotations

import argparse
import gzip
import sys
from pathlib import Path

import msgspec

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from policy_host.registry import Registry  # noqa: E402
from sim_engine.evaluate import evaluate  # noqa: E402
from sim_engine.scene import SCENES, build_bundle  # noqa: E402
from sim_engine.world import load_world  # noqa: E402


def bundle_sizes(robot: str, scene: str) -> tuple[int, int]:
    """(raw bytes of all files, gzipped msgpack bytes as /api/scenes/{id}/bundle serves it)."""
    b = build_bundle(robot, scene)
    packed = msgspec.msgpack.encode({"robot_id": robot, "scene_id": scene, "entry": b.entry,
                                     "hash": b.content_hash, "files": b.files})
    return sum(len(v) for v in b.files.values()), len(gzip.compress(packed))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("episodes", type=int, nargs="?", default=20)
    parser.add_argument("--policy", default="scripted-expert")
    args = parser.parse_args()
    registry = Registry.from_file()
    entry = registry.get(args.policy)
    cells = [(r, s) for s, scene in SCENES.items() for r in scene.robots if r in entry.robots]
    print(f"{args.policy}: pick over {args.episodes} held-out seeds per cell\n")
    print("| robot | scene | pick success | mean progress | wall s/episode | vs franka/table | bundle raw | gzip |")
    print("|---|---|---|---|---|---|---|---|")
    baseline: float | None = None
    for robot, scene in sorted(cells, key=lambda c: (c != ("franka", "table"), c)):
        load_world(robot, scene)  # compile outside the timed episodes
        report = evaluate(lambda: registry.build(args.policy), args.policy, ["pick"], args.episodes,
                          robot=robot, scene=scene)
        fam = report.families[0]
        baseline = baseline or fam.wall_s_per_episode
        raw, gz = bundle_sizes(robot, scene)
        print(f"| {robot} | {scene} | {fam.successes}/{fam.episodes} ({fam.ci_low:.2f}-{fam.ci_high:.2f}) | "
              f"{fam.mean_progress:.2f} | {fam.wall_s_per_episode:.2f} | {fam.wall_s_per_episode / baseline:.2f}x | "
              f"{raw / 1e6:.2f} MB | {gz / 1e6:.2f} MB |", flush=True)


if __name__ == "__main__":
    main()
