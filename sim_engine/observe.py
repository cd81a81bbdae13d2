"""Build policy observations with RoboArena/DROID keys, rendering images only when asked."""

from __future__ import annotations

import mujoco
import numpy as np

from schemas.policy import CameraSpec, Observation, PolicyMetadata
from schemas.task import TaskSpec
from sim_engine.actions import ActionAdapter
from sim_engine.scene import CUBE_HALF, TABLE_TOP
from sim_engine.world import World

CAMERA_NAMES = {
    "observation/exterior_image_1_left": "exterior_1_left",
    "observation/wrist_image_left": "wrist",
}


class Observer:
    """Per-episode observation builder; owns the renderers it creates (close() frees them)."""

    def __init__(self, world: World, meta: PolicyMetadata, instruction: str, task: TaskSpec) -> None:
        self.world, self.meta, self.instruction, self.task = world, meta, instruction, task
        self._renderers: dict[tuple[int, int], mujoco.Renderer] = {}
        for cam in meta.cameras:
            if cam.key not in CAMERA_NAMES:
                raise ValueError(f"unknown camera key {cam.key!r}; known: {sorted(CAMERA_NAMES)}")

    def __call__(self, data: mujoco.MjData, adapter: ActionAdapter) -> Observation:
        w = self.world
        obs: Observation = {
            "observation/joint_position": data.qpos[w.arm_qpos].copy(),
            "observation/gripper_position": np.array([w.gripper_closure(data)]),
            "prompt": self.instruction,
        }
        for cam in self.meta.cameras:
            obs[cam.key] = self._render(data, cam)
        if self.meta.privileged:
            obs.update(self._privileged(data, adapter))
        return obs

    def _privileged(self, data: mujoco.MjData, adapter: ActionAdapter) -> Observation:
        w = self.world
        return {
            "privileged/objects": {n: np.concatenate([w.object_pos(data, n), w.object_quat(data, n)])
                                   for n in w.objects},
            "privileged/ee_pos": w.ee_pos(data),
            "privileged/ee_mat": w.ee_mat(data),
            "privileged/ee_target_pos": adapter.ee_pos.copy(),
            "privileged/ee_target_mat": adapter.ee_mat.copy(),
            "privileged/task": self.task,
            "privileged/time": float(data.time),
            "privileged/table_top": TABLE_TOP,
            "privileged/cube_half": CUBE_HALF,
        }

    def _render(self, data: mujoco.MjData, cam: CameraSpec) -> np.ndarray:
        key = (cam.width, cam.height)
        renderer = self._renderers.get(key)
        if renderer is None:
            renderer = self._renderers[key] = mujoco.Renderer(self.world.model, cam.height, cam.width)
        renderer.update_scene(data, camera=CAMERA_NAMES[cam.key])
        return renderer.render().copy()

    def close(self) -> None:
        for renderer in self._renderers.values():
            renderer.close()
        self._renderers.clear()
