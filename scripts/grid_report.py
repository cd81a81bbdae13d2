"""The robot × scene grid of `arena eval` reports (docs/eval/grid/): run it, and write its README from the JSON.

Usage: python scripts/grid_report.py run [--policies P,...] [--robots R,...] [--scenes S,...]
                                         [--expert-episodes 50] [--episodes 10] [--out docs/eval/grid]
       python scripts/grid_report.py readme [--base COMMIT] [--wall-min MINUTES] [--since "YYYY-MM-DD HH:MM"]
                                            [--out docs/eval/grid]

`run` evaluates every non-learned registry policy on every cell, one cell after the other in this one process,
with `sim_engine.evaluate.evaluate` and `write` (what `arena eval --policy P --robot R --scene S --episodes N
--families pick,place,stack,push --out docs/eval/grid/P-R-S` runs, place skipped where the scene has no bowl).
`readme` rebuilds README.md's tables from the cells' JSON; `learned` writes learned.md: each robot's learned
policies (`run --policies vla-...`) beside the expert and `random`, scene by scene.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

POLICIES = ("scripted-expert", "scripted-noisy", "scripted-slow", "scripted-confused", "random", "zero")
ROBOTS = ("franka", "ur5e", "widowx")
SCENES = ("table", "table-cubes", "kitchen", "warehouse")
FAMILIES = ("pick", "place", "stack", "push")
HEAD = {"pick": "pick", "place": "place in bowl", "stack": "stack", "push": "push"}
EXPERT = "scripted-expert"
GOAL = 0.9  # the bar: the expert picks at least 90% of 50 seeds per robot and scene


def run(args: argparse.Namespace) -> None:
    from policy_host.registry import Registry
    from sim_engine.evaluate import evaluate, write
    from sim_engine.scene import get_scene

    registry, out = Registry.from_file(), Path(args.out)
    for policy in args.policies.split(","):
        n = args.expert_episodes if policy == EXPERT else args.episodes
        for robot in args.robots.split(","):
            for scene in args.scenes.split(","):
                families = [f for f in FAMILIES if f != "place" or get_scene(scene, robot).bowl]
                t0 = time.time()
                report = evaluate(functools.partial(registry.build, policy), policy, families, n, robot=robot,
                                  scene=scene)
                write(report, out / f"{policy}-{robot}-{scene}")
                counts = " ".join(f"{f.family} {f.successes}/{f.episodes}" for f in report.families)
                print(f"{time.strftime('%H:%M:%S', time.gmtime())} {policy} {robot} {scene}: {counts} "
                      f"({time.time() - t0:.0f} s)", flush=True)


def load(out: Path, since: str = "") -> dict[tuple[str, str, str], dict]:
    """The cells' reports, those generated at `since` ("YYYY-MM-DD HH:MM", UTC) or later."""
    cells = {}
    for path in sorted(out.glob("*.json")):
        report = json.loads(path.read_text())
        if report.get("policy") in POLICIES and report["created"].removeprefix("Generated ") >= since:
            cells[(report["policy"], report["robot"], report["scene"])] = report
    return cells


def counts(report: dict) -> dict[str, dict]:
    return {f["family"]: f for f in report["families"]}


def fraction(f: dict | None, rate: bool = False) -> str:
    if f is None:
        return "—"
    text = f"{f['successes']}/{f['episodes']}"
    return f"{text} ({f['success_rate']:.2f})" if rate else text


def mean_progress(report: dict) -> float:
    fams = report["families"]
    return sum(f["mean_progress"] for f in fams) / len(fams)


def expert_table(cells: dict) -> list[str]:
    lines = [f"| robot | scene | pick (95% CI) | place in bowl | stack | push | pick ≥ {GOAL:.0%} |",
             "|---|---|---|---|---|---|---|"]
    for robot in ROBOTS:
        for scene in SCENES:
            report = cells.get((EXPERT, robot, scene))
            if report is None:
                lines.append(f"| {robot} | {scene} | not run | | | | |")
                continue
            c = counts(report)
            pick = c["pick"]
            ci = f"{pick['ci_low']:.2f}–{pick['ci_high']:.2f}"
            ok = "yes" if pick["success_rate"] >= GOAL else "**no**"
            lines.append(f"| {robot} | {scene} | {fraction(pick)} ({ci}) | {fraction(c.get('place'))} | "
                         f"{fraction(c.get('stack'))} | {fraction(c.get('push'))} | {ok} |")
    return lines


def expert_below(cells: dict) -> str:
    """The expert's families under GOAL, robot by robot, with the scenes where they are."""
    low: dict[tuple[str, str], list[str]] = {}
    for robot in ROBOTS:
        for scene in SCENES:
            report = cells.get((EXPERT, robot, scene), {"families": []})
            for f in report["families"]:
                if f["success_rate"] < GOAL:
                    low.setdefault((robot, f["family"]), []).append(f"{scene} {f['successes']}/{f['episodes']}")
    if not low:
        return f"Every family of every cell is at {GOAL:.0%} or more."
    parts = [f"{robot} {family} ({', '.join(v)})" for (robot, family), v in sorted(low.items())]
    return f"Under {GOAL:.0%}: " + "; ".join(parts) + "."


