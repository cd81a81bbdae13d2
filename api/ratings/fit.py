"""Bayesian Bradley-Terry-Davidson ratings: MAP estimate with a proper Gaussian prior, Laplace intervals.

The model, per pair of models i, j with strengths theta (natural-log units) and d = theta_i - theta_j:

    P(i preferred) = e^(d/2) / Z,   P(j preferred) = e^(-d/2) / Z,   P(tie) = nu * C^lambda / Z,
    C = e^(d/2) + e^(-d/2),   Z = C + nu * C^lambda

lambda = 0 is Davidson's (1970) model (ties likeliest between equals); lambda = 1 makes the tie rate
independent of strength (nu / (1 + nu)); the fit picks lambda in [0, 1] from the data. In every case,
among decisive votes P(i preferred) = 1 / (1 + e^-d): the Bradley-Terry curve, on FastChat's scale
rating = 1000 + theta * 400 / ln 10 (a 400-point gap is 10:1 odds among decisive votes). The tie
parameters absorb the tie rate, so ties do not squeeze the scale the way "a tie is half a win" does.
"Both bad" votes (both robots failed) say nothing about which policy is better: they are counted and
shown, not fitted.

Anchoring: every theta_i has the prior N(0, (PRIOR_SD points)^2). The likelihood only sees
differences, so the mode has mean(theta) = 0 exactly. A model with few votes stays near the average
with a wide interval instead of running off to infinity and dragging the others with it. The board
(`Fit.anchored`) then shifts the ratings so that the established models (not provisional) average
1000, so a newcomer cannot move them at all, and gives intervals for each rating's contrast to that
average (the common offset carries no information). log(nu) has the prior N(log 0.5, 1.5^2). The
estimate is the posterior mode (damped Newton: the log-posterior is strictly concave), and the 95%
intervals come from the Laplace approximation (inverse of the negative Hessian at the mode).
Pure numpy; nothing here knows about the store.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import msgspec
import numpy as np
import numpy.typing as npt

SCALE = 400.0
BASE = 10.0
INIT_RATING = 1000.0
PRIOR_SD = 200.0  # rating points: the prior spread of policies around an average one
Z95 = 1.959963984540054
OUTCOMES = ("a", "b", "tie", "both_bad")
K = math.log(BASE) / SCALE  # rating points -> natural-log odds
_TAU_MEAN, _TAU_SD = math.log(0.5), 1.5
_MAX_STEPS, _TOLERANCE = 100, 1e-10
LAMBDAS = (0.0, 0.25, 0.5, 0.75, 1.0)

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]


class Battle(msgspec.Struct, frozen=True):
    """One judged comparison; `outcome` is "a" (model_a preferred), "b", "tie" or "both_bad"."""

    model_a: str
    model_b: str
    outcome: str


@dataclass(frozen=True)
class Counts:
    """Tallies of a set of battles between `models` (sorted): per pair (i < j) and per model."""

    models: list[str]
    i: Ints  # pair rows with at least one decisive or tie vote
    j: Ints
    wins_i: Floats  # i preferred over j
    wins_j: Floats
    ties: Floats
    wins: Ints  # per model
    losses: Ints
    tie_votes: Ints
    both_bad: Ints


@dataclass(frozen=True)
class Fit:
    """The posterior mode in rating points, its Laplace covariance, the tie parameter nu and exponent."""

    counts: Counts
    rating: Floats  # mean INIT_RATING
    cov: Floats  # Laplace covariance, rating points squared (includes the prior's common offset)
    nu: float
    tie_exponent: float

    @property
    def sd(self) -> Floats:
        return self.anchored(np.ones(len(self.rating), dtype=bool))[1]

    def anchored(self, reference: npt.NDArray[np.bool_]) -> tuple[Floats, Floats]:
        """Ratings shifted so that the `reference` models average INIT_RATING (all models if none are),
        and the standard deviations of each rating's contrast to that average."""
        w = reference.astype(float) if reference.any() else np.ones(len(self.rating))
        w /= w.sum()
        center = np.eye(len(w)) - w[None, :]  # x -> x - (w . x)
        rating = INIT_RATING + center @ (self.rating - INIT_RATING)
        return rating, np.sqrt(np.maximum(np.diag(center @ self.cov @ center.T), 0.0))


def tally(battles: Sequence[Battle]) -> Counts:
    """Count battles per pair and per model; self-battles carry no information and are dropped."""
    kept = [b for b in battles if b.model_a != b.model_b]
    for b in kept:
        if b.outcome not in OUTCOMES:
            raise ValueError(f"battle outcome must be one of {OUTCOMES}, got {b.outcome!r}")
    models = sorted({b.model_a for b in kept} | {b.model_b for b in kept})
    index = {m: k for k, m in enumerate(models)}
    a = np.array([index[b.model_a] for b in kept], dtype=np.int64)
    b_ = np.array([index[b.model_b] for b in kept], dtype=np.int64)
    o = np.array([OUTCOMES.index(b.outcome) for b in kept], dtype=np.int64)
    return counts_from_codes(models, a, b_, o)


def counts_from_codes(models: list[str], a: Ints, b: Ints, outcome: Ints) -> Counts:
    """Counts from parallel arrays: indices into `models` of each side and the index into OUTCOMES."""
    n = len(models)
    cells = np.bincount((a * n + b) * 4 + outcome, minlength=n * n * 4).reshape(n, n, 4)
    return _counts(models, cells)


