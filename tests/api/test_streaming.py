"""The live episode stream (/api/episodes/{id}/stream): header, frames per control step, end.

What a client assembles from the stream must be the stored trajectory's states, bit for bit, and every
client (live, late, or served from the store once the live bus has dropped the episode) gets the same
messages. Streams are the blinded view: no actions, no action space, no metric (api.blind).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import msgspec
import numpy as np
import pytest
from litestar.exceptions import WebSocketDisconnect
from litestar.testing import TestClient

from api.blind import blind_header
from api.live.memory import MemoryLiveBus
from api.streaming import EndMessage, FramesMessage, HeaderMessage, StreamMessage, WaitingMessage, decode
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
    """The complete stored file (what the voter gets only after the vote)."""
    return decode_replay(client.app.state.service.store.get_trajectory(episode_id))


def _own(raw: list[bytes]) -> list[bytes]:
    """The raw bytes of the episode's own messages (a "waiting" note depends on when one connected)."""
    return [m for m in raw if not isinstance(decode(m), WaitingMessage)]


def _messages(raw: list[bytes]) -> list[StreamMessage]:
    """The episode's own messages, without the server's "waiting" notes that may precede them."""
    return [m for m in map(decode, raw) if not isinstance(m, WaitingMessage)]


def _bits(a: np.ndarray) -> np.ndarray:
    """Compare float64 arrays bit for bit (NaN payloads and signed zeros included)."""
    return np.ascontiguousarray(a, dtype="<f8").view("<u8")


def _check_order(messages: list[StreamMessage]) -> tuple[HeaderMessage, list[FramesMessage], EndMessage]:
    header, *frames, end = messages
    assert isinstance(header, HeaderMessage)
    assert isinstance(end, EndMessage)
    assert all(isinstance(f, FramesMessage) for f in frames), [type(f).__name__ for f in frames]
    first = frames[0]
    assert (first.step, first.start_frame, first.n) == (-1, 0, 1)
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
    assert header.header == blind_header(msgspec.structs.replace(h, step_frames=[]))
    assert header.header.action_space == "hidden"
    assert "outcome" not in header.header.metadata
    widths = {"time": 1, "qpos": h.nq, "qvel": h.nv, "ctrl": h.nu}
    for name, width in widths.items():
        streamed = np.concatenate([np.frombuffer(getattr(f, name), dtype="<f8") for f in frames])
        stored = replay.frames[name].reshape(-1, width)
        assert np.array_equal(_bits(streamed.reshape(-1, width)), _bits(stored)), name
    assert len(frames) - 1 == replay.n_steps
    outcome = h.metadata["outcome"]
    assert (end.steps, end.n_frames, end.error) == (outcome["steps"], outcome["n_frames"], None)


def test_live_stream_is_the_trajectory(client: TestClient, new_battle: Callable[..., str],
                                       read_stream: Reader, wait_turn: Callable[..., dict]) -> None:
    turn = _start_turn(client, new_battle)
    streams = {side: read_stream(client, episode_id) for side, episode_id in turn["episodes"].items()}
    view = wait_turn(client, turn["turn_id"])
    for side, episode_id in turn["episodes"].items():
        messages = _messages(streams[side])
        assert isinstance(messages[0], HeaderMessage)
        assert messages[0].episode_id == episode_id
        _check_against_replay(messages, _trajectory(client, episode_id))
        end = messages[-1]
        assert isinstance(end, EndMessage)
        assert end.steps == view["episodes"][side]["steps"]


def test_streams_never_carry_what_the_file_keeps_for_after_the_vote(
        make_client: Callable[..., TestClient], tmp_path: Path, new_battle: Callable[..., str],
        read_stream: Reader) -> None:
    models = tmp_path / "models.toml"
    models.write_text(SLOW_MODELS)
    client = make_client(models=str(models))
    turn = _start_turn(client, new_battle, RED_CUBE, max_steps=12)
    for episode_id in turn["episodes"].values():
        raw = read_stream(client, episode_id)
        replay = _trajectory(client, episode_id)
        _check_against_replay(_messages(raw), replay)
        assert np.isnan(replay.steps["action"][0]).all()  # the file keeps actions (latency: none at first)
        assert not np.isnan(replay.steps["progress"]).all()  # ... and the metric
        for m in raw:  # the header names fields "action_space"/"action_dim", but their values are hidden
            assert b"ee_delta" not in m
            assert b"progress" not in m
            assert b"success" not in m


def test_late_client_gets_the_same_bytes(client: TestClient, new_battle: Callable[..., str],
                                         read_stream: Reader, wait_turn: Callable[..., dict]) -> None:
    turn = _start_turn(client, new_battle)
    live = {side: read_stream(client, episode_id) for side, episode_id in turn["episodes"].items()}
    wait_turn(client, turn["turn_id"])
    for side, episode_id in turn["episodes"].items():
        assert _own(read_stream(client, episode_id)) == _own(live[side])


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
        assert _own(read_stream(client, episode_id)) == _own(live[side])  # byte for byte


def test_rebuilt_header_message_is_byte_identical(client: TestClient, new_battle: Callable[..., str],
                                                  read_stream: Reader, wait_turn: Callable[..., dict]) -> None:
    turn = _start_turn(client, new_battle, max_steps=3)
    episode_id = turn["episodes"]["left"]
    live = read_stream(client, episode_id)
    wait_turn(client, turn["turn_id"])
    _drop_live_logs(client)
    assert _own(read_stream(client, episode_id))[0] == _own(live)[0]


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
    assert any(isinstance(decode(m), WaitingMessage) for m in rebuilt)  # it said it was waiting
    assert _messages(rebuilt) == _messages(live)
    _check_against_replay(_messages(rebuilt), _trajectory(client, right))


def test_unknown_episode_closes_with_4404(client: TestClient) -> None:
    with client.websocket_connect("/api/episodes/no-such-episode/stream") as ws, \
            pytest.raises(WebSocketDisconnect) as closed:
        ws.receive(timeout=10)
    assert closed.value.code == 4404
    assert "no-such-episode" in closed.value.detail
