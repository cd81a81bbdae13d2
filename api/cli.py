"""`arena`: serve the arena, run one episode to a file, inspect a replay file, list models, serve a policy over
websockets, check a policy against the arena's protocol."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import numpy as np

from api.config import load_settings
from api.policy_commands import MODELS_HELP, registry
from schemas.errors import ArenaError

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

    from replay_format import Replay
    from sim_engine.episode import EpisodeOutcome, StepFrames


def main(argv: list[str] | None = None) -> int:
    """Run one command. Every error is one line on stderr and a non-zero exit: 2 for the arena's own errors
    (and bad arguments), 1 for a file that cannot be read and anything unexpected (`--debug` shows its
    traceback), 130 for Ctrl-C."""
    args = _parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ArenaError as exc:
        return _fail(str(exc), 2)
    except OSError as exc:  # missing, unreadable, a folder, a full disk
        return _fail(f"{exc.filename}: {exc.strerror}" if exc.filename and exc.strerror else str(exc), 1)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        if args.debug:
            raise
        return _fail(f"unexpected {type(exc).__name__}: {exc} (arena --debug ... shows the traceback)", 1)


def _fail(message: str, code: int) -> int:
    print(f"error: {' '.join(message.split())}", file=sys.stderr)
    return code


class _Parser(argparse.ArgumentParser):
    """argparse, with each usage error on one line (the usage itself is in --help)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="arena", description=__doc__)
    p.add_argument("--debug", action="store_true", help="show the traceback of an unexpected error")
    sub = p.add_subparsers(required=True, metavar="COMMAND")
    s = sub.add_parser("serve", help="serve the arena with granian (ARENA_HOST/ARENA_PORT/ARENA_DATA_DIR)")
    s.set_defaults(func=cmd_serve)
    from api.worker_main import add_serve_flags, add_worker_command  # scale-out: --store/--redis, `arena worker`

    add_serve_flags(s)
    add_worker_command(sub)
    e = sub.add_parser("episode", help="run one episode and write its replay file")
    e.add_argument("--policy", required=True)
    e.add_argument("--instruction", required=True)
    e.add_argument("--seed", type=int, default=0)
    e.add_argument("--robot", default="franka")
    e.add_argument("--scene", default="table")
    e.add_argument("--max-steps", type=int, default=None, help="control steps (default: ARENA_MAX_STEPS, else 50)")
    e.add_argument("--models", default=None, help=MODELS_HELP)
    e.add_argument("-o", "--output", type=Path, required=True)
    e.set_defaults(func=cmd_episode)
    i = sub.add_parser("inspect", help="print a replay file's header and per-step summary")
    i.add_argument("path", type=Path)
    i.add_argument("--every", type=int, default=1, help="print every Nth step")
    i.add_argument("--png", type=Path, help="also render a filmstrip of the episode to this PNG")
    i.add_argument("--tiles", type=int, default=6, help="frames in the filmstrip")
    i.set_defaults(func=cmd_inspect)
    from api.lab.commands import add_commands  # demos, train, eval (learned policies)

    add_commands(sub)
    from api.ratings.commands import add_commands as add_data_commands  # export votes

    add_data_commands(sub)
    from api.lab.export_commands import extend_export  # export trajectories, export lerobot

    extend_export(sub)
    from api.policy_commands import add_commands as add_policy_commands  # models, policy-server, check-policy

    add_policy_commands(sub)
    return p


def cmd_serve(args: argparse.Namespace) -> int:
    from api.worker_main import apply_flags

    apply_flags(args)  # --store/--redis/--workers/--host/--port -> ARENA_*, inherited by granian
    settings = load_settings()
    cmd = [sys.executable, "-m", "granian", "--interface", "asgi", "--factory", "--host", settings.host,
           "--port", str(settings.port), "--workers", "1", "api.app:create_app"]
    print(f"VLA Arena on http://{settings.host}:{settings.port}  (data: {Path(settings.data_dir).resolve()})")
    from api.threads import configure  # numerical thread pools: stated sizes, inherited by granian

    configure()
    os.execv(sys.executable, cmd)  # one process: the embedded default keeps workers and live streams in it


