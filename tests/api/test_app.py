"""The HTTP API contract, in process (Litestar's TestClient runs the startup and shutdown hooks).

Covers the catalogue, a whole battle (session, turns, trajectories, vote, reveal, leaderboard),
bad input (every 4xx names the field or id that was wrong), racing votes, and restart recovery:
a turn the API acknowledged is run to its end by the next process on the same data dir.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import msgspec
import mujoco
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from api.config import Settings
from api.store import open_store
from policy_host.registry import Registry
from replay_format import MEDIA_TYPE, decode_replay
from schemas.records import BattleRecord, EpisodeRecord, EpisodeStatus, SessionRecord, Side, TurnRecord
from sim_engine.scene import SCENES, bundle_hash
from tests.api.voters import sign_in
from tests.support.light_models import LIGHT_MODELS

RED_CUBE = "pick up the red cube"
NO_METRIC = "wave at the camera"  # no automatic metric: the episode always runs max_steps
MODEL_FIELDS = {"name", "organisation", "licence", "description"}

Play = Callable[..., dict]


def _arena_names() -> set[str]:
    return {e.name for e in Registry.from_file().entries.values() if e.arena}  # every robot's


# ---- catalogue -----------------------------------------------------------------------------------------


def test_health(client: TestClient) -> None:
    response = client.get("/api/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["mujoco"] == mujoco.__version__
    assert body["models"] == len(_arena_names())


def test_robots_list_franka_and_its_scenes(client: TestClient) -> None:
    response = client.get("/api/robots")
    assert response.status_code == 200
    robots = {r["id"]: r for r in response.json()}
    assert set(robots["franka"]) == {"id", "name", "description", "scenes"}
    assert set(robots["franka"]["scenes"]) == {s.id for s in SCENES.values() if "franka" in s.robots}


def test_scenes_all_and_per_robot(client: TestClient) -> None:
    every = client.get("/api/scenes")
    franka = client.get("/api/scenes", params={"robot_id": "franka"})
    assert every.status_code == franka.status_code == 200
    assert {s["id"] for s in every.json()} == set(SCENES)
    assert franka.json() == [s for s in every.json() if "franka" in s["robots"]]
    table = next(s for s in every.json() if s["id"] == "table")
    assert table["robots"] == list(SCENES["table"].robots)
    assert table["robots"][0] == "franka"
    assert set(table["objects"]) == {"red", "green", "blue", "bowl"}


def test_scenes_of_unknown_robot_is_404_naming_it(client: TestClient) -> None:
    response = client.get("/api/scenes", params={"robot_id": "no-such-robot"})
    assert response.status_code == 404
    assert "no-such-robot" in response.json()["detail"]


def test_models_are_public_names_only(client: TestClient) -> None:
    response = client.get("/api/models")
    assert response.status_code == 200
    models = response.json()
    assert all(set(m) == MODEL_FIELDS for m in models), models  # no kind, params, pairing or robots
    assert {m["name"] for m in models} == _arena_names()
    assert [m["name"] for m in models] == sorted(m["name"] for m in models)


def test_scene_bundle_is_a_loadable_content_addressed_mjcf(client: TestClient) -> None:
    response = client.get("/api/scenes/table/bundle", params={"robot_id": "franka"})
    assert response.status_code == 200
    bundle = msgspec.msgpack.decode(response.content)
    assert {"entry", "hash", "files"} <= set(bundle)
    files: dict[str, bytes] = bundle["files"]
    assert bundle["hash"] == bundle_hash(files)
    assert response.headers["etag"] == f'"{bundle["hash"]}"'
    assets = {path: data for path, data in files.items() if path != bundle["entry"]}
    model = mujoco.MjModel.from_xml_string(files[bundle["entry"]].decode(), assets)
    assert model.nq > 0
    assert model.nu > 0


def test_scene_bundle_needs_robot_id(client: TestClient) -> None:
    response = client.get("/api/scenes/table/bundle")
    assert response.status_code == 400
    assert "robot_id" in response.json()["detail"]


def test_bundle_of_unknown_scene_is_404_naming_it(client: TestClient) -> None:
    response = client.get("/api/scenes/no-such-scene/bundle", params={"robot_id": "franka"})
    assert response.status_code == 404
    assert "no-such-scene" in response.json()["detail"]


def test_openapi_schema_lists_the_routes(client: TestClient) -> None:
    response = client.get("/schema/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/api/sessions" in paths
    assert "/api/battles/{battle_id}/vote" in paths


# ---- a whole battle ------------------------------------------------------------------------------------


def _download(client: TestClient, url: str) -> tuple[bytes, str]:
    response = client.get(url)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(MEDIA_TYPE)
    return response.content, response.headers["etag"].strip('"')


def _check_trajectories(client: TestClient, turn: dict, bundle_digest: str, *, revealed: bool) -> None:
    """Before the vote the blinded file (same states, no actions, no outcome); after it the stored one."""
    for side in ("left", "right"):
        episode = turn["episodes"][side]
        data, etag = _download(client, episode["trajectory_url"])
        replay = decode_replay(data)
        assert replay.header.bundle_hash == bundle_digest
        assert replay.header.metadata["instruction"] == turn["instruction"]
        assert replay.header.metadata["seed"] == turn["seed"]
        assert replay.n_steps == episode["steps"]
        if revealed:
            assert hashlib.sha256(data).hexdigest() == etag
            assert len(data) == episode["trajectory_bytes"]
            assert replay.header.metadata["outcome"]["success"] == episode["success"]
        else:
            assert etag.startswith("blind-")
            assert episode["trajectory_bytes"] is None
            assert replay.header.action_space == "hidden"
            assert "outcome" not in replay.header.metadata


def _check_leaderboard(board: dict, reveal: dict) -> None:
    assert board["total_votes"] == 1
    rows = {r["model"]: r for r in board["models"]}
    winner, loser = reveal["left"]["name"], reveal["right"]["name"]
    assert (rows[winner]["votes"], rows[winner]["wins"], rows[winner]["losses"]) == (1, 1, 0)
    assert (rows[loser]["votes"], rows[loser]["wins"], rows[loser]["losses"]) == (1, 0, 1)
    ratings = [r["rating"] for r in board["models"]]
    assert ratings == sorted(ratings, reverse=True)
    assert [r["rank"] for r in board["models"]] == [1] * len(ratings)  # Rank (UB): one vote separates nobody
    assert all(r["provisional"] for r in board["models"])
    assert all(r["ci_low"] <= r["rating"] <= r["ci_high"] for r in board["models"])
    assert rows[winner]["rating"] > rows[loser]["rating"]


def test_full_battle(client: TestClient, wait_turn: Play) -> None:
    created = client.post("/api/sessions", json={"robot_id": "franka", "scene_id": "table"})
    assert created.status_code == 201, created.text
    session_id, battle = created.json()["session_id"], created.json()["battle"]
    assert (battle["status"], battle["turns"], battle["vote"], battle["seq"]) == ("open", [], None, 0)
    battle_id = battle["battle_id"]

    posted = client.post(f"/api/battles/{battle_id}/turns", json={"instruction": RED_CUBE})
    assert posted.status_code == 202, posted.text
    assert posted.json()["seq"] == 0
    assert set(posted.json()["episodes"]) == {"left", "right"}
    turn = wait_turn(client, posted.json()["turn_id"])
    assert turn["status"] == "done", turn
    assert turn["task"] == {"family": "pick", "object": "red", "direction": None, "target": None}
    for side in ("left", "right"):
        episode = turn["episodes"][side]
        assert episode["episode_id"] == posted.json()["episodes"][side]
        assert episode["status"] == "done"
        assert episode["success"] is episode["progress"] is None  # the automatic metric waits for the vote
        assert 1 <= episode["steps"] <= turn["max_steps"]
        assert episode["trajectory_url"] == f"/api/episodes/{episode['episode_id']}/trajectory"

    bundle = client.get("/api/scenes/table/bundle", params={"robot_id": "franka"})
    bundle_hash = msgspec.msgpack.decode(bundle.content)["hash"]
    _check_trajectories(client, turn, bundle_hash, revealed=False)

    second = client.post(f"/api/battles/{battle_id}/turns", json={"instruction": "push the green cube left",
                                                                  "max_steps": 5})
    assert second.status_code == 202, second.text
    assert second.json()["seq"] == 1
    assert wait_turn(client, second.json()["turn_id"])["status"] == "done"
    listed = client.get(f"/api/battles/{battle_id}").json()
    assert [t["seq"] for t in listed["turns"]] == [0, 1]
    assert [t["turn_id"] for t in listed["turns"]] == [turn["turn_id"], second.json()["turn_id"]]

    voted = client.post(f"/api/battles/{battle_id}/vote", json={"choice": "left"})
    assert voted.status_code == 200, voted.text
    reveal = voted.json()
    assert reveal["choice"] == "left"
    assert set(reveal["left"]) == set(reveal["right"]) == MODEL_FIELDS
    public = {m["name"] for m in client.get("/api/models").json()}
    assert reveal["left"]["name"] in public
    assert reveal["right"]["name"] in public
    assert reveal["left"]["name"] != reveal["right"]["name"]

    again = client.post(f"/api/battles/{battle_id}/vote", json={"choice": "right"})
    assert again.status_code == 409
    assert battle_id in again.json()["detail"]
    after = client.get(f"/api/battles/{battle_id}").json()
    assert after["status"] == "voted"
    assert after["vote"] == reveal
    for side in ("left", "right"):  # after the vote every turn shows its metric
        episode = after["turns"][0]["episodes"][side]
        assert isinstance(episode["success"], bool)
        assert 0.0 <= episode["progress"] <= 1.0
        assert episode["trajectory_bytes"] > 0
    _check_trajectories(client, after["turns"][0], bundle_hash, revealed=True)

    _check_leaderboard(client.get("/api/leaderboard").json(), reveal)
    per_robot = client.get("/api/leaderboard", params={"robot_id": "franka"}).json()
    assert per_robot["robot_id"] == "franka"
    _check_leaderboard(per_robot, reveal)
    assert client.get("/api/leaderboard", params={"robot_id": "no-such-robot"}).status_code == 404

    exported = client.get("/api/votes").json()
    assert len(exported) == 1
    assert exported[0]["question_id"] == battle_id
    assert (exported[0]["winner"], exported[0]["turn"], exported[0]["excluded"]) == ("model_a", 2, False)
    assert (exported[0]["model_a"], exported[0]["model_b"]) == (reveal["left"]["name"], reveal["right"]["name"])
    assert client.get("/api/votes", params={"robot_id": "franka"}).json() == exported

    fresh = client.post(f"/api/sessions/{session_id}/battles")
    assert fresh.status_code == 201, fresh.text
    assert (fresh.json()["seq"], fresh.json()["status"], fresh.json()["turns"]) == (1, "open", [])
    late = client.post(f"/api/battles/{battle_id}/turns", json={"instruction": RED_CUBE})
    assert late.status_code == 409
    assert "voted" in late.json()["detail"]
    session = client.get(f"/api/sessions/{session_id}").json()
    assert [b["battle_id"] for b in session["battles"]] == [battle_id, fresh.json()["battle_id"]]


# ---- bad input: a 4xx that says what was wrong ---------------------------------------------------------


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory,
           build_app: Callable[[Settings], Litestar]) -> Iterator[tuple[TestClient, dict[str, str]]]:
    """One app for the bad-input cases: ids of an open battle (no turns) and its session."""
    settings = Settings(data_dir=str(tmp_path_factory.mktemp("shared")), leaderboard_rounds=20)
    with TestClient(build_app(settings)) as client:
        created = client.post("/api/sessions", json={"robot_id": "franka", "scene_id": "table"}).json()
        yield client, {"battle": created["battle"]["battle_id"], "session": created["session_id"]}


LONG = "a" * (Settings().instruction_max_chars + 1)
BAD_REQUESTS = [  # method, path, json body, status, words the error must contain
    ("post", "/api/sessions", {"robot_id": "no-such-robot", "scene_id": "table"}, 404, ["no-such-robot"]),
    ("post", "/api/sessions", {"robot_id": "franka", "scene_id": "no-such-scene"}, 404, ["no-such-scene"]),
    ("post", "/api/sessions", {"robot_id": "franka"}, 400, ["scene_id"]),
    ("get", "/api/sessions/no-such-session", None, 404, ["no-such-session"]),
    ("post", "/api/sessions/no-such-session/battles", None, 404, ["no-such-session"]),
    ("get", "/api/battles/no-such-battle", None, 404, ["no-such-battle"]),
    ("post", "/api/battles/no-such-battle/turns", {"instruction": RED_CUBE}, 404, ["no-such-battle"]),
    ("post", "/api/battles/no-such-battle/vote", {"choice": "left"}, 404, ["no-such-battle"]),
    ("get", "/api/turns/no-such-turn", None, 404, ["no-such-turn"]),
    ("get", "/api/episodes/no-such-episode/trajectory", None, 404, ["no-such-episode"]),
    ("post", "/api/battles/{battle}/turns", {"instruction": ""}, 400, ["instruction", "empty"]),
    ("post", "/api/battles/{battle}/turns", {"instruction": " \t\n  "}, 400, ["instruction", "empty"]),
    ("post", "/api/battles/{battle}/turns", {"instruction": LONG}, 400, ["instruction", "300"]),
    ("post", "/api/battles/{battle}/turns", {"instruction": RED_CUBE, "max_steps": 0}, 400, ["max_steps"]),
    ("post", "/api/battles/{battle}/turns", {"instruction": RED_CUBE, "max_steps": 301}, 400, ["max_steps"]),
    ("post", "/api/battles/{battle}/turns", {"instruction": RED_CUBE, "max_steps": "ten"}, 400, ["max_steps"]),
    ("post", "/api/battles/{battle}/turns", {"instruction": 7}, 400, ["instruction"]),
    ("post", "/api/battles/{battle}/turns", {"instruction": RED_CUBE, "speed": 2}, 400, ["speed"]),
    ("post", "/api/battles/{battle}/turns", {}, 400, ["instruction"]),
    ("post", "/api/battles/{battle}/vote", {"choice": "LEFT"}, 400, ["choice"]),
    ("post", "/api/battles/{battle}/vote", {"choice": "draw"}, 400, ["choice"]),
    ("post", "/api/battles/{battle}/vote", {"choice": "left", "because": "x"}, 400, ["because"]),
    ("post", "/api/battles/{battle}/vote", {"choice": "left"}, 409, ["no turns"]),
]


@pytest.mark.parametrize(("method", "path", "body", "status", "words"), BAD_REQUESTS)
def test_bad_request_names_what_was_wrong(shared: tuple[TestClient, dict[str, str]], method: str, path: str,
                                          body: dict | None, status: int, words: list[str]) -> None:
    client, ids = shared
    response = client.request(method.upper(), path.format(**ids), json=body)
    assert response.status_code == status, response.text
    assert all(w in response.text for w in words), response.text


@pytest.mark.parametrize("body", [b'{"instruction": "pick', b"{instruction: 1}", b"", b"[1, 2"])
def test_malformed_json_is_400(shared: tuple[TestClient, dict[str, str]], body: bytes) -> None:
    client, ids = shared
    for path in (f"/api/battles/{ids['battle']}/turns", f"/api/battles/{ids['battle']}/vote", "/api/sessions"):
        response = client.post(path, content=body, headers={"content-type": "application/json"})
        assert response.status_code == 400, response.text
        assert response.json()["detail"], response.text


def test_bad_requests_left_no_trace(shared: tuple[TestClient, dict[str, str]]) -> None:
    client, ids = shared
    battle = client.get(f"/api/battles/{ids['battle']}").json()
    assert (battle["status"], battle["turns"]) == ("open", [])
    assert client.get("/api/votes").json() == []


def test_instruction_of_exactly_max_chars_is_accepted(client: TestClient, new_battle: Callable[..., str]) -> None:
    limit = Settings().instruction_max_chars
    response = client.post(f"/api/battles/{new_battle(client)}/turns",
                           json={"instruction": "b" * limit, "max_steps": 1})
    assert response.status_code == 202, response.text


def test_instruction_whitespace_is_normalised(client: TestClient, new_battle: Callable[..., str],
                                              wait_turn: Play) -> None:
    response = client.post(f"/api/battles/{new_battle(client)}/turns",
                           json={"instruction": "  pick up\n the   red cube ", "max_steps": 1})
    assert response.status_code == 202, response.text
    assert wait_turn(client, response.json()["turn_id"])["instruction"] == RED_CUBE


# ---- turns still running -------------------------------------------------------------------------------


def test_running_turn_blocks_vote_and_hides_trajectory(make_client: Callable[..., TestClient], tmp_path: Path,
                                                       new_battle: Callable[..., str], wait_turn: Play) -> None:
    models = tmp_path / "models.toml"
    models.write_text(LIGHT_MODELS)  # cheap policies: 300 steps take about a second, even on a busy machine
    client = make_client(workers=1, models=str(models))  # one thread: the right side waits behind the left
    battle_id = new_battle(client)
    posted = client.post(f"/api/battles/{battle_id}/turns", json={"instruction": NO_METRIC, "max_steps": 300})
    assert posted.status_code == 202, posted.text
    vote = client.post(f"/api/battles/{battle_id}/vote", json={"choice": "tie"})
    right = client.get(f"/api/episodes/{posted.json()['episodes']['right']}/trajectory")
    view = client.get(f"/api/turns/{posted.json()['turn_id']}").json()
    assert view["status"] == "running", "the turn ended before the checks: they proved nothing"
    assert vote.status_code == 409, vote.text
    assert "running" in vote.json()["detail"]
    assert right.status_code == 404, right.status_code
    assert "trajectory" in right.json()["detail"]
    assert view["episodes"]["right"]["trajectory_url"] is None

    assert wait_turn(client, posted.json()["turn_id"])["status"] == "done"
    assert client.post(f"/api/battles/{battle_id}/vote", json={"choice": "tie"}).status_code == 200


def test_racing_votes_exactly_one_wins(client: TestClient, new_battle: Callable[..., str],
                                       play_turn: Play) -> None:
    battle_id = new_battle(client)
    assert play_turn(client, battle_id, max_steps=3)["status"] == "done"
    barrier = threading.Barrier(2)
    codes: list[int] = []

    def vote(choice: str) -> None:
        barrier.wait()
        codes.append(client.post(f"/api/battles/{battle_id}/vote", json={"choice": choice}).status_code)

    threads = [threading.Thread(target=vote, args=(c,)) for c in ("left", "right")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(codes) == [200, 409]
    assert len(client.get("/api/votes").json()) == 1


# ---- restart recovery ----------------------------------------------------------------------------------


def _acknowledged_turn(store_url: str, voter_id: str) -> tuple[str, list[str]]:
    """What create_turn leaves behind if the process dies at once: a turn whose episodes never ended
    (one still queued, one that had started)."""
    now = time.time()
    store = open_store(store_url)
    try:
        session = SessionRecord(id="s-crash", robot_id="franka", scene_id="table", created_at=now,
                                voter_id=voter_id)
        battle = BattleRecord(id="b-crash", session_id=session.id, seq=0, robot_id="franka", scene_id="table",
                              left_policy="scripted-expert", right_policy="zero", created_at=now)
        store.create_session(session, battle)
        turn = TurnRecord(id="t-crash", battle_id=battle.id, seq=0, instruction=RED_CUBE, seed=7, max_steps=10,
                          created_at=now)
        episodes = [EpisodeRecord(id=f"e-{side.value}", turn_id=turn.id, battle_id=battle.id, side=side,
                                  policy=policy, created_at=now)
                    for side, policy in ((Side.LEFT, battle.left_policy), (Side.RIGHT, battle.right_policy))]
        store.create_turn(turn, episodes)
        store.mark_episode_running("e-right", now)
        assert {e.status for e in store.list_unfinished_episodes()} == {EpisodeStatus.QUEUED,
                                                                        EpisodeStatus.RUNNING}
    finally:
        store.close()
    return turn.id, [e.id for e in episodes]


def test_restart_runs_acknowledged_turns(make_client: Callable[..., TestClient], tmp_path: Path,
                                         wait_turn: Play) -> None:
    turn_id, episode_ids = _acknowledged_turn(Settings(data_dir=str(tmp_path)).store, "v-crash")
    client = make_client()
    sign_in(client, tmp_path, "v-crash")
    turn = wait_turn(client, turn_id)
    assert turn["status"] == "done", turn
    assert [turn["episodes"][side]["episode_id"] for side in ("left", "right")] == episode_ids
    for episode_id in episode_ids:
        data = client.get(f"/api/episodes/{episode_id}/trajectory")
        assert data.status_code == 200
        assert decode_replay(data.content).header.metadata["seed"] == 7
    assert client.post("/api/battles/b-crash/vote", json={"choice": "left"}).status_code == 200


def test_votes_survive_a_restart(make_client: Callable[..., TestClient], tmp_path: Path,
                                 build_app: Callable[[Settings], Litestar], new_battle: Callable[..., str],
                                 play_turn: Play) -> None:
    settings = Settings(data_dir=str(tmp_path), leaderboard_rounds=20)
    with TestClient(build_app(settings)) as first:
        battle_id = new_battle(first)
        play_turn(first, battle_id, max_steps=3)
        reveal = first.post(f"/api/battles/{battle_id}/vote", json={"choice": "both_bad"}).json()
        cookies = dict(first.cookies)
    second = make_client()  # same data dir, after the first app shut down
    second.cookies.update(cookies)  # the same voter comes back
    assert second.get(f"/api/battles/{battle_id}").json()["vote"] == reveal
    assert second.get("/api/leaderboard").json()["total_votes"] == 1
