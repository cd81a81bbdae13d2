"""Fair timing (api.pacing): both sides of a turn reach the voter on one clock, whatever their speed."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable

import numpy as np
from litestar.testing import TestClient

from api.pacing import LEAD_S, anchor_time, paced, sim_time
from api.streaming import EndMessage, FramesMessage, decode, encode, frames_message, header_message
from policy_host.registry import Registry
from sim_engine.episode import EpisodeSpec, StepFrames, run_episode


def _frames(step: int, t_end: float) -> bytes:
    times = np.array([t_end - 0.02, t_end]) if step >= 0 else np.array([0.0])
    n = len(times)
    return encode(frames_message(StepFrames(step=step, start_frame=0, time=times, qpos=np.zeros((n, 2)),
                                            qvel=np.zeros((n, 2)), ctrl=np.zeros((n, 1)), action=None,
                                            progress=None)))


async def _source(messages: list[bytes]) -> AsyncIterator[bytes]:
    for m in messages:
        yield m


def _run_paced(messages: list[bytes], anchor: float, pace: float) -> list[tuple[float, bytes]]:
    clock = {"now": 1000.0}

    async def sleep(seconds: float) -> None:
        clock["now"] += seconds

    async def collect() -> list[tuple[float, bytes]]:
        return [(clock["now"], m) async for m in paced(_source(messages), anchor, pace, sleep=sleep,
                                                        clock=lambda: clock["now"])]
    return asyncio.run(collect())


def test_each_step_waits_for_its_time_on_the_turn_clock() -> None:
    steps = [_frames(-1, 0.0), *(_frames(k, 0.1 * (k + 1)) for k in range(5)),
             encode(EndMessage(status="done", steps=5, n_frames=26))]
    sent = _run_paced(steps, anchor=1000.5, pace=0.5)
    assert [m for _, m in sent] == steps  # nothing dropped, nothing reordered
    assert sent[0][0] == 1000.5  # the initial state goes out when the clock starts, on both sides alike
    for (at, raw), k in zip(sent[1:6], range(5), strict=True):
        assert at == 1000.5 + 0.1 * (k + 1) / 0.5, (k, at)
        assert isinstance(decode(raw), FramesMessage)
    assert sent[-1][0] == sent[-2][0]  # the end follows the last frame at once


def test_a_late_client_catches_up_at_once_then_follows_the_live_edge() -> None:
    steps = [_frames(k, 0.1 * (k + 1)) for k in range(10)]
    sent = _run_paced(steps, anchor=1000.0 - 0.45, pace=1.0)  # the turn started 0.45 s ago
    assert [at for at, _ in sent[:3]] == [1000.0] * 3  # 0.1, 0.2, 0.3 s (+0.02 lead in anchor) are due
    assert sent[-1][0] == 1000.0 - 0.45 + 1.0


def test_pace_zero_sends_as_frames_come() -> None:
    steps = [_frames(k, 10.0 * k) for k in range(3)]
    assert [at for at, _ in _run_paced(steps, anchor=2000.0, pace=0.0)] == [1000.0] * 3


def test_the_clock_starts_when_the_later_side_started() -> None:
    assert anchor_time([10.0, 12.5]) == 12.5 + LEAD_S
    assert anchor_time([10.0, None], now=20.0) == 20.0 + LEAD_S  # a side still waiting starts "now"


def test_sim_time_is_the_last_frame_of_the_step() -> None:
    spec = EpisodeSpec(robot_id="franka", scene_id="table", instruction="wave", seed=1, max_steps=2)
    out = run_episode(spec, Registry.from_file().build("zero"))
    header = decode(encode(header_message("e", out.header)))
    assert header.header.action_space == "hidden"  # type: ignore[union-attr]
    message = decode(_frames(3, 0.4))
    assert isinstance(message, FramesMessage)
    assert sim_time(message) == 0.4


def test_streams_of_a_paced_turn_never_run_ahead_of_its_clock(
        make_client: Callable[..., TestClient], new_battle: Callable[..., str]) -> None:
    """A real turn at 4x real time: every frame of both sides arrives no earlier than the turn clock
    allows (a lower bound, so a busy machine cannot make it flaky), and both sides start together."""
    client = make_client(stream_pace=4.0)
    battle_id = new_battle(client)
    turn = client.post(f"/api/battles/{battle_id}/turns", json={"instruction": "pick up the red cube",
                                                                "max_steps": 12}).json()
    arrivals: dict[str, list[tuple[float, float]]] = {}
    for side, episode_id in turn["episodes"].items():
        with client.websocket_connect(f"/api/episodes/{episode_id}/stream") as ws:
            got = []
            while True:
                message = decode(ws.receive_bytes(timeout=60))
                if isinstance(message, FramesMessage) and message.step >= 0:
                    got.append((time.time(), sim_time(message)))
                if isinstance(message, EndMessage):
                    break
            arrivals[side] = got
    episodes = client.app.state.service.store.list_episodes(turn["turn_id"])
    anchor = anchor_time([e.started_at for e in episodes])
    for side, got in arrivals.items():
        assert got, side
        for at, t in got:
            assert at >= anchor + t / 4.0 - 0.005, (side, at - anchor, t)


def test_a_side_reads_done_only_when_its_stream_has_played(make_client: Callable[..., TestClient],
                                                          new_battle: Callable[..., str]) -> None:
    """The worker finishes long before the paced stream does; until the stream ends on the turn clock the
    voter sees the side running, with no trajectory, so finishing first says nothing about speed."""
    client = make_client(stream_pace=0.5)
    battle_id = new_battle(client)
    turn = client.post(f"/api/battles/{battle_id}/turns", json={"instruction": "wave at the camera",
                                                                "max_steps": 8}).json()
    store = client.app.state.service.store
    deadline = time.monotonic() + 60
    while any(e.status.value != "done" for e in store.list_episodes(turn["turn_id"])):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    episodes = store.list_episodes(turn["turn_id"])
    ends = anchor_time([e.started_at for e in episodes]) + 8 * 0.1 / 0.5  # 1.6 s of stream
    view = client.get(f"/api/turns/{turn['turn_id']}").json()
    if time.time() < ends - 0.3:  # (a very slow machine may be past it already)
        assert view["status"] == "running"
        assert {e["status"] for e in view["episodes"].values()} == {"running"}
        assert {e["trajectory_url"] for e in view["episodes"].values()} == {None}
        hidden = client.get(f"/api/episodes/{turn['episodes']['left']}/trajectory")
        assert hidden.status_code == 404
    time.sleep(max(0.0, ends - time.time()) + 0.05)
    after = client.get(f"/api/turns/{turn['turn_id']}").json()
    assert after["status"] == "done"
    assert client.get(after["episodes"]["left"]["trajectory_url"]).status_code == 200
