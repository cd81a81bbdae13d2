"""The ratings as the API shows them: one cache per store, leaderboard views and vote exports.

Settings (environment, read once when a store's cache is made): ARENA_RATINGS_MIN_VOTES (default 30:
fewer votes make a model provisional), ARENA_RATINGS_PRIOR_SD (200 rating points),
ARENA_RATINGS_DAILY_CAP (500 votes per voter per UTC day count; the rest are flagged "over_cap"),
ARENA_RATINGS_WAIT_S (2.0: how long a leaderboard request waits for a refit after new votes).
"""

from __future__ import annotations

import os
import threading
import weakref

from api.ratings.board import METHOD, MIN_VOTES
from api.ratings.cache import RatingsCache
from api.ratings.cleaning import DAILY_CAP
from api.ratings.export import export_row, load_facts
from api.ratings.fit import PRIOR_SD
from api.store.port import Store
from api.views import LeaderboardView, RatingRow, VoteExport

_caches: weakref.WeakKeyDictionary[Store, RatingsCache] = weakref.WeakKeyDictionary()
_lock = threading.Lock()
SCOPE_ONE = "one robot: every model here played on this robot"
SCOPE_POOLED = ("all robots pooled: a model's votes on every robot count together; ratings compare only "
                "models in the same group (connected by votes), Rank (UB) is within the group")


def cache_for(store: Store) -> RatingsCache:
    """The store's ratings cache (made, not started, on first use; `start()` runs its thread)."""
    with _lock:
        cache = _caches.get(store)
        if cache is None:
            env = os.environ
            cache = RatingsCache(store, min_votes=int(env.get("ARENA_RATINGS_MIN_VOTES", MIN_VOTES)),
                                 prior_sd=float(env.get("ARENA_RATINGS_PRIOR_SD", PRIOR_SD)),
                                 daily_cap=int(env.get("ARENA_RATINGS_DAILY_CAP", DAILY_CAP)),
                                 wait_s=float(env.get("ARENA_RATINGS_WAIT_S", 2.0)))
            _caches[store] = cache
        return cache


def close_cache(store: Store) -> None:
    with _lock:
        cache = _caches.pop(store, None)
    if cache is not None:
        cache.close()


def leaderboard_view(cache: RatingsCache, robot_id: str | None, scene_id: str | None,
                     organisations: dict[str, str]) -> LeaderboardView:
    board, snap = cache.board(robot_id, scene_id)
    rows = board.rows if board else []
    success = board.success if board else {}
    models = []
    for r in rows:
        wins, n = success.get(r.model, (0, 0))
        models.append(RatingRow(rank=r.rank, model=r.model, organisation=organisations.get(r.model, "unknown"),
                                rating=r.rating, ci_low=r.ci_low, ci_high=r.ci_high, provisional=r.provisional,
                                group=r.group, votes=r.votes, wins=r.wins, losses=r.losses, ties=r.ties,
                                both_bad=r.both_bad, win_rate=r.win_rate, success_rate=wins / n if n else None,
                                episodes=n))
    return LeaderboardView(
        robot_id=robot_id, scene_id=scene_id, total_votes=board.total_votes if board else 0,
        fitted_votes=board.fitted_votes if board else 0, min_votes=cache.min_votes,
        method=METHOD.format(prior=cache.prior_sd), scope=SCOPE_ONE if robot_id else SCOPE_POOLED,
        groups=board.groups if board else 0, metric_correlation=board.metric_correlation if board else None,
        fitted_at=snap.fitted_at, models=models)


def export_rows(cache: RatingsCache, robot_id: str | None, salt: bytes) -> list[VoteExport]:
    """Every vote (of one robot, or all) as an export row, oldest first, with its flags."""
    snap = cache.current()
    votes = cache.store.list_votes(robot_id)
    out = []
    for v in votes:
        facts = snap.facts.get(v.battle_id) or load_facts(cache.store, v.battle_id)
        out.append(export_row(v, facts, snap.flags.get(v.id, list(getattr(v, "flags", None) or [])), salt))
    return out
