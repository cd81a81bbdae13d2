"""Information-seeking pair sampling for new battles.

The first side is drawn with RoboArena's weight (500 / (n + 1)) ** 0.8 on its vote count n, so
newcomers get battles quickly. The second side is drawn in proportion to the expected information one
vote adds about the rating difference: with p = P(first preferred) from the current ratings and s^2
the posterior variance of the difference (log-odds units), one decisive vote has Fisher information
I = p (1 - p), and the variance shrinks by the fraction s^2 I / (1 + s^2 I). Close matches (p near
1/2) between uncertain models score highest; lopsided, settled ones score low but never zero
(EXPLORE), so every pair stays possible. The pair a voter saw last is never drawn again straight away
(when another exists), and sides are random.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from api.ratings.board import Rating
from api.ratings.fit import INIT_RATING, PRIOR_SD, Z95, K, win_probability
from api.store.port import Store
from schemas.records import SessionRecord

EXPLORE = 0.05  # floor of the second side's weight, relative to the best candidate


def first_weight(votes: int) -> float:
    """RoboArena's weight for the first side of a battle."""
    return (500.0 / (votes + 1)) ** 0.8


def pair_information(a: Rating | None, b: Rating | None) -> float:
    """Expected fraction of the variance of rating(a) - rating(b) that one vote removes."""
    ra, rb = (r.rating if r else INIT_RATING for r in (a, b))
    sa, sb = ((r.ci_high - r.ci_low) / (2 * Z95) if r else PRIOR_SD for r in (a, b))
    p = win_probability(ra, rb)
    var = (sa**2 + sb**2) * K**2
    info = p * (1.0 - p)
    return var * info / (1.0 + var * info)


def choose_pair(names: Sequence[str], board: Sequence[Rating], rng: random.Random,
                avoid: frozenset[str] | None = None) -> tuple[str, str]:
    """(left, right) for a new battle among `names` (at least two), given the robot's board rows."""
    if len(set(names)) < 2:
        raise ValueError("need at least two distinct models")
    rows = {r.model: r for r in board}
    pool = sorted(set(names))
    first = rng.choices(pool, weights=[first_weight(rows[m].votes if m in rows else 0) for m in pool])[0]
    others = [m for m in pool if m != first and frozenset((first, m)) != avoid] or [m for m in pool if m != first]
    info = [pair_information(rows.get(first), rows.get(m)) for m in others]
    floor = EXPLORE * max(info)
    second = rng.choices(others, weights=[max(x, floor) + 1e-12 for x in info])[0]
    return (first, second) if rng.random() < 0.5 else (second, first)


def last_pair(store: Store, session: SessionRecord) -> frozenset[str] | None:
    """The pair of the voter's latest battle (in any of their sessions), or None."""
    sessions = store.list_sessions_by_voter(session.voter_id, 1) if session.voter_id else []
    for s in [*sessions, session]:
        battles = store.list_battles(s.id)
        if battles:
            return frozenset((battles[-1].left_policy, battles[-1].right_policy))
    return None
