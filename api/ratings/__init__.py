"""Leaderboard ratings: a Bayesian Bradley-Terry-Davidson fit (fit), Rank (UB) and vote groups (ranks),
rows per model (board), vote cleaning (cleaning), the background cache (cache), information-seeking
pair sampling (pairs), open vote data (export) and what the API shows (present). See docs/ratings.md."""

from api.ratings.board import METHOD, MIN_VOTES, Rating, battles_from_votes, fit_bt, leaderboard
from api.ratings.fit import BASE, INIT_RATING, PRIOR_SD, SCALE, Battle, win_probability
from api.ratings.pairs import choose_pair, last_pair
from api.ratings.present import cache_for, close_cache, export_rows, leaderboard_view

__all__ = ["BASE", "INIT_RATING", "METHOD", "MIN_VOTES", "PRIOR_SD", "SCALE", "Battle", "Rating",
           "battles_from_votes", "cache_for", "choose_pair", "close_cache", "export_rows", "fit_bt", "last_pair",
           "leaderboard", "leaderboard_view", "win_probability"]
