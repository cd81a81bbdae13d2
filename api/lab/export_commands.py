"""`arena export trajectories` and `arena export lerobot`: research exports next to `arena export votes`.

`extend_export(sub)` adds them to the existing `export` command (api/ratings/commands.py owns `votes`): the
`what` argument gains the two choices and the options they take. Both read the store named by ARENA_*
settings, stream battle by battle with a progress bar, and never hold more than one battle's trajectories.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from api.config import load_settings
from api.identity import load_secret
from api.store import open_store

if TYPE_CHECKING:
    from rich.progress import Progress

EXPORTS = ("trajectories", "lerobot")


def extend_export(sub: argparse._SubParsersAction) -> None:
    """Teach the `export` subcommand `trajectories` and `lerobot` (it must already exist)."""
    parser: argparse.ArgumentParser = sub.choices["export"]
    what = next(a for a in parser._actions if a.dest == "what")
    what.choices = [*(what.choices or []), *EXPORTS]
    parser.add_argument("--out", type=Path, help="folder to write (trajectories, lerobot)")
    parser.add_argument("--scene", default=None, help="only battles in this scene (trajectories, lerobot)")
    parser.add_argument("--since", default=None,
                        help="only battles created (with --voted-only: voted) from this ISO date or unix time on")
    parser.add_argument("--camera", action="append", default=None,
                        help="lerobot: a camera to render to video (repeatable; default exterior_1_left)")
    parser.add_argument("--no-videos", action="store_true", help="lerobot: no camera videos (no PyAV needed)")
    parser.add_argument("--voted-only", action="store_true",
                        help="trajectories, lerobot: only voted battles, in vote order (default: every battle, "
                             "oldest first, unvoted ones with a null vote; see docs/data.md before publishing)")
    votes = parser.get_default("func")
    parser.set_defaults(func=_dispatch(votes))


def _dispatch(votes: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        if args.what not in EXPORTS:
            return votes(args)
        if args.out is None:
            print(f"error: arena export {args.what} needs --out DIR", file=sys.stderr)
            return 2
        return cmd_trajectories(args) if args.what == "trajectories" else cmd_lerobot(args)

    return run


def _progress() -> Progress:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                    console=Console(stderr=True), transient=False)


def cmd_trajectories(args: argparse.Namespace) -> int:
    from api.lab.export_trajectories import export_battles, parse_since, selected_battles

    settings = load_settings()
    store = open_store(settings.store)
    try:
        battles = selected_battles(store, args.robot, args.scene, parse_since(args.since), voted_only=args.voted_only)
        with _progress() as bar:
            task = bar.add_task("battles", total=len(battles))
            counts = export_battles(store, battles, args.out, load_secret(settings.secret, settings.data_dir),
                                    lambda: bar.advance(task))
    finally:
        store.close()
    print(f"{counts['battles']} battles, {counts['episodes']} episodes, {counts['bytes']:,} bytes -> {args.out}",
          file=sys.stderr)
    return 0


def cmd_lerobot(args: argparse.Namespace) -> int:
    from api.lab.export_lerobot import DEFAULT_CAMERAS, export_lerobot
    from api.lab.export_trajectories import parse_since, selected_battles

    settings = load_settings()
    store = open_store(settings.store)
    try:
        battles = selected_battles(store, args.robot, args.scene, parse_since(args.since), voted_only=args.voted_only)
        with _progress() as bar:
            task = bar.add_task("battles", total=len(battles))
            cameras = () if args.no_videos else tuple(args.camera or DEFAULT_CAMERAS)
            counts = export_lerobot(store, battles, args.out, load_secret(settings.secret, settings.data_dir),
                                    cameras=cameras, tick=lambda: bar.advance(task))
    finally:
        store.close()
    print(f"{counts['episodes']} episodes, {counts['frames']} frames -> {args.out}", file=sys.stderr)
    return 0
