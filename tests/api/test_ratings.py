"""Bradley-Terry ratings: recovery of known strengths, invariances, CIs, and a cross-check of the
Newton fit against an independent scipy fit of the same likelihood."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.optimize import minimize

from api.ratings import BASE, INIT_RATING, SCALE, Battle, Rating, battles_from_votes, fit_bt, leaderboard
from schemas.records import VoteChoice, VoteRecord

TRUE = {"alpha": 1250.0, "bravo": 1120.0, "charlie": 1000.0, "delta": 930.0, "echo": 700.0}  # mean 1000


def simulate(n: int, seed: int, *, strengths: dict[str, float] = TRUE, tie_rate: float = 0.1) -> list[Battle]:
    """n battles between random distinct pairs, won per Bradley-Terry with the given ratings."""
    rng = np.random.default_rng(seed)
    names = sorted(strengths)
    battles = []
    for _ in range(n):
        i, j = rng.choice(len(names), size=2, replace=False)
        a, b = names[i], names[j]
        p_a = 1.0 / (1.0 + BASE ** ((strengths[b] - strengths[a]) / SCALE))
        outcome = "tie" if rng.random() < tie_rate else ("a" if rng.random() < p_a else "b")
        battles.append(Battle(a, b, outcome))
    return battles


def swapped(battles: list[Battle]) -> list[Battle]:
    flip = {"a": "b", "b": "a", "tie": "tie"}
    return [Battle(b.model_b, b.model_a, flip[b.outcome]) for b in battles]


def reference_fit(battles: list[Battle]) -> dict[str, float]:
    """Independent fit: the unpenalized negative log-likelihood written per battle (a tie is half a
    win for each side), minimized by scipy BFGS with the first model pinned at 0, then shifted so
    the mean is INIT_RATING."""
    names = sorted({b.model_a for b in battles} | {b.model_b for b in battles})
    ia = np.array([names.index(b.model_a) for b in battles])
    ib = np.array([names.index(b.model_b) for b in battles])
    score_a = np.array([{"a": 1.0, "b": 0.0, "tie": 0.5}[b.outcome] for b in battles])
    k = math.log(BASE) / SCALE  # rating points -> natural-log odds

    def full(free: np.ndarray) -> np.ndarray:
        return np.concatenate([[0.0], free])

    def nll(free: np.ndarray) -> float:
        x = k * (full(free)[ia] - full(free)[ib])
        return float(np.sum(score_a * np.logaddexp(0, -x) + (1 - score_a) * np.logaddexp(0, x)))

    def grad(free: np.ndarray) -> np.ndarray:
        x = k * (full(free)[ia] - full(free)[ib])
        residual = k * (1.0 / (1.0 + np.exp(-x)) - score_a)
        g = np.bincount(ia, residual, len(names)) - np.bincount(ib, residual, len(names))
        return np.asarray(g[1:])

    found = minimize(nll, np.zeros(len(names) - 1), jac=grad, method="BFGS", options={"gtol": 1e-10})
    ratings = full(found.x)
    ratings += INIT_RATING - ratings.mean()
    return dict(zip(names, ratings.tolist(), strict=True))


# -- fit_bt -------------------------------------------------------------------------------------


def test_recovers_ordering_and_gaps_of_known_strengths() -> None:
    # No ties here: random ties independent of strength would (rightly) compress the gaps.
    fitted = fit_bt(simulate(20_000, seed=7, tie_rate=0.0))
    assert sorted(fitted, key=fitted.__getitem__) == sorted(TRUE, key=TRUE.__getitem__)
    for model, rating in TRUE.items():
        assert fitted[model] == pytest.approx(rating, abs=15)


def test_matches_an_independent_scipy_fit() -> None:
    battles = simulate(800, seed=11, tie_rate=0.2)
    ours, reference = fit_bt(battles), reference_fit(battles)
    assert ours.keys() == reference.keys()
    for model in ours:
        assert ours[model] == pytest.approx(reference[model], abs=1e-3)


def test_a_tie_is_half_a_win_for_each_side() -> None:
    with_ties = fit_bt([Battle("x", "y", "a"), Battle("x", "y", "tie"), Battle("y", "x", "tie")])
    doubled = fit_bt([Battle("x", "y", "a"), Battle("x", "y", "a"), Battle("x", "y", "b")])
    assert with_ties == pytest.approx(doubled, abs=1e-6)
    assert with_ties["x"] - with_ties["y"] == pytest.approx(SCALE * math.log10(2), abs=1e-3)


def test_swapping_sides_changes_nothing() -> None:
    battles = simulate(1000, seed=3)
    assert fit_bt(swapped(battles)) == pytest.approx(fit_bt(battles), abs=1e-6)
    original, flipped = leaderboard(battles, rounds=0), leaderboard(swapped(battles), rounds=0)
    assert [r.model for r in flipped] == [r.model for r in original]
    for one, other in zip(flipped, original, strict=True):
        assert one.rating == pytest.approx(other.rating, abs=1e-6)
        assert (one.votes, one.wins, one.losses, one.ties) == (
            other.votes,
            other.wins,
            other.losses,
            other.ties,
        )


def test_ties_only_give_equal_ratings() -> None:
    battles = [Battle("x", "y", "tie"), Battle("y", "z", "tie"), Battle("z", "x", "tie")] * 5
    assert fit_bt(battles) == {"x": INIT_RATING, "y": INIT_RATING, "z": INIT_RATING}


@pytest.mark.parametrize(
    "battles", [simulate(500, seed=1), [Battle("champ", "x", "a")] * 9 + simulate(50, seed=2)]
)
def test_mean_rating_is_anchored_at_1000(battles: list[Battle]) -> None:
    assert np.mean(list(fit_bt(battles).values())) == pytest.approx(INIT_RATING, abs=1e-9)


def test_model_that_never_lost_stays_finite_and_on_top() -> None:
    battles = [Battle("champ", other, "a") for other in ("x", "y", "z")] * 4 + simulate(
        300, seed=5, strengths={"x": 1100.0, "y": 1000.0, "z": 900.0}
    )
    fitted = fit_bt(battles)
    assert all(math.isfinite(r) for r in fitted.values())
    assert max(fitted, key=fitted.__getitem__) == "champ"
    board = leaderboard(battles, rounds=50)
    assert all(math.isfinite(x) for r in board for x in (r.rating, r.ci_low, r.ci_high))


def test_self_battles_are_ignored_and_bad_outcomes_rejected() -> None:
    assert fit_bt([Battle("x", "x", "a")]) == {}
    assert fit_bt([Battle("x", "y", "a"), Battle("x", "x", "b")]) == fit_bt([Battle("x", "y", "a")])
    with pytest.raises(ValueError, match="outcome"):
        fit_bt([Battle("x", "y", "left")])


# -- leaderboard --------------------------------------------------------------------------------


def test_empty_input_gives_empty_results() -> None:
    assert leaderboard([]) == []
    assert fit_bt([]) == {}


def test_leaderboard_counts_and_order() -> None:
    battles = [Battle("x", "y", "a"), Battle("y", "x", "b"), Battle("x", "z", "tie"), Battle("z", "y", "a")]
    board = leaderboard(battles, rounds=20)
    assert [r.model for r in board] == sorted(fit_bt(battles), key=lambda m: -fit_bt(battles)[m])
    x = next(r for r in board if r.model == "x")
    assert (x.votes, x.wins, x.losses, x.ties, x.win_rate) == (3, 2, 0, 1, pytest.approx(2.5 / 3))
    assert all(isinstance(r, Rating) for r in board)
    assert [r.rating for r in board] == sorted((r.rating for r in board), reverse=True)


def test_ci_contains_the_estimate_and_narrows_with_more_data() -> None:
    small = {r.model: r for r in leaderboard(simulate(400, seed=21))}
    large = {r.model: r for r in leaderboard(simulate(6000, seed=21))}
    for model in TRUE:
        for board in (small, large):
            assert board[model].ci_low <= board[model].rating <= board[model].ci_high
        assert large[model].ci_high - large[model].ci_low < small[model].ci_high - small[model].ci_low


def test_leaderboard_is_deterministic_for_a_seed() -> None:
    battles = simulate(700, seed=4)
    assert leaderboard(battles, seed=9) == leaderboard(battles, seed=9)
    assert leaderboard(battles, seed=9) != leaderboard(battles, seed=10)
    assert [r.rating for r in leaderboard(battles, seed=9)] == [
        r.rating for r in leaderboard(battles, seed=10)
    ]


def test_zero_rounds_gives_point_intervals_and_negative_rounds_fail() -> None:
    for row in leaderboard(simulate(100, seed=8), rounds=0):
        assert row.ci_low == row.rating == row.ci_high
    with pytest.raises(ValueError, match="rounds"):
        leaderboard(simulate(10, seed=8), rounds=-1)


def test_rarely_seen_model_gets_an_interval() -> None:
    battles = simulate(2000, seed=6) + [Battle("rare", "alpha", "b")]
    rare = next(r for r in leaderboard(battles, rounds=100) if r.model == "rare")
    assert rare.votes == 1
    assert rare.ci_low <= rare.ci_high
    assert all(math.isfinite(x) for x in (rare.rating, rare.ci_low, rare.ci_high))


# -- votes --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("choice", "outcome"),
    [(VoteChoice.LEFT, "a"), (VoteChoice.RIGHT, "b"), (VoteChoice.TIE, "tie"), (VoteChoice.BOTH_BAD, "tie")],
)
def test_battles_from_votes(choice: VoteChoice, outcome: str) -> None:
    vote = VoteRecord(
        id="v",
        battle_id="b",
        session_id="s",
        robot_id="panda",
        scene_id="kitchen",
        left_policy="pi0",
        right_policy="octo",
        choice=choice,
        created_at=1.0,
    )
    assert battles_from_votes([vote]) == [Battle("pi0", "octo", outcome)]
    assert battles_from_votes(iter([])) == []
