"""Synthetic voters of known strength, for the ranking simulation (tests) and the study (bench).

Ties and both-bad votes are drawn at fixed rates independent of strength (the hard case for the scale:
"both robots failed"); decisive votes follow Bradley-Terry on the true ratings.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

import numpy as np

from api.ratings.board import Rating, leaderboard
from api.ratings.fit import Z95, Battle, win_probability
from api.ratings.pairs import choose_pair
from api.ratings.ranks import kendall_tau

Sampler = Callable[[Sequence[str], Sequence[Rating], random.Random, frozenset[str] | None], tuple[str, str]]


def spaced(n: int, top: float = 1300.0, bottom: float = 700.0) -> dict[str, float]:
    """n models with evenly spaced true ratings (mean 1000 when symmetric)."""
    return {f"m{k:02d}": float(r) for k, r in enumerate(np.linspace(top, bottom, n))}


def outcome(rng: random.Random, true: dict[str, float], a: str, b: str, tie: float, both_bad: float) -> str:
    u = rng.random()
    if u < both_bad:
        return "both_bad"
    if u < both_bad + tie:
        return "tie"
    return "a" if rng.random() < win_probability(true[a], true[b]) else "b"


def uniform(names: Sequence[str], board: Sequence[Rating], rng: random.Random,
            avoid: frozenset[str] | None = None) -> tuple[str, str]:
    """The old sampler: a uniformly random pair, random sides."""
    a, b = rng.sample(list(names), 2)
    return a, b


def battles(true: dict[str, float], n: int, seed: int, *, tie: float = 0.1, both_bad: float = 0.1) -> list[Battle]:
    rng = random.Random(seed)
    names = sorted(true)
    out = []
    for _ in range(n):
        a, b = rng.sample(names, 2)
        out.append(Battle(a, b, outcome(rng, true, a, b, tie, both_bad)))
    return out


def coverage(true: dict[str, float], votes: int, reps: int, seed: int) -> float:
    """Share of 95% intervals that contain the true rating (true ratings average 1000, as the board's)."""
    hit = total = 0
    for rep in range(reps):
        for r in leaderboard(battles(true, votes, seed * 100_003 + rep), min_votes=0):
            hit += r.ci_low <= true[r.model] <= r.ci_high
            total += 1
    return hit / total


def tau(true: dict[str, float], board: Sequence[Rating]) -> float:
    return kendall_tau([r.rating for r in board], [true[r.model] for r in board]) or 0.0


def votes_to_tau(true: dict[str, float], sampler: Sampler, seed: int, *, target: float = 0.9, step: int = 25,
                 limit: int = 4000) -> int:
    """Votes until the board's Kendall tau against the truth first reaches `target` (refit every `step`)."""
    rng = random.Random(seed)
    names, played, board = sorted(true), [], []  # type: ignore[var-annotated]
    last: frozenset[str] | None = None
    while len(played) < limit:
        for _ in range(step):
            a, b = sampler(names, board, rng, last)
            last = frozenset((a, b))
            played.append(Battle(a, b, outcome(rng, true, a, b, 0.1, 0.1)))
        board = leaderboard(played, min_votes=0)
        if len(board) == len(names) and tau(true, board) >= target:
            return len(played)
    return limit


def active(names: Sequence[str], board: Sequence[Rating], rng: random.Random,
           avoid: frozenset[str] | None = None) -> tuple[str, str]:
    return choose_pair(names, board, rng, avoid)


def half_width(board: Sequence[Rating]) -> float:
    return float(np.mean([(r.ci_high - r.ci_low) / 2 for r in board])) if board else 0.0


__all__ = ["Z95", "active", "battles", "coverage", "half_width", "outcome", "spaced", "tau", "uniform",
           "votes_to_tau"]
