"""A policy's identity must never reach the voter before the vote.

A `Wiretap` keeps every byte a voter's client receives while it plays battles: status lines, headers
and bodies of every battle endpoint (error responses included), every WebSocket message and close
reason, and the trajectory files, raw and decoded. None of it may name a registry policy, in any
letter case. After the vote the names must appear (the positive control that shows the scan works).

Catalogue listings (/api/models, /api/scenes...) are the same for every voter and are not scanned:
/api/models names every policy by design, and a scene description says cubes are "placed at random".
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import msgspec
from litestar.exceptions import WebSocketDisconnect
from litestar.testing import TestClient

from api.streaming import FramesMessage, decode
from policy_host.registry import DEFAULT_PATH
from replay_format import decode_replay
from replay_format.container import unpack_index

RED_CUBE = "pick up the red cube"
NO_METRIC = "wave at the camera"
# Opaque bytes (ids, float arrays, compressed chunks) are scanned only for names this long: a 4-letter
# name turns up by chance in a few MB of such bytes, a 6-letter one practically never.
OPAQUE_MIN_NAME = 6
ID_KEYS = {"session_id", "battle_id", "turn_id", "episode_id", "left", "right"}  # "left": an episode id


def _registry_names(path: Path = DEFAULT_PATH) -> list[str]:
    return [m["name"] for m in tomllib.loads(path.read_text())["model"]]


class Wiretap:
    """A voter's client that records everything it receives. `text` holds structured content (JSON,
    headers, msgpack without its float arrays); `opaque` holds ids and binary payloads."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.text: list[tuple[str, bytes]] = []
        self.opaque: list[tuple[str, bytes]] = []
        self.ids: set[str] = set()

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        response = self.client.request(method, url, **kwargs)
        where = f"{method} {url} -> {response.status_code}"
        head = f"HTTP {response.status_code} {response.reason_phrase}\r\n" + "".join(
            f"{k}: {v}\r\n" for k, v in response.headers.multi_items())
        self.text.append((f"{where} headers", head.encode()))
        if response.headers.get("content-type", "").startswith("application/json"):
            self.text.append((f"{where} body", response.content))
            self._collect_ids(response.json())
        else:
            self.opaque.append((f"{where} body", response.content))
        return response

    def json(self, method: str, url: str, **kwargs: Any) -> dict:
        body = self.request(method, url, **kwargs).json()
        assert isinstance(body, dict), body
        return body

    def _collect_ids(self, body: object) -> None:
        if isinstance(body, dict):
            for key, value in body.items():
                if isinstance(value, str) and key in ID_KEYS:
                    self.ids.add(value)
                self._collect_ids(value)
        elif isinstance(body, list):
            for item in body:
                self._collect_ids(item)

    def stream(self, episode_id: str) -> list[bytes]:
        messages: list[bytes] = []
        with self.client.websocket_connect(f"/api/episodes/{episode_id}/stream") as ws:
            while True:
                try:
                    messages.append(ws.receive(timeout=60)["bytes"])
                except WebSocketDisconnect as exc:
                    self.text.append((f"stream {episode_id} close", f"{exc.code} {exc.detail}".encode()))
                    break
        for i, raw in enumerate(messages):
            where = f"stream {episode_id} message {i}"
            self.opaque.append((where, raw))
            message = decode(raw)
            if isinstance(message, FramesMessage):  # the float arrays are opaque; the rest is structure
                message = msgspec.structs.replace(message, time=b"", qpos=b"", qvel=b"", ctrl=b"")
            self.text.append((where, msgspec.json.encode(message)))
        return messages

    def trajectory(self, url: str) -> None:
        response = self.request("GET", url)
        if response.status_code != 200:
            return
        data = response.content
        _, _, start = unpack_index(data)
        self.text.append((f"{url} prelude and index", data[:start]))
        replay = decode_replay(data)
        self.text.append((f"{url} decoded header", msgspec.json.encode(replay.header)))
        self.text.append((f"{url} decoded metadata", msgspec.msgpack.encode(replay.header.metadata)))
        self.text.append((f"{url} stream names", " ".join([*replay.frames, *replay.steps]).encode()))
        for name, array in {**replay.frames, **replay.steps}.items():
            self.opaque.append((f"{url} decompressed {name}", array.tobytes()))

    def leaks(self, names: list[str]) -> list[tuple[str, str]]:
        """(where, name) for every recorded chunk that contains a name, ignoring case."""
        found = []
        ids = sorted(self.ids, key=len, reverse=True)
        for where, data in self.text:
            text = data.decode("utf-8", "replace")
            for ident in ids:  # random tokens: scanned with the opaque bytes
                text = text.replace(ident, "<id>")
            found += [(where, n) for n in names if n.lower() in text.lower()]
        opaque = [*self.opaque, *(("an id", i.encode()) for i in ids)]
        for where, data in opaque:
            found += [(where, n) for n in names if len(n) >= OPAQUE_MIN_NAME and n.lower().encode() in data.lower()]
        return found


