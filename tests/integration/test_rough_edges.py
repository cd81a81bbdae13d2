"""The API's rough edges, against the real server (granian, real HTTP): numbers that stay unique under
concurrency, no turn after the vote, a fair share of workers between voters, deep JSON, NUL paths and odd
instructions. Every answer is a clear 4xx or success, never a 5xx."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.support.granian_server import Server
from tests.support.light_models import LIGHT_MODELS

pytestmark = pytest.mark.slow
GENEROUS = {"ARENA_LIMIT_SESSIONS": "10000/60", "ARENA_LIMIT_TURNS": "10000/60", "ARENA_MAX_RUNNING_TURNS": "50"}
RED = "pick up the red cube"


def _battle(http: httpx.Client) -> tuple[str, str]:
    created = http.post("/api/sessions", json={"robot_id": "franka", "scene_id": "table"})
    assert created.status_code == 201, created.text
    return created.json()["session_id"], created.json()["battle"]["battle_id"]


def _at_once(n: int, call: Callable[[int], httpx.Response]) -> list[httpx.Response]:
    barrier, out = threading.Barrier(n), [None] * n

    def run(i: int) -> None:
        barrier.wait()
        out[i] = call(i)  # type: ignore[call-overload]
    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return out  # type: ignore[return-value]


def _client(server: Server, cookies: httpx.Cookies) -> httpx.Client:
    return httpx.Client(base_url=f"http://127.0.0.1:{server.port}", cookies=cookies, timeout=60)


def _wait(http: httpx.Client, turn_id: str) -> dict:
    for _ in range(1200):
        view = http.get(f"/api/turns/{turn_id}").json()
        if view["status"] != "running":
            return view
        time.sleep(0.05)
    raise AssertionError(f"turn {turn_id} did not end")


def test_concurrent_turns_and_battles_get_unique_numbers(start_server: Callable[..., Server], tmp_path: Path) -> None:
    server = start_server(tmp_path / "data", GENEROUS)
    session_id, battle_id = _battle(server.http)
    clients = [_client(server, server.http.cookies) for _ in range(10)]
    turns = _at_once(5, lambda i: clients[i].post(f"/api/battles/{battle_id}/turns",
                                                  json={"instruction": RED, "max_steps": 1}))
    assert [r.status_code for r in turns] == [202] * 5, [r.text for r in turns]
    assert sorted(r.json()["seq"] for r in turns) == [0, 1, 2, 3, 4]
    battles = _at_once(10, lambda i: clients[i].post(f"/api/sessions/{session_id}/battles"))
    assert [r.status_code for r in battles] == [201] * 10
    assert sorted(r.json()["seq"] for r in battles) == list(range(1, 11))
    listed = server.http.get(f"/api/battles/{battle_id}").json()["turns"]
    assert [t["seq"] for t in listed] == [0, 1, 2, 3, 4]
    for c in clients:
        c.close()


def test_no_turn_starts_after_the_vote(start_server: Callable[..., Server], tmp_path: Path) -> None:
    server = start_server(tmp_path / "data", GENEROUS)
    for _ in range(10):
        _, battle_id = _battle(server.http)
        _wait(server.http, server.http.post(f"/api/battles/{battle_id}/turns",
                                            json={"instruction": RED, "max_steps": 1}).json()["turn_id"])
        racers = [_client(server, server.http.cookies) for _ in range(4)]

        def act(i: int, battle_id: str = battle_id, racers: list[httpx.Client] = racers) -> httpx.Response:
            if i == 0:
                return racers[0].post(f"/api/battles/{battle_id}/vote", json={"choice": "tie"})
            return racers[i].post(f"/api/battles/{battle_id}/turns", json={"instruction": RED, "max_steps": 1})
        vote, *turns = _at_once(4, act)
        for c in racers:
            c.close()
        assert vote.status_code in (200, 409), vote.text
        assert all(r.status_code in (202, 409) for r in turns), [r.text for r in turns]
        accepted = {r.json()["turn_id"] for r in turns if r.status_code == 202}
        listed = server.http.get(f"/api/battles/{battle_id}").json()
        assert {t["turn_id"] for t in listed["turns"][1:]} == accepted  # refused turns left nothing behind
        if vote.status_code == 200:
            late = server.http.post(f"/api/battles/{battle_id}/turns", json={"instruction": RED})
            assert late.status_code == 409


def test_one_voters_backlog_does_not_starve_another(start_server: Callable[..., Server], tmp_path: Path) -> None:
    """One worker, so the order is the queue's alone: with a first-come queue the other voter's turn would
    run after both of the busy voter's; the fair queue interleaves it with them."""
    models = tmp_path / "models.toml"
    models.write_text(LIGHT_MODELS)
    server = start_server(tmp_path / "data", {**GENEROUS, "ARENA_MAX_RUNNING_TURNS": "2", "ARENA_WORKERS": "1",
                                              "ARENA_MODELS": str(models)})
    busy = server.http
    _, battle = _battle(busy)
    long_turns = [busy.post(f"/api/battles/{battle}/turns",  # no metric: no early stop, all 300 steps run
                            json={"instruction": "wave at the camera", "max_steps": 300, "start": "reset"})
                  for _ in range(3)]
    assert [r.status_code for r in long_turns] == [202, 202, 429]  # at most 2 turns queued or running
    other = httpx.Client(base_url=f"http://127.0.0.1:{server.port}", timeout=60)
    _, theirs = _battle(other)
    short = other.post(f"/api/battles/{theirs}/turns", json={"instruction": RED, "max_steps": 5})
    assert short.status_code == 202
    assert _wait(other, short.json()["turn_id"])["status"] == "done"
    other.close()
    second = busy.get(f"/api/turns/{long_turns[1].json()['turn_id']}").json()
    # Fair order (one job per voter in turn): busy's t1 left, t1 right, other's left, busy's t2 left, other's
    # right, busy's t2 right. A first-come queue would have finished both of busy's turns first.
    assert {e["status"] for e in second["episodes"].values()} & {"queued", "running"}, second


@pytest.mark.parametrize("depth", [1000, 1_000_000])
def test_deep_json_is_refused_cheaply(start_server: Callable[..., Server], tmp_path: Path, depth: int) -> None:
    server = start_server(tmp_path / "data")
    for body in ("[" * depth, "[" * depth + "]" * depth, '{"a":' * depth):
        response = server.http.post("/api/sessions", content=body, headers={"content-type": "application/json"})
        assert response.status_code in (400, 413), response.text
        assert response.json()["field"] == "body"
    assert "Traceback" not in server.output()


def test_nul_paths_and_odd_instructions(start_server: Callable[..., Server], tmp_path: Path) -> None:
    server = start_server(tmp_path / "data")
    for path in ("/vendor/three/..%00/package.json", "/src/app.js%00", "/api/battles/%00"):
        assert server.http.get(path).status_code == 404, path
    _, battle_id = _battle(server.http)
    for raw in ("\x00" * 5, "\u200b\u200b\u200b", "\u202e\u2066\u200d"):
        response = server.http.post(f"/api/battles/{battle_id}/turns", json={"instruction": raw})
        assert response.status_code == 400, response.text
        assert response.json()["field"] == "instruction"
    odd = server.http.post(f"/api/battles/{battle_id}/turns",
                           json={"instruction": "pick\u200b up the \u202ered\u202c cube\x07", "max_steps": 1})
    assert odd.status_code == 202, odd.text
    assert _wait(server.http, odd.json()["turn_id"])["instruction"] == RED
    assert server.http.get(f"/api/battles/{battle_id}").json()["turns"][0]["instruction"] == RED
    assert "Traceback" not in server.output()
