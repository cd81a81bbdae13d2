"""Vote cleaning, as LMArena does before fitting: which votes the ratings leave out, and why.

A vote is left out of the fit when it carries one of these flags (all are kept and exported):

- "early": cast before both episodes could have been watched (set at vote time by the service);
- "excluded": excluded by an operator;
- "over_cap": beyond the voter's DAILY_CAP-th vote of that UTC day (the rate limiter refuses most of
  these already; this catches votes that slipped through, e.g. from several API processes);
- "excluded_voter": the voter disagrees with the consensus far beyond chance (`voter_tests`).

The disagreement test: fit the board on the other flags' survivors, and for each of a voter's decisive
votes take p = P(the side the fit favours is preferred). Under the null hypothesis "this voter judges
like everyone else", the number of votes for the favoured side is a sum of independent Bernoulli(p)
(Poisson-binomial), mean sum(p), variance sum(p(1-p)); with z = (agreements - mean) / sd, the one-sided
p-value is Phi(z) (normal approximation). A voter with at least MIN_TESTED decisive votes is flagged when
that p-value is below ALPHA / (number of voters tested): a Bonferroni bound, so an honest crowd has at
most an ALPHA chance of losing anyone.
"""

from __future__ import annotations

import math
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence

import msgspec

from api.ratings.fit import win_probability
from schemas.records import VoteChoice, VoteRecord

EXCLUDING = frozenset({"early", "excluded", "over_cap", "excluded_voter"})
DAILY_CAP = 500
MIN_TESTED = 10
ALPHA = 1e-3


class VoterTest(msgspec.Struct, frozen=True, kw_only=True):
    """One voter's agreement with the fitted consensus on their decisive votes."""

    voter_id: str
    decisive: int
    agreements: int
    expected: float
    z: float
    p_value: float
    flagged: bool


def vote_flags(v: VoteRecord) -> list[str]:
    """The flags stored with the vote (none for records from before flags existed)."""
    return list(getattr(v, "flags", None) or [])


def voter_of(v: VoteRecord) -> str | None:
    return getattr(v, "voter_id", None)


def cap_flags(votes: Sequence[VoteRecord], daily_cap: int = DAILY_CAP) -> dict[str, list[str]]:
    """Flags per vote id: the stored ones, plus "over_cap" past a voter's daily cap (votes in time order)."""
    flags = {v.id: vote_flags(v) for v in votes}
    per_day: Counter[tuple[str, str]] = Counter()
    for v in sorted(votes, key=lambda v: v.created_at):
        voter = voter_of(v)
        if voter is None:
            continue
        key = (voter, time.strftime("%Y-%m-%d", time.gmtime(v.created_at)))
        per_day[key] += 1
        if per_day[key] > daily_cap and "over_cap" not in flags[v.id]:
            flags[v.id].append("over_cap")
    return flags


def voter_tests(votes: Sequence[VoteRecord], rating: Callable[[VoteRecord, str], float | None], *,
                min_tested: int = MIN_TESTED, alpha: float = ALPHA) -> list[VoterTest]:
    """The agreement test for every voter with at least `min_tested` decisive votes.

    `rating(vote, model)` is the fitted rating of `model` on the vote's board (None if unrated)."""
    sums: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0, 0.0])  # n, agree, mean, var
    for v in votes:
        voter = voter_of(v)
        if voter is None or v.choice not in (VoteChoice.LEFT, VoteChoice.RIGHT):
            continue
        left, right = rating(v, v.left_policy), rating(v, v.right_policy)
        if left is None or right is None:
            continue
        p_left = win_probability(left, right)
        p = max(p_left, 1.0 - p_left)  # P(the favoured side is preferred)
        agreed = (v.choice == VoteChoice.LEFT) == (p_left >= 0.5)
        s = sums[voter]
        s[0], s[1], s[2], s[3] = s[0] + 1, s[1] + agreed, s[2] + p, s[3] + p * (1 - p)
    tested = {voter: s for voter, s in sums.items() if s[0] >= min_tested}
    out = []
    for voter, (n, agree, mean, var) in sorted(tested.items()):
        z = (agree - mean) / math.sqrt(max(var, 1e-12))
        p_value = 0.5 * math.erfc(-z / math.sqrt(2.0))
        out.append(VoterTest(voter_id=voter, decisive=int(n), agreements=int(agree), expected=mean, z=z,
                             p_value=p_value, flagged=p_value < alpha / len(tested)))
    return out


def kept(votes: Sequence[VoteRecord], flags: dict[str, list[str]]) -> list[VoteRecord]:
    """The votes that no excluding flag leaves out."""
    return [v for v in votes if not EXCLUDING.intersection(flags[v.id])]
