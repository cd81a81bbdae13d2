"""The live episode stream (/api/episodes/{id}/stream): header, frames per control step, end.

What a client assembles from the stream must be the stored trajectory, bit for bit, and every client
(live, late, or served from the store once the live bus has dropped the episode) gets the same messages.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import msgspec
import numpy as np
import pytest
from litestar.exceptions import WebSocketDisconnect
from litestar.testing import TestClient

from api.live.memory import MemoryLiveBus
from api.streaming import EndMessage, FramesMessage, HeaderMessage, StreamMessage, decode
from replay_format import Replay, decode_replay

RED_CUBE = "pick up the red cube"
NO_METRIC = "wave at the camera"
# Two policies whose first actions only land after 0.2 s of latency (steps without an action) and
# who run without a task metric (no progress): the stream's None values against the file's NaNs.
SLOW_MODELS = """
[[model]]
name = "slow-one"
kind = "scripted"
organisation = "test"
licence = "MIT"
latency_s = 0.2
params = { speed = 0.04, chunk_length = 3 }

[[model]]
name = "still-one"
kind = "zero"
organisation = "test"
licence = "MIT"
latency_s = 0.3
"""

Reader = Callable[[TestClient, str], list[bytes]]


def _start_turn(client: TestClient, new_battle: Callable[..., str], instruction: str = RED_CUBE,
                max_steps: int | None = None) -> dict:
    body: dict = {"instruction": instruction} | ({} if max_steps is None else {"max_steps": max_steps})
    response = client.post(f"/api/battles/{new_battle(client)}/turns", json=body)
    assert response.status_code == 202, response.text
    return response.json()


def _trajectory(client: TestClient, episode_id: str) -> Replay:
    response = client.get(f"/api/episodes/{episode_id}/trajectory")
    assert response.status_code == 200, response.text
    return decode_replay(response.content)


def _bits(a: np.ndarray) -> np.ndarray:
    """Compare float64 arrays bit for bit (NaN payloads and signed zeros included)."""
    return np.ascontiguousarray(a, dtype="<f8").view("<u8")


def _check_order(messages: list[StreamMessage]) -> tuple[HeaderMessage, list[FramesMessage], EndMessage]:
    header, *frames, end = messages
    assert isinstance(header, HeaderMessage)
    assert isinstance(end, EndMessage)
    assert all(isinstance(f, FramesMessage) for f in frames), [type(f).__name__ for f in frames]
    first = frames[0]
    assert (first.step, first.start_frame, first.n, first.action, first.progress) == (-1, 0, 1, None, None)
    assert [f.step for f in frames] == list(range(-1, len(frames) - 1))
    for before, after in zip(frames, frames[1:], strict=False):
        assert after.start_frame == before.start_frame + before.n
        assert after.n >= 1
    assert end.status == "done", end
    assert sum(f.n for f in frames) == end.n_frames
    assert end.steps == len(frames) - 1
    return header, frames, end  # type: ignore[return-value]


def _check_against_replay(messages: list[StreamMessage], replay: Replay) -> None:
    header, frames, end = _check_order(messages)
    h = replay.header
    live_metadata = {k: v for k, v in h.metadata.items() if k != "outcome"}
    assert header.header == msgspec.structs.replace(h, step_frames=[], metadata=live_metadata)
    widths = {"time": 1, "qpos": h.nq, "qvel": h.nv, "ctrl": h.nu}
    for name, width in widths.items():
        streamed = np.concatenate([np.frombuffer(getattr(f, name), dtype="<f8") for f in frames])
        stored = replay.frames[name].reshape(-1, width)
        assert np.array_equal(_bits(streamed.reshape(-1, width)), _bits(stored)), name
    steps = frames[1:]
    assert len(steps) == replay.n_steps
    for f, action, progress in zip(steps, replay.steps["action"], replay.steps["progress"], strict=True):
        if f.action is None:
            assert np.isnan(action).all(), (f.step, action)
        else:
            assert np.array_equal(_bits(np.array(f.action)), _bits(action)), f.step
        assert (f.progress is None and np.isnan(progress)) or f.progress == progress, (f.step, progress)
    outcome = h.metadata["outcome"]
    assert (end.success, end.progress, end.steps, end.n_frames, end.terminated) == (
        outcome["success"], outcome["progress"], outcome["steps"], outcome["n_frames"], outcome["terminated"])


def test_live_stream_is_the_trajectory(client: TestClient, new_battle: Callable[..., str],
                                       read_stream: Reader, wait_turn: Callable[..., dict]) -> None:
    turn = _start_turn(client, new_battle)
    streams = {side: read_stream(client, episode_id) for side, episode_id in turn["episodes"].items()}
    view = wait_turn(client, turn["turn_id"])
    for side, episode_id in turn["episodes"].items():
        messages = [decode(m) for m in streams[side]]
        assert messages[0].episode_id == episode_id
        _check_against_replay(messages, _trajectory(client, episode_id))
        end, episode = messages[-1], view["episodes"][side]
        assert (end.success, end.progress, end.steps) == (episode["success"], episode["progress"],
                                                          episode["steps"])
        assert end.terminated == ("success" if end.success else "max_steps")


def test_steps_without_action_or_metric(make_client: Callable[..., TestClient], tmp_path: Path,
                                        new_battle: Callable[..., str], read_stream: Reader) -> None:
    models = tmp_path / "models.toml"
    models.write_text(SLOW_MODELS)
    client = make_client(models=str(models))
    turn = _start_turn(client, new_battle, NO_METRIC, max_steps=12)
    for episode_id in turn["episodes"].values():
        messages = [decode(m) for m in read_stream(client, episode_id)]
        _check_against_replay(messages, _trajectory(client, episode_id))
        steps = messages[2:-1]
        assert steps[0].action is None  # latency: nothing applied during the first control step
        assert steps[-1].action is not None
        assert all(f.progress is None for f in steps)
        assert (messages[-1].success, messages[-1].terminated, messages[-1].steps) == (None, "max_steps", 12)


def test_late_client_gets_the_same_bytes(client: TestClient, new_battle: Callable[..., str],
                                         read_stream: Reader, wait_turn: Callable[..., dict]) -> None:
    turn = _start_turn(client, new_battle)
    live = {side: read_stream(client, episode_id) for side, episode_id in turn["episodes"].items()}
    wait_turn(client, turn["turn_id"])
    for side, episode_id in turn["episodes"].items():
        assert read_stream(client, episode_id) == live[side]


def _drop_live_logs(client: TestClient) -> MemoryLiveBus:
    """Give the service an empty bus, so streams are rebuilt from the store; returns the old bus."""
    service = client.app.state.service
    old, service.bus = service.bus, MemoryLiveBus()
    return old


def test_stream_rebuilt_from_store_equals_live(client: TestClient, new_battle: Callable[..., str],
                                               read_stream: Reader, wait_turn: Callable[..., dict]) -> None:
    turn = _start_turn(client, new_battle)
    live = {side: read_stream(client, episode_id) for side, episode_id in turn["episodes"].items()}
    wait_turn(client, turn["turn_id"])
    _drop_live_logs(client)
    for side, episode_id in turn["episodes"].items():
        rebuilt = read_stream(client, episode_id)
        assert [decode(m) for m in rebuilt] == [decode(m) for m in live[side]]
        assert rebuilt[1:] == live[side][1:]  # frames and end: byte for byte


def test_rebuilt_header_message_is_byte_identical(client: TestClient, new_battle: Callable[..., str],
                                                  read_stream: Reader, wait_turn: Callable[..., dict]) -> None:
    turn = _start_turn(client, new_battle, max_steps=3)
    episode_id = turn["episodes"]["left"]
    live = read_stream(client, episode_id)
    wait_turn(client, turn["turn_id"])
    _drop_live_logs(client)
    assert read_stream(client, episode_id)[0] == live[0]


def test_stream_waits_on_the_store_while_the_bus_has_no_log(make_client: Callable[..., TestClient],
                                                            new_battle: Callable[..., str], read_stream: Reader,
                                                            wait_turn: Callable[..., dict]) -> None:
    client = make_client(workers=1)  # the right episode stays queued behind the left one
    turn = _start_turn(client, new_battle, NO_METRIC, max_steps=100)
    old = _drop_live_logs(client)  # e.g. an API process that is not the one running the episode
    right = turn["episodes"]["right"]
    running = client.get(f"/api/turns/{turn['turn_id']}").json()["episodes"]["right"]["status"]
    rebuilt = read_stream(client, right)
    assert running in ("queued", "running"), "the episode ended before the stream: nothing was awaited"
    wait_turn(client, turn["turn_id"])
    client.app.state.service.bus = old
    live = read_stream(client, right)
    assert [decode(m) for m in rebuilt] == [decode(m) for m in live]
    _check_against_replay([decode(m) for m in rebuilt], _trajectory(client, right))


def test_unknown_episode_closes_with_4404(client: TestClient) -> None:
    with client.websocket_connect("/api/episodes/no-such-episode/stream") as ws, \
            pytest.raises(WebSocketDisconnect) as closed:
        ws.receive(timeout=10)
    assert closed.value.code == 4404
    assert "no-such-episode" in closed.value.detail
