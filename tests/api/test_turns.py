"""Turns that continue (a battle is a conversation) and instructions understood before they run."""

from __future__ import annotations

from collections.abc import Callable

from litestar.testing import TestClient

from replay_format import decode_replay

Play = Callable[..., dict]


def _stored(client: TestClient, episode_id: str):  # the complete file, as the worker reads it
    return decode_replay(client.app.state.service.store.get_trajectory(episode_id))


def test_a_second_turn_starts_where_each_side_ended(client: TestClient, new_battle: Callable[..., str],
                                                    play_turn: Play) -> None:
    battle_id = new_battle(client)
    first = play_turn(client, battle_id, "pick up the red cube", max_steps=12)
    second = play_turn(client, battle_id, "now put it in the bowl", max_steps=6)
    assert (first["start"], second["start"]) == ("reset", "continue")
    assert second["understanding"]["task"]["object"] == "red"  # "it" is the cube of the previous turn
    for side in ("left", "right"):
        before = _stored(client, first["episodes"][side]["episode_id"])
        after = _stored(client, second["episodes"][side]["episode_id"])
        for name in ("qpos", "qvel", "ctrl"):
            assert after.frames[name][0].tobytes() == before.frames[name][-1].tobytes(), (side, name)
        source = after.header.metadata["initial_state"]
        assert source["source"] == "continue"
        assert source["from_episode_id"] == first["episodes"][side]["episode_id"]
        assert after.header.metadata["previous_instructions"] == ["pick up the red cube"]
        # The blinded file the voter downloads keeps the source too, so the browser replays it exactly.
        blinded = decode_replay(client.get(second["episodes"][side]["trajectory_url"]).content)
        assert blinded.header.metadata["initial_state"] == source


def test_reset_draws_a_fresh_layout(client: TestClient, new_battle: Callable[..., str], play_turn: Play) -> None:
    battle_id = new_battle(client)
    first = play_turn(client, battle_id, "pick up the red cube", max_steps=3)
    again = play_turn(client, battle_id, "pick up the red cube", max_steps=3, start="reset")
    assert again["start"] == "reset"
    left = [_stored(client, t["episodes"]["left"]["episode_id"]) for t in (first, again)]
    assert left[1].header.metadata["initial_state"] == {"source": "reset"}
    assert left[0].frames["qpos"][0].tobytes() != left[1].frames["qpos"][0].tobytes()


def test_a_turn_after_a_failed_side_resets(make_client: Callable[..., TestClient], tmp_path,  # type: ignore[no-untyped-def]
                                           new_battle: Callable[..., str], play_turn: Play) -> None:
    models = tmp_path / "models.toml"
    models.write_text('[[model]]\nname = "ok"\nkind = "zero"\norganisation = "t"\nlicence = "MIT"\n'
                      'latency_s = 0.0\n\n[[model]]\nname = "broken"\nkind = "scripted"\norganisation = "t"\n'
                      'licence = "MIT"\nlatency_s = 0.0\nparams = { nonsense = 1 }\n')
    client = make_client(models=str(models))
    battle_id = new_battle(client)
    assert play_turn(client, battle_id, max_steps=2)["status"] == "failed"
    assert play_turn(client, battle_id, max_steps=2)["start"] == "reset"  # nothing to continue from


def test_the_instruction_is_understood_before_it_runs(client: TestClient, new_battle: Callable[..., str]) -> None:
    battle_id = new_battle(client)
    url = f"/api/battles/{battle_id}/understand"
    pick = client.get(url, params={"instruction": "grab the crimson block"}).json()
    assert pick["summary"] == "pick up · red cube"
    none = client.get(url, params={"instruction": "wave at the camera"}).json()
    assert none["summary"] == "no automatic metric for this instruction"
    refused = client.get(url, params={"instruction": "pick up the purple cube"})
    assert refused.status_code == 400
    assert refused.json()["field"] == "instruction"
    assert "no purple cube" in refused.json()["detail"]
    assert "red cube" in refused.json()["detail"]  # ... and what it has


def test_an_instruction_naming_a_missing_object_never_runs(client: TestClient, new_battle: Callable[..., str]) -> None:
    battle_id = new_battle(client)
    response = client.post(f"/api/battles/{battle_id}/turns", json={"instruction": "put the mug in the bowl"})
    assert response.status_code == 400, response.text
    assert response.json()["field"] == "instruction"
    assert client.get(f"/api/battles/{battle_id}").json()["turns"] == []
