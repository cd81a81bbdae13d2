"""Scene tasks through the API: `/understand` names them in the scenes that have the fixture, refuses them where
the fixture is missing, and a turn's trajectory records the task it was scored as."""

from __future__ import annotations

from collections.abc import Callable

from litestar.testing import TestClient

Play = Callable[..., dict]


def test_understand_names_scene_tasks_and_refuses_missing_fixtures(client: TestClient,
                                                                   new_battle: Callable[..., str]) -> None:
    warehouse = f"/api/battles/{new_battle(client, 'ur5e', 'warehouse')}/understand"
    kitchen = f"/api/battles/{new_battle(client, 'franka', 'kitchen')}/understand"
    said = {
        (warehouse, "drop the blue block into the container"): "put · blue cube · in the bin",
        (warehouse, "put the green cube on the shelf"): "put · green cube · on the shelf",
        (kitchen, "open the microwave"): "open · microwave",
        (kitchen, "move the kettle to the left"): "move · kettle · to the left",
    }
    for (url, text), summary in said.items():
        response = client.get(url, params={"instruction": text})
        assert response.status_code == 200, response.text
        assert response.json()["summary"] == summary
    refused = client.get(warehouse, params={"instruction": "open the microwave"})
    assert refused.status_code == 400
    assert refused.json()["field"] == "instruction"
    assert refused.json()["detail"].endswith("this scene has no microwave; it has: red cube, green cube, blue cube, "
                                             "bin, shelf")


def test_a_scene_task_turn_is_scored_as_that_task(client: TestClient, new_battle: Callable[..., str],
                                                  play_turn: Play) -> None:
    battle_id = new_battle(client, "ur5e", "warehouse")
    turn = play_turn(client, battle_id, instruction="put the red cube in the bin", max_steps=3)
    assert turn["status"] == "done", turn
    assert turn["understanding"]["task"] == {"family": "place", "object": "red", "direction": None, "target": "bin"}
