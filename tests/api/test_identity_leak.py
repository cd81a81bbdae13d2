"""Blind means blind: before the vote, nothing a voter receives tells the two policies apart.

A `Wiretap` keeps every byte a voter's client receives while it plays battles: status lines, headers
and bodies of every battle endpoint (error responses included), every WebSocket message and close
reason, the trajectory files (raw and decoded), the history and the page shell. None of it may contain,
in any letter case, a registry name, an organisation, an action-space name, a policy kind, the name of
an exception a policy raised, or the marker strings a remote server planted in its metadata, replies and
errors (tests/api/marker_server.py). Battles run between every pair of policy kinds, and with failing
sides (a local constructor error, a remote server with unusable metadata, a remote traceback). After
the vote the names, the action space and the failure details must appear: the positive control.

Catalogue listings (/api/models, /api/scenes...) are the same for every voter and are not scanned:
/api/models names every policy by design.
"""

from __future__ import annotations

import itertools
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from litestar.exceptions import WebSocketDisconnect
from litestar.testing import TestClient

from api.streaming import FramesMessage, decode
from policy_host.registry import DEFAULT_PATH
from replay_format import decode_replay
from replay_format.container import unpack_index
from schemas.errors import PolicyError
from schemas.policy import ActionSpace
from tests.api.marker_server import MARKERS, ORG, MarkerServer

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


def _play_until_vote(tap: Wiretap, steps: int = 15) -> str:
    """Everything a voter may do in one battle before voting, right and wrong; returns the battle id."""
    created = tap.json("POST", "/api/sessions", json={"robot_id": "franka", "scene_id": "table"})
    battle_id, session_id = created["battle"]["battle_id"], created["session_id"]
    tap.request("POST", f"/api/battles/{battle_id}/vote", json={"choice": "left"})  # too early: no turn
    for bad in ({"instruction": " "}, {"instruction": "x" * 301}, {"instruction": RED_CUBE, "max_steps": 0},
                {"instruction": RED_CUBE, "policy": "?"}):
        tap.request("POST", f"/api/battles/{battle_id}/turns", json=bad)
    for instruction, start in ((NO_METRIC, "reset"), (RED_CUBE, "continue")):
        turn = tap.json("POST", f"/api/battles/{battle_id}/turns",
                        json={"instruction": instruction, "max_steps": steps, "start": start})
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
    tap.request("GET", "/api/me/battles")  # the history page
    tap.request("GET", f"/battles/{battle_id}/turns/1")  # the page shell at the battle's stable URL
    tap.request("GET", "/api/scenes/table/bundle", params={"robot_id": "franka"})
    return battle_id


def _poll(tap: Wiretap, turn_id: str) -> dict:
    for _ in range(3000):
        view = tap.json("GET", f"/api/turns/{turn_id}")
        if view["status"] != "running":
            return view
    raise AssertionError(f"turn {turn_id} did not end")


# ---- what must not leak -------------------------------------------------------------------------------

ENTRY = """
[[model]]
name = "{name}"
kind = "{kind}"
organisation = "{org}"
licence = "MIT"
latency_s = 0.0
params = {params}
"""
# One policy of each kind, each with a distinctive name and organisation.
KINDS: dict[str, dict[str, str]] = {
    "scripted": {"name": "leak-scripted-expert", "kind": "scripted", "org": "Scriptorium Labs", "params": "{}"},
    "learned": {"name": "leak-learned-vla", "kind": "learned", "org": "Gradient Foundry",
                "params": '{ checkpoint = "vla-mnv2-minilm-lite", action_horizon = 2 }'},
    "random": {"name": "leak-random-walker", "kind": "random", "org": "Dice Collective", "params": "{}"},
    "zero": {"name": "leak-zero-baseline", "kind": "zero", "org": "Stillness Institute", "params": "{}"},
    "remote": {"name": "leak-remote-server", "kind": "remote-openpi", "org": ORG,
               "params": '{ url = "{url}", timeout_s = 10 }'},
}
EXCEPTIONS = sorted({c.__name__ for c in (PolicyError, *PolicyError.__subclasses__())} | {
    "TypeError", "ValueError", "KeyError", "RuntimeError", "AttributeError", "IndexError", "Traceback"})
SPACES = sorted({s.value for s in ActionSpace} | {"cartesian_velocity", "cartesian_position", "ee_delta",
                                                  "joint_velocity", "joint_position"})
KIND_WORDS = ["scripted", "learned", "openpi", "roboarena"]


def _terms() -> list[str]:
    names = [k["name"] for k in KINDS.values()] + _registry_names()
    orgs = [k["org"] for k in KINDS.values()]
    return sorted({*names, *orgs, *SPACES, *KIND_WORDS, *EXCEPTIONS, *MARKERS})


