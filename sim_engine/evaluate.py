"""`arena eval`: run a policy (a fresh instance per episode, from `make_policy`) over held-out seeds per
task family and report success (Wilson 95% CI),
mean progress and mean inference time, as markdown and JSON."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from schemas.policy import Observation, Policy, PolicyMetadata
from sim_engine.episode import EpisodeSpec, run_episode
from sim_engine.scene_suites import SCENE_SUITES

EVAL_SEED_BASE = 10_000_000  # disjoint from every demo seed (demos use seed * 100_000 + i < 10_000_000)
COLOURS = ("red", "green", "blue")
SUITES: dict[str, Callable[[int], str]] = {
    "pick": lambda i: f"pick up the {COLOURS[i % 3]} cube",
    "place": lambda i: f"put the {COLOURS[i % 3]} cube in the bowl",
    "stack": lambda i: f"stack the {COLOURS[i % 3]} cube on the {COLOURS[(i + 1) % 3]} cube",
    "push": lambda i: f"push the {COLOURS[i % 3]} cube to the {('left', 'right', 'forward', 'back')[i % 4]}",
}
SUITES.update(SCENE_SUITES)  # bin, shelf, microwave, open-*, kettle: for scenes with the fixture


def wilson(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    if n == 0:
        return (0.0, 1.0)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


@dataclass
class FamilyReport:
    family: str
    episodes: int
    successes: int
    success_rate: float
    ci_low: float
    ci_high: float
    mean_progress: float
    mean_steps: float
    infer_ms_per_step: float
    infer_ms_per_call: float
    wall_s_per_episode: float


@dataclass
class EvalReport:
    policy: str
    robot: str
    scene: str
    seed_base: int
    max_steps: int
    families: list[FamilyReport] = field(default_factory=list)
    created: str = ""

    def to_markdown(self) -> str:
        lines = [f"# `arena eval`: {self.policy}", "",
                 f"Robot `{self.robot}`, scene `{self.scene}`, held-out seeds from {self.seed_base} "
                 f"(demos never use them), at most {self.max_steps} control steps at 10 Hz. {self.created}", "",
                 "| family | episodes | success | 95% CI (Wilson) | mean progress | mean steps | inference ms/step "
                 "| ms/call | wall s/episode |",
                 "|---|---|---|---|---|---|---|---|---|"]
        for f in self.families:
            lines.append(f"| {f.family} | {f.episodes} | {f.successes}/{f.episodes} = {f.success_rate:.2f} | "
                         f"{f.ci_low:.2f}–{f.ci_high:.2f} | {f.mean_progress:.2f} | {f.mean_steps:.1f} | "
                         f"{f.infer_ms_per_step:.1f} | {f.infer_ms_per_call:.1f} | {f.wall_s_per_episode:.2f} |")
        lines += ["", "Instructions: " + "; ".join(f"{k}: \"{SUITES[k](0)}\" (colours rotate)" for k in
                                                   (f.family for f in self.families) if k in SUITES), ""]
        return "\n".join(lines)


def evaluate(make_policy: Callable[[], Policy], policy: str, families: list[str], episodes: int, *,
             robot: str = "franka",
             scene: str = "table", seed_base: int = EVAL_SEED_BASE, max_steps: int = 60,
             progress: Callable[[str, int, bool], None] | None = None) -> EvalReport:
    report = EvalReport(policy=policy, robot=robot, scene=scene, seed_base=seed_base, max_steps=max_steps,
                        created=time.strftime("Generated %Y-%m-%d %H:%M UTC.", time.gmtime()))
    for family in families:
        instruction = SUITES[family]
        wins, progress_sum, steps_sum, infer_s, calls, wall = 0, 0.0, 0, 0.0, 0, 0.0
        for i in range(episodes):
            spec = EpisodeSpec(robot_id=robot, scene_id=scene, instruction=instruction(i), seed=seed_base + i,
                               max_steps=max_steps)
            counter = _CountingPolicy(make_policy())
            out = run_episode(spec, counter)
            ok = bool(out.outcome.success)
            wins += ok
            progress_sum += out.outcome.progress or 0.0
            steps_sum += out.outcome.steps
            infer_s += out.infer_time_s
            calls += counter.calls
            wall += out.wall_time_s
            if progress:
                progress(family, i, ok)
        lo, hi = wilson(wins, episodes)
        report.families.append(FamilyReport(
            family=family, episodes=episodes, successes=wins, success_rate=wins / episodes, ci_low=lo, ci_high=hi,
            mean_progress=progress_sum / episodes, mean_steps=steps_sum / episodes,
            infer_ms_per_step=1000 * infer_s / max(1, steps_sum), infer_ms_per_call=1000 * infer_s / max(1, calls),
            wall_s_per_episode=wall / episodes))
    return report


class _CountingPolicy:
    """Counts inference calls (a chunked policy is asked once per `action_horizon` steps)."""

    def __init__(self, inner: Policy) -> None:
        self.inner, self.calls = inner, 0

    @property
    def metadata(self) -> PolicyMetadata:
        return self.inner.metadata

    def reset(self, seed: int = 0) -> None:
        self.inner.reset(seed)

    def infer(self, obs: Observation) -> np.ndarray:
        self.calls += 1
        return self.inner.infer(obs)


def write(report: EvalReport, out: Path) -> tuple[Path, Path]:
    out.parent.mkdir(parents=True, exist_ok=True)
    md, js = out.with_suffix(".md"), out.with_suffix(".json")
    md.write_text(report.to_markdown())
    js.write_text(json.dumps(asdict(report), indent=2) + "\n")
    return md, js

