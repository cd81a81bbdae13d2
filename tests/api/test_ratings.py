"""Bayesian Bradley-Terry-Davidson ratings: recovery of known strengths, anchoring, ties, intervals, Rank (UB),
groups, vote cleaning, pair sampling and the cache, with a cross-check of the Newton fit against scipy."""

from __future__ import annotations

import math
import random
import threading
from pathlib import Path

import msgspec
import numpy as np
import pytest
from scipy.optimize import minimize

from api.cli import main as cli_main
from api.ratings import BASE, INIT_RATING, SCALE, Battle, battles_from_votes, choose_pair, fit_bt, leaderboard
from api.ratings.cache import RatingsCache
from api.ratings.cleaning import cap_flags, voter_tests
from api.ratings.fit import K, fit, tally
from api.ratings.pairs import first_weight, pair_information
from api.ratings.ranks import groups, kendall_tau, rank_ub
from api.store import open_store
from schemas.records import VoteChoice, VoteRecord

TRUE = {"alpha": 1250.0, "bravo": 1120.0, "charlie": 1000.0, "delta": 930.0, "echo": 700.0}  # mean 1000


def simulate(n: int, seed: int, *, strengths: dict[str, float] = TRUE, tie_rate: float = 0.0,
             both_bad: float = 0.0) -> list[Battle]:
    """n battles between random distinct pairs; ties and both-bad at fixed rates, independent of strength."""
    rng = np.random.default_rng(seed)
    names = sorted(strengths)
    battles = []
    for _ in range(n):
        i, j = rng.choice(len(names), size=2, replace=False)
        a, b = names[i], names[j]
        p_a = 1.0 / (1.0 + BASE ** ((strengths[b] - strengths[a]) / SCALE))
        u = rng.random()
        outcome = "both_bad" if u < both_bad else "tie" if u < both_bad + tie_rate else (
            "a" if rng.random() < p_a else "b")
        battles.append(Battle(a, b, outcome))
    return battles


def swapped(battles: list[Battle]) -> list[Battle]:
    flip = {"a": "b", "b": "a", "tie": "tie", "both_bad": "both_bad"}
    return [Battle(b.model_b, b.model_a, flip[b.outcome]) for b in battles]


def reference_fit(battles: list[Battle], prior_sd: float = 200.0) -> dict[str, float]:
    """Independent fit without ties: the Bradley-Terry log-likelihood per battle plus the Gaussian prior,
    maximized by scipy BFGS."""
    names = sorted({b.model_a for b in battles} | {b.model_b for b in battles})
    ia = np.array([names.index(b.model_a) for b in battles])
    ib = np.array([names.index(b.model_b) for b in battles])
    won = np.array([b.outcome == "a" for b in battles], dtype=float)

    def neg_log_posterior(theta: np.ndarray) -> float:
        x = theta[ia] - theta[ib]
        nll = np.sum(won * np.logaddexp(0, -x) + (1 - won) * np.logaddexp(0, x))
        return float(nll + (theta**2).sum() / (2 * (prior_sd * K) ** 2))

    found = minimize(neg_log_posterior, np.zeros(len(names)), method="BFGS", options={"gtol": 1e-9})
    return dict(zip(names, (INIT_RATING + found.x / K).tolist(), strict=True))


def test_recovers_ordering_and_gaps_of_known_strengths_even_with_many_ties() -> None:
    for ties, bad in ((0.0, 0.0), (0.6, 0.0), (0.0, 0.6)):
        fitted = fit_bt(simulate(20_000, seed=7, tie_rate=ties, both_bad=bad))
        assert sorted(fitted, key=fitted.__getitem__) == sorted(TRUE, key=TRUE.__getitem__)
        scale = (fitted["alpha"] - fitted["echo"]) / (TRUE["alpha"] - TRUE["echo"])
        assert 0.93 < scale < 1.07, (ties, bad, scale)  # half-win ties gave 0.26 at 60%


