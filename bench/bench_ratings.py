"""Benchmark: `api.ratings.leaderboard` on 5,000 votes between 8 models with 200 bootstrap rounds.

    python bench/bench_ratings.py [--votes 5000] [--models 8] [--rounds 200] [--repeat 20]

Prints the median and best wall time of `leaderboard()` (and of `fit_bt()` alone).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from api.ratings import Battle, fit_bt, leaderboard  # noqa: E402


def simulate(votes: int, models: int, seed: int = 0) -> list[Battle]:
    rng = np.random.default_rng(seed)
    strength = np.linspace(1300, 700, models)
    names = [f"policy-{i}" for i in range(models)]
    battles = []
    for _ in range(votes):
        i, j = rng.choice(models, size=2, replace=False)
        p_a = 1.0 / (1.0 + 10 ** ((strength[j] - strength[i]) / 400))
        u = rng.random()
        battles.append(Battle(names[i], names[j], "tie" if u < 0.1 else ("a" if rng.random() < p_a else "b")))
    return battles


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--votes", type=int, default=5000)
    parser.add_argument("--models", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    battles = simulate(args.votes, args.models)
    leaderboard(battles, rounds=args.rounds)  # warm-up
    for name, fn in [
        (f"leaderboard(rounds={args.rounds})", lambda: leaderboard(battles, rounds=args.rounds)),
        ("fit_bt", lambda: fit_bt(battles)),
    ]:
        times = timed(fn, args.repeat)
        print(
            f"{name:28s} {args.votes} votes, {args.models} models: "
            f"median {statistics.median(times) * 1e3:.1f} ms, best {min(times) * 1e3:.1f} ms"
        )


if __name__ == "__main__":
    main()
