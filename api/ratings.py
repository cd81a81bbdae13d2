"""Leaderboard ratings: a Bradley-Terry model fitted by maximum likelihood, with bootstrap CIs.

This follows FastChat's `elo_analysis.compute_mle_elo` (Chatbot Arena): P(a beats b) =
1 / (1 + BASE ** ((r_b - r_a) / SCALE)) with SCALE=400, BASE=10, and every tie ("tie" or
"both_bad" votes) counted as half a win for each side, which is what FastChat's doubling of the
data with a tie row per side amounts to. Differences from FastChat, on purpose:

- Anchor: ratings are shifted so that their MEAN is INIT_RATING (1000), not pinned to one
  reference model, because the arena's roster has no permanent reference policy.
- A tiny L2 penalty (`L2_PENALTY`, in natural-log strength units) keeps the fit finite when a
  model never lost (or never won); its effect on ordinary data is far below 0.001 points. It also
  fixes the otherwise free offset of every group of models that never met each other.
- The fit is a batched damped Newton method on a pair-count matrix, so a bootstrap refits all
  rounds at once; resampling votes with replacement is done as one multinomial draw over the
  distinct (model_a, model_b, outcome) cells, which has the same distribution.

Pure numpy; nothing here knows about the store.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import msgspec
import numpy as np
import numpy.typing as npt

from schemas.records import VoteChoice, VoteRecord

SCALE = 400.0
BASE = 10.0
INIT_RATING = 1000.0
L2_PENALTY = 1e-6
_OUTCOMES = ("a", "b", "tie")
_MAX_NEWTON_STEPS = 200
_STEP_TOLERANCE = 1e-10  # in log-strength units: ~2e-8 rating points
_CHOICE_TO_OUTCOME = {
    VoteChoice.LEFT: "a",
    VoteChoice.RIGHT: "b",
    VoteChoice.TIE: "tie",
    VoteChoice.BOTH_BAD: "tie",
}

Floats = npt.NDArray[np.float64]


class Battle(msgspec.Struct, frozen=True):
    """One judged comparison; `outcome` is "a" (model_a won), "b" or "tie"."""

    model_a: str
    model_b: str
    outcome: str


class Rating(msgspec.Struct, frozen=True, kw_only=True):
    """A leaderboard row. `ci_low`/`ci_high` bound a 95% bootstrap interval of `rating`."""

    model: str
    rating: float
    ci_low: float
    ci_high: float
    votes: int
    wins: int
    losses: int
    ties: int
    win_rate: float  # (wins + 0.5 * ties) / votes


def battles_from_votes(votes: Iterable[VoteRecord]) -> list[Battle]:
    """Votes as battles: the left policy is model_a, the right model_b; tie and both_bad are ties."""
    return [Battle(v.left_policy, v.right_policy, _CHOICE_TO_OUTCOME[VoteChoice(v.choice)]) for v in votes]


def fit_bt(battles: Sequence[Battle]) -> dict[str, float]:
    """Bradley-Terry maximum-likelihood ratings (mean anchored at 1000) of every model that played.

    Battles of a model against itself carry no information and are ignored.
    """
    models, cells = _tally(battles)
    return dict(zip(models, _point_ratings(cells, len(models)).tolist(), strict=True))


def leaderboard(battles: Sequence[Battle], *, rounds: int = 200, seed: int = 0) -> list[Rating]:
    """Ratings with 95% CIs from `rounds` bootstrap resamples of the battles, best first.

    Each round resamples the battles with replacement (a seeded `numpy.random.Generator`, so equal
    inputs give equal output), refits, and the CI is the 2.5th..97.5th percentile of the round
    ratings. A model missing from a resample is left out of that round. `rounds=0` gives CIs equal
    to the point estimate.
    """
    if rounds < 0:
        raise ValueError(f"rounds must be >= 0, got {rounds}")
    models, cells = _tally(battles)
    if not models:
        return []
    n = len(models)
    point = _point_ratings(cells, n)
    low, high = _bootstrap_intervals(cells, n, rounds, np.random.default_rng(seed))
    per_pair = cells.reshape(n, n, 3)
    rows = [
        _row(m, i, per_pair, float(point[i]), float(low[i]), float(high[i])) for i, m in enumerate(models)
    ]
    return sorted(rows, key=lambda r: (-r.rating, r.model))


def _row(
    model: str, i: int, per_pair: npt.NDArray[np.int64], rating: float, low: float, high: float
) -> Rating:
    """Model i's leaderboard row from the (a, b, outcome) counts; NaN bounds fall back to the rating."""
    wins = int(per_pair[i, :, 0].sum() + per_pair[:, i, 1].sum())
    losses = int(per_pair[i, :, 1].sum() + per_pair[:, i, 0].sum())
    ties = int(per_pair[i, :, 2].sum() + per_pair[:, i, 2].sum())
    votes = wins + losses + ties
    return Rating(
        model=model,
        rating=rating,
        ci_low=rating if math.isnan(low) else low,
        ci_high=rating if math.isnan(high) else high,
        votes=votes,
        wins=wins,
        losses=losses,
        ties=ties,
        win_rate=(wins + 0.5 * ties) / votes,
    )


def _tally(battles: Sequence[Battle]) -> tuple[list[str], npt.NDArray[np.int64]]:
    """Models (sorted) and counts per cell (a, b, outcome), flattened as ((a * n) + b) * 3 + outcome."""
    kept = [b for b in battles if b.model_a != b.model_b]
    for b in kept:
        if b.outcome not in _OUTCOMES:
            raise ValueError(f"battle outcome must be one of {_OUTCOMES}, got {b.outcome!r}")
    models = sorted({b.model_a for b in kept} | {b.model_b for b in kept})
    index = {m: i for i, m in enumerate(models)}
    n = len(models)
    codes = np.array(
        [(index[b.model_a] * n + index[b.model_b]) * 3 + _OUTCOMES.index(b.outcome) for b in kept],
        dtype=np.int64,
    )
    return models, np.bincount(codes, minlength=n * n * 3).astype(np.int64)


