"""The real server: granian serving `api.app:create_app` in its own process, driven over real HTTP and
real WebSockets, stopped with SIGTERM, then started again on the same data dir.

Run with `-s` to see the measured wall time of a turn (`TURN_WALL_S=...`): from the turn's POST until
both live streams have delivered their end message.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from websockets.exceptions import ConnectionClosedOK
from websockets.sync.client import connect

from api.streaming import EndMessage, FramesMessage, HeaderMessage, WaitingMessage, decode
from replay_format import MEDIA_TYPE, decode_replay
from tests.support.granian_server import Server

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")]

RED_CUBE = "pick up the red cube"


def _stream(url: str, cookie: str, out: dict[str, object]) -> None:
    """Read one episode stream to its end (run in a thread): messages, and when the end arrived. The
    stream is the voter's own, so the connection carries their cookie."""
    messages: list[bytes] = []
    try:
        with connect(url, max_size=None, open_timeout=30, close_timeout=10,
                     additional_headers={"Cookie": cookie}) as ws:
            while True:
                try:
                    message = ws.recv(timeout=60)
                except ConnectionClosedOK:
                    break
                assert isinstance(message, bytes)
                messages.append(message)
                if isinstance(decode(message), EndMessage):
                    out["ended"] = time.perf_counter()
    except BaseException as exc:  # reported by the test thread
        out["error"] = exc
    out["messages"] = messages


def _stream_both(server: Server, episodes: dict[str, str]) -> dict[str, dict[str, object]]:
    results: dict[str, dict[str, object]] = {side: {} for side in episodes}
    cookie = "; ".join(f"{k}={v}" for k, v in server.http.cookies.items())
    threads = [threading.Thread(target=_stream, args=(f"{server.ws_base}/api/episodes/{eid}/stream", cookie,
                                                      results[side]))
               for side, eid in episodes.items()]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
        assert not t.is_alive(), "a stream did not end"
    for side, result in results.items():
        assert "error" not in result, f"{side} stream: {result['error']!r}"
        assert "ended" in result, f"{side} stream closed without an end message"
    return results


def _check_stream_against_trajectory(messages: list[bytes], data: bytes) -> None:
    decoded = [m for m in map(decode, messages) if not isinstance(m, WaitingMessage)]
    header, *frames, end = decoded
    assert isinstance(header, HeaderMessage)
    assert isinstance(end, EndMessage)
    assert end.status == "done", end
    assert all(isinstance(f, FramesMessage) for f in frames)
    replay = decode_replay(data)
    assert header.header.bundle_hash == replay.header.bundle_hash
    assert sum(f.n for f in frames) == end.n_frames == replay.n_frames
    qpos = np.concatenate([np.frombuffer(f.qpos, dtype="<f8") for f in frames])  # type: ignore[union-attr]
    assert qpos.tobytes() == np.ascontiguousarray(replay.frames["qpos"], dtype="<f8").tobytes()


def _play_battle(server: Server) -> tuple[str, dict]:
    """A whole battle over the wire; returns the battle id and the reveal."""
    http = server.http
    created = http.post("/api/sessions", json={"robot_id": "franka", "scene_id": "table"})
    assert created.status_code == 201, created.text
    battle_id = created.json()["battle"]["battle_id"]

    start = time.perf_counter()
    posted = http.post(f"/api/battles/{battle_id}/turns", json={"instruction": RED_CUBE})
    assert posted.status_code == 202, posted.text
    streams = _stream_both(server, posted.json()["episodes"])
    wall = max(float(r["ended"]) for r in streams.values()) - start  # type: ignore[arg-type]
    print(f"\nTURN_WALL_S={wall:.3f}  (POST turn -> both live streams ended; default max_steps)", flush=True)

    turn = http.get(f"/api/turns/{posted.json()['turn_id']}").json()
    assert turn["status"] == "done", turn  # the end message is sent only once the trajectory is stored
    for side, episode in turn["episodes"].items():
        download = http.get(episode["trajectory_url"])
        assert download.status_code == 200
        assert download.headers["content-type"].startswith(MEDIA_TYPE)
        _check_stream_against_trajectory(streams[side]["messages"], download.content)  # type: ignore[arg-type]

    voted = http.post(f"/api/battles/{battle_id}/vote", json={"choice": "left"})
    assert voted.status_code == 200, voted.text
    reveal = voted.json()
    public = {m["name"] for m in http.get("/api/models").json()}
    assert {reveal["left"]["name"], reveal["right"]["name"]} <= public
    board = http.get("/api/leaderboard", params={"robot_id": "franka"}).json()
    assert board["total_votes"] == 1
    rows = {r["model"]: r for r in board["models"]}
    assert rows[reveal["left"]["name"]]["wins"] == 1
    return battle_id, reveal


def test_real_server_battle_survives_a_restart(start_server: Callable[[Path], Server], tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    first = start_server(data_dir)
    battle_id, reveal = _play_battle(first)
    cookies = dict(first.http.cookies)  # the voter comes back to the restarted server
    assert first.stop() == 0, first.output()
    assert "Traceback" not in first.output(), first.output()
    assert (data_dir / "arena.db").is_file()

    second = start_server(data_dir)
    second.http.cookies.clear()  # drop the identity issued to the readiness probe
    second.http.cookies.update(cookies)
    board = second.http.get("/api/leaderboard").json()
    assert board["total_votes"] == 1
    assert {r["model"] for r in board["models"]} == {reveal["left"]["name"], reveal["right"]["name"]}
    battle = second.http.get(f"/api/battles/{battle_id}").json()
    assert battle["status"] == "voted"
    assert battle["vote"] == reveal
    assert second.stop() == 0, second.output()
    assert "Traceback" not in second.output(), second.output()
