"""The ranking study: the old fit (Bradley-Terry MLE, mean-anchored, bootstrap CIs, ties as half wins; loaded
from git at BASELINE) against `api.ratings` (Bayesian Bradley-Terry-Davidson, Laplace intervals, Rank (UB),
vote cleaning, information-seeking pairs), on synthetic voters of known strength, in the same run.

    python bench/bench_ratings_study.py [--reps 200] [--png bench/ratings_study.png] [--baseline 6fe7e54]

Prints each figure before -> after and writes a plot (coverage by votes; votes to reach Kendall tau 0.9).
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import time
import types
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

from api.ratings import Battle, leaderboard, sim  # noqa: E402
from api.ratings.cache import clean  # noqa: E402
from api.ratings.cleaning import kept  # noqa: E402
from schemas.records import VoteChoice, VoteRecord  # noqa: E402

TRUE = {"alpha": 1250.0, "bravo": 1120.0, "charlie": 1000.0, "delta": 930.0, "echo": 700.0}
OLD_OUTCOME = {"a": "a", "b": "b", "tie": "tie", "both_bad": "tie"}


def load_baseline(commit: str) -> types.ModuleType:
    source = subprocess.run(["git", "show", f"{commit}:api/ratings.py"], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout
    module = types.ModuleType("old_ratings")
    sys.modules["old_ratings"] = module
    exec(compile(source, "old_ratings.py", "exec"), module.__dict__)
    return module


class Method:
    """One rating method behind a common face: board(battles) -> {model: (rating, low, high, rank)}."""

    def __init__(self, name: str, old: types.ModuleType | None) -> None:
        self.name, self.old = name, old

    def board(self, battles: list[Battle], rounds: int = 100) -> dict[str, tuple[float, float, float, int]]:
        if self.old is not None:
            rows = self.old.leaderboard([self.old.Battle(b.model_a, b.model_b, OLD_OUTCOME[b.outcome])
                                         for b in battles], rounds=rounds)
            return {r.model: (r.rating, r.ci_low, r.ci_high, i + 1) for i, r in enumerate(rows)}
        return {r.model: (r.rating, r.ci_low, r.ci_high, r.rank) for r in leaderboard(battles, min_votes=30)}


def coverage(m: Method, votes: int, reps: int, ties: bool = True) -> float:
    """Share of 95% intervals containing the truth; ties and both-bad 10% each (or none)."""
    rate = 0.1 if ties else 0.0
    hit = total = 0
    for rep in range(reps):
        for model, (_, low, high, _) in m.board(sim.battles(TRUE, votes, 7_000 + rep, tie=rate,
                                                            both_bad=rate)).items():
            hit += low <= TRUE[model] <= high
            total += 1
    return hit / total


def confident_misorder(m: Method, votes: int, reps: int) -> float:
    """Share of boards that claim a model is above one that is truly >= 50 points better. The old board
    claims it by its rank (point order); the new one only when the intervals separate (Rank (UB))."""
    bad = 0
    for rep in range(reps):
        b = m.board(sim.battles(TRUE, votes, 9_000 + rep))
        bad += any(TRUE[x] - TRUE[y] >= 50 and _claims_above(m, b, y, x) for x in b for y in b)
    return bad / reps


def _claims_above(m: Method, b: dict[str, tuple[float, float, float, int]], y: str, x: str) -> bool:
    return b[y][3] < b[x][3] if m.old is not None else b[y][1] > b[x][2]


def mean_tau(m: Method, votes: int, reps: int) -> float:
    true = sim.spaced(8)
    taus = []
    for rep in range(reps):
        b = m.board(sim.battles(true, votes, 11_000 + rep), rounds=0)
        taus.append(sim.kendall_tau([b[k][0] for k in b], [true[k] for k in b]) or 0.0)
    return float(np.mean(taus))


def scale(m: Method, tie: float, both_bad: float) -> float:
    b = m.board(sim.battles(TRUE, 20_000, 5, tie=tie, both_bad=both_bad), rounds=0)
    return (b["alpha"][0] - b["echo"][0]) / (TRUE["alpha"] - TRUE["echo"])


def newcomer(m: Method) -> tuple[float, float, float, int]:
    """(mean, max) move of the others after one vote for a newcomer; its rating and rank after three wins."""
    base = sim.battles(TRUE, 3000, 13, tie=0.1, both_bad=0.0)
    before = m.board(base, rounds=0)
    after = m.board([*base, Battle("new", "alpha", "a")], rounds=0)
    moves = [abs(after[k][0] - before[k][0]) for k in TRUE]
    three = m.board([*base, *(Battle("new", k, "a") for k in ("alpha", "bravo", "charlie"))], rounds=0)
    return float(np.mean(moves)), max(moves), three["new"][0], three["new"][3]


def adversary(m: Method, cleaned: bool) -> tuple[float, int]:
    """Rating and rank change of the last model when one voter adds 10% votes for it."""
    rng = random.Random(4)
    true = sim.spaced(8)
    last = min(true, key=true.__getitem__)
    honest = _votes(sim.battles(true, 3000, 4), [f"voter{k}" for k in range(60)], rng, 0)
    shill = _votes([Battle(rng.choice(sorted(set(true) - {last})), last, "b") for _ in range(300)], ["shill"], rng,
                   len(honest))

    def board(votes: list[VoteRecord]) -> dict[str, tuple[float, float, float, int]]:
        if cleaned:
            votes = kept(votes, clean(votes, daily_cap=500, prior_sd=200.0)[0])
        return m.board([Battle(v.left_policy, v.right_policy, _OUT[v.choice]) for v in votes], rounds=0)

    before, after = board(honest), board(honest + shill)
    return after[last][0] - before[last][0], before[last][3] - after[last][3]


_OUT = {VoteChoice.LEFT: "a", VoteChoice.RIGHT: "b", VoteChoice.TIE: "tie", VoteChoice.BOTH_BAD: "both_bad"}
_CHOICE = {v: k for k, v in _OUT.items()}


def _votes(battles: list[Battle], voters: list[str], rng: random.Random, start: int) -> list[VoteRecord]:
    return [VoteRecord(id=f"v{start + k}", battle_id=f"b{start + k}", session_id="s", robot_id="franka",
                       scene_id="table", left_policy=b.model_a, right_policy=b.model_b, choice=_CHOICE[b.outcome],
                       created_at=1.0e9 + start + k, voter_id=rng.choice(voters)) for k, b in enumerate(battles)]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--reps", type=int, default=200)
    p.add_argument("--png", type=Path, default=ROOT / "bench" / "ratings_study.png")
    p.add_argument("--baseline", default="6fe7e54")
    args = p.parse_args()
    started = time.perf_counter()
    before, after = Method("before", load_baseline(args.baseline)), Method("after", None)
    sizes = [50, 100, 300, 1000]
    cov = {m.name: [coverage(m, n, args.reps if n < 1000 else args.reps // 2) for n in sizes] for m in (before, after)}
    for k, n in enumerate(sizes):
        print(f"coverage of 95% intervals at {n:4d} votes, 10% ties + 10% both-bad: {cov['before'][k]:.3f} -> "
              f"{cov['after'][k]:.3f}")
    for n in (100, 300):
        print(f"coverage of 95% intervals at {n:4d} votes, no ties: {coverage(before, n, args.reps, False):.3f} -> "
              f"{coverage(after, n, args.reps, False):.3f}")
    print(f"boards misordering a >=50-point pair at 100 votes: {confident_misorder(before, 100, args.reps):.2f} -> "
          f"{confident_misorder(after, 100, args.reps):.2f}  (ranks: point order -> Rank (UB))")
    for n in (300, 1000):
        print(f"Kendall tau, 8 models, {n} votes: {mean_tau(before, n, 40):.3f} -> {mean_tau(after, n, 40):.3f}")
    for tie, bad in ((0.2, 0.0), (0.6, 0.0), (0.0, 0.2), (0.0, 0.6)):
        print(f"fitted/true scale, ties {tie:.0%}, both-bad {bad:.0%}: {scale(before, tie, bad):.2f} -> "
              f"{scale(after, tie, bad):.2f}")
    nb, na = newcomer(before), newcomer(after)
    print(f"newcomer, one vote after 3000: others move mean {nb[0]:.1f} / max {nb[1]:.1f} -> {na[0]:.2f} / {na[1]:.2f}")
    print(f"newcomer with three wins: rating {nb[2]:.0f} rank {nb[3]} -> rating {na[2]:.0f} Rank (UB) {na[3]}")
    ab, aa = adversary(before, False), adversary(after, True)
    print(f"adversary (+10% votes for the last model): {ab[0]:+.0f} points, {ab[1]} ranks -> {aa[0]:+.0f} points, "
          f"{aa[1]} ranks (uncleaned new fit: {adversary(after, False)[0]:+.0f} points)")
    true8 = sim.spaced(8)
    uni = [sim.votes_to_tau(true8, sim.uniform, s) for s in range(10)]
    act = [sim.votes_to_tau(true8, sim.active, s) for s in range(10)]
    print(f"votes to Kendall tau 0.9 (8 models, new fit, mean of 10 seeds): uniform {np.mean(uni):.0f} -> "
          f"information-seeking {np.mean(act):.0f} ({np.mean(act) / np.mean(uni):.2f}x)")
    _plot(args.png, sizes, cov, uni, act)
    print(f"plot: {args.png}  ({time.perf_counter() - started:.0f} s)")


def _plot(png: Path, sizes: list[int], cov: dict[str, list[float]], uni: list[int], act: list[int]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
    for name, style in (("before", "o--"), ("after", "s-")):
        a.plot(sizes, cov[name], style, label=name)
    a.axhspan(0.93, 0.97, color="green", alpha=0.15, label="target 93-97%")
    a.set(xscale="log", xlabel="votes", ylabel="coverage of 95% intervals", title="Interval coverage")
    a.legend()
    b.boxplot([uni, act], tick_labels=["uniform pairs", "information-seeking"])
    b.set(ylabel="votes to Kendall tau 0.9", title="Pair sampling (8 models)")
    fig.tight_layout()
    fig.savefig(png, dpi=110)


if __name__ == "__main__":
    main()