def _counts(models: list[str], cells: Ints) -> Counts:
    """cells[a, b, outcome] -> Counts (pairs folded so that i < j)."""
    won = cells[..., 0] + cells[..., 1].T  # won[x, y]: x preferred over y
    tied = cells[..., 2] + cells[..., 2].T
    bad = cells[..., 3] + cells[..., 3].T
    upper = np.triu(np.ones(won.shape, dtype=bool), 1)
    i, j = np.nonzero(upper & ((won + won.T + tied) > 0))
    return Counts(models=models, i=i.astype(np.int64), j=j.astype(np.int64),
                  wins_i=won[i, j].astype(float), wins_j=won[j, i].astype(float), ties=tied[i, j].astype(float),
                  wins=won.sum(axis=1), losses=won.sum(axis=0), tie_votes=tied.sum(axis=1),
                  both_bad=bad.sum(axis=1))


def fit(counts: Counts, *, prior_sd: float = PRIOR_SD, lambdas: Sequence[float] = LAMBDAS) -> Fit:
    """Posterior mode and Laplace covariance of the ratings (every model in `counts`, voted or not).

    The tie exponent lambda is chosen from `lambdas` by the highest log-posterior (a profile over a
    uniform prior); the intervals are conditional on it."""
    best = max((_mode(counts, (prior_sd * K) ** 2, lam) for lam in lambdas), key=lambda m: m[0])
    _, x, hess, lam = best
    n = len(counts.models)
    cov = np.linalg.inv(-hess)[:n, :n] / K**2
    return Fit(counts=counts, rating=INIT_RATING + x[:n] / K, cov=cov, nu=math.exp(x[n]), tie_exponent=lam)


def _mode(counts: Counts, prior_var: float, lam: float) -> tuple[float, Floats, Floats, float]:
    """Damped Newton to the posterior mode for one tie exponent: (log-posterior, mode, Hessian, lambda)."""
    x = np.zeros(len(counts.models) + 1)
    x[-1] = _TAU_MEAN
    value, grad, hess = _log_posterior(x, counts, prior_var, lam)
    for _ in range(_MAX_STEPS):
        step = np.linalg.solve(-hess, grad)
        scale = 1.0
        while True:  # backtrack until the (concave) log-posterior rises enough
            trial = x + scale * step
            t_value, t_grad, t_hess = _log_posterior(trial, counts, prior_var, lam)
            if t_value >= value + 1e-4 * scale * float(grad @ step) or scale < 1e-6:
                break
            scale *= 0.5
        x, value, grad, hess = trial, t_value, t_grad, t_hess
        if np.abs(scale * step).max() < _TOLERANCE:
            break
    return value, x, hess, lam


def _log_posterior(x: Floats, c: Counts, prior_var: float, lam: float) -> tuple[float, Floats, Floats]:
    """Value, gradient and Hessian of the log-posterior in (theta_1..theta_n, tau = log nu).

    With L = log(2 cosh(d/2)), log Z = L + softplus(tau + (lam - 1) L) and the tie term is tau + lam L."""
    n = len(x) - 1
    theta, tau = x[:n], x[n]
    d = np.clip(theta[c.i] - theta[c.j], -60.0, 60.0)
    games = c.wins_i + c.wins_j + c.ties
    log_c = np.logaddexp(d / 2, -d / 2)
    dl, ddl = np.tanh(d / 2) / 2, 0.25 / np.cosh(d / 2) ** 2  # L' and L''
    u = tau + (lam - 1) * log_c
    s = 1.0 / (1.0 + np.exp(-u))
    log_z = log_c + np.logaddexp(0.0, u)
    value = float(((c.wins_i - c.wins_j) * d / 2 + c.ties * (tau + lam * log_c) - games * log_z).sum()
                  - (theta**2).sum() / (2 * prior_var) - (tau - _TAU_MEAN) ** 2 / (2 * _TAU_SD**2))
    g_d = (c.wins_i - c.wins_j) / 2 + c.ties * lam * dl - games * dl * (1 + (lam - 1) * s)
    h_dd = c.ties * lam * ddl - games * (ddl * (1 + (lam - 1) * s) + (lam - 1) ** 2 * s * (1 - s) * dl**2)
    h_dt = -games * s * (1 - s) * (lam - 1) * dl
    grad = np.empty(n + 1)
    grad[:n] = np.bincount(c.i, g_d, n) - np.bincount(c.j, g_d, n) - theta / prior_var
    grad[n] = float((c.ties - games * s).sum()) - (tau - _TAU_MEAN) / _TAU_SD**2
    hess = np.zeros((n + 1, n + 1))
    np.add.at(hess, (c.i, c.j), -h_dd)
    np.add.at(hess, (c.j, c.i), -h_dd)
    hess[np.arange(n), np.arange(n)] = np.bincount(c.i, h_dd, n) + np.bincount(c.j, h_dd, n) - 1.0 / prior_var
    hess[:n, n] = hess[n, :n] = np.bincount(c.i, h_dt, n) - np.bincount(c.j, h_dt, n)
    hess[n, n] = float((-games * s * (1 - s)).sum()) - 1.0 / _TAU_SD**2
    return value, grad, hess


def win_probability(rating_a: float, rating_b: float) -> float:
    """P(a preferred over b) among decisive votes for a rating gap."""
    return 1.0 / (1.0 + BASE ** ((rating_b - rating_a) / SCALE))