def _point_ratings(cells: npt.NDArray[np.int64], n: int) -> Floats:
    if n == 0:
        return np.zeros(0)
    theta = _newton(_win_matrix(cells[None], n))[0]
    return _to_ratings(theta, np.ones(n, dtype=bool))


def _win_matrix(cells: npt.NDArray[np.int64], n: int) -> Floats:
    """(R, n*n*3) cell counts -> (R, n, n) weights W[r, i, j] of i beating j (a tie is half each)."""
    c = cells.reshape(-1, n, n, 3).astype(np.float64)
    ties = 0.5 * (c[..., 2] + c[..., 2].transpose(0, 2, 1))
    return c[..., 0] + c[..., 1].transpose(0, 2, 1) + ties


def _bootstrap_intervals(
    cells: npt.NDArray[np.int64], n: int, rounds: int, rng: np.random.Generator
) -> tuple[Floats, Floats]:
    """Per-model 2.5/97.5 percentiles over bootstrap rounds (NaN where a model never appeared)."""
    if rounds == 0:
        return np.full(n, np.nan), np.full(n, np.nan)
    total = int(cells.sum())
    seen = np.flatnonzero(cells)
    resampled = np.zeros((rounds, cells.size), dtype=np.int64)
    resampled[:, seen] = rng.multinomial(total, cells[seen] / total, size=rounds)
    wins = _win_matrix(resampled, n)
    played = (wins + wins.transpose(0, 2, 1)).sum(axis=2) > 0
    theta = _newton(wins)
    ratings = np.where(played, _to_ratings(theta, played), np.nan)
    low, high = np.full(n, np.nan), np.full(n, np.nan)
    some = played.any(axis=0)
    low[some], high[some] = np.nanpercentile(ratings[:, some], [2.5, 97.5], axis=0)
    return low, high


def _to_ratings(theta: Floats, played: npt.NDArray[np.bool_]) -> Floats:
    """Natural-log strengths -> rating points, mean over the models that played = INIT_RATING."""
    count = np.maximum(played.sum(axis=-1, keepdims=True), 1)
    mean = np.where(played, theta, 0.0).sum(axis=-1, keepdims=True) / count
    return INIT_RATING + (theta - mean) * (SCALE / math.log(BASE))


def _neg_log_likelihood(theta: Floats, wins: Floats) -> Floats:
    """Penalized NLL per round: sum_ij W_ij * log(1 + exp(-(t_i - t_j))) + L2/2 * |t|^2."""
    diff = theta[:, :, None] - theta[:, None, :]
    return (wins * np.logaddexp(0.0, -diff)).sum(axis=(1, 2)) + 0.5 * L2_PENALTY * (theta**2).sum(axis=1)


def _newton(wins: Floats) -> Floats:
    """Minimize the penalized NLL for each round (wins: (R, n, n)) -> strengths (R, n).

    Damped Newton with Armijo backtracking: the objective is strictly convex (thanks to the L2
    term), so this converges from zero for every round, quadratically near the optimum.
    """
    rounds, n, _ = wins.shape
    games = wins + wins.transpose(0, 2, 1)
    won = wins.sum(axis=2)
    theta = np.zeros((rounds, n))
    loss = _neg_log_likelihood(theta, wins)
    eye = np.eye(n, dtype=bool)
    for _ in range(_MAX_NEWTON_STEPS):
        p = 1.0 / (1.0 + np.exp(-(theta[:, :, None] - theta[:, None, :])))
        grad = (games * p).sum(axis=2) - won + L2_PENALTY * theta
        curvature = games * p * (1.0 - p)
        hessian = np.where(eye, 0.0, -curvature)
        hessian[:, eye] = curvature.sum(axis=2) + L2_PENALTY
        step = np.linalg.solve(hessian, grad[..., None])[..., 0]
        if _converged(grad, step, loss):
            break
        theta, loss = _line_search(theta, loss, grad, step, wins)
    return theta


def _converged(grad: Floats, step: Floats, loss: Floats) -> bool:
    """Every round's Newton step is negligible, or its Newton decrement is at rounding-noise level.

    The second test matters in directions only the tiny L2 term constrains (the common offset of
    a group of models that never met another group): there, gradient rounding noise of ~1e-13
    divided by L2_PENALTY gives steps that never shrink below 1e-7 but change nothing.
    """
    small_step = np.abs(step).max(axis=1) < _STEP_TOLERANCE
    small_decrement = (grad * step).sum(axis=1) <= 1e-20 * (1.0 + np.abs(loss))
    return bool((small_step | small_decrement).all())


def _line_search(
    theta: Floats, loss: Floats, grad: Floats, step: Floats, wins: Floats
) -> tuple[Floats, Floats]:
    """Halve each round's step until it decreases the loss enough (Armijo); the new point and loss."""
    scale = np.ones(len(theta))
    decrease = (grad * step).sum(axis=1)
    slack = 1e-12 * (1.0 + np.abs(loss))  # rounding noise near the optimum is not an increase
    for _ in range(60):
        trial = theta - scale[:, None] * step
        trial_loss = _neg_log_likelihood(trial, wins)
        short = trial_loss > loss - 1e-4 * scale * decrease + slack
        if not short.any():
            break
        scale = np.where(short, 0.5 * scale, scale)
    return trial, trial_loss
