"""Benchmark: the ratings fit and a whole cache refresh, against the old per-request bootstrap fit (loaded from
git at BASELINE) in the same run.

    python bench/bench_ratings.py [--votes 5000 100000] [--models 8] [--repeat 5] [--baseline 6fe7e54]

Prints the median wall time of: the old request path, `store.list_votes()` plus `leaderboard(rounds=200)`
(what every GET /api/leaderboard used to run), the new `leaderboard()` (fit + Laplace intervals + Rank (UB)),
and `RatingsCache.refresh()` on a SQLite store holding the votes (read, clean, every board), which runs in the
background thread only.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

from api.ratings import Battle, leaderboard  # noqa: E402
from api.ratings.cache import RatingsCache  # noqa: E402
from api.store import open_store  # noqa: E402
from bench.bench_ratings_study import load_baseline  # noqa: E402
from schemas.records import VoteChoice, VoteRecord  # noqa: E402

CHOICE = {"a": VoteChoice.LEFT, "b": VoteChoice.RIGHT, "tie": VoteChoice.TIE}


def simulate(votes: int, models: int, seed: int = 0) -> list[Battle]:
    rng = random.Random(seed)
    names = [f"policy-{i}" for i in range(models)]
    strength = {n: 1300 - 600 * i / max(models - 1, 1) for i, n in enumerate(names)}
    out = []
    for _ in range(votes):
        a, b = rng.sample(names, 2)
        p_a = 1.0 / (1.0 + 10 ** ((strength[b] - strength[a]) / 400))
        out.append(Battle(a, b, "tie" if rng.random() < 0.1 else ("a" if rng.random() < p_a else "b")))
    return out


def timed(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--votes", type=int, nargs="+", default=[5000, 100_000])
    p.add_argument("--models", type=int, default=8)
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--baseline", default="6fe7e54")
    args = p.parse_args()
    old = load_baseline(args.baseline)
    for n in args.votes:
        battles = simulate(n, args.models)
        old_battles = [old.Battle(b.model_a, b.model_b, b.outcome) for b in battles]
        t_old = timed(lambda: old.leaderboard(old_battles, rounds=200), args.repeat)  # noqa: B023
        t_new = timed(lambda: leaderboard(battles), args.repeat)  # noqa: B023
        store = open_store(f"sqlite:///{tempfile.mkdtemp(prefix='arena-bench-')}/arena.db")
        with store._pool.transaction() as conn:  # type: ignore[attr-defined]  # bulk seed, one transaction
            for k, b in enumerate(battles):
                store._insert(conn, VoteRecord(  # type: ignore[attr-defined]
                    id=f"v{k}", battle_id=f"b{k}", session_id="s", robot_id="franka", scene_id="table",
                    left_policy=b.model_a, right_policy=b.model_b, choice=CHOICE[b.outcome], created_at=1.7e9 + k,
                    voter_id=f"voter{k % 200}"))
        t_read = timed(store.list_votes, args.repeat)  # the old route read every vote on every request too
        cache = RatingsCache(store)
        cache.refresh()  # reads every battle's automatic metrics once (none here)
        t_refresh = timed(cache.refresh, args.repeat)
        store.close()
        print(f"{n:7d} votes, {args.models} models: old request path (read votes + leaderboard(rounds=200)) "
              f"{(t_read + t_old) * 1e3:8.1f} ms | new fit {t_new * 1e3:6.1f} ms | "
              f"new cache refresh (background thread, not per request) {t_refresh * 1e3:7.1f} ms")


if __name__ == "__main__":
    main()
