"""The MongoDB server (nx-27017) SIGKILLed while votes are written through two API processes.

Three voters, each with six battles whose turns are done, vote through the two APIs in turn. Once
the first votes are acknowledged, and with a vote in flight, the Mongo server is SIGKILLed, left down
for 7 s (longer than the driver's 5 s server selection timeout) and started again on the same port and
data dir. The voters keep voting throughout and retry what was refused. Checked: every API answer is
200, a clear 503 (only while the store is away) or a 409 for a vote whose first try was committed but
not acknowledged; none is a 500 or takes longer than 15 s; afterwards every vote the API acknowledged
is in the store with its choice, every battle has exactly one vote, and the worker process is alive.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from api.store import open_store
from tests.integration.cluster import Cluster
from tests.integration.voters import Voter
from tests.support.mongo_server import MongoServer

pytestmark = pytest.mark.slow
OUTAGE_S = 7.0
BATTLES_PER_VOTER = 6
CHOICES = ("left", "right", "tie")


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Cluster, MongoServer]]:
    root = tmp_path_factory.mktemp("scaleout-mongo")
    mongo = MongoServer(root / "mongo").start()
    made = Cluster(root, mongo.url("arena"))
    try:
        yield made.start(apis=2, workers=1), mongo
    finally:
        for http in Voter.opened:
            http.close()
        made.close()
        mongo.stop()


@dataclass(frozen=True)
class Answer:
    battle_id: str
    choice: str
    status: int
    took: float  # seconds the request took
    text: str
    at: float  # monotonic time it was sent


def _vote_all(cluster: Cluster, voter: Voter, battles: list[str], answers: list[Answer], deadline: float,
              busy: list[bool], me: int) -> None:
    """Vote on every battle, alternating APIs; retry a battle whose vote was refused with a 503.
    `busy[me]` is True while a request is out."""
    apis = itertools.cycle(cluster.apis)
    pending = list(battles)
    while pending and time.monotonic() < deadline:
        battle_id = pending.pop(0)
        choice = CHOICES[battles.index(battle_id) % 3]
        busy[me], t0 = True, time.monotonic()
        r = voter.post(next(apis), f"/api/battles/{battle_id}/vote", {"choice": choice})
        busy[me] = False
        answers.append(Answer(battle_id, choice, r.status_code, time.monotonic() - t0, r.text, t0))
        if r.status_code == 503:
            pending.append(battle_id)
        time.sleep(0.02)


def test_mongo_killed_while_votes_are_written_loses_no_acknowledged_vote(
        setup: tuple[Cluster, MongoServer]) -> None:
    cluster, mongo = setup
    voters = [Voter() for _ in range(3)]
    battles: dict[int, list[str]] = {}
    turns = []
    for v, voter in enumerate(voters):
        battles[v] = [voter.battle(cluster.apis[(v + k) % 2]) for k in range(BATTLES_PER_VOTER)]
        turns += [(voter, voter.turn(cluster.apis[k % 2], b)) for k, b in enumerate(battles[v])]
    for voter, turn in turns:
        assert voter.wait_turn(cluster.apis[0], turn["turn_id"])["status"] == "done", cluster.logs()

    answers: list[Answer] = []
    busy = [False] * 3
    deadline = time.monotonic() + 60
    threads = [threading.Thread(target=_vote_all, args=(cluster, voters[v], battles[v], answers, deadline, busy, v))
               for v in range(3)]
    for thread in threads:
        thread.start()
    while sum(a.status == 200 for a in answers) < 3 or not any(busy):  # kill with a vote in flight
        assert time.monotonic() < deadline, [(a.status, a.text) for a in answers]
        time.sleep(0.01)
    mongo.kill()
    killed = time.monotonic()
    t0 = time.monotonic()
    seen = httpx.get(f"{cluster.apis[1].base}/api/health", timeout=30)  # the store is away: degraded, no hang
    assert seen.status_code == 503, seen.text
    assert seen.json()["dependencies"]["store"] != "ok"
    assert time.monotonic() - t0 < 15
    time.sleep(max(0.0, OUTAGE_S - (time.monotonic() - killed)))
    mongo.start()
    restarted = time.monotonic()
    for thread in threads:
        thread.join(70)
    assert not any(t.is_alive() for t in threads)

    statuses = {a.status for a in answers}
    assert statuses <= {200, 409, 503}, [(a.status, a.text) for a in answers if a.status not in (200, 409, 503)]
    assert max(a.took for a in answers) < 15, "a vote request hung while MongoDB was away"
    refused = [a for a in answers if a.status == 503]
    assert refused, "no vote was attempted while MongoDB was away"
    for a in refused:
        assert killed - 1 <= a.at <= restarted, "a 503 while MongoDB was up"
        assert "unreachable" in a.text or "unavailable" in a.text, a.text
        assert "Traceback" not in a.text
    for a in answers:  # a 409 only for a battle whose earlier try was refused (committed, then the reply lost)
        if a.status == 409:
            assert any(r.battle_id == a.battle_id and r.at < a.at for r in refused), a.text
    acknowledged = {a.battle_id: a.choice for a in answers if a.status == 200}
    everything = [b for bs in battles.values() for b in bs]
    assert set(acknowledged) | {a.battle_id for a in answers if a.status == 409} == set(everything)

    store = open_store(cluster.env["ARENA_STORE_URL"])
    try:
        for battle_id, choice in acknowledged.items():
            vote = store.get_vote(battle_id)
            assert vote is not None, f"acknowledged vote on {battle_id} lost"
            assert vote.choice.value == choice
        assert store.count_votes() == len(everything)
    finally:
        store.close()
    for api in cluster.apis:  # both APIs serve again, and see the votes
        assert voters[0].get(api, f"/api/battles/{battles[0][0]}").json()["status"] == "voted"
    assert all(w.process.poll() is None for w in cluster.workers), cluster.logs()
    first_ok = min((a.at for a in answers if a.status == 200 and a.at > restarted), default=float("nan"))
    before = sum(a.status == 200 and a.at + a.took < killed for a in answers)
    in_flight = sum(a.at < killed < a.at + a.took for a in answers)
    print(f"\nMONGO_KILL: {before} votes acknowledged before the kill, {in_flight} requests in flight at it; "
          f"{len(answers)} vote requests, {len(acknowledged)} acknowledged (all present), "
          f"{len(refused)} refused with 503 (slowest {max(a.took for a in refused):.1f} s), "
          f"{sum(a.status == 409 for a in answers)} 409 on retry; first 200 "
          f"{first_ok - restarted:.1f} s after the restart")
