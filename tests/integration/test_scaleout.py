"""The scaled-out arena as separate processes: two API processes (`arena serve --workers 0`) and three
worker processes (`arena worker`) sharing one redis-server and one MongoDB (nx-27017), driven over real
HTTP and WebSockets by voters who alternate between the two APIs.

Then faults: a worker SIGKILLed mid-episode (another worker finishes the turn once the visibility
timeout has passed, and viewers get one clean stream), Redis stopped for 5 s (clear 503s, then
recovery and no stuck turns), and a worker stopped with SIGTERM (it finishes its episode and exits 0).
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from websockets.exceptions import ConnectionClosed, ConnectionClosedOK
from websockets.sync.client import ClientConnection, connect

from api.identity import COOKIE
from tests.integration.cluster import Api, Cluster
from tests.integration.voters import TURN_TIMEOUT_S, Voter, check_stream, episode_part, stream_all
from tests.support.mongo_server import MongoServer

pytestmark = pytest.mark.slow
VISIBILITY_S = 4.0
PACE = 10.0  # streams at 10x real time: a 300-step episode streams for 3 s, so a viewer can be cut off mid-way
NO_METRIC = "wave at the camera"  # no success to end on: the episode runs all its steps


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    root = tmp_path_factory.mktemp("scaleout")
    mongo = MongoServer(root / "mongo").start()
    made = Cluster(root, mongo.url("arena"), visibility_s=VISIBILITY_S, pace=PACE)
    try:
        yield made.start(apis=2, workers=3)
    finally:
        for http in Voter.opened:
            http.close()
        made.close()
        mongo.stop()


BATTLES = 20


def test_battles_alternate_between_two_apis_and_three_workers(cluster: Cluster) -> None:
    """20 battles of 4 voters; every fourth battle gets a second turn (continuing from the first) posted
    through the other API. Every episode is streamed in full and every acknowledged vote is counted."""
    voters, apis = [Voter() for _ in range(4)], cluster.apis
    played: list[tuple[Voter, Api, Api, str, list[dict]]] = []
    for i in range(BATTLES):  # created through one API, watched and checked through the other
        voter, here, there = voters[i % 4], apis[i % 2], apis[(i + 1) % 2]
        battle_id = voter.battle(here)
        played.append((voter, here, there, battle_id, [voter.turn(here, battle_id)]))
    for voter, _, there, battle_id, turns in played[::4]:
        assert voter.wait_turn(there, turns[0]["turn_id"])["status"] == "done"
        turns.append(voter.turn(there, battle_id, instruction="now put it in the bowl"))
        assert turns[-1]["seq"] == 1
        assert turns[-1]["start"] == "continue"
    streams = stream_all([(v, there, eid) for v, _, there, _, ts in played for t in ts
                          for eid in t["episodes"].values()])
    acknowledged = 0
    for voter, here, there, battle_id, turns in played:
        for turn in turns:
            assert voter.wait_turn(there, turn["turn_id"])["status"] == "done"
            for episode_id in turn["episodes"].values():
                trajectory = voter.get(here, f"/api/episodes/{episode_id}/trajectory")
                assert trajectory.status_code == 200
                check_stream(streams[episode_id], trajectory.content)
                late = voter.stream(here, episode_id)  # a late viewer through the other API: the same bytes
                assert episode_part(late) == episode_part(streams[episode_id])
        choice = ("left", "right", "tie")[acknowledged % 3]
        voted = voter.post(here, f"/api/battles/{battle_id}/vote", {"choice": choice})
        assert voted.status_code == 200, voted.text
        acknowledged += 1
        assert voter.get(there, f"/api/battles/{battle_id}").json()["status"] == "voted"
    other = voters[1].get(apis[0], f"/api/battles/{played[0][3]}")
    assert other.status_code == 404  # another voter's battle, through any API
    for voter in voters:  # each voter's history, through either API, holds its 5 battles, all voted
        mine = voter.get(apis[1], "/api/me/battles").json()
        assert len(mine) == BATTLES // 4, mine
        assert all(b["status"] == "voted" for b in mine), mine
    for api in apis:
        assert voters[0].get(api, "/api/leaderboard").json()["total_votes"] == acknowledged == BATTLES
        health = voters[0].get(api, "/api/health").json()
        assert health["dependencies"] == {"store": "ok", "bus": "ok", "queue": "ok"}
        assert health["workers"] == 3


def _running_on(cluster: Cluster) -> tuple[str, int]:
    """(episode id, worker pid) of a job a worker holds, from the consumer group's pending list."""
    deadline = time.monotonic() + TURN_TIMEOUT_S
    with redis.Redis.from_url(cluster.redis.url) as client:
        while time.monotonic() < deadline:
            pending = client.xpending_range("arena:q:stream", "workers", min="-", max="+", count=10)
            if pending:
                entry = client.xrange("arena:q:stream", pending[0]["message_id"], pending[0]["message_id"])
                consumer = pending[0]["consumer"].decode()  # host-pid-random
                return entry[0][1][b"id"].decode(), int(consumer.split("-")[-2])
            time.sleep(0.02)
    raise AssertionError("no job was taken")