def test_matches_an_independent_scipy_fit() -> None:
    # With lambda = 1 the tie term separates from the strengths, so the fit must equal plain Bradley-Terry
    # with the same prior on the decisive votes, ties or not.
    battles = simulate(800, seed=11, tie_rate=0.3)
    ours = fit(tally(battles), lambdas=(1.0,))
    reference = reference_fit([b for b in battles if b.outcome != "tie"])
    for k, model in enumerate(ours.counts.models):
        assert ours.rating[k] == pytest.approx(reference[model], abs=0.01)


def test_swapping_sides_changes_nothing() -> None:
    battles = simulate(1000, seed=3, tie_rate=0.2, both_bad=0.1)
    assert fit_bt(swapped(battles)) == pytest.approx(fit_bt(battles), abs=1e-6)
    original, flipped = leaderboard(battles), leaderboard(swapped(battles))
    assert [(r.model, r.votes, r.wins, r.ties, r.both_bad) for r in flipped] == [
        (r.model, r.votes, r.wins, r.ties, r.both_bad) for r in original]


def test_ties_only_give_equal_ratings_and_mean_is_1000() -> None:
    tied = fit_bt([Battle("x", "y", "tie"), Battle("y", "z", "tie"), Battle("z", "x", "tie")] * 5)
    assert tied == pytest.approx({"x": INIT_RATING, "y": INIT_RATING, "z": INIT_RATING})
    lopsided = fit_bt([Battle("champ", "x", "a")] * 9 + simulate(50, seed=2))
    assert np.mean(list(lopsided.values())) == pytest.approx(INIT_RATING, abs=1e-6)


def test_one_vote_gives_a_provisional_tie_for_first_not_a_confident_leader() -> None:
    board = leaderboard([Battle("x", "y", "a")])
    assert [r.rank for r in board] == [1, 1]
    assert all(r.provisional and r.ci_low < INIT_RATING < r.ci_high for r in board)
    assert board[0].rating - board[1].rating < 200  # the old fit put 2044 against -44


def test_a_newcomer_does_not_move_the_others() -> None:
    base = simulate(3000, seed=5)
    before = fit_bt(base, min_votes=30)
    after = fit_bt([*base, Battle("newcomer", "alpha", "a")], min_votes=30)
    moved = [abs(after[m] - before[m]) for m in TRUE]
    assert max(moved) < 2  # the mean-anchored fit moved them by 139 on average
    assert after["newcomer"] < after["alpha"] + 50
    three = leaderboard([*base, *[Battle("newcomer", m, "a") for m in ("alpha", "bravo", "charlie")]])
    newcomer = next(r for r in three if r.model == "newcomer")
    assert newcomer.provisional
    assert newcomer.rating < 1500
    assert three[0].model != "newcomer"


def test_intervals_contain_the_estimate_and_narrow_with_data() -> None:
    small = {r.model: r for r in leaderboard(simulate(400, seed=21))}
    large = {r.model: r for r in leaderboard(simulate(6000, seed=21))}
    for model in TRUE:
        for board in (small, large):
            assert board[model].ci_low < board[model].rating < board[model].ci_high
        assert large[model].ci_high - large[model].ci_low < small[model].ci_high - small[model].ci_low


def test_rank_ub_shares_numbers_and_counts_only_separated_models() -> None:
    assert rank_ub([10, 5, 0, -20], [20, 15, 12, -8], [0, 0, 0, 0]) == [1, 1, 1, 4]
    assert rank_ub([10, -20], [20, -8], [0, 1]) == [1, 1]  # different groups are never compared
    board = leaderboard(simulate(6000, seed=8))
    assert [r.model for r in board] == ["alpha", "bravo", "charlie", "delta", "echo"]
    assert [r.rank for r in board] == [1, 2, 3, 4, 5]


def test_models_that_never_met_are_in_different_groups() -> None:
    battles = simulate(300, seed=1) + [Battle("p", "q", "a"), Battle("q", "p", "b")] * 20
    board = {r.model: r for r in leaderboard(battles)}
    assert board["p"].group != board["alpha"].group
    assert board["p"].group == board["q"].group
    assert board["p"].rank == 1
    assert groups(3, np.array([0]), np.array([1])) == [0, 0, 1]


