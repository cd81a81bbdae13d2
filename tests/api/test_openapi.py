"""The OpenAPI document (`/schema/openapi.json`) says what the server really does.

schemathesis generates a few hundred requests from the document (schema-valid ones and broken ones) and
sends them to the real app in-process; every answer must be documented: no 5xx, a documented status code,
content type and headers, a body that fits the documented schema, and no schema-valid request refused.
Half of the generated ids are swapped for ids of a real session, battle, turn and episode of this voter,
so the requests reach past the 404s. Then the answers a random request rarely draws (the replay file and
its 304, the scene bundle, 403, 409, 413, 415, 429, the vote and the exports) are checked the same way.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from litestar.testing import TestClient
from schemathesis import Case
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.schemas import OpenApiSchema

from api.app import create_app
from api.config import Settings
from replay_format import MEDIA_TYPE

GENEROUS = "100000/60"
MODELS = "".join(f'[[model]]\nname = "{n}"\nkind = "zero"\norganisation = "t"\nlicence = "MIT"\nlatency_s = 0.0\n\n'
                 for n in ("still-a", "still-b"))
# Per operation; with the coverage phase's own cases this comes to a few hundred requests in all.
MAX_EXAMPLES = 12
CONFIG = {
    "generation": {"mode": "all", "max-examples": MAX_EXAMPLES, "deterministic": True},
    "phases": {"examples": {"enabled": True}, "coverage": {"enabled": True}, "fuzzing": {"enabled": True},
               "stateful": {"enabled": False}},
}


class Arena:
    """One app, one voter (the client's cookie), and the ids of a session with one finished turn."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        created = client.post("/api/sessions", json={"robot_id": "franka", "scene_id": "table"}).json()
        self.battle = created["battle"]["battle_id"]
        turn = client.post(f"/api/battles/{self.battle}/turns", json={"instruction": "hold still", "max_steps": 2})
        self.turn = turn.json()["turn_id"]
        self.episode = turn.json()["episodes"]["left"]
        self.ids = {"session_id": created["session_id"], "battle_id": self.battle, "turn_id": self.turn,
                    "episode_id": self.episode, "scene_id": "table"}
        self.wait_turn(self.turn)

    def wait_turn(self, turn_id: str) -> dict:
        deadline = time.monotonic() + 60
        while (view := self.client.get(f"/api/turns/{turn_id}").json())["status"] == "running":
            assert time.monotonic() < deadline, view
            time.sleep(0.02)
        return view

    def send(self, case: Case, **extra: Any) -> httpx.Response:
        """The case over the app's TestClient (httpx): the voter's cookie, the app's lifespan."""
        kwargs = case.as_transport_kwargs(base_url=str(self.client.base_url))
        kwargs.pop("cookies", None)  # none are documented; the client's own cookie jar holds the voter
        if "data" in kwargs and isinstance(kwargs["data"], (bytes, str)):
            kwargs["content"] = kwargs.pop("data")
        kwargs["headers"] = {**(kwargs.get("headers") or {}), **extra.pop("headers", {})}
        return self.client.request(**kwargs, **extra)


@pytest.fixture(scope="module")
def arena(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Arena]:
    data = tmp_path_factory.mktemp("openapi")
    (data / "models.toml").write_text(MODELS)
    settings_ = Settings(data_dir=str(data), models=str(data / "models.toml"), stream_pace=0.0,
                         leaderboard_rounds=20, max_running_turns=1, limit_sessions=GENEROUS,
                         limit_turns=GENEROUS, limit_votes=GENEROUS, limit_votes_daily=GENEROUS)
    with TestClient(create_app(settings_)) as client:
        yield Arena(client)


@pytest.fixture(scope="module")
def api_schema(arena: Arena) -> OpenApiSchema:
    document = arena.client.get("/schema/openapi.json").json()
    return schemathesis.openapi.from_dict(document, config=SchemathesisConfig.from_dict(CONFIG))


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.fixture(autouse=True)
def _node_id_for_schemathesis(request: pytest.FixtureRequest) -> None:
    """schemathesis 4's lazy schemas read `node._nodeid`, which pytest 9 no longer sets."""
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid


@schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck))
def test_generated_requests_get_documented_answers(case: Case, arena: Arena) -> None:
    for name, value in list((case.path_parameters or {}).items()):
        if name in arena.ids and zlib.crc32(str(value).encode()) % 2 == 0:
            case.path_parameters[name] = arena.ids[name]
    response = arena.send(case)
    case.validate_response(response)


