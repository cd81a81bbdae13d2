"""Battles in which one side is a remote policy: a real `arena policy-server` (in a thread, or a subprocess
killed with SIGKILL mid-episode) behind a `remote-openpi` registry entry.

A remote failure (unreachable, killed, malformed action) marks the turn failed with a public reason that
names neither the policy nor its server; no vote can be cast on it and no rating moves; a new turn in the
same battle runs once the server is back.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from litestar.testing import TestClient

from api.blind import failure_notice
from api.streaming import FramesMessage, decode
from policy_host.scripted import RandomPolicy
from policy_host.server import PolicyServer
from tests.policy_host.helpers import ZERO_MODELS, Returns, start_policy_server, stop_policy_server

REMOTE = "far-policy"
MODELS = """
[[model]]
name = "far-policy"
kind = "remote-openpi"
organisation = "Elsewhere Labs"
licence = "MIT"
latency_s = 0.1
params = {{ url = "ws://127.0.0.1:{port}", timeout_s = 5 }}

[[model]]
name = "near-zero"
kind = "zero"
organisation = "test"
licence = "MIT"
latency_s = 0.0
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def arena(make_client: Callable[..., TestClient], tmp_path: Path, port: int, **settings: object) -> TestClient:
    models = tmp_path / "models.toml"
    models.write_text(MODELS.format(port=port))
    return make_client(models=str(models), **settings)


def remote_episode(client: TestClient, episodes: dict[str, str]) -> str:
    """The id of the episode the remote policy ran (looked up in the store, as an operator would)."""
    store = client.app.state.service.store
    (found,) = [e for e in episodes.values() if store.get_episode(e).policy == REMOTE]
    return found


def check_failed_turn(client: TestClient, battle_id: str, turn: dict, port: int, public: str) -> None:
    assert turn["status"] == "failed", turn
    views = {e["episode_id"]: e for e in turn["episodes"].values()}
    failed = views[remote_episode(client, {s: e["episode_id"] for s, e in turn["episodes"].items()})]
    side = next(s for s, e in turn["episodes"].items() if e["episode_id"] == failed["episode_id"])
    assert failed["status"] == "failed"
    # The voter learns only that the side failed (api.blind); operators keep the full reason.
    assert failed["error"] == failure_notice(side)
    stored = client.app.state.service.store.get_episode(failed["episode_id"]).error
    assert stored.startswith(public.replace("<remote>", f"ws://127.0.0.1:{port}")), stored
    vote = client.post(f"/api/battles/{battle_id}/vote", json={"choice": "left"})
    assert vote.status_code == 409, vote.text
    assert client.get("/api/leaderboard").json()["total_votes"] == 0
    assert client.app.state.service.store.list_votes(None) == []


def vote_counts(client: TestClient, battle_id: str) -> dict:
    reveal = client.post(f"/api/battles/{battle_id}/vote", json={"choice": "left"})
    assert reveal.status_code == 200, reveal.text
    board = client.get("/api/leaderboard?robot_id=franka").json()
    assert board["total_votes"] == 1
    return {row["model"]: row for row in board["models"]}


def test_a_battle_with_a_remote_side_ends_in_a_vote_and_a_leaderboard_row(
        make_client, tmp_path, new_battle, play_turn) -> None:
    built: list[RandomPolicy] = []

    def factory() -> RandomPolicy:
        built.append(RandomPolicy())
        return built[-1]

    with PolicyServer(factory) as server:
        client = arena(make_client, tmp_path, server.port)
        battle_id = new_battle(client)
        turn = play_turn(client, battle_id, max_steps=8)
        assert turn["status"] == "done", turn
        rows = vote_counts(client, battle_id)
    assert rows[REMOTE]["organisation"] == "Elsewhere Labs"
    assert set(rows) == {REMOTE, "near-zero"}
    assert built  # the server's policy (its metadata probe serves the first connection)


def test_an_unreachable_server_fails_the_turn_and_a_retry_works_once_it_is_up(
        make_client, tmp_path, new_battle, play_turn) -> None:
    port = free_port()
    client = arena(make_client, tmp_path, port)
    battle_id = new_battle(client)
    turn = play_turn(client, battle_id, max_steps=5)
    check_failed_turn(client, battle_id, turn, port, "RemotePolicyError: remote policy at <remote>: connection refused")
    with PolicyServer(RandomPolicy, port=port):
        retry = play_turn(client, battle_id, max_steps=5)
        assert retry["status"] == "done", retry
        assert REMOTE in vote_counts(client, battle_id)


def test_a_server_killed_mid_episode_fails_the_turn_and_a_retry_works_once_it_is_back(
        make_client, tmp_path, new_battle, wait_turn, play_turn) -> None:
    served = tmp_path / "served.toml"
    served.write_text(ZERO_MODELS)
    proc, port = start_policy_server(served, "served-zero")
    try:
        client = arena(make_client, tmp_path, port)
        battle_id = new_battle(client)  # 300 steps: the kill lands while most of them are still to run
        created = client.post(f"/api/battles/{battle_id}/turns", json={"instruction": "pick up the red cube",
                                                                       "max_steps": 300}).json()
        with client.websocket_connect(f"/api/episodes/{remote_episode(client, created['episodes'])}/stream") as ws:
            while not isinstance(msg := decode(ws.receive(timeout=30)["bytes"]), FramesMessage) or msg.step < 2:
                pass
            stop_policy_server(proc)  # SIGKILL while the remote episode runs
        turn = wait_turn(client, created["turn_id"])
        check_failed_turn(client, battle_id, turn, port,
                          "RemotePolicyError: remote policy at <remote>: disconnected waiting for actions")
    finally:
        stop_policy_server(proc)
    proc, _ = start_policy_server(served, "served-zero", port=port)
    try:
        retry = play_turn(client, battle_id, max_steps=5)
        assert retry["status"] == "done", retry
        assert REMOTE in vote_counts(client, battle_id)
    finally:
        stop_policy_server(proc)


@pytest.mark.parametrize(("output", "public"), [
    (np.zeros(3), "PolicyOutputError: remote policy at <remote>: returned actions of shape (3,) (expected (n, 8))"),
    (np.full((1, 8), np.nan), "PolicyOutputError: remote policy at <remote>: returned actions containing NaN or inf"),
])
def test_a_malformed_remote_action_fails_the_turn_with_a_clear_reason(
        make_client, tmp_path, new_battle, play_turn, output, public) -> None:
    with PolicyServer(lambda: Returns(output)) as server:
        client = arena(make_client, tmp_path, server.port)
        battle_id = new_battle(client)
        turn = play_turn(client, battle_id, max_steps=5)
        check_failed_turn(client, battle_id, turn, server.port, public)
