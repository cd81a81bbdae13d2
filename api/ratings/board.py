"""A leaderboard from battles: the fit, intervals, Rank (UB), provisional flags and counts per model."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import msgspec

from api.ratings.fit import PRIOR_SD, Z95, Battle, Fit, fit, tally
from api.ratings.ranks import groups, rank_ub
from schemas.records import VoteChoice, VoteRecord

MIN_VOTES = 30  # below this many votes a model is shown as provisional
METHOD = ("Bradley-Terry-Davidson, Bayesian (Gaussian prior sd {prior:.0f} points around the board's average "
          "of 1000), posterior mode with 95% Laplace intervals; ties fitted with their own parameter, both-bad "
          "votes not fitted; Rank (UB) = 1 + models whose interval lies wholly above")
_CHOICE_TO_OUTCOME = {VoteChoice.LEFT: "a", VoteChoice.RIGHT: "b", VoteChoice.TIE: "tie",
                      VoteChoice.BOTH_BAD: "both_bad"}


class Rating(msgspec.Struct, frozen=True, kw_only=True):
    """A leaderboard row. `ci_low`/`ci_high` bound a 95% interval of `rating`; `rank` is Rank (UB)
    within `group` (models connected by votes); `provisional` when `votes` < the board's minimum."""

    model: str
    rating: float
    ci_low: float
    ci_high: float
    rank: int
    group: int
    provisional: bool
    votes: int
    wins: int
    losses: int
    ties: int
    both_bad: int
    win_rate: float  # (wins + 0.5 * ties) / (wins + losses + ties); 0.5 when there are none


def battles_from_votes(votes: Iterable[VoteRecord]) -> list[Battle]:
    """Votes as battles: the left policy is model_a, the right model_b."""
    return [Battle(v.left_policy, v.right_policy, _CHOICE_TO_OUTCOME[VoteChoice(v.choice)]) for v in votes]


def fit_bt(battles: Sequence[Battle], *, prior_sd: float = PRIOR_SD, min_votes: int = 0) -> dict[str, float]:
    """Posterior-mode ratings of every model that played; the models with at least `min_votes` votes
    average 1000 (all of them by default)."""
    return {r.model: r.rating for r in leaderboard(battles, prior_sd=prior_sd, min_votes=min_votes)}


def leaderboard(battles: Sequence[Battle], *, min_votes: int = MIN_VOTES, prior_sd: float = PRIOR_SD) -> list[Rating]:
    """Rows ordered by established before provisional, then Rank (UB), then rating."""
    return rows(fit(tally(battles), prior_sd=prior_sd), min_votes=min_votes)


def rows(f: Fit, *, min_votes: int = MIN_VOTES) -> list[Rating]:
    """A fit's leaderboard rows, established before provisional, then Rank (UB), then rating."""
    c = f.counts
    votes_of = c.wins + c.losses + c.tie_votes + c.both_bad
    rating, sd = f.anchored(votes_of >= min_votes)
    low, high = (rating - Z95 * sd).tolist(), (rating + Z95 * sd).tolist()
    group = groups(len(c.models), c.i, c.j)
    ranks = rank_ub(low, high, group)
    out = []
    for k, model in enumerate(c.models):
        wins, losses, ties = int(c.wins[k]), int(c.losses[k]), int(c.tie_votes[k])
        votes = wins + losses + ties + int(c.both_bad[k])
        out.append(Rating(model=model, rating=float(rating[k]), ci_low=low[k], ci_high=high[k], rank=ranks[k],
                          group=group[k], provisional=votes < min_votes, votes=votes, wins=wins, losses=losses,
                          ties=ties, both_bad=int(c.both_bad[k]),
                          win_rate=(wins + 0.5 * ties) / (wins + losses + ties) if wins + losses + ties else 0.5))
    return sorted(out, key=lambda r: (r.provisional, r.rank, -r.rating, r.model))