def robot_table(cells: dict, robot: str) -> tuple[list[str], int]:
    """The table scene's counts per policy and family, with any other scene's different count in brackets."""
    lines = ["| policy | pick | place in bowl | stack | push | mean progress (table) |",
             "|---|---|---|---|---|---|"]
    differ = 0
    for policy in POLICIES:
        base = cells.get((policy, robot, "table"))
        if base is None:
            continue
        row = []
        for family in FAMILIES:
            f = counts(base).get(family)
            text = fraction(f)
            others: dict[str, list[str]] = {}
            for scene in SCENES[1:]:
                other = cells.get((policy, robot, scene))
                g = counts(other).get(family) if other else None
                if f is not None and g is not None and g["successes"] != f["successes"]:
                    others.setdefault(fraction(g), []).append(scene)
            differ += bool(others)
            text += "".join(f" ({k} in {', '.join(v)})" for k, v in others.items())
            row.append(text)
        lines.append(f"| {policy} | {' | '.join(row)} | {mean_progress(base):.2f} |")
    return lines, differ


def cell_table(cells: dict, out: Path) -> list[str]:
    lines = ["| robot | scene | policy | seeds | pick | place in bowl | stack | push | mean progress (all families) "
             "| wall s/episode |", "|---|---|---|---|---|---|---|---|---|---|"]
    for robot in ROBOTS:
        for scene in SCENES:
            for policy in POLICIES:
                report = cells.get((policy, robot, scene))
                if report is None:
                    continue
                c, name = counts(report), f"{policy}-{robot}-{scene}"
                link = f"[{policy}]({name}.md)" if (out / f"{name}.md").exists() else policy
                episodes = report["families"][0]["episodes"]
                wall = sum(f["wall_s_per_episode"] * f["episodes"] for f in report["families"]) / sum(
                    f["episodes"] for f in report["families"])
                row = " | ".join(fraction(c.get(f), rate=True) for f in FAMILIES)
                lines.append(f"| {robot} | {scene} | {link} | {episodes} | {row} | {mean_progress(report):.2f} | "
                             f"{wall:.2f} |")
    return lines


def readme(args: argparse.Namespace) -> str:
    out = Path(args.out)
    cells = load(out, args.since)
    created = sorted(r["created"].removeprefix("Generated ").removesuffix(".").removesuffix(" UTC")
                     for r in cells.values())
    missing = [f"{p}-{r}-{s}" for p in POLICIES for r in ROBOTS for s in SCENES if (p, r, s) not in cells]
    expert_n = sorted({r["families"][0]["episodes"] for (p, _, _), r in cells.items() if p == EXPERT})
    other_n = sorted({r["families"][0]["episodes"] for (p, _, _), r in cells.items() if p != EXPERT})
    wall = args.wall_min
    per_robot, differ = [], 0
    for robot in ROBOTS:
        lines, d = robot_table(cells, robot)
        per_robot += [f"**{robot}**", "", *lines, ""]
        differ += d
    n_counts = sum(len(counts(r)) for (_, _, s), r in cells.items() if s == "table")
    text = [
        "# The robot × scene grid: `arena eval` reports", "",
        "One report per policy, robot and scene (`<policy>-<robot>-<scene>.md` and `.json`), for every non-learned",
        "policy in `policy_host/models.toml` on all 12 cells (3 robots × table, table-cubes, kitchen, warehouse).",
        "Each is what", "",
        "    nice -n 10 arena eval --policy P --robot R --scene S --episodes N --families pick,place,stack,push \\",
        "        --out docs/eval/grid/P-R-S", "",
        "writes; `nice -n 10 python scripts/grid_report.py run` ran them (the same `evaluate` and `write`; two such",
        "processes side by side, one for the Franka and the UR5e, one for the WidowX), and",
        "`python scripts/grid_report.py readme` built this README's tables from their JSON.",
        f"N = {'/'.join(map(str, expert_n))} held-out seeds per family for `scripted-expert` and",
        f"N = {'/'.join(map(str, other_n))} for `scripted-noisy`, `scripted-slow`, `scripted-confused`, `random` and",
        "`zero`" + (f": the whole grid took {wall:.1f} minutes of wall time on a shared 2-core machine."
                    if wall else "."),
        "Wilson 95% intervals on 10 episodes span 0.28 (at 0/10) to 0.52 (at 5/10), on 50 episodes 0.07 (at 50/50)",
        "to 0.27 (at 25/50); each report gives them. Seeds are held out from 10,000,000 (demos never use them);",
        "episodes stop at 60 control steps (10 Hz). Place (into the bowl) runs only where the scene has a bowl",
        "(table, kitchen): `arena eval` skips it elsewhere.", "",
        f"Generated between {created[0]} and {created[-1]} UTC from the working tree on top of commit {args.base}.",
        "Wall times in the reports are from a machine shared with other work and are noisy. The Franka-table",
        "reports with 50 seeds per family, for every registry policy including the learned ones, are in `../`.", "",
    ]
    if missing:
        text += [f"Not in this run (the time ran out; any file of theirs here is older): {', '.join(missing)}.", ""]
    text += ["Learned policies: see [learned.md](learned.md).", "",
             f"## The expert over {'/'.join(map(str, expert_n))} seeds per family", "",
             f"The goal for every robot and scene: `scripted-expert` picks up the asked cube in at least {GOAL:.0%} of",
             "the episodes. Successes per family (pick's Wilson 95% interval in brackets):", "",
             *expert_table(cells), "", expert_below(cells), "",
             "## Per robot", "",
             "A seed fixes the cube (and bowl) layout in every scene, so a robot's four scenes run the same four tasks",
             "from the same layouts; the kitchen's and warehouse's furniture and the missing bowl are what differ.",
             f"Each table gives the table scene's successes / episodes; of its {n_counts} counts (all policies, robots",
             f"and families), {differ} differ in another scene, shown in brackets. The four scenes are not four",
             "independent samples. Mean progress is the table scene's, averaged over the four families.", "",
             *per_robot,
             "## Per cell", "",
             "Mean progress and wall time are over all of the cell's episodes. Links go to each report (Wilson 95%",
             "intervals, mean steps, inference time per step).", "",
             *cell_table(cells, out), ""]
    return "\n".join(text)