def probe(schema_: OpenApiSchema, arena: Arena, method: str, path: str, status: int, **request: Any) -> httpx.Response:
    """One request built by hand, its answer checked against the document like a generated one's."""
    parameters = {k: v for k, v in arena.ids.items() if "{" + k + "}" in path}
    body = {"body": request.pop("body")} if "body" in request else {}
    case = schema_[path][method].Case(path_parameters=parameters, query=request.pop("query", None), **body)
    response = arena.send(case, **request)
    assert response.status_code == status, response.text
    case.validate_response(response)
    return response


def test_rare_answers_are_documented(api_schema: OpenApiSchema, arena: Arena) -> None:
    arena.client.cookies.clear()  # a new voter: none of the generated requests' turns hold this one up
    created = arena.client.post("/api/sessions", json={"robot_id": "franka", "scene_id": "table"}).json()
    battle = created["battle"]["battle_id"]
    arena.ids.update(session_id=created["session_id"], battle_id=battle)
    turns = "/api/battles/{battle_id}/turns"
    probe(api_schema, arena, "POST", "/api/battles/{battle_id}/vote", 409, body={"choice": "left"})  # no turn yet
    started = probe(api_schema, arena, "POST", turns, 202, body={"instruction": "hold still", "max_steps": 300})
    busy = probe(api_schema, arena, "POST", turns, 429, body={"instruction": "hold still"})  # one running at most
    assert int(busy.headers["retry-after"]) >= 1
    probe(api_schema, arena, "POST", turns, 403, body={"instruction": "x"}, headers={"origin": "https://evil.example"})
    probe(api_schema, arena, "POST", turns, 415, content=b'{"instruction": "x"}',
          headers={"content-type": "text/plain"})
    probe(api_schema, arena, "POST", turns, 413, content=b" " * 70_000, headers={"content-type": "application/json"})
    deep = probe(api_schema, arena, "POST", turns, 400, content=b"[" * 40 + b"]" * 40,
                 headers={"content-type": "application/json"})
    assert deep.json()["field"] == "body"

    arena.wait_turn(started.json()["turn_id"])
    arena.ids["episode_id"] = started.json()["episodes"]["left"]
    trajectory = "/api/episodes/{episode_id}/trajectory"
    blind = probe(api_schema, arena, "GET", trajectory, 200)
    assert blind.headers["content-type"] == MEDIA_TYPE
    probe(api_schema, arena, "GET", trajectory, 304, headers={"if-none-match": blind.headers["etag"]})
    probe(api_schema, arena, "POST", "/api/battles/{battle_id}/vote", 200, body={"choice": "tie", "left_progress": 0})
    probe(api_schema, arena, "POST", "/api/battles/{battle_id}/vote", 409, body={"choice": "left"})  # only once
    full = probe(api_schema, arena, "GET", trajectory, 200, headers={"if-none-match": blind.headers["etag"]})
    assert full.headers["etag"] != blind.headers["etag"]
    probe(api_schema, arena, "GET", "/api/battles/{battle_id}/archive", 200)

    bundle = probe(api_schema, arena, "GET", "/api/scenes/{scene_id}/bundle", 200, query={"robot_id": "franka"})
    assert bundle.headers["content-type"] == "application/msgpack"
    probe(api_schema, arena, "GET", "/api/scenes/{scene_id}/bundle", 304, query={"robot_id": "franka"},
          headers={"if-none-match": bundle.headers["etag"]})
    for format_ in ("json", "jsonl"):
        probe(api_schema, arena, "GET", "/api/votes", 200, query={"format": format_})
    arena.client.cookies.clear()  # another voter: the battle is not theirs
    probe(api_schema, arena, "GET", "/api/battles/{battle_id}", 404)
