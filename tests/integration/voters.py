"""Voters for the multi-process tests: one httpx client (one cookie jar) per voter, any API process, and
the checks that a live stream is complete and equals the stored trajectory."""

from __future__ import annotations

import threading
import time

import httpx
import numpy as np
from websockets.exceptions import ConnectionClosedOK
from websockets.sync.client import connect

from api.identity import COOKIE
from api.streaming import EndMessage, FramesMessage, HeaderMessage, WaitingMessage, decode
from replay_format import decode_replay
from tests.integration.cluster import Api

TURN_TIMEOUT_S = 90.0
RED_CUBE = "pick up the red cube"


class Voter:
    """One browser: one cookie jar (the cookie is valid on every API process: they share the secret)."""

    opened: list[httpx.Client] = []

    def __init__(self) -> None:
        self.http = httpx.Client(timeout=30)
        self.opened.append(self.http)

    def post(self, api: Api, path: str, body: dict) -> httpx.Response:
        return self.http.post(api.base + path, json=body)

    def get(self, api: Api, path: str, **params: str) -> httpx.Response:
        return self.http.get(api.base + path, params=params)

    def battle(self, api: Api) -> str:
        created = self.post(api, "/api/sessions", {"robot_id": "franka", "scene_id": "table"})
        assert created.status_code == 201, created.text
        return created.json()["battle"]["battle_id"]

    def turn(self, api: Api, battle_id: str, max_steps: int = 8, instruction: str = RED_CUBE) -> dict:
        posted = self.post(api, f"/api/battles/{battle_id}/turns", {"instruction": instruction, "max_steps": max_steps})
        assert posted.status_code == 202, posted.text
        return posted.json()

    def wait_turn(self, api: Api, turn_id: str) -> dict:
        deadline = time.monotonic() + TURN_TIMEOUT_S
        while (view := self.get(api, f"/api/turns/{turn_id}").json())["status"] == "running":
            assert time.monotonic() < deadline, view
            time.sleep(0.1)
        return view

    def stream(self, api: Api, episode_id: str) -> list[bytes]:
        messages: list[bytes] = []
        cookie = f"{COOKIE}={self.http.cookies[COOKIE]}"
        with connect(f"{api.ws_base}/api/episodes/{episode_id}/stream", additional_headers={"Cookie": cookie},
                     max_size=None, open_timeout=30) as ws:
            while True:
                try:
                    messages.append(ws.recv(timeout=TURN_TIMEOUT_S))  # type: ignore[arg-type]
                except ConnectionClosedOK:
                    return messages


def episode_part(messages: list[bytes]) -> list[bytes]:
    """The episode's own messages: without the "waiting" ones the server sends while it is queued."""
    return [m for m in messages if not isinstance(decode(m), WaitingMessage)]


def check_stream(messages: list[bytes], trajectory: bytes) -> None:
    """One header, every control step once and in order, one end; the frames are the stored file's."""
    decoded = [decode(m) for m in episode_part(messages)]
    header, *frames, end = decoded
    assert isinstance(header, HeaderMessage)
    assert isinstance(end, EndMessage)
    assert end.status == "done", end
    assert all(isinstance(f, FramesMessage) for f in frames)
    assert [f.step for f in frames] == list(range(-1, len(frames) - 1))  # type: ignore[union-attr]
    replay = decode_replay(trajectory)
    qpos = np.concatenate([np.frombuffer(f.qpos, dtype="<f8") for f in frames])  # type: ignore[union-attr]
    assert qpos.tobytes() == np.ascontiguousarray(replay.frames["qpos"], dtype="<f8").tobytes()
    assert end.n_frames == replay.n_frames


def stream_all(jobs: list[tuple[Voter, Api, str]]) -> dict[str, list[bytes]]:
    out: dict[str, list[bytes]] = {}
    errors: list[BaseException] = []

    def read(voter: Voter, api: Api, episode_id: str) -> None:
        try:
            out[episode_id] = voter.stream(api, episode_id)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=read, args=job) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(TURN_TIMEOUT_S)
    assert not errors, errors
    return out
