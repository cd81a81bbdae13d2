"""The leaderboard cache: one background thread refits every board when the vote count changes.

Requests never fit: `RatingsCache.board()` returns the last published `Snapshot`'s board. When the store
holds more votes than the snapshot (a count that requests read at most once per `count_ttl_s`, and at
once after a vote through this process) it wakes the thread and waits at most `wait_s` for a newer one (in
a worker thread: the leaderboard route runs with sync_to_thread), then serves what it has, saying how
many votes it covers. Refits slower than CHEAP_S are throttled to a duty cycle (`DUTY`): the thread
idles at least (1 / DUTY - 1) times as long as its last refit took, so a vote storm costs the API at
most DUTY of one core. The thread also polls `store.count_votes()` every `poll_s`, so votes cast
through other API processes are seen too. Automatic metrics (success rates) of newly voted battles are read at most
FACTS_PER_REFRESH per refit, and refits continue until every one is read.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from api.ratings import cleaning
from api.ratings.board import MIN_VOTES, Rating, battles_from_votes, fit_bt, rows
from api.ratings.export import BattleFacts, load_facts
from api.ratings.fit import OUTCOMES, PRIOR_SD, counts_from_codes, fit
from api.ratings.ranks import kendall_tau
from api.store.port import Store
from schemas.records import VoteChoice, VoteRecord

log = logging.getLogger("arena.ratings")
DUTY = 0.2
CHEAP_S = 0.1  # refits faster than this are never throttled
FACTS_PER_REFRESH = 2000  # automatic metrics of newly voted battles read per refit (two reads each)
Key = tuple[str | None, str | None]  # (robot_id, scene_id); None = every robot / every scene
_OUTCOME = {VoteChoice.LEFT: 0, VoteChoice.RIGHT: 1, VoteChoice.TIE: 2, VoteChoice.BOTH_BAD: 3}
assert OUTCOMES == ("a", "b", "tie", "both_bad")


@dataclass(frozen=True)
class Board:
    """One published leaderboard: rows, vote counts, automatic metrics per model and their agreement."""

    rows: list[Rating]
    total_votes: int
    fitted_votes: int
    groups: int
    success: dict[str, tuple[int, int]]  # model -> (successes, episodes with a metric)
    metric_correlation: float | None  # Kendall tau between rating and success rate


@dataclass(frozen=True)
class Snapshot:
    count: int
    fitted_at: float
    boards: dict[Key, Board]
    flags: dict[str, list[str]]  # vote id -> flags (stored and computed)
    voters: list[cleaning.VoterTest]
    facts: dict[str, BattleFacts] = field(default_factory=dict)


EMPTY = Snapshot(count=-1, fitted_at=0.0, boards={}, flags={}, voters=[])


class RatingsCache:
    def __init__(self, store: Store, *, min_votes: int = MIN_VOTES, prior_sd: float = PRIOR_SD,
                 daily_cap: int = cleaning.DAILY_CAP, poll_s: float = 1.0, wait_s: float = 2.0,
                 count_ttl_s: float = 0.25) -> None:
        self.store, self.min_votes, self.prior_sd, self.daily_cap = store, min_votes, prior_sd, daily_cap
        self.poll_s, self.wait_s, self.count_ttl_s = poll_s, wait_s, count_ttl_s
        self._counted = (float("-inf"), 0)  # (monotonic time, vote count) of the last count a request read
        self.snapshot = EMPTY
        self._facts: dict[str, BattleFacts] = {}
        self._facts_missing = 0  # voted battles whose automatic metrics are not read yet
        self._wanted = False  # a request is waiting for a refit
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closed = False

    def start(self) -> None:
        with self._wake:
            if self._thread is None and not self._closed:
                self._thread = threading.Thread(target=self._run, name="ratings", daemon=True)
                self._thread.start()

    def close(self) -> None:
        with self._wake:
            self._closed = True
            self._wake.notify_all()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=10)

    def current(self, wait: bool = True) -> Snapshot:
        """The newest snapshot; with `wait`, first give the thread up to `wait_s` to catch up with the store."""
        self.start()
        snap = self.snapshot
        if not wait or snap.count == (count := self._recent_count()):
            return snap
        deadline = time.monotonic() + self.wait_s
        with self._wake:  # a refit already under way may have started before the newest votes: wait for one
            self._wanted = True
            self._wake.notify_all()  # that covers them (votes are never deleted, so counts only grow)
            while self.snapshot.count < count and not self._closed and (left := deadline - time.monotonic()) > 0:
                self._wake.wait(left)
        return self.snapshot

    def board(self, robot_id: str | None, scene_id: str | None, wait: bool = True) -> tuple[Board | None, Snapshot]:
        snap = self.current(wait)
        return snap.boards.get((robot_id, scene_id)), snap

    def note_vote(self) -> None:
        """A vote was recorded through this process: the next request reads the count from the store, so
        the voter sees their vote on the board (votes through other processes show within `count_ttl_s`)."""
        self._counted = (float("-inf"), 0)

    def _recent_count(self) -> int:
        """The store's vote count, read at most once per `count_ttl_s` by requests: under load, one read of
        the store serves every leaderboard request of that interval."""
        at, count = self._counted
        if time.monotonic() - at < self.count_ttl_s:
            return count
        count = self._count()
        self._counted = (time.monotonic(), count)
        return count

    def _count(self) -> int:
        counter = getattr(self.store, "count_votes", None)
        return int(counter()) if counter is not None else len(self.store.list_votes())

    def _run(self) -> None:
        last_took, failures = 0.0, 0
        while not self._closed:
            try:
                if self._count() != self.snapshot.count or self._facts_missing:
                    started = time.monotonic()
                    self.refresh()
                    last_took = time.monotonic() - started
                else:
                    self._wanted = False  # nothing new after all: back to polling
                failures = 0
            except Exception:  # a store outage must not kill the thread; the old snapshot stays up
                if not failures:
                    log.exception("ratings refresh failed; keeping the previous leaderboard")
                failures, self._wanted = failures + 1, False
            throttle = last_took * (1 / DUTY - 1) if last_took > CHEAP_S else 0.0
            with self._wake:  # a waiting request only skips the poll interval, never the duty-cycle throttle
                if not self._closed:  # back off while the store fails (up to a minute between tries)
                    self._wake.wait(throttle if self._wanted else max(self.poll_s * min(2**failures, 60), throttle))

    def refresh(self) -> Snapshot:
        """Read every vote, clean, fit every board and publish the result (also callable directly)."""
        self._wanted = False
        votes = self.store.list_votes()
        missing = [v for v in votes if v.battle_id not in self._facts]
        for v in missing[:FACTS_PER_REFRESH]:
            self._facts[v.battle_id] = load_facts(self.store, v.battle_id)
        self._facts_missing = max(len(missing) - FACTS_PER_REFRESH, 0)
        flags, voters = clean(votes, self.daily_cap, self.prior_sd)
        snap = Snapshot(count=len(votes), fitted_at=time.time(), boards=self._boards(votes, flags),
                        flags=flags, voters=voters, facts=dict(self._facts))
        with self._wake:
            self.snapshot = snap
            self._wake.notify_all()
        return snap

    def _boards(self, votes: Sequence[VoteRecord], flags: dict[str, list[str]]) -> dict[Key, Board]:
        models = sorted({v.left_policy for v in votes} | {v.right_policy for v in votes})
        table = _Table(votes, models, flags)
        keys: set[Key] = {(None, None)}
        for v in votes:
            keys |= {(v.robot_id, None), (None, v.scene_id), (v.robot_id, v.scene_id)}
        return {key: self._board(table, key) for key in keys}

    def _board(self, t: _Table, key: Key) -> Board:
        robot, scene = key
        on = np.ones(len(t.robot), dtype=bool)
        if robot is not None:
            on &= t.robot == robot
        if scene is not None:
            on &= t.scene == scene
        fitted = on & t.kept & (t.a != t.b)
        played = sorted(set(t.a[on].tolist()) | set(t.b[on].tolist()))
        remap = np.full(len(t.models), -1, dtype=np.int64)
        remap[played] = np.arange(len(played))
        counts = counts_from_codes([t.models[k] for k in played], remap[t.a[fitted]], remap[t.b[fitted]],
                                   t.outcome[fitted])
        board_rows = rows(fit(counts, prior_sd=self.prior_sd), min_votes=self.min_votes)
        success = _success(t, on, self._facts)
        rated = [r for r in board_rows if success.get(r.model, (0, 0))[1] > 0]
        tau = kendall_tau([r.rating for r in rated], [success[r.model][0] / success[r.model][1] for r in rated])
        return Board(rows=board_rows, total_votes=int(on.sum()), fitted_votes=int(fitted.sum()),
                     groups=len({r.group for r in board_rows}), success=success, metric_correlation=tau)


class _Table:
    """Votes as parallel arrays, so that every board is a mask and a bincount."""

    def __init__(self, votes: Sequence[VoteRecord], models: list[str], flags: dict[str, list[str]]) -> None:
        index = {m: k for k, m in enumerate(models)}
        self.models = models
        self.votes = votes
        self.a = np.array([index[v.left_policy] for v in votes], dtype=np.int64)
        self.b = np.array([index[v.right_policy] for v in votes], dtype=np.int64)
        self.outcome = np.array([_OUTCOME[VoteChoice(v.choice)] for v in votes], dtype=np.int64)
        self.robot = np.array([v.robot_id for v in votes], dtype=object)
        self.scene = np.array([v.scene_id for v in votes], dtype=object)
        self.kept = np.array([not cleaning.EXCLUDING.intersection(flags[v.id]) for v in votes], dtype=bool)


def _success(t: _Table, on: np.ndarray, facts: dict[str, BattleFacts]) -> dict[str, tuple[int, int]]:
    """Per model: successful episodes and episodes with a success metric, over the board's voted battles."""
    tally: dict[str, list[int]] = {}
    for k in np.flatnonzero(on).tolist():
        v = t.votes[k]
        f = facts.get(v.battle_id)
        if f is None:
            continue
        for model, side in ((v.left_policy, "left"), (v.right_policy, "right")):
            s = tally.setdefault(model, [0, 0])
            known = [x for x in f.success[side] if x is not None]
            s[0], s[1] = s[0] + sum(known), s[1] + len(known)
    return {m: (s[0], s[1]) for m, s in tally.items()}


def clean(votes: Sequence[VoteRecord], daily_cap: int, prior_sd: float) -> tuple[dict[str, list[str]],
                                                                                  list[cleaning.VoterTest]]:
    """Flags per vote (stored, over_cap, excluded_voter) and the voter tests, fitted per robot."""
    flags = cleaning.cap_flags(votes, daily_cap)
    survivors = cleaning.kept(votes, flags)
    per_robot: dict[str, dict[str, float]] = {}
    for robot in {v.robot_id for v in survivors}:
        per_robot[robot] = fit_bt(battles_from_votes([v for v in survivors if v.robot_id == robot]),
                                  prior_sd=prior_sd)
    tests = cleaning.voter_tests(survivors, lambda v, m: per_robot.get(v.robot_id, {}).get(m))
    flagged = {t.voter_id for t in tests if t.flagged}
    for v in votes:
        if cleaning.voter_of(v) in flagged and "excluded_voter" not in flags[v.id]:
            flags[v.id].append("excluded_voter")
    return flags, tests
