"""Render a replay's exact states to a filmstrip image, for people who would rather look than read.

States are set, never re-simulated: qpos from the file, then mj_forward, then render. The replay must
name the bundle this process composes, or the picture would show another model.
"""

from __future__ import annotations

import copy

import mujoco
import numpy as np

from replay_format import Replay
from schemas.errors import SimulationError
from sim_engine.world import load_world


def filmstrip(replay: Replay, *, tiles: int = 6, camera: str = "exterior_1_left", width: int = 320,
              height: int = 240) -> np.ndarray:
    """An (height, tiles*width, 3) uint8 image of evenly spaced frames, first and last included."""
    h = replay.header
    world = load_world(h.robot_id, h.scene_id)
    if world.bundle.content_hash != h.bundle_hash:
        raise SimulationError(f"replay was recorded with bundle {h.bundle_hash}, this install has "
                              f"{world.bundle.content_hash}: the picture would show a different model")
    data = mujoco.MjData(world.model)
    qpos = replay.frames["qpos"]
    picks = np.linspace(0, len(qpos) - 1, num=min(tiles, len(qpos))).round().astype(int)
    model = copy.deepcopy(world.model)  # antialiased for people, unlike the policies' cameras
    model.vis.quality.offsamples = 4
    with mujoco.Renderer(model, height, width) as renderer:
        images = []
        for i in picks:
            data.qpos[:] = qpos[i]
            mujoco.mj_forward(world.model, data)
            renderer.update_scene(data, camera=camera)
            images.append(renderer.render().copy())
    return np.concatenate(images, axis=1)
