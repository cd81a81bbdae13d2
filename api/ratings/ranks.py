"""Rank (UB) and the connected groups of a board.

Rank (UB), as in FastChat's leaderboard: 1 + the number of models whose lower bound is above this
model's upper bound, i.e. the best rank the model could still hold given the 95% intervals. Models no
interval separates share a number. It is computed within a group of models connected by votes only:
models in different groups never met (even indirectly), so their ratings are not comparable.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


def groups(n: int, i: npt.NDArray[np.int64], j: npt.NDArray[np.int64]) -> list[int]:
    """Connected components of the graph of n models with edges (i[k], j[k]); numbered by first model."""
    parent = list(range(n))

    def root(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in zip(i.tolist(), j.tolist(), strict=True):
        parent[root(a)] = root(b)
    label: dict[int, int] = {}
    return [label.setdefault(root(x), len(label)) for x in range(n)]


def rank_ub(low: list[float], high: list[float], group: list[int]) -> list[int]:
    """1 + how many models of the same group have a lower bound above this model's upper bound."""
    return [1 + sum(1 for lo, g in zip(low, group, strict=True) if g == group[k] and lo > high[k])
            for k in range(len(low))]


def kendall_tau(x: list[float], y: list[float]) -> float | None:
    """Kendall's tau-b between two paired lists (None with fewer than 2 pairs or no untied pair)."""
    concordant = discordant = ties_x = ties_y = 0
    for a in range(len(x)):
        for b in range(a + 1, len(x)):
            dx, dy = x[a] - x[b], y[a] - y[b]
            if dx == 0 and dy == 0:
                continue
            if dx == 0:
                ties_x += 1
            elif dy == 0:
                ties_y += 1
            elif (dx > 0) == (dy > 0):
                concordant += 1
            else:
                discordant += 1
    denom = ((concordant + discordant + ties_x) * (concordant + discordant + ties_y)) ** 0.5
    return (concordant - discordant) / denom if denom else None