def _registry(tmp_path: Path, kinds: tuple[str, ...], url: str, extra: str = "") -> str:
    path = tmp_path / "models.toml"
    body = "".join(ENTRY.format(**{**KINDS[k], "params": KINDS[k]["params"].replace("{url}", url)}) for k in kinds)
    path.write_text(body + extra)
    return str(path)


@pytest.fixture
def marker_server() -> Iterator[MarkerServer]:
    server = MarkerServer("good")
    yield server
    server.close()


@pytest.mark.parametrize("pair", list(itertools.combinations(KINDS, 2)), ids="-vs-".join)
def test_nothing_identifying_reaches_the_voter_before_the_vote(
        make_client: Callable[..., TestClient], tmp_path: Path, marker_server: MarkerServer,
        pair: tuple[str, str]) -> None:
    client = make_client(models=_registry(tmp_path, pair, marker_server.url))
    tap = Wiretap(client)
    battle_id = _play_until_vote(tap)
    assert tap.leaks(_terms()) == []
    statuses = "\n".join(where for where, _ in tap.text)
    assert "/vote -> 409" in statuses  # the too-early and still-running refusals were scanned
    assert "/trajectory -> 200" in statuses
    assert "stream" in statuses

    after = Wiretap(client)  # positive control: once voted, the same scan finds what was hidden
    reveal = after.json("POST", f"/api/battles/{battle_id}/vote", json={"choice": "tie"})
    shown = {reveal["left"]["name"], reveal["right"]["name"], reveal["left"]["organisation"]}
    assert shown == {KINDS[pair[0]]["name"], KINDS[pair[1]]["name"], reveal["left"]["organisation"]}
    battle = after.json("GET", f"/api/battles/{battle_id}")
    for episode in battle["turns"][-1]["episodes"].values():
        after.trajectory(episode["trajectory_url"])
    found = {term for _, term in after.leaks(_terms())}
    assert found >= {KINDS[k]["name"] for k in pair} | {KINDS[k]["org"] for k in pair}
    assert found & set(SPACES), found  # the complete files name their action spaces


FAILING_LOCAL = """
[[model]]
name = "leak-broken-policy"
kind = "scripted"
organisation = "Breakage Works"
licence = "MIT"
latency_s = 0.0
params = { leak_broken_policy = 1 }
"""


@pytest.mark.parametrize(("mode", "other"), [("bad-metadata", "zero"), ("traceback", "scripted"),
                                             ("traceback-once", "learned"), ("local", "random")])
def test_a_failed_side_says_only_that_it_failed(make_client: Callable[..., TestClient], tmp_path: Path,
                                                mode: str, other: str) -> None:
    server = MarkerServer("good" if mode == "local" else mode)
    try:
        kinds = (other,) if mode == "local" else (other, "remote")
        client = make_client(models=_registry(tmp_path, kinds, server.url, FAILING_LOCAL if mode == "local" else ""))
        tap = Wiretap(client)
        created = tap.json("POST", "/api/sessions", json={"robot_id": "franka", "scene_id": "table"})
        battle_id = created["battle"]["battle_id"]
        turn = tap.json("POST", f"/api/battles/{battle_id}/turns", json={"instruction": RED_CUBE, "max_steps": 6})
        for episode_id in turn["episodes"].values():
            tap.stream(episode_id)
        view = _poll(tap, turn["turn_id"])
        assert view["status"] == "failed", view
        failed_side, failed = next((s, e) for s, e in view["episodes"].items() if e["status"] == "failed")
        assert failed["error"] == (f"the policy on the {failed_side} could not produce an action; "
                                   "try another instruction or start a new battle")
        stored = client.app.state.service.store.get_episode(failed["episode_id"]).error
        secret = "leak_broken_policy" if mode == "local" else "AcmeRobotics"
        assert secret in stored  # operators keep every detail
        client.app.state.service.bus = type(client.app.state.service.bus)()  # rebuilt from the store too
        tap.stream(failed["episode_id"])
        tap.json("POST", f"/api/battles/{battle_id}/vote", json={"choice": "left"})  # refused: nothing done
        tap.request("GET", f"/api/battles/{battle_id}")
        tap.request("GET", "/api/me/battles")
        assert tap.leaks(_terms()) == []
        if mode == "traceback-once":  # the next turn works; after the vote the failure is explained
            assert _poll(tap, tap.json("POST", f"/api/battles/{battle_id}/turns",
                                       json={"instruction": RED_CUBE, "max_steps": 4})["turn_id"])["status"] == "done"
            assert tap.leaks(_terms()) == []
            client.post(f"/api/battles/{battle_id}/vote", json={"choice": "right"})
            revealed = client.get(f"/api/turns/{turn['turn_id']}").json()["episodes"][failed_side]["error"]
            assert "AcmeRobotics" in revealed
            assert "RemotePolicyError" in revealed
    finally:
        server.close()
