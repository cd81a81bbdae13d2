"""The robot x scene grid: bundle sizes and the scripted expert's pick success and episode wall time per cell.

Usage: python bench/bench_robots.py [episodes per cell, default 20] [--policy scripted-expert]
       [--families pick,place,stack,push] [--out docs/eval/grid]  (writes each cell's `arena eval` report)

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
from sim_engine.evaluate import evaluate, write  # noqa: E402
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
    parser.add_argument("--families", default="pick")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    families = args.families.split(",")
    registry = Registry.from_file()
    entry = registry.get(args.policy)
    cells = [(r, s) for s, scene in SCENES.items() for r in scene.robots if r in entry.robots]
    print(f"{args.policy}: {args.episodes} held-out seeds per cell and family\n")
    print("| robot | scene | family | success | mean progress | wall s/episode | vs franka/table | bundle raw | gzip |")
    print("|---|---|---|---|---|---|---|---|---|")
    baseline: float | None = None
    for robot, scene in sorted(cells, key=lambda c: (c != ("franka", "table"), c)):
        load_world(robot, scene)  # compile outside the timed episodes
        scored = [f for f in families if f != "place" or SCENES[scene].bowl]  # place = into the bowl
        report = evaluate(lambda: registry.build(args.policy), args.policy, scored, args.episodes,
                          robot=robot, scene=scene)
        if args.out is not None:
            write(report, args.out / f"{args.policy}-{robot}-{scene}")
        raw, gz = bundle_sizes(robot, scene)
        for fam in report.families:
            baseline = baseline or fam.wall_s_per_episode
            print(f"| {robot} | {scene} | {fam.family} | {fam.successes}/{fam.episodes} ({fam.ci_low:.2f}-"
                  f"{fam.ci_high:.2f}) | {fam.mean_progress:.2f} | {fam.wall_s_per_episode:.2f} | "
                  f"{fam.wall_s_per_episode / baseline:.2f}x | {raw / 1e6:.2f} MB | {gz / 1e6:.2f} MB |", flush=True)


if __name__ == "__main__":
    main()
