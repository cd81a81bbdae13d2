"""Training samples for the learned VLA from demos: every control step's observation is re-rendered from the exact
recorded state (the same renderer and cameras the policy sees in the arena), passed once through the
frozen MobileNetV2, and cached with the step's proprioception, instruction, labels (the expert's next
actions) and auxiliary targets (object and destination relative to the end effector)."""

from __future__ import annotations

import multiprocessing as mp
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

import sim_engine  # noqa: F401  -- sets MUJOCO_GL (offscreen rendering) before mujoco is imported
from policy_host.learned.samples import CAMERA_KEYS, MAX_CHUNK, Samples, proprio_of, proprio_size

if TYPE_CHECKING:
    import mujoco

    from sim_engine.world import World

PUSH_DIRECTIONS = {"left": (0, 1), "right": (0, -1), "forward": (1, 0), "back": (-1, 0)}


def _episode(args: tuple[str, int, int]) -> dict:
    import mujoco
    import torch

    from policy_host.learned.backbone import Backbone
    from replay_format import decode_replay
    from sim_engine.observe import observe_recorded
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
    proprio = np.zeros((n, proprio_size(len(world.arm_qpos))), np.float32)
    aux = np.zeros((n, 6), np.float32)
    for k, f in enumerate(h.step_frames):
        images[k], obs = observe_recorded(world, data, renderer, replay.frames["qpos"][f], CAMERA_KEYS)
        proprio[k] = proprio_of(obs)
        aux[k] = _aux(world, data, task, world.ee_pos(data))
    renderer.close()
    flat = Backbone.shared().features(images.reshape(-1, size, size, 3))
    feats = flat.reshape(n, len(CAMERA_KEYS), *Backbone.shape(size))
    idx = np.minimum(np.arange(n)[:, None] + np.arange(MAX_CHUNK)[None, :], n - 1)
    return {"feats": feats.astype(np.float16), "proprio": proprio, "aux": aux,
            "actions": labels[idx].astype(np.float32), "episode": np.full(n, index, np.int32),
            "texts": [h.metadata["instruction"]] * n, "family": [task["family"]] * n}


def _aux(world: World, data: mujoco.MjData, task: dict, ee: np.ndarray) -> np.ndarray:
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
    from sim_engine.demos import read_manifest

    records = [r for r in read_manifest(demo_dir) if r.success or not only_success][:limit]
    jobs = [(str(demo_dir / r.file), i, size) for i, r in enumerate(records)]
    parts: list[dict] = []
    ctx = mp.get_context("spawn")
    with ctx.Pool(workers) as pool:
        for part in pool.imap(_episode, jobs, chunksize=2):
            parts.append(part)
            if progress:
                progress(len(parts), len(jobs))
    return Samples.concat([Samples(**p) for p in parts])