def test_self_battles_are_ignored_and_bad_outcomes_rejected() -> None:
    assert fit_bt([Battle("x", "x", "a")]) == {}
    assert leaderboard([]) == []
    with pytest.raises(ValueError, match="outcome"):
        tally([Battle("x", "y", "left")])


def test_kendall_tau() -> None:
    assert kendall_tau([1, 2, 3], [10, 20, 30]) == pytest.approx(1.0)
    assert kendall_tau([1, 2, 3], [30, 20, 10]) == pytest.approx(-1.0)
    assert kendall_tau([1], [1]) is None


# -- votes and cleaning --------------------------------------------------------------------------


def vote(i: int, choice: VoteChoice, *, left: str = "alpha", right: str = "echo", voter: str | None = "v",
         at: float = 1.0e9) -> VoteRecord:
    return VoteRecord(id=f"v{i}", battle_id=f"b{i}", session_id="s", robot_id="franka", scene_id="table",
                      left_policy=left, right_policy=right, choice=choice, created_at=at, voter_id=voter)


@pytest.mark.parametrize(("choice", "outcome"), [(VoteChoice.LEFT, "a"), (VoteChoice.RIGHT, "b"),
                                                 (VoteChoice.TIE, "tie"), (VoteChoice.BOTH_BAD, "both_bad")])
def test_battles_from_votes(choice: VoteChoice, outcome: str) -> None:
    assert battles_from_votes([vote(0, choice)]) == [Battle("alpha", "echo", outcome)]


def test_daily_cap_flags_votes_past_the_cap_per_utc_day() -> None:
    votes = [vote(i, VoteChoice.LEFT, at=1.0e9 + i) for i in range(5)] + [vote(9, VoteChoice.LEFT, at=1.0e9 + 86400)]
    flags = cap_flags(votes, daily_cap=3)
    assert [("over_cap" in flags[v.id]) for v in votes] == [False, False, False, True, True, False]


def test_a_voter_against_the_consensus_is_flagged_and_honest_ones_are_not() -> None:
    rng = random.Random(3)
    fitted = dict(TRUE)
    votes = []
    for i in range(600):  # honest voters, each judging like the model
        a, b = rng.sample(sorted(TRUE), 2)
        p_a = 1.0 / (1.0 + BASE ** ((TRUE[b] - TRUE[a]) / SCALE))
        votes.append(vote(i, VoteChoice.LEFT if rng.random() < p_a else VoteChoice.RIGHT, left=a, right=b,
                          voter=f"honest{i % 20}"))
    for i in range(30):  # always for the weakest model
        votes.append(vote(1000 + i, VoteChoice.RIGHT, left=rng.choice(["alpha", "bravo"]), right="echo",
                          voter="shill"))
    tests = {t.voter_id: t for t in voter_tests(votes, lambda v, m: fitted[m])}
    assert tests["shill"].flagged
    assert tests["shill"].p_value < 1e-6
    assert not any(t.flagged for name, t in tests.items() if name != "shill")


# -- pairs ----------------------------------------------------------------------------------------


def test_pairs_favour_newcomers_and_close_uncertain_matches() -> None:
    assert first_weight(0) > 10 * first_weight(500)
    board = {r.model: r for r in leaderboard(simulate(4000, seed=2))}
    close = pair_information(board["bravo"], board["charlie"])
    lopsided = pair_information(board["alpha"], board["echo"])
    assert close > 2 * lopsided
    assert pair_information(board["alpha"], None) > close  # an unrated newcomer is the most informative


