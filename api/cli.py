"""`arena`: serve the arena, run one episode to a file, inspect a replay file, list models, serve a policy over
websockets, check a policy against the arena's protocol."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from api.config import load_settings
from schemas.errors import ArenaError, MissingDependencyError

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

    from replay_format import Replay
    from sim_engine.episode import EpisodeOutcome, StepFrames


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ArenaError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="arena", description=__doc__)
    sub = p.add_subparsers(required=True, metavar="COMMAND")
    s = sub.add_parser("serve", help="serve the arena with granian (ARENA_HOST/ARENA_PORT/ARENA_DATA_DIR)")
    s.set_defaults(func=cmd_serve)
    e = sub.add_parser("episode", help="run one episode and write its replay file")
    e.add_argument("--policy", required=True)
    e.add_argument("--instruction", required=True)
    e.add_argument("--seed", type=int, default=0)
    e.add_argument("--robot", default="franka")
    e.add_argument("--scene", default="table")
    e.add_argument("--max-steps", type=int, default=50)
    e.add_argument("--models", default=None, help="registry file (default: the packaged models.toml)")
    e.add_argument("-o", "--output", type=Path, required=True)
    e.set_defaults(func=cmd_episode)
    i = sub.add_parser("inspect", help="print a replay file's header and per-step summary")
    i.add_argument("path", type=Path)
    i.add_argument("--every", type=int, default=1, help="print every Nth step")
    i.add_argument("--png", type=Path, help="also render a filmstrip of the episode to this PNG")
    i.add_argument("--tiles", type=int, default=6, help="frames in the filmstrip")
    i.set_defaults(func=cmd_inspect)
    m = sub.add_parser("models", help="list the policy registry")
    m.add_argument("--models", default=None)
    m.set_defaults(func=cmd_models)
    from api.lab.commands import add_commands  # demos, train, eval (learned policies)

    add_commands(sub)
    from api.ratings.commands import add_commands as add_data_commands  # export votes

    add_data_commands(sub)
    _policy_commands(sub)
    return p


def _policy_commands(sub: argparse._SubParsersAction) -> None:
    v = sub.add_parser("policy-server", help="serve a registry policy over openpi's or RoboArena's websocket protocol")
    v.add_argument("--policy", required=True)
    v.add_argument("--host", default="127.0.0.1", help="interface to listen on (0.0.0.0: every one)")
    v.add_argument("--port", type=int, default=8000, help="0 picks a free port (printed)")
    v.add_argument("--protocol", choices=["openpi", "roboarena"], default="openpi")
    v.add_argument("--api-key-env", metavar="VAR", help="require the API key held in this environment variable")
    v.add_argument("--models", default=None)
    v.set_defaults(func=cmd_policy_server)
    c = sub.add_parser("check-policy", help="check a registry policy against the arena's policy protocol")
    c.add_argument("policy")
    c.add_argument("--models", default=None)
    c.add_argument("--seed", type=int, default=0)
    c.add_argument("--calls", type=int, default=4, help="inferences to check")
    c.add_argument("--budget", type=float, default=1.0, help="wall-time budget per inference, seconds")
    c.add_argument("--json", action="store_true", help="print the report as JSON")
    c.set_defaults(func=cmd_check_policy)


def cmd_serve(args: argparse.Namespace) -> int:
    settings = load_settings()
    cmd = [sys.executable, "-m", "granian", "--interface", "asgi", "--factory", "--host", settings.host,
           "--port", str(settings.port), "--workers", "1", "api.app:create_app"]
    print(f"VLA Arena on http://{settings.host}:{settings.port}  (data: {Path(settings.data_dir).resolve()})")
    from api.threads import configure  # numerical thread pools: stated sizes, inherited by granian

    configure()
    os.execv(sys.executable, cmd)  # one process: the embedded default keeps workers and live streams in it


def cmd_episode(args: argparse.Namespace) -> int:
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from policy_host.registry import DEFAULT_PATH, Registry
    from sim_engine.episode import EpisodeSpec, run_episode

    registry = Registry.from_file(args.models or DEFAULT_PATH)
    spec = EpisodeSpec(robot_id=args.robot, scene_id=args.scene, instruction=args.instruction, seed=args.seed,
                       max_steps=args.max_steps)
    columns = (TextColumn("[bold]{task.description}"), BarColumn(),
               TextColumn("step {task.completed:.0f}/{task.total:.0f}"),
               TextColumn("progress {task.fields[progress]}"), TimeElapsedColumn())
    with Progress(*columns, transient=False) as bar:
        task = bar.add_task(args.policy, total=spec.max_steps, progress="-")
        sink = _ProgressSink(bar, task)
        with registry.open(args.policy) as policy:
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


def cmd_models(args: argparse.Namespace) -> int:
    from policy_host.registry import DEFAULT_PATH, Registry

    registry = Registry.from_file(args.models or DEFAULT_PATH)
    for e in registry.entries.values():
        flag = "" if e.arena else "  (not in arena pairings)"
        print(f"{e.name:20s} {e.kind:16s} latency={e.latency_s:.2f}s  {e.organisation} · {e.licence}{flag}")
        if e.description:
            print(f"{'':20s} {e.description}")
    return 0


def cmd_policy_server(args: argparse.Namespace) -> int:
    from policy_host.registry import DEFAULT_PATH, Registry

    try:
        from policy_host.server import PolicyServer
    except ModuleNotFoundError as exc:
        raise MissingDependencyError(exc.name or "openpi-client", "pip install -e .[learned]") from exc
    registry = Registry.from_file(args.models or DEFAULT_PATH)
    registry.get(args.policy)
    api_key = None
    if args.api_key_env:
        api_key = os.environ.get(args.api_key_env) or sys.exit(f"error: {args.api_key_env} is not set")
    server = PolicyServer(lambda: registry.build(args.policy), protocol=args.protocol, host=args.host,
                          port=args.port, api_key=api_key)
    print(f"serving {args.policy} ({args.protocol}) on ws://{args.host}:{server.port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        server.shutdown()
    return 0


def cmd_check_policy(args: argparse.Namespace) -> int:
    import msgspec

    from policy_host.registry import DEFAULT_PATH, Registry
    from sim_engine.conformance import check_policy

    registry = Registry.from_file(args.models or DEFAULT_PATH)
    with registry.open(args.policy) as policy:
        report = check_policy(policy, name=args.policy, seed=args.seed, calls=args.calls,
                              latency_budget_s=args.budget)
    if args.json:
        print(msgspec.json.encode(report).decode())
    else:
        for check in report.checks:
            print(f"{check.status.value.upper():4s}  {check.name:11s} {check.message}")
        print(f"{args.policy}: {'passed' if report.passed else 'FAILED'}")
    return 0 if report.passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
