"""CLI commands about registry policies: `arena models`, `arena policy-server`, `arena check-policy` (wired
into api.cli), and the one way every command finds the registry: `--models`, else ARENA_MODELS, else the
packaged models.toml."""

from __future__ import annotations

import argparse
import os
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from api.config import load_settings
from schemas.errors import MissingDependencyError, ValidationError

if TYPE_CHECKING:
    from policy_host.registry import Registry

MODELS_HELP = "registry file (default: ARENA_MODELS, else the packaged models.toml)"


def registry(models: str | None) -> Registry:
    """The registry a command uses: `--models` if given, else the settings' (ARENA_MODELS or the default)."""
    from policy_host.registry import Registry

    return Registry.from_file(models or load_settings().models)


def add_commands(sub: argparse._SubParsersAction) -> None:
    m = sub.add_parser("models", help="list the policy registry")
    m.add_argument("--models", default=None, help=MODELS_HELP)
    m.set_defaults(func=cmd_models)
    v = sub.add_parser("policy-server", help="serve a registry policy over openpi's or RoboArena's websocket protocol")
    v.add_argument("--policy", required=True)
    v.add_argument("--host", default="127.0.0.1", help="interface to listen on (0.0.0.0: every one)")
    v.add_argument("--port", type=int, default=8000, help="0 picks a free port (printed)")
    v.add_argument("--protocol", choices=["openpi", "roboarena"], default="openpi")
    v.add_argument("--robot", default=None, help="robot whose forward kinematics fills a missing "
                                                  "observation/cartesian_position (default: the entry's first)")
    v.add_argument("--api-key-env", metavar="VAR", help="require the API key held in this environment variable")
    v.add_argument("--models", default=None, help=MODELS_HELP)
    v.set_defaults(func=cmd_policy_server)
    c = sub.add_parser("check-policy", help="check a registry policy against the arena's policy protocol")
    c.add_argument("policy")
    c.add_argument("--models", default=None, help=MODELS_HELP)
    c.add_argument("--seed", type=int, default=0)
    c.add_argument("--calls", type=int, default=4, help="inferences to check")
    c.add_argument("--budget", type=float, default=1.0, help="wall-time budget per inference, seconds")
    c.add_argument("--json", action="store_true", help="print the report as JSON")
    c.set_defaults(func=cmd_check_policy)


def cmd_models(args: argparse.Namespace) -> int:
    for e in registry(args.models).entries.values():
        flag = "" if e.arena else "  (not in arena pairings)"
        print(f"{e.name:20s} {e.kind:16s} latency={e.latency_s:.2f}s  {e.organisation} · {e.licence}{flag}")
        if e.description:
            print(f"{'':20s} {e.description}")
    return 0


def forward_kinematics(robot_id: str) -> Callable[[np.ndarray], np.ndarray]:
    """The robot's forward kinematics as the policy server wants it: the arm's joint positions -> DROID's
    `observation/cartesian_position` (xyz + extrinsic XYZ Euler), exactly as the arena observes it.
    Thread-safe (connections are served from several threads)."""
    from sim_engine.kinematics import IKSolver
    from sim_engine.observe import cartesian_position
    from sim_engine.world import load_world

    solver, lock = IKSolver(load_world(robot_id, "table")), threading.Lock()

    def forward(joints: np.ndarray) -> np.ndarray:
        with lock:
            return cartesian_position(*solver.forward(np.asarray(joints, dtype=np.float64)))

    return forward


def cmd_policy_server(args: argparse.Namespace) -> int:
    try:
        from policy_host.server import PolicyServer
    except ModuleNotFoundError as exc:
        raise MissingDependencyError(exc.name or "openpi-client", "pip install -e .[learned]") from exc
    reg = registry(args.models)
    entry = reg.get(args.policy)
    robot = args.robot or entry.robots[0]
    if robot not in entry.robots:
        raise ValidationError("--robot", f"{args.policy} drives {entry.robots}, not {robot!r}")
    api_key = None
    if args.api_key_env:
        api_key = os.environ.get(args.api_key_env) or sys.exit(f"error: {args.api_key_env} is not set")
    from sim_engine.robots import ROBOTS

    server = PolicyServer(lambda: reg.build(args.policy), protocol=args.protocol, host=args.host,
                          port=args.port, api_key=api_key, kinematics=forward_kinematics(robot),
                          arm_joints=len(ROBOTS[robot].arm_joints))
    print(f"serving {args.policy} ({args.protocol}) on ws://{args.host}:{server.port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        server.shutdown()
    return 0


def cmd_check_policy(args: argparse.Namespace) -> int:
    import msgspec

    from sim_engine.conformance import check_policy

    with registry(args.models).open(args.policy) as policy:
        report = check_policy(policy, name=args.policy, seed=args.seed, calls=args.calls,
                              latency_budget_s=args.budget)
    if args.json:
        print(msgspec.json.encode(report).decode())
    else:
        for check in report.checks:
            print(f"{check.status.value.upper():4s}  {check.name:11s} {check.message}")
        print(f"{args.policy}: {'passed' if report.passed else 'FAILED'}")
    return 0 if report.passed else 1
