"""`arena demos`: demonstrations from an expert policy (the CLI passes the scripted expert) over
randomised scenes, all task families and paraphrased instructions, stored as `.vlar` replays plus a manifest.

Each demo runs the expert with DART-style noise (Laskey et al. 2017): the executed end-effector step
gets Gaussian noise, so the demos visit states slightly off the expert's path, while the label kept for
training is the expert's clean action at every step, stored in the replay as the extra step stream
`expert_action`. Observations are not stored: they are re-rendered from the exact recorded states.
"""

from __future__ import annotations

import json
import multiprocessing as mp
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from replay_format import encode_replay
from schemas.policy import Observation, Policy, PolicyMetadata
from sim_engine.episode import EpisodeSpec, run_episode

ExpertFactory = Callable[[], Policy]  # picklable (e.g. a class): demos run in worker processes

COLOURS = ("red", "green", "blue")
FAMILY_WEIGHTS = {"pick": 0.5, "place": 0.25, "push": 0.25}
PICK_TEMPLATES = ("pick up the {c} cube", "lift the {c} block", "grab the {c} cube", "grasp the {c} cube",
                  "pick the {c} cube up", "raise the {c} block", "take the {c} cube")
PLACE_TEMPLATES = ("put the {c} cube in the bowl", "place the {c} block in the bowl", "drop the {c} cube into the bowl",
                   "put the {c} cube on the {d} cube", "stack the {c} cube on the {d} cube",
                   "place the {c} block on top of the {d} block")
PUSH_TEMPLATES = ("push the {c} cube to the {d}", "slide the {c} block {d}", "nudge the {c} cube to the {d}",
                  "shove the {c} cube {d}")
DIRECTIONS = ("left", "right", "forward", "back")
EVAL_SEED_BASE = 10_000_000  # evaluation seeds start here; demos never use them


@dataclass(frozen=True)
class DemoSpec:
    index: int
    seed: int
    instruction: str
    family: str
    noise: float


@dataclass(frozen=True)
class DemoRecord:
    file: str
    seed: int
    instruction: str
    family: str
    noise: float
    success: bool
    steps: int
    robot: str = "franka"  # older manifests (Franka only) have no robot or scene
    scene: str = "table"


def plan_demos(n: int, seed: int) -> list[DemoSpec]:
    """The demo list, a pure function of (n, seed)."""
    rng = np.random.default_rng([seed, 0xDE305])
    families = list(FAMILY_WEIGHTS)
    p = np.array([FAMILY_WEIGHTS[f] for f in families])
    specs = []
    for i in range(n):
        family = families[int(rng.choice(len(families), p=p / p.sum()))]
        c = COLOURS[int(rng.integers(3))]
        if family == "pick":
            text = PICK_TEMPLATES[int(rng.integers(len(PICK_TEMPLATES)))].format(c=c)
        elif family == "place":
            template = PLACE_TEMPLATES[int(rng.integers(len(PLACE_TEMPLATES)))]
            others = [o for o in COLOURS if o != c]
            text = template.format(c=c, d=others[int(rng.integers(2))])
        else:
            template = PUSH_TEMPLATES[int(rng.integers(len(PUSH_TEMPLATES)))]
            text = template.format(c=c, d=DIRECTIONS[int(rng.integers(4))])
        noise = float(rng.choice([0.0, 0.005, 0.01, 0.015]))
        specs.append(DemoSpec(i, seed * 100_000 + i, text, family, noise))
    return specs


class NoisyExpert:
    """An ee_delta expert, with Gaussian noise on each executed translation; `labels` keeps its clean actions."""

    def __init__(self, expert: Policy, noise: float, seed: int) -> None:
        self.expert = expert
        self.noise = noise
        self.rng = np.random.default_rng([seed, 0xDA27])
        self.labels: list[np.ndarray] = []

    @property
    def metadata(self) -> PolicyMetadata:
        return self.expert.metadata

    def reset(self, seed: int = 0) -> None:
        self.expert.reset(seed)
        self.labels = []

    def infer(self, obs: Observation) -> np.ndarray:
        clean = self.expert.infer(obs)
        self.labels.append(clean[0].copy())
        noisy = clean.copy()
        if self.noise:
            noisy[:, :3] += self.rng.normal(0.0, self.noise, (len(noisy), 3))
        return noisy


def run_demo(args: tuple[DemoSpec, str, int, ExpertFactory] | tuple[DemoSpec, str, int, ExpertFactory, str, str]
             ) -> DemoRecord:
    """One demo: (spec, out_dir, max_steps, expert[, robot, scene]); the Franka table unless named."""
    spec, out_dir, max_steps, expert = args[:4]
    robot, scene = (args[4], args[5]) if len(args) == 6 else ("franka", "table")
    policy = NoisyExpert(expert(), spec.noise, spec.seed)
    episode = EpisodeSpec(robot_id=robot, scene_id=scene, instruction=spec.instruction, seed=spec.seed,
                          max_steps=max_steps)
    out = run_episode(episode, policy)
    steps = dict(out.steps)
    steps["expert_action"] = np.array(policy.labels, dtype=np.float64).reshape(-1, 7)
    name = f"demo-{spec.index:05d}.vlar"
    Path(out_dir, name).write_bytes(encode_replay(out.header, out.frames, steps))
    return DemoRecord(file=name, seed=spec.seed, instruction=spec.instruction, family=spec.family, noise=spec.noise,
                      success=bool(out.outcome.success), steps=out.outcome.steps, robot=robot, scene=scene)


def generate(out_dir: Path, n: int, expert: ExpertFactory, seed: int = 0, workers: int = 2, max_steps: int = 60,
             progress: Callable[[DemoRecord], None] | None = None, robot: str = "franka",
             scene: str = "table") -> list[DemoRecord]:
    """Write `n` demos of `robot` in `scene` and `manifest.jsonl` into `out_dir`; returns the records (all,
    failed ones marked: training keeps only the successful ones, api/lab/features.py)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    jobs = [(s, str(out_dir), max_steps, expert, robot, scene) for s in plan_demos(n, seed)]
    records: list[DemoRecord] = []
    for record in _map(run_demo, jobs, workers):
        records.append(record)
        if progress:
            progress(record)
    records.sort(key=lambda r: r.file)
    with open(out_dir / "manifest.jsonl", "w") as f:
        for r in records:
            f.write(json.dumps(asdict(r)) + "\n")
    return records


def read_manifest(demo_dir: Path) -> list[DemoRecord]:
    path = demo_dir / "manifest.jsonl"
    if not path.is_file():
        from schemas.errors import ValidationError

        raise ValidationError("demos", f"{path} not found: run `arena demos --out {demo_dir}` first")
    return [DemoRecord(**json.loads(line)) for line in path.read_text().splitlines() if line.strip()]


def _map(fn: Callable, jobs: list, workers: int) -> Iterator:
    if workers <= 1:
        yield from map(fn, jobs)
        return
    with mp.get_context("spawn").Pool(workers) as pool:
        yield from pool.imap_unordered(fn, jobs, chunksize=4)
