"""Build policy observations with RoboArena/DROID keys, rendering images only when asked.

Keys: observation/joint_position (7), observation/cartesian_position (6: xyz + XYZ Euler),
observation/gripper_position (1, 0 open .. 1 closed), prompt; camera images when the policy's metadata
asks for them; privileged/* for privileged (scripted) policies."""

from __future__ import annotations

import mujoco
import numpy as np

from schemas.policy import CameraSpec, Observation, PolicyMetadata
from schemas.task import TaskSpec
from sim_engine.actions import ActionAdapter
from sim_engine.fixtures import fixture_targets
from sim_engine.scene import CUBE_HALF, TABLE_TOP
from sim_engine.world import World

CAMERA_NAMES = {
    "observation/exterior_image_1_left": "exterior_1_left",
    "observation/wrist_image_left": "wrist",
}


def cartesian_position(pos: np.ndarray, mat: np.ndarray) -> np.ndarray:
    """DROID's `observation/cartesian_position`: end-effector x, y, z (m, world frame) and its
    orientation as extrinsic XYZ Euler angles (rad), 6 values."""
    r = mat.reshape(3, 3)
    sy = float(np.hypot(r[0, 0], r[1, 0]))
    if sy > 1e-9:
        angles = (np.arctan2(r[2, 1], r[2, 2]), np.arctan2(-r[2, 0], sy), np.arctan2(r[1, 0], r[0, 0]))
    else:  # gimbal lock: pitch +-90 degrees
        angles = (np.arctan2(-r[1, 2], r[1, 1]), np.arctan2(-r[2, 0], sy), 0.0)
    return np.concatenate([pos, np.array(angles, dtype=np.float64)])


def proprioception(world: World, data: mujoco.MjData) -> Observation:
    """The proprioceptive keys, from kinematics already computed for `data`."""
    return {
        "observation/joint_position": data.qpos[world.arm_qpos].copy(),
        "observation/cartesian_position": cartesian_position(world.ee_pos(data), world.ee_mat(data)),
        "observation/gripper_position": np.array([world.gripper_closure(data)]),
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
        # After mj_step, positions derived from qpos (sites, geoms, cameras) still describe the state
        # before the last integration. Recompute them (physics is untouched: mj_step recomputes them
        # anyway), so that an observation is a function of the recorded qpos alone and can be
        # re-rendered exactly from a replay.
        mujoco.mj_kinematics(w.model, data)
        mujoco.mj_camlight(w.model, data)
        obs = proprioception(w, data)
        obs["prompt"] = self.instruction
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
            "privileged/fixtures": fixture_targets(w, data),  # drops in the bin, on the shelf; the kettle now
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


def observe_recorded(world: World, data: mujoco.MjData, renderer: mujoco.Renderer, qpos: np.ndarray,
                     camera_keys: tuple[str, ...]) -> tuple[np.ndarray, Observation]:
    """What a policy observed at a recorded state, rebuilt from qpos alone: (images (cameras, H, W, 3),
    the proprioceptive keys). Bit-identical to what Observer gave during the episode (tested), since an
    observation is a function of qpos (Observer recomputes kinematics first)."""
    data.qpos[:] = qpos
    mujoco.mj_kinematics(world.model, data)
    mujoco.mj_camlight(world.model, data)
    images = []
    for key in camera_keys:
        renderer.update_scene(data, camera=CAMERA_NAMES[key])
        images.append(renderer.render().copy())
    return np.stack(images), proprioception(world, data)