def test_choose_pair_never_repeats_the_last_pair_and_randomises_sides() -> None:
    rng = random.Random(0)
    board = leaderboard(simulate(2000, seed=4))
    names = sorted(TRUE)
    seen_left = set()
    for _ in range(300):
        left, right = choose_pair(names, board, rng, avoid=frozenset(("alpha", "bravo")))
        assert left != right
        assert {left, right} != {"alpha", "bravo"}
        seen_left.add(left)
    assert seen_left == set(names)
    assert set(choose_pair(["x", "y"], [], rng, avoid=frozenset(("x", "y")))) == {"x", "y"}  # no other pair
    with pytest.raises(ValueError, match="two"):
        choose_pair(["x"], [], rng)


def test_newcomers_get_more_battles_than_uniform() -> None:
    rng = random.Random(1)
    board = leaderboard(simulate(3000, seed=6))
    names = [*sorted(TRUE), "newcomer"]
    share = sum("newcomer" in choose_pair(names, board, rng) for _ in range(2000)) / 2000
    assert share > 0.5 > 2 / len(names)  # uniform pairs gave a newcomer 2/n of battles
    assert math.isfinite(share)


# -- the cache and the export --------------------------------------------------------------------


def test_cache_refits_in_its_own_thread_and_excludes_flagged_votes(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path}/arena.db")
    cache = RatingsCache(store, wait_s=10.0, poll_s=0.05, count_ttl_s=0.0)  # every request reads the count
    try:
        empty, first = cache.board(None, None)  # no votes: an empty board
        assert empty is not None
        assert (empty.rows, first.count) == ([], 0)
        votes = [vote(0, VoteChoice.LEFT), vote(1, VoteChoice.RIGHT), vote(2, VoteChoice.LEFT)]
        votes[2] = msgspec.structs.replace(votes[2], flags=["early"])
        for v in votes:
            store.record_vote(v)
        board, snap = cache.board("franka", None)
        assert board is not None
        assert (board.total_votes, board.fitted_votes) == (3, 2)
        assert snap.flags["v2"] == ["early"]
        assert snap.count == 3
        assert {r.model: r.votes for r in board.rows} == {"alpha": 2, "echo": 2}
        assert any(t.name == "ratings" and t.is_alive() for t in threading.enumerate())
        assert cache.board(None, "table")[0] is not None
        assert cache.board("franka", "table")[0] is not None
    finally:
        cache.close()
        store.close()


def test_requests_share_one_count_read_until_a_vote_is_noted(tmp_path: Path) -> None:
    """Under load, leaderboard requests read the store's vote count at most once per `count_ttl_s`; a vote
    recorded through this process (`note_vote`) is on the board at the next request all the same."""
    store = open_store(f"sqlite:///{tmp_path}/arena.db")
    cache = RatingsCache(store, wait_s=10.0, poll_s=3600.0, count_ttl_s=3600.0)  # the thread polls once
    try:
        assert cache.board(None, None)[1].count == 0
        store.record_vote(vote(0, VoteChoice.LEFT))  # as if through another process: not read yet
        assert cache.board(None, None)[1].count == 0
        cache.note_vote()
        assert cache.board(None, None)[1].count == 1
        store.record_vote(vote(1, VoteChoice.RIGHT))
        cache.note_vote()
        board, snap = cache.board("franka", None)
        assert snap.count == 2
        assert board is not None
        assert board.total_votes == 2
    finally:
        cache.close()
        store.close()


def test_arena_export_votes_writes_fastchat_battles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    monkeypatch.setenv("ARENA_DATA_DIR", str(tmp_path))
    store = open_store(f"sqlite:///{tmp_path}/arena.db")
    store.record_vote(vote(0, VoteChoice.BOTH_BAD))
    store.close()
    assert cli_main(["export", "votes"]) == 0
    rows = [msgspec.json.decode(line) for line in capsysbinary.readouterr().out.splitlines()]
    assert len(rows) == 1
    row = rows[0]
    assert (row["model_a"], row["model_b"], row["winner"], row["turn"]) == ("alpha", "echo", "tie (bothbad)", 0)
    assert len(row["judge"]) == 16
    assert "v" not in (row["judge"],)
    assert row["excluded"] is False