LEARNED = {"franka": ("vla-mnv2-minilm", "vla-mnv2-minilm-lite"), "ur5e": ("vla-mnv2-minilm-ur5e",),
           "widowx": ("vla-mnv2-minilm-widowx",)}


def learned_report(out: Path, policy: str, robot: str, scene: str) -> tuple[dict | None, str]:
    """A cell's report and its link: the grid's, or for the Franka table the 50-seed reports one folder up."""
    for path, link in ((out / f"{policy}-{robot}-{scene}.json", f"{policy}-{robot}-{scene}.md"),
                       (out.parent / f"{policy}.json", f"../{policy}.md")):
        if path.exists():
            report = json.loads(path.read_text())
            if (report["robot"], report["scene"]) == (robot, scene):
                return report, link
    return None, ""


def learned(args: argparse.Namespace) -> str:
    out = Path(args.out)
    text = ["# Learned policies on every robot and scene", "",
            "Each robot's learned VLA (one checkpoint per robot, trained on that robot's table demos:",
            "[docs/vla.md](../../vla.md#one-checkpoint-per-robot)) beside its scripted expert and `random`, from",
            "`arena eval --policy P --robot R --scene S --families pick,place,stack,push` on held-out seeds from",
            "10,000,000, at most 60 control steps. Successes / episodes (mean progress over the families in the",
            "last column). The Franka table's learned and `random` rows are the 50-seed reports in `../`; the other",
            "cells have 10 seeds per family for learned policies and `random`, and the expert has the grid's seeds.",
            "Place (into the bowl) runs only where the scene has a bowl.", "",
            "Written by `python scripts/grid_report.py learned` from the reports' JSON.", ""]
    for robot in ROBOTS:
        text += [f"## {robot}", "", "| scene | policy | pick | place in bowl | stack | push | mean progress |",
                 "|---|---|---|---|---|---|---|"]
        for scene in SCENES:
            for policy in (EXPERT, *LEARNED[robot], "random"):
                report, link = learned_report(out, policy, robot, scene)
                if report is None:
                    text.append(f"| {scene} | {policy} | not run | | | | |")
                    continue
                c = counts(report)
                row = " | ".join(fraction(c.get(f)) for f in FAMILIES)
                name = f"**[{policy}]({link})**" if policy in LEARNED[robot] else f"[{policy}]({link})"
                text.append(f"| {scene} | {name} | {row} | {mean_progress(report):.2f} |")
        text.append("")
    return "\n".join(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run")
    r.add_argument("--policies", default=",".join(POLICIES))
    r.add_argument("--robots", default=",".join(ROBOTS))
    r.add_argument("--scenes", default=",".join(SCENES))
    r.add_argument("--expert-episodes", type=int, default=50)
    r.add_argument("--episodes", type=int, default=10)
    r.add_argument("--out", default="docs/eval/grid")
    w = sub.add_parser("readme")
    w.add_argument("--base", default="(unknown)", help="the commit the working tree was on")
    w.add_argument("--wall-min", type=float, default=None, help="wall time of the whole run, minutes")
    w.add_argument("--since", default="", help="only reports generated from then on (YYYY-MM-DD HH:MM, UTC)")
    w.add_argument("--out", default="docs/eval/grid")
    m = sub.add_parser("learned")
    m.add_argument("--out", default="docs/eval/grid")
    args = parser.parse_args()
    if args.command == "run":
        run(args)
    elif args.command == "learned":
        (Path(args.out) / "learned.md").write_text(learned(args))
    else:
        (Path(args.out) / "README.md").write_text(readme(args))


if __name__ == "__main__":
    main()
