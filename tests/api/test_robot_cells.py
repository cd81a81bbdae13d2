"""A battle end to end in every robot x scene cell the catalogue offers beyond the Franka's table (whose full
battle is test_app.test_full_battle): the session, one turn, blinded trajectories recorded with the cell's
bundle, the vote, and the metric after it."""

from __future__ import annotations

from collections.abc import Callable

import msgspec
import pytest
from litestar.testing import TestClient

from policy_host.registry import Registry
from replay_format import decode_replay
from sim_engine.scene import SCENES
from sim_engine.world import load_world

CELLS = [(r, s) for s, scene in SCENES.items() for r in scene.robots if (r, s) != ("franka", "table")]


def test_catalogue_offers_every_cell(client: TestClient) -> None:
    robots = {r["id"]: set(r["scenes"]) for r in client.get("/api/robots").json()}
    for robot, scene in CELLS:
        assert scene in robots[robot]
        offered = client.get("/api/scenes", params={"robot_id": robot}).json()
        assert scene in {s["id"] for s in offered}


@pytest.mark.parametrize(("robot", "scene"), CELLS)
def test_battle_in_cell(client: TestClient, wait_turn: Callable[..., dict], robot: str, scene: str) -> None:
    bundle = client.get(f"/api/scenes/{scene}/bundle", params={"robot_id": robot})
    assert bundle.status_code == 200, bundle.text
    digest = msgspec.msgpack.decode(bundle.content)["hash"]
    created = client.post("/api/sessions", json={"robot_id": robot, "scene_id": scene})
    assert created.status_code == 201, created.text
    battle_id = created.json()["battle"]["battle_id"]
    posted = client.post(f"/api/battles/{battle_id}/turns", json={"instruction": "pick up the red cube",
                                                                  "max_steps": 25})
    assert posted.status_code == 202, posted.text
    turn = wait_turn(client, posted.json()["turn_id"])
    assert turn["status"] == "done", turn
    nq = load_world(robot, scene).model.nq
    for side in ("left", "right"):
        episode = turn["episodes"][side]
        assert episode["status"] == "done", episode
        replay = decode_replay(client.get(episode["trajectory_url"]).content)
        assert replay.header.bundle_hash == digest
        assert replay.frames["qpos"].shape[1] == nq
    voted = client.post(f"/api/battles/{battle_id}/vote", json={"choice": "tie"})
    assert voted.status_code == 200, voted.text
    drivers = {e.name for e in Registry.from_file().arena_models(robot)}
    assert {voted.json()["left"]["name"], voted.json()["right"]["name"]} <= drivers
    after = client.get(f"/api/battles/{battle_id}").json()["turns"][0]["episodes"]
    assert all(isinstance(after[side]["success"], bool) for side in ("left", "right"))


def test_each_robot_draws_only_its_own_learned_policies() -> None:
    from policy_host.learned.policy import trained_robot

    registry = Registry.from_file()
    for robot in ("franka", "ur5e", "widowx"):
        learned = [e for e in registry.arena_models(robot) if e.kind == "learned"]
        assert learned, f"{robot}'s board has no learned policy"
        assert all(trained_robot(e.params["checkpoint"]) == robot for e in learned)
        assert len(registry.arena_models(robot)) > len(learned)
