"""Camera frames of a replay rendered from its exact states, for the LeRobot export's videos.

Like sim_engine.filmstrip: qpos from the file, mj_forward, render; never re-simulated. The replay must
name the scene bundle this install composes, or the images would show another model.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from typing import TYPE_CHECKING

import mujoco
import numpy as np

from replay_format import Replay
from schemas.errors import SimulationError

if TYPE_CHECKING:
    from sim_engine.world import World


@lru_cache(maxsize=4)
def _world(robot_id: str, scene_id: str) -> World:
    from sim_engine.world import load_world

    return load_world(robot_id, scene_id)


def render_frames(replay: Replay, cameras: tuple[str, ...], width: int, height: int
                  ) -> Iterator[tuple[str, np.ndarray]]:
    """(camera, (height, width, 3) uint8 image) for every frame, cameras in the given order per frame."""
    h = replay.header
    world = _world(h.robot_id, h.scene_id)
    if world.bundle.content_hash != h.bundle_hash:
        raise SimulationError(f"replay was recorded with bundle {h.bundle_hash}, this install has "
                              f"{world.bundle.content_hash}: the video would show a different model")
    data = mujoco.MjData(world.model)
    renderers = {camera: mujoco.Renderer(world.model, height, width) for camera in cameras}
    try:
        for qpos in replay.frames["qpos"]:
            data.qpos[:] = qpos
            mujoco.mj_forward(world.model, data)
            for camera, renderer in renderers.items():
                renderer.update_scene(data, camera=camera)
                yield camera, renderer.render()
    finally:
        for renderer in renderers.values():
            renderer.close()
