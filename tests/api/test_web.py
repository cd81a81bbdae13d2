"""The front end as the server delivers it: page routes, app modules, pinned vendor packages,
gzip, ETag revalidation, no path escapes; the history endpoint; paced live streams."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from litestar.testing import TestClient

from api.config import WEB_DIR
from api.live.memory import MemoryLiveBus
from api.worker import _BusSink
from policy_host.registry import Registry
from sim_engine.episode import EpisodeSpec, run_episode

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


def _session(client: TestClient, voter: str | None) -> dict:
    body = {"robot_id": "franka", "scene_id": "table", **({"voter_id": voter} if voter else {})}
    response = client.post("/api/sessions", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def test_voter_history_lists_their_battles_newest_first(client: TestClient, play_turn: Callable[..., dict]) -> None:
    first = _session(client, "voter-a")
    second = _session(client, "voter-a")
    extra = client.post(f"/api/sessions/{second['session_id']}/battles").json()
    _session(client, "voter-b")
    _session(client, None)
    play_turn(client, first["battle"]["battle_id"], max_steps=3)
    history = client.get("/api/voters/voter-a/battles").json()
    assert [b["battle_id"] for b in history] == [extra["battle_id"], second["battle"]["battle_id"],
                                                 first["battle"]["battle_id"]]
    assert [b["created_at"] for b in history] == sorted((b["created_at"] for b in history), reverse=True)
    assert history[2]["turns"][0]["instruction"] == "pick up the red cube"
    assert client.get("/api/voters/voter-a/battles", params={"limit": 1}).json()[0]["battle_id"] == extra["battle_id"]
    assert client.get("/api/voters/nobody/battles").json() == []


def test_history_reveals_only_voted_battles(client: TestClient, play_turn: Callable[..., dict]) -> None:
    names = list(Registry.from_file().entries)
    voted = _session(client, "voter-c")["battle"]["battle_id"]
    open_ = _session(client, "voter-c")["battle"]["battle_id"]
    for b in (voted, open_):
        play_turn(client, b, max_steps=2)
    assert client.post(f"/api/battles/{voted}/vote", json={"choice": "tie"}).status_code == 200
    response = client.get("/api/voters/voter-c/battles")
    by_id = {b["battle_id"]: b for b in response.json()}
    assert by_id[voted]["vote"]["left"]["name"] in names
    assert by_id[open_]["vote"] is None
    text = json.dumps(by_id[open_]).lower()
    assert not [n for n in names if n.lower() in text], "an open battle must not name its policies"


@pytest.mark.parametrize(("path", "field"), [
    ("/api/voters/v/battles?limit=0", "limit"),
    ("/api/voters/v/battles?limit=201", "limit"),
    (f"/api/voters/{'x' * 129}/battles", "voter_id"),
])
def test_history_bad_input_names_the_field(client: TestClient, path: str, field: str) -> None:
    response = client.get(path)
    assert response.status_code == 400
    assert response.json()["field"] == field


def test_session_voter_id_is_bounded(client: TestClient) -> None:
    response = client.post("/api/sessions", json={"robot_id": "franka", "scene_id": "table", "voter_id": "x" * 129})
    assert response.status_code == 400
    assert response.json()["field"] == "voter_id"


# ---- paced live streams -------------------------------------------------------------------------------


def test_paced_sink_holds_each_step_until_its_simulated_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """At pace p, the step ending at simulated time t is published no earlier than t / p after the start."""
    clock = {"now": 100.0}
    sleeps: list[float] = []
    published: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        clock["now"] += seconds

    monkeypatch.setattr("api.worker.time.monotonic", lambda: clock["now"])
    monkeypatch.setattr("api.worker.time.sleep", sleep)
    bus = MemoryLiveBus()
    bus.open("e")

    class Recording(_BusSink):
        def on_step(self, frames):  # type: ignore[no-untyped-def]
            super().on_step(frames)
            published.append(clock["now"] - self.t0)

    sink = Recording(bus, "e", pace=0.5)
    spec = EpisodeSpec(robot_id="franka", scene_id="table", instruction="wave", seed=1, max_steps=4)
    out = run_episode(spec, Registry.from_file().build("zero"), sink)
    end_times = [float(out.frames["time"][f]) for f in [*out.header.step_frames[1:], out.outcome.n_frames - 1]]
    assert published[0] == 0.0  # the initial state goes out at once
    assert published[1:] == pytest.approx([t / 0.5 for t in end_times])
    assert sum(sleeps) == pytest.approx(end_times[-1] / 0.5)


def test_unpaced_sink_never_sleeps(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("api.worker.time.sleep", lambda s: pytest.fail("slept"))
    bus = MemoryLiveBus()
    bus.open("e")
    spec = EpisodeSpec(robot_id="franka", scene_id="table", instruction="wave", seed=1, max_steps=3)
    run_episode(spec, Registry.from_file().build("zero"), _BusSink(bus, "e"))


def test_negative_pace_is_rejected() -> None:
    from api.worker import EpisodeWorker

    with pytest.raises(ValueError, match="stream_pace"):
        EpisodeWorker(None, MemoryLiveBus(), Registry.from_file(), stream_pace=-1)  # type: ignore[arg-type]


def test_trajectories_are_immutable_and_revalidate(client: TestClient, new_battle: Callable[..., str],
                                                   play_turn: Callable[..., dict]) -> None:
    turn = play_turn(client, new_battle(client), max_steps=2)
    url = turn["episodes"]["left"]["trajectory_url"]
    first = client.get(url)
    assert first.status_code == 200
    assert "immutable" in first.headers["cache-control"]
    again = client.get(url, headers={"if-none-match": first.headers["etag"]})
    assert again.status_code == 304
    assert again.content == b""
    assert client.get(url, headers={"if-none-match": '"nope"'}).content == first.content
