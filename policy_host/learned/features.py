"""Training samples from demos: every control step's observation is re-rendered from the exact
recorded state (the same renderer and cameras the policy sees in the arena), passed once through the
frozen MobileNetV2, and cached with the step's proprioception, instruction, labels (the expert's next
actions) and auxiliary targets (object and destination relative to the end effector)."""

from __future__ import annotations

import multiprocessing as mp
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import sim_engine  # noqa: F401  -- sets MUJOCO_GL (offscreen rendering) before mujoco is imported

MAX_CHUNK = 8
CAMERA_KEYS = ("observation/exterior_image_1_left", "observation/wrist_image_left")
PUSH_DIRECTIONS = {"left": (0, 1), "right": (0, -1), "forward": (1, 0), "back": (-1, 0)}


@dataclass
class Samples:
    feats: np.ndarray  # (N, cameras, 96, h, w) float16
    proprio: np.ndarray  # (N, 14) float32
    texts: list[str]  # instruction per sample
    actions: np.ndarray  # (N, MAX_CHUNK, 7) float32: the expert's actions from this step on
    aux: np.ndarray  # (N, 6) float32
    episode: np.ndarray  # (N,) int32
    family: list[str]

    def save(self, path: Path) -> None:
        np.savez(path, feats=self.feats, proprio=self.proprio, texts=np.array(self.texts), actions=self.actions,
                 aux=self.aux, episode=self.episode, family=np.array(self.family))

    @classmethod
    def load(cls, path: Path) -> Samples:
        z = np.load(path)
        return cls(z["feats"], z["proprio"], list(z["texts"]), z["actions"], z["aux"], z["episode"], list(z["family"]))

    def __len__(self) -> int:
        return len(self.proprio)


def proprio_of(obs: dict) -> np.ndarray:
    return np.concatenate([obs["observation/joint_position"], obs["observation/cartesian_position"],
                           obs["observation/gripper_position"]]).astype(np.float32)


def observe_state(world, data, renderer, qpos: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """What the policy observed at a recorded state: (images (cameras, H, W, 3), proprio (14,)).
    The arena's Observer computes the same from the same qpos (tested bit for bit)."""
    import mujoco

    from sim_engine.observe import CAMERA_NAMES, cartesian_position

    data.qpos[:] = qpos
    mujoco.mj_kinematics(world.model, data)
    mujoco.mj_camlight(world.model, data)
    images = []
    for key in CAMERA_KEYS:
        renderer.update_scene(data, camera=CAMERA_NAMES[key])
        images.append(renderer.render().copy())
    ee = world.ee_pos(data)
    proprio = np.concatenate([data.qpos[world.arm_qpos], cartesian_position(ee, world.ee_mat(data)),
                              [world.gripper_closure(data)]]).astype(np.float32)
    return np.stack(images), proprio


def _episode(args: tuple[str, int, int]) -> dict:
    import mujoco
    import torch

    from policy_host.learned.backbone import Backbone
    from replay_format import decode_replay
    from sim_engine.world import load_world

    path, index, size = args
    torch.set_num_threads(1)
    replay = decode_replay(Path(path).read_bytes())
    h = replay.header
    world = load_world(h.robot_id, h.scene_id)
    data = mujoco.MjData(world.model)
    renderer = mujoco.Renderer(world.model, size, size)
    task = h.metadata["task"]
    labels = replay.steps["expert_action"]
    n = len(h.step_frames)
    images = np.zeros((n, len(CAMERA_KEYS), size, size, 3), np.uint8)
    proprio = np.zeros((n, 14), np.float32)
    aux = np.zeros((n, 6), np.float32)
    for k, f in enumerate(h.step_frames):
        images[k], proprio[k] = observe_state(world, data, renderer, replay.frames["qpos"][f])
        aux[k] = _aux(world, data, task, world.ee_pos(data))
    renderer.close()
    flat = Backbone.shared().features(images.reshape(-1, size, size, 3))
    feats = flat.reshape(n, len(CAMERA_KEYS), *Backbone.shape(size))
    idx = np.minimum(np.arange(n)[:, None] + np.arange(MAX_CHUNK)[None, :], n - 1)
    return {"feats": feats.astype(np.float16), "proprio": proprio, "aux": aux,
            "actions": labels[idx].astype(np.float32), "episode": np.full(n, index, np.int32),
            "texts": [h.metadata["instruction"]] * n, "family": [task["family"]] * n}


def _aux(world, data, task: dict, ee: np.ndarray) -> np.ndarray:
    obj = task.get("object")
    if not obj or obj not in world.objects:
        return np.zeros(6, np.float32)
    pos = world.object_pos(data, obj)
    if task["family"] == "place" and task.get("target") in world.objects:
        dest = world.object_pos(data, task["target"])
    elif task["family"] == "push":
        u = PUSH_DIRECTIONS.get(task.get("direction") or "left", (0, 1))
        dest = pos + 0.16 * np.array([u[0], u[1], 0.0])
    else:
        dest = pos + np.array([0.0, 0.0, 0.15])
    return np.concatenate([pos - ee, dest - ee]).astype(np.float32)


def build(demo_dir: Path, size: int = 160, workers: int = 2, only_success: bool = True,
          limit: int | None = None, progress: Callable[[int, int], None] | None = None) -> Samples:
    from policy_host.learned.demos import read_manifest

    records = [r for r in read_manifest(demo_dir) if r.success or not only_success][:limit]
    jobs = [(str(demo_dir / r.file), i, size) for i, r in enumerate(records)]
    parts: list[dict] = []
    ctx = mp.get_context("spawn")
    with ctx.Pool(workers) as pool:
        for part in pool.imap(_episode, jobs, chunksize=2):
            parts.append(part)
            if progress:
                progress(len(parts), len(jobs))
    return Samples(
        feats=np.concatenate([p["feats"] for p in parts]), proprio=np.concatenate([p["proprio"] for p in parts]),
        texts=[t for p in parts for t in p["texts"]], actions=np.concatenate([p["actions"] for p in parts]),
        aux=np.concatenate([p["aux"] for p in parts]), episode=np.concatenate([p["episode"] for p in parts]),
        family=[f for p in parts for f in p["family"]])