def _ran(cluster: Cluster, episode_id: str) -> list[str]:
    """The workers whose log says they finished the episode."""
    return [w.name for w in cluster.workers if f"episode {episode_id} expert: done" in w.output()
            or f"episode {episode_id} noisy: done" in w.output()]


def test_a_worker_killed_mid_episode_the_turn_finishes_on_another(cluster: Cluster) -> None:
    voter, (a, b) = Voter(), cluster.apis
    battle_id = voter.battle(a)
    turn = voter.turn(a, battle_id, max_steps=300, instruction=NO_METRIC)
    watched: dict[str, list[bytes]] = {}
    viewers = threading.Thread(target=lambda: watched.update(
        stream_all([(voter, b, eid) for eid in turn["episodes"].values()])))
    viewers.start()
    episode_id, pid = _running_on(cluster)
    victim = next(w for w in cluster.workers if w.pid == pid)
    time.sleep(0.5)  # well into the episode
    assert voter.get(a, f"/api/turns/{turn['turn_id']}").json()["status"] == "running"
    victim.signal(signal.SIGKILL)
    killed_at = time.monotonic()
    assert victim.process.wait(timeout=10) == -signal.SIGKILL
    view = voter.wait_turn(b, turn["turn_id"])
    viewers.join(TURN_TIMEOUT_S)
    assert view["status"] == "done", (view, cluster.logs())
    assert time.monotonic() - killed_at < VISIBILITY_S + 60
    for episode_id in turn["episodes"].values():
        check_stream(watched[episode_id], voter.get(a, f"/api/episodes/{episode_id}/trajectory").content)
    cluster.workers.remove(victim)
    assert len(_ran(cluster, episode_id)) == 1, cluster.logs()  # finished by exactly one other worker
    assert f"episode {episode_id}" not in victim.output()
    assert voter.post(a, f"/api/battles/{battle_id}/vote", {"choice": "tie"}).status_code == 200