def cmd_episode(args: argparse.Namespace) -> int:
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from sim_engine.episode import EpisodeSpec, run_episode

    models = registry(args.models)
    spec = EpisodeSpec(robot_id=args.robot, scene_id=args.scene, instruction=args.instruction, seed=args.seed,
                       max_steps=load_settings().max_steps if args.max_steps is None else args.max_steps)
    columns = (TextColumn("[bold]{task.description}"), BarColumn(),
               TextColumn("step {task.completed:.0f}/{task.total:.0f}"),
               TextColumn("progress {task.fields[progress]}"), TimeElapsedColumn())
    with Progress(*columns, transient=False) as bar:
        task = bar.add_task(args.policy, total=spec.max_steps, progress="-")
        sink = _ProgressSink(bar, task)
        with models.open(args.policy) as policy:
            out = run_episode(spec, policy, sink, policy_name=args.policy)
        bar.update(task, total=out.outcome.steps)
    args.output.write_bytes(out.replay)
    o = out.outcome
    t = out.task
    print(f"task {t.family.value} {t.object or ''} {t.direction or t.target or ''}".rstrip())
    print(f"success={o.success} progress={_fmt(o.progress)} steps={o.steps} frames={o.n_frames} "
          f"ended={o.terminated} wall={out.wall_time_s:.3f}s inference={out.infer_time_s * 1000:.1f}ms")
    print(f"wrote {args.output} ({len(out.replay):,} bytes)")
    return 0


class _ProgressSink:
    """Shows the running episode as a progress bar (an EpisodeSink)."""

    def __init__(self, bar: Progress, task: TaskID) -> None:
        self.bar, self.task = bar, task

    def on_header(self, header: object) -> None:
        return None

    def on_step(self, frames: StepFrames) -> None:
        if frames.step >= 0:
            self.bar.update(self.task, completed=frames.step + 1, progress=_fmt(frames.progress))

    def on_end(self, outcome: EpisodeOutcome) -> None:
        return None


def _fmt(x: float | None) -> str:
    return "-" if x is None or np.isnan(x) else f"{x:.2f}"


def cmd_inspect(args: argparse.Namespace) -> int:
    from replay_format import decode_replay

    data = args.path.read_bytes()
    replay = decode_replay(data)  # verifies every chunk checksum
    h = replay.header
    major, minor = replay.version
    print(f"{args.path}  {len(data):,} bytes  format {major}.{minor}  mujoco {h.mujoco_version}")
    print(f"robot {h.robot_id}  scene {h.scene_id}  bundle {h.bundle_hash}")
    print(f"nq={h.nq} nv={h.nv} nu={h.nu} timestep={h.timestep} frame_rate={h.frame_rate} "
          f"control_rate={h.control_rate} action={h.action_space}[{h.action_dim}]")
    n = replay.frames["time"].shape[0]
    print(f"frames {n}  steps {len(h.step_frames)}  chunks {len(replay.chunks)}  raw {_raw_bytes(replay):,} bytes "
          f"-> {len(data):,} ({_raw_bytes(replay) / len(data):.2f}x)")
    for key, value in sorted(h.metadata.items()):
        print(f"  {key}: {value}")
    print(f"{'step':>4} {'frame':>5} {'time':>6} {'progress':>8}  action")
    for k in range(0, len(h.step_frames), max(1, args.every)):
        f = h.step_frames[k]
        action = replay.steps["action"][k]
        act = "-" if np.isnan(action).all() else " ".join(f"{a:+.3f}" for a in action)
        print(f"{k:>4} {f:>5} {replay.frames['time'][f]:>6.2f} {_fmt(float(replay.steps['progress'][k])):>8}  {act}")
    if args.png:
        from PIL import Image

        from sim_engine.filmstrip import filmstrip

        Image.fromarray(filmstrip(replay, tiles=args.tiles)).save(args.png)
        print(f"wrote {args.png} ({args.tiles} frames from the exact states)")
    return 0


def _raw_bytes(replay: Replay) -> int:
    return sum(a.nbytes for a in (*replay.frames.values(), *replay.steps.values()))


if __name__ == "__main__":
    raise SystemExit(main())
