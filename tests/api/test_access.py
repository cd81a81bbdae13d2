"""Who may do what, over HTTP: server-issued voter identities, battles visible only to their voter,
no cross-site requests, JSON bodies only (small and shallow), rate limits with Retry-After, and a fair
share of workers. Every refusal is a clear 4xx, never a 500."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from litestar.exceptions import WebSocketDisconnect
from litestar.testing import TestClient

from api.guard import json_depth
from api.identity import COOKIE, load_secret, sign, verify
from api.service import normalise_instruction
from tests.api.voters import voter_of

RED = "pick up the red cube"
Play = Callable[..., dict]


def _battle(client: TestClient) -> tuple[str, str]:
    created = client.post("/api/sessions", json={"robot_id": "franka", "scene_id": "table"})
    assert created.status_code == 201, created.text
    return created.json()["session_id"], created.json()["battle"]["battle_id"]


# ---- identity ---------------------------------------------------------------------------------------


def test_the_server_issues_a_signed_http_only_same_site_cookie(client: TestClient) -> None:
    response = client.get("/api/health")
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=")
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "set-cookie" not in client.get("/api/health").headers  # issued once, then kept
    assert "set-cookie" not in TestClient(client.app).get("/src/app.js").headers  # static files never set it


def test_a_forged_or_tampered_cookie_is_not_an_identity(client: TestClient, tmp_path: Path) -> None:
    _, battle_id = _battle(client)
    victim = voter_of(client)
    for value in (victim, f"{victim}.AAAA", sign(b"another-secret-entirely", victim)):
        forger = TestClient(client.app)
        forger.cookies.set(COOKIE, value, domain="testserver.local")
        assert forger.get(f"/api/battles/{battle_id}").status_code == 404, value
    assert verify(load_secret("", tmp_path), sign(load_secret("", tmp_path), victim)) == victim


def test_only_the_voter_who_started_a_battle_can_see_or_vote_on_it(
        client: TestClient, play_turn: Play, read_stream: Callable[..., list[bytes]]) -> None:
    session_id, battle_id = _battle(client)
    turn = play_turn(client, battle_id, max_steps=2)
    episode_id = turn["episodes"]["left"]["episode_id"]
    other = TestClient(client.app)
    unknown = other.get("/api/battles/no-such-battle")
    for method, url, body in [
        ("GET", f"/api/sessions/{session_id}", None), ("GET", f"/api/battles/{battle_id}", None),
        ("GET", f"/api/turns/{turn['turn_id']}", None), ("GET", f"/api/episodes/{episode_id}/trajectory", None),
        ("POST", f"/api/sessions/{session_id}/battles", None),
        ("POST", f"/api/battles/{battle_id}/turns", {"instruction": RED}),
        ("POST", f"/api/battles/{battle_id}/vote", {"choice": "left"}),
    ]:
        response = other.request(method, url, json=body)
        assert response.status_code == 404, (method, url, response.text)  # 404, not 403: ids are not confirmed
        assert set(response.json()) == set(unknown.json())
    with pytest.raises(WebSocketDisconnect) as closed, other.websocket_connect(
            f"/api/episodes/{episode_id}/stream") as ws:
        ws.receive_bytes(timeout=10)
    assert closed.value.code == 4404
    assert other.get("/api/me/battles").json() == []
    assert client.post(f"/api/battles/{battle_id}/vote", json={"choice": "left"}).status_code == 200
    assert other.get(f"/api/battles/{battle_id}").status_code == 404  # still private after the vote


# ---- cross-site requests, content types, body size and depth ---------------------------------------


def test_a_json_body_must_say_it_is_json(client: TestClient) -> None:
    body = b'{"robot_id": "franka", "scene_id": "table"}'
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", None):
        headers = {"content-type": content_type} if content_type else {}
        response = client.post("/api/sessions", content=body, headers=headers)
        assert response.status_code == 415, (content_type, response.text)
        assert "application/json" in response.json()["detail"]
    ok = client.post("/api/sessions", content=body, headers={"content-type": "application/json; charset=utf-8"})
    assert ok.status_code == 201, ok.text


def test_cross_site_requests_are_refused(client: TestClient) -> None:
    _, battle_id = _battle(client)
    for headers in ({"origin": "https://evil.example"}, {"origin": "null"}, {"sec-fetch-site": "cross-site"}):
        response = client.post(f"/api/battles/{battle_id}/turns", json={"instruction": RED}, headers=headers)
        assert response.status_code == 403, (headers, response.text)
    same = client.post("/api/sessions", json={"robot_id": "franka", "scene_id": "table"},
                       headers={"origin": "http://testserver.local"})
    assert same.status_code == 201, same.text
    with pytest.raises(WebSocketDisconnect) as closed, client.websocket_connect(
            "/api/episodes/x/stream", headers={"origin": "https://evil.example"}) as ws:
        ws.receive_bytes(timeout=10)
    assert closed.value.code == 4403


@pytest.mark.parametrize("depth", [33, 1000, 100_000, 1_000_000])
@pytest.mark.parametrize("closed", [True, False])
def test_deeply_nested_json_is_a_400_naming_the_body(client: TestClient, depth: int, closed: bool) -> None:
    body = "[" * depth + ("]" * depth if closed else "")
    response = client.post("/api/sessions", content=body.encode(), headers={"content-type": "application/json"})
    assert response.status_code in (400, 413), response.text
    assert response.json()["field"] == "body"


def test_bodies_are_capped(client: TestClient) -> None:
    body = b'{"instruction": "' + b"a" * 70_000 + b'"}'
    response = client.post("/api/sessions", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert "bytes" in response.json()["detail"]


def test_json_depth_skips_strings() -> None:
    assert json_depth(b'{"a": [1, {"b": "[[[[{{{{"}]}') == 3
    assert json_depth(b'"[[[\\"[["') == 0
    assert json_depth(b"[" * 50) == 50


@pytest.mark.parametrize("path", ["/vendor/three/..%00/package.json", "/src/%00", "/api/battles/a%00b"])
def test_a_nul_byte_in_a_path_is_a_404(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404, response.text


# ---- instructions ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "clean"), [
    ("pick\u200b up the red\u200d cube", RED),  # zero-width space and joiner
    ("\u202epick up the red cube\u202c", RED),  # bidirectional override and pop
    ("pick up\tthe red\x07 cube\x00", RED),  # tab, bell, NUL
    ("Cafe\u0301 cube", "Caf\u00e9 cube"),  # NFC
])
def test_instructions_are_normalised(raw: str, clean: str) -> None:
    assert normalise_instruction(raw) == clean


@pytest.mark.parametrize("raw", ["\x00\x00\x00", "\u200b\u200b", "\u202e \u200d\t", "\ufeff"])
def test_instructions_with_nothing_visible_are_refused(client: TestClient, raw: str) -> None:
    _, battle_id = _battle(client)
    response = client.post(f"/api/battles/{battle_id}/turns", json={"instruction": raw})
    assert response.status_code == 400, response.text
    assert response.json()["field"] == "instruction"
    assert client.get(f"/api/battles/{battle_id}").json()["turns"] == []


# ---- limits ------------------------------------------------------------------------------------------------


def test_sessions_are_limited_per_voter_and_per_address(make_client: Callable[..., TestClient]) -> None:
    client = make_client(limit_sessions="3/600", limit_address_factor=2)
    for _ in range(3):
        _battle(client)
    refused = client.post("/api/sessions", json={"robot_id": "franka", "scene_id": "table"})
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["retry-after"]) <= 600
    assert "sessions" in refused.json()["detail"]
    fresh = TestClient(client.app)  # a new cookie from the same address: 3 more, then the address cap (6)
    codes = [fresh.post("/api/sessions", json={"robot_id": "franka", "scene_id": "table"}).status_code
             for _ in range(4)]
    assert codes == [201, 201, 201, 429]


def test_turns_and_votes_are_limited(make_client: Callable[..., TestClient], play_turn: Play) -> None:
    client = make_client(limit_turns="2/600", limit_votes="1/600")
    _, battle_id = _battle(client)
    play_turn(client, battle_id, max_steps=1)
    play_turn(client, battle_id, max_steps=1)
    refused = client.post(f"/api/battles/{battle_id}/turns", json={"instruction": RED, "max_steps": 1})
    assert refused.status_code == 429
    assert "retry-after" in refused.headers
    assert client.post(f"/api/battles/{battle_id}/vote", json={"choice": "tie"}).status_code == 200
    _, second = _battle(client)
    no_turns = client.post(f"/api/battles/{second}/vote", json={"choice": "tie"})
    assert no_turns.status_code == 409  # refused before it counts against the limit


def test_one_voters_backlog_is_capped(make_client: Callable[..., TestClient]) -> None:
    client = make_client(max_running_turns=1, workers=1)
    _, battle_id = _battle(client)
    first = client.post(f"/api/battles/{battle_id}/turns", json={"instruction": RED, "max_steps": 300})
    assert first.status_code == 202
    second = client.post(f"/api/battles/{battle_id}/turns", json={"instruction": RED, "max_steps": 300})
    assert second.status_code == 429, second.text
    assert "running" in second.json()["detail"]
    assert "retry-after" in second.headers
    other = TestClient(client.app)  # another voter is not held back by this one's backlog
    _, theirs = _battle(other)
    assert other.post(f"/api/battles/{theirs}/turns", json={"instruction": RED, "max_steps": 1}).status_code == 202


def test_an_unexpected_error_is_logged_with_its_traceback_and_never_shown(
        client: TestClient, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret internal detail /srv/arena/db")

    monkeypatch.setattr(client.app.state.service, "my_battles", broken)
    with caplog.at_level("ERROR", logger="arena"):
        response = client.get("/api/me/battles")
    assert response.status_code == 500
    assert response.json() == {"status_code": 500, "detail": "internal server error", "error": "InternalError"}
    assert "secret" not in response.text
    logged = [r for r in caplog.records if r.name == "arena" and r.exc_info]
    assert logged, "no traceback was logged"
    assert "secret internal detail" in caplog.text
    assert "Traceback" in caplog.text


def test_the_cookie_is_secure_over_https_behind_a_trusted_proxy(make_client: Callable[..., TestClient]) -> None:
    client = make_client(trust_proxy=True)
    cookie = client.get("/api/health", headers={"x-forwarded-proto": "https"}).headers["set-cookie"]
    assert "Secure" in cookie
    plain = TestClient(client.app).get("/api/health").headers["set-cookie"]
    assert "Secure" not in plain  # plain HTTP on loopback (the embedded default): a Secure cookie would be lost
