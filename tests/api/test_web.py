"""The front end as the server delivers it: page routes, app modules, pinned vendor packages,
gzip, ETag revalidation, no path escapes; the caller's history; trajectory caching before and after the
vote."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from litestar.testing import TestClient

from api.config import WEB_DIR
from policy_host.registry import Registry

VENDORED = (WEB_DIR / "node_modules" / "@mujoco" / "mujoco" / "mujoco.wasm").is_file()
needs_vendor = pytest.mark.skipif(not VENDORED, reason="web/node_modules missing: run npm ci --prefix web")


@pytest.mark.parametrize("path", ["/", "/leaderboard", "/history", "/battles/abc", "/battles/abc/turns/3"])
def test_page_routes_serve_the_app_shell(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert '<script type="importmap">' in response.text
    imports = json.loads(response.text.split('<script type="importmap">')[1].split("</script>")[0])["imports"]
    assert set(imports) >= {"three", "@mujoco/mujoco", "fzstd", "@msgpack/msgpack"}
    assert response.headers["cache-control"] == "no-cache"


def test_import_map_targets_exist(client: TestClient) -> None:
    imports = json.loads(client.get("/").text.split('<script type="importmap">')[1].split("</script>")[0])["imports"]
    for spec, url in imports.items():
        if url.endswith("/"):
            continue
        if not VENDORED and url.startswith("/vendor/"):
            continue
        assert client.get(url).status_code == 200, f"{spec} -> {url}"


def test_app_modules_are_javascript_and_revalidate_by_etag(client: TestClient) -> None:
    first = client.get("/src/app.js", headers={"accept-encoding": "gzip"})
    assert first.status_code == 200
    assert first.headers["content-type"].startswith("text/javascript")
    assert "// @ts-check" in first.text
    etag = first.headers["etag"]
    again = client.get("/src/app.js", headers={"if-none-match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert client.get("/src/app.js", headers={"if-none-match": '"other"'}).status_code == 200


@needs_vendor
def test_vendor_wasm_is_served_gzipped_with_the_wasm_type(client: TestClient) -> None:
    raw = (WEB_DIR / "node_modules" / "@mujoco" / "mujoco" / "mujoco.wasm").read_bytes()
    response = client.get("/vendor/mujoco/mujoco.wasm", headers={"accept-encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/wasm"
    assert response.headers["content-encoding"] == "gzip"
    assert response.content == raw  # the client undid the gzip: byte-identical
    assert "max-age" in response.headers["cache-control"]
    plain = client.get("/vendor/mujoco/mujoco.wasm", headers={"accept-encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert plain.content == raw


@pytest.mark.parametrize("path", [
    "/vendor/three/..%2F..%2F..%2Fapi%2Fapp.py",
    "/vendor/three/%2E%2E/%2E%2E/package.json",
    "/src/..%2F..%2Fpyproject.toml",
    "/vendor/left-pad/index.js",
    "/src/nope.js",
])
def test_paths_outside_the_served_folders_are_404(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert "not found" in response.json()["detail"]


def test_missing_front_end_is_a_clear_404(make_client: Callable[..., TestClient], tmp_path: Path) -> None:
    client = make_client(web_dir=str(tmp_path / "no-web"))
    response = client.get("/")
    assert response.status_code == 404
    assert "index.html" in response.json()["detail"]
    assert client.get("/api/health").status_code == 200


def test_scene_bundle_gzip_and_revalidation(client: TestClient) -> None:
    url = "/api/scenes/table/bundle?robot_id=franka"
    plain = client.get(url, headers={"accept-encoding": "identity"})
    zipped = client.get(url, headers={"accept-encoding": "gzip"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert zipped.content == plain.content
    assert int(zipped.headers["content-length"]) < 0.6 * len(plain.content)
    assert gzip.decompress(gzip.compress(plain.content)) == plain.content
    assert client.get(url, headers={"if-none-match": plain.headers["etag"]}).status_code == 304


# ---- history ------------------------------------------------------------------------------------------


def _session(client: TestClient) -> dict:
    response = client.post("/api/sessions", json={"robot_id": "franka", "scene_id": "table"})
    assert response.status_code == 201, response.text
    return response.json()


def test_history_lists_the_callers_battles_newest_first(client: TestClient, play_turn: Callable[..., dict]) -> None:
    other = TestClient(client.app)  # another voter (its own cookie jar) on the same server
    first = _session(client)
    second = _session(client)
    extra = client.post(f"/api/sessions/{second['session_id']}/battles").json()
    _session(other)
    play_turn(client, first["battle"]["battle_id"], max_steps=3)
    history = client.get("/api/me/battles").json()
    assert [b["battle_id"] for b in history] == [extra["battle_id"], second["battle"]["battle_id"],
                                                 first["battle"]["battle_id"]]
    assert [b["created_at"] for b in history] == sorted((b["created_at"] for b in history), reverse=True)
    assert history[2]["turns"][0]["instruction"] == "pick up the red cube"
    assert client.get("/api/me/battles", params={"limit": 1}).json()[0]["battle_id"] == extra["battle_id"]
    assert len(other.get("/api/me/battles").json()) == 1
    assert TestClient(client.app).get("/api/me/battles").json() == []  # a new visitor has none


def test_history_reveals_only_voted_battles(client: TestClient, play_turn: Callable[..., dict]) -> None:
    names = list(Registry.from_file().entries)
    voted = _session(client)["battle"]["battle_id"]
    open_ = _session(client)["battle"]["battle_id"]
    for b in (voted, open_):
        play_turn(client, b, max_steps=2)
    assert client.post(f"/api/battles/{voted}/vote", json={"choice": "tie"}).status_code == 200
    by_id = {b["battle_id"]: b for b in client.get("/api/me/battles").json()}
    assert by_id[voted]["vote"]["left"]["name"] in names
    assert by_id[open_]["vote"] is None
    text = json.dumps(by_id[open_]).lower()
    assert not [n for n in names if n.lower() in text], "an open battle must not name its policies"


@pytest.mark.parametrize("path", ["/api/me/battles?limit=0", "/api/me/battles?limit=201"])
def test_history_bad_input_names_the_field(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 400
    assert response.json()["field"] == "limit"


def test_the_voter_is_never_a_field_of_the_request(client: TestClient) -> None:
    response = client.post("/api/sessions", json={"robot_id": "franka", "scene_id": "table", "voter_id": "me"})
    assert response.status_code == 400
    assert "voter_id" in response.text


# ---- trajectory caching ---------------------------------------------------------------------------------


def test_blinded_trajectories_revalidate_and_full_ones_are_immutable(
        client: TestClient, new_battle: Callable[..., str], play_turn: Callable[..., dict]) -> None:
    battle_id = new_battle(client)
    turn = play_turn(client, battle_id, max_steps=2)
    url = turn["episodes"]["left"]["trajectory_url"]
    blinded = client.get(url)
    assert blinded.status_code == 200
    assert blinded.headers["etag"].startswith('"blind-')
    assert "no-cache" in blinded.headers["cache-control"]
    assert client.get(url, headers={"if-none-match": blinded.headers["etag"]}).status_code == 304
    assert client.post(f"/api/battles/{battle_id}/vote", json={"choice": "tie"}).status_code == 200
    full = client.get(url, headers={"if-none-match": blinded.headers["etag"]})  # the same URL, now complete
    assert full.status_code == 200
    assert full.content != blinded.content
    assert "immutable" in full.headers["cache-control"]
    again = client.get(url, headers={"if-none-match": full.headers["etag"]})
    assert again.status_code == 304
    assert again.content == b""
    assert client.get(url, headers={"if-none-match": '"nope"'}).content == full.content