def test_redis_away_for_5_s_gives_clear_503s_then_recovers(cluster: Cluster) -> None:
    voter, (a, b) = Voter(), cluster.apis
    battle_id = voter.battle(a)
    before = voter.turn(a, battle_id, max_steps=300, instruction=NO_METRIC)
    _running_on(cluster)
    cluster.redis.stop()
    stopped = time.monotonic()
    viewer = threading.Thread(target=lambda: watched.update(stream_all([(voter, b, before["episodes"]["left"])])))
    watched: dict[str, list[bytes]] = {}
    viewer.start()  # connects while Redis is away: served from the store once the episode is stored
    for api in (a, b):
        t0 = time.monotonic()
        refused = voter.post(api, "/api/sessions", {"robot_id": "franka", "scene_id": "table"})
        assert refused.status_code == 503, refused.text
        assert "unavailable" in refused.json()["detail"]
        assert "Traceback" not in refused.text
        health = voter.get(api, "/api/health")
        assert health.status_code == 503
        assert health.json()["status"] == "degraded"
        assert voter.get(api, "/api/leaderboard").status_code == 200  # the store alone still serves reads
        assert time.monotonic() - t0 < 15, "a request hung while Redis was away"
    time.sleep(max(0.0, 5.0 - (time.monotonic() - stopped)))
    cluster.redis.start()
    assert voter.wait_turn(b, before["turn_id"])["status"] == "done", cluster.logs()
    viewer.join(TURN_TIMEOUT_S)
    left = before["episodes"]["left"]
    check_stream(watched[left], voter.get(a, f"/api/episodes/{left}/trajectory").content)
    print(f"\nREDIS_OUTAGE: turn started before the stop done {time.monotonic() - stopped:.1f} s after it")
    after = voter.turn(b, voter.battle(b))
    assert voter.wait_turn(a, after["turn_id"])["status"] == "done"
    for turn in (before, after):
        for episode_id in turn["episodes"].values():
            data = voter.get(a, f"/api/episodes/{episode_id}/trajectory").content
            check_stream(voter.stream(b, episode_id), data)


def test_sigterm_lets_a_worker_finish_its_episode(cluster: Cluster) -> None:
    voter, (a, _) = Voter(), cluster.apis
    turn = voter.turn(a, voter.battle(a), max_steps=200, instruction=NO_METRIC)
    _, pid = _running_on(cluster)
    worker = next(w for w in cluster.workers if w.pid == pid)
    time.sleep(0.3)
    assert worker.stop() == 0, worker.output()
    assert "stopped" in worker.output()
    assert "Traceback" not in worker.output()
    assert voter.wait_turn(a, turn["turn_id"])["status"] == "done"
    cluster.workers.remove(worker)


def _read_until_closed(ws: ClientConnection) -> ConnectionClosed:
    try:
        while True:
            ws.recv(timeout=TURN_TIMEOUT_S)
    except ConnectionClosed as exc:
        return exc


def test_viewers_of_a_killed_api_process_reconnect_to_the_other(cluster: Cluster) -> None:
    voter, (a, b) = Voter(), cluster.apis
    turn = voter.turn(a, voter.battle(a), max_steps=300, instruction=NO_METRIC)
    episode_id = turn["episodes"]["left"]
    cookie = f"{COOKIE}={voter.http.cookies[COOKIE]}"
    got: list[bytes] = []
    with connect(f"{b.ws_base}/api/episodes/{episode_id}/stream", additional_headers={"Cookie": cookie},
                 max_size=None, open_timeout=30) as ws:
        while len(episode_part(got)) < 20:  # the header and some steps, live through B
            got.append(ws.recv(timeout=TURN_TIMEOUT_S))  # type: ignore[arg-type]
        b.signal(signal.SIGKILL)
        assert b.process.wait(timeout=10) == -signal.SIGKILL
        closed = _read_until_closed(ws)
    assert not isinstance(closed, ConnectionClosedOK)  # the connection broke: no end message came
    again = voter.stream(a, episode_id)  # the client reconnects to the other API: from the first message
    assert episode_part(again)[:20] == episode_part(got)[:20]
    assert voter.wait_turn(a, turn["turn_id"])["status"] == "done"
    check_stream(again, voter.get(a, f"/api/episodes/{episode_id}/trajectory").content)
    cluster.apis.remove(b)


def test_no_turn_is_left_unfinished(cluster: Cluster, tmp_path: Path) -> None:
    from api.store import open_store

    store = open_store(cluster.env["ARENA_STORE_URL"])
    try:
        deadline = time.monotonic() + TURN_TIMEOUT_S
        while (left := store.list_unfinished_episodes()) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert left == [], cluster.logs()
    finally:
        store.close()


def test_a_worker_without_redis_says_what_is_missing(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("ARENA_")} | {"ARENA_DATA_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "api.cli", "worker"], env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 2
    assert "--redis" in done.stderr
    assert "Traceback" not in done.stderr
