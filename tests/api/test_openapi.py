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
            case.path_parameters[name] = arena.ids[name]  # type: ignore[index]
    response = arena.send(case)
    case.validate_response(response)
