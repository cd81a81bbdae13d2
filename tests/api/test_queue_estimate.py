"""The queue's wait estimate (api.queue_estimate): a global figure from other voters' recent episodes,
sent in the stream's "waiting" messages, never drawn from the waiting voter's or battle's own episodes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from litestar.exceptions import WebSocketDisconnect
from litestar.testing import TestClient

from api.queue_estimate import EpisodeTimes, round_eta, wait_estimate
from api.streaming import WaitingMessage, decode
from schemas.records import EpisodeRecord, EpisodeStatus, Side
from tests.api.voters import sign_in
from tests.support.light_models import LIGHT_MODELS

NO_METRIC = "wave at the camera"


def _episode(n: int, seconds: float, *, battle: str = "b1", voter: str | None = "v1",
             status: EpisodeStatus = EpisodeStatus.DONE) -> EpisodeRecord:
    return EpisodeRecord(id=f"e{n}", turn_id="t", battle_id=battle, side=Side.LEFT, policy="p", status=status,
                         created_at=0.0, started_at=100.0, finished_at=100.0 + seconds, voter_id=voter)


def test_times_keep_finished_episodes_once_and_only_the_most_recent() -> None:
    times = EpisodeTimes(size=3)
    times.observe([_episode(1, 9.0), _episode(1, 9.0), _episode(2, 1.0, status=EpisodeStatus.RUNNING)])
    assert times.median(battle_id="other", voter_id="other") == 9.0
    times.observe([_episode(3, 2.0), _episode(4, 3.0), _episode(5, 4.0)])  # e1 drops out
    assert times.median(battle_id="other", voter_id="other") == 3.0


def test_times_never_use_the_waiting_battle_or_voter() -> None:
    times = EpisodeTimes()
    times.observe([_episode(1, 30.0, battle="mine", voter="me"), _episode(2, 20.0, battle="b2", voter="me"),
                   _episode(3, 2.0, battle="b3", voter="you")])
    assert times.median(battle_id="mine", voter_id="me") == 2.0
    assert times.median(battle_id="mine", voter_id=None) == 11.0  # no voter: only the battle is excluded
    assert EpisodeTimes().median(battle_id="mine", voter_id="me") is None


@pytest.mark.parametrize(("seconds", "shown"), [(0.2, 1), (3.2, 4), (10.0, 10), (10.1, 15), (61, 75), (301, 360)])
def test_estimates_are_rounded_up_coarsely(seconds: float, shown: int) -> None:
    assert round_eta(seconds) == shown


def test_estimate_is_the_jobs_to_finish_shared_among_workers() -> None:
    assert wait_estimate(3, 2, 5.0) == 10  # (3 ahead + the running one) x 5 s / 2 workers
    assert wait_estimate(0, 1, 5.0) == 5
    assert wait_estimate(None, 1, 5.0) is None
    assert wait_estimate(2, 1, None) is None


def _first_waiting(client: TestClient, episode_id: str) -> WaitingMessage:
    with client.websocket_connect(f"/api/episodes/{episode_id}/stream") as ws:
        try:
            message = decode(ws.receive(timeout=30)["bytes"])
        except WebSocketDisconnect as exc:  # pragma: no cover - reported below
            pytest.fail(f"stream closed with {exc.code}")
    assert isinstance(message, WaitingMessage), f"the turn was not queued: {message}"
    return message


def _turn(client: TestClient, battle_id: str, max_steps: int) -> dict:
    posted = client.post(f"/api/battles/{battle_id}/turns",
                         json={"instruction": NO_METRIC, "max_steps": max_steps, "start": "reset"})
    assert posted.status_code == 202, posted.text
    return posted.json()


def test_waiting_messages_carry_an_estimate_from_other_voters_episodes(
        make_client: Callable[..., TestClient], tmp_path: Path, new_battle: Callable[..., str],
        wait_turn: Callable[..., dict]) -> None:
    models = tmp_path / "models.toml"
    models.write_text(LIGHT_MODELS)
    client = make_client(workers=1, models=str(models))
    sign_in(client, tmp_path, "busy-voter")
    busy = new_battle(client)
    wait_turn(client, _turn(client, busy, 20)["turn_id"])  # its view feeds the durations
    sign_in(client, tmp_path, "waiting-voter")
    mine = new_battle(client)
    wait_turn(client, _turn(client, mine, 20)["turn_id"])  # the waiting voter's own: never used
    sign_in(client, tmp_path, "busy-voter")
    for _ in range(2):  # the only worker is busy for a while
        _turn(client, busy, 300)
    sign_in(client, tmp_path, "waiting-voter")
    queued = _turn(client, mine, 5)
    message = _first_waiting(client, queued["episodes"]["right"])
    assert message.ahead is not None, message
    assert message.ahead >= 1, message
    assert message.eta_s is not None, message
    assert message.eta_s >= 1, message
    wait_turn(client, queued["turn_id"])


def test_no_estimate_from_the_waiting_voters_own_episodes(
        make_client: Callable[..., TestClient], tmp_path: Path, new_battle: Callable[..., str],
        wait_turn: Callable[..., dict]) -> None:
    models = tmp_path / "models.toml"
    models.write_text(LIGHT_MODELS)
    client = make_client(workers=1, models=str(models))
    sign_in(client, tmp_path, "only-voter")
    first, second = new_battle(client), new_battle(client)
    wait_turn(client, _turn(client, first, 20)["turn_id"])
    _turn(client, first, 300)  # busy with this voter's own long turn
    queued = _turn(client, second, 5)
    message = _first_waiting(client, queued["episodes"]["right"])
    assert message.ahead is not None, message
    assert message.eta_s is None, f"the estimate came from the voter's own episodes: {message}"
    wait_turn(client, queued["turn_id"])