def _play_until_vote(tap: Wiretap, session: int) -> str:
    """Everything a voter may do in one battle before voting, right and wrong; returns the battle id."""
    created = tap.json("POST", "/api/sessions", json={"robot_id": "franka", "scene_id": "table",
                                                      "voter_id": f"voter-{session}"})
    battle_id, session_id = created["battle"]["battle_id"], created["session_id"]
    tap.request("POST", f"/api/battles/{battle_id}/vote", json={"choice": "left"})  # too early: no turn
    for bad in ({"instruction": " "}, {"instruction": "x" * 301}, {"instruction": RED_CUBE, "max_steps": 0},
                {"instruction": RED_CUBE, "policy": "?"}):
        tap.request("POST", f"/api/battles/{battle_id}/turns", json=bad)
    for instruction, max_steps in ((NO_METRIC, 100), (RED_CUBE, 50)):
        turn = tap.json("POST", f"/api/battles/{battle_id}/turns",
                        json={"instruction": instruction, "max_steps": max_steps})
        tap.request("POST", f"/api/battles/{battle_id}/vote", json={"choice": "tie"})  # still running
        for episode_id in turn["episodes"].values():
            tap.trajectory(f"/api/episodes/{episode_id}/trajectory")  # most likely not finished: 404
            tap.stream(episode_id)
        _poll(tap, turn["turn_id"])
        for episode_id in turn["episodes"].values():
            tap.trajectory(f"/api/episodes/{episode_id}/trajectory")
    tap.request("POST", f"/api/battles/{battle_id}/vote", json={"choice": "neither"})
    tap.request("GET", f"/api/battles/{battle_id}")
    tap.request("GET", f"/api/sessions/{session_id}")
    tap.request("GET", f"/api/voters/voter-{session}/battles")  # the history page
    tap.request("GET", f"/battles/{battle_id}/turns/1")  # the page shell at the battle's stable URL
    tap.request("GET", "/api/scenes/table/bundle", params={"robot_id": "franka"})
    return battle_id


def _poll(tap: Wiretap, turn_id: str) -> dict:
    for _ in range(3000):
        view = tap.json("GET", f"/api/turns/{turn_id}")
        if view["status"] != "running":
            return view
    raise AssertionError(f"turn {turn_id} did not end")


def test_no_policy_name_reaches_the_voter_before_the_vote(client: TestClient) -> None:
    names = _registry_names()
    tap = Wiretap(client)
    battles = [_play_until_vote(tap, session) for session in range(4)]
    assert tap.leaks(names) == []
    statuses = "\n".join(where for where, _ in tap.text)
    assert "/vote -> 409" in statuses  # the too-early and still-running refusals were scanned
    assert "/trajectory -> 200" in statuses

    for battle_id in battles:  # positive control: once voted, the same scan finds the names
        after = Wiretap(client)
        reveal = after.json("POST", f"/api/battles/{battle_id}/vote", json={"choice": "tie"})
        pair = {reveal["left"]["name"], reveal["right"]["name"]}
        assert {name for _, name in after.leaks(names)} >= pair
        after.request("GET", f"/api/battles/{battle_id}")
        assert {name for where, name in after.leaks(names) if where.startswith("GET")} >= pair
        history = Wiretap(client)
        history.request("GET", f"/api/voters/voter-{battles.index(battle_id)}/battles")
        assert {name for _, name in history.leaks(names)} >= pair


# A registry whose first policy cannot be built: its constructor raises a TypeError that quotes the
# unknown parameter, which is named like the policy, so the raw error text carries the name.
FAILING_MODELS = """
[[model]]
name = "{name}"
kind = "scripted"
organisation = "test"
licence = "MIT"
latency_s = 0.0
params = {{ {param} = 1 }}

[[model]]
name = "steady"
kind = "zero"
organisation = "test"
licence = "MIT"
latency_s = 0.0
"""


def _failed_turn(make_client: Callable[..., TestClient], tmp_path: Path, name: str,
                 param: str) -> tuple[TestClient, Wiretap, dict, str]:
    models = tmp_path / "models.toml"
    models.write_text(FAILING_MODELS.format(name=name, param=param))
    client = make_client(models=str(models))
    tap = Wiretap(client)
    created = tap.json("POST", "/api/sessions", json={"robot_id": "franka", "scene_id": "table"})
    battle_id = created["battle"]["battle_id"]
    turn = tap.json("POST", f"/api/battles/{battle_id}/turns", json={"instruction": RED_CUBE, "max_steps": 5})
    for episode_id in turn["episodes"].values():
        tap.stream(episode_id)
    view = _poll(tap, turn["turn_id"])
    assert view["status"] == "failed", view
    failed = next(e for e in view["episodes"].values() if e["status"] == "failed")
    stored = client.app.state.service.store.get_episode(failed["episode_id"]).error
    assert param in stored, stored  # the raw error does carry the name: redaction had work to do
    vote = tap.json("POST", f"/api/battles/{battle_id}/vote", json={"choice": "left"})
    assert vote["status_code"] == 409, vote
    return client, tap, failed, battle_id


def _check_failure_redacted(client: TestClient, tap: Wiretap, failed: dict, names: list[str]) -> None:
    assert failed["error"]
    assert "TypeError" in failed["error"]
    streamed = [decode(m) for m in tap.stream(failed["episode_id"])]
    assert [type(m).__name__ for m in streamed] == ["EndMessage"]
    assert streamed[0].status == "failed"
    client.app.state.service.bus = type(client.app.state.service.bus)()  # now rebuilt from the store
    rebuilt = [decode(m) for m in tap.stream(failed["episode_id"])]
    assert rebuilt == streamed
    assert tap.leaks(names) == []


def test_failed_episode_errors_are_redacted(make_client: Callable[..., TestClient], tmp_path: Path) -> None:
    client, tap, failed, _ = _failed_turn(make_client, tmp_path, "leaky_policy", "leaky_policy")
    _check_failure_redacted(client, tap, failed, ["leaky_policy", "steady"])
    assert failed["error"] == "TypeError: the policy raised an error"  # a foreign error shows only its type


def test_failed_episode_errors_are_redacted_in_any_case(make_client: Callable[..., TestClient],
                                                        tmp_path: Path) -> None:
    # TypeError: ScriptedExpert.__init__() got an unexpected keyword argument 'bogus'
    client, tap, failed, _ = _failed_turn(make_client, tmp_path, "scriptedexpert", "bogus")
    _check_failure_redacted(client, tap, failed, ["scriptedexpert", "steady"])
