"""A compiled robot+scene with the addresses the arena needs, and seeded episode resets."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import mujoco
import numpy as np

from sim_engine.robots import RobotSpec
from sim_engine.scene import (
    BOWL_INNER,
    CUBE_HALF,
    TABLE_TOP,
    Bundle,
    SceneSpec,
    build_bundle,
    get_robot,
    get_scene,
)

# Where objects may be placed at reset (robot frame: +x away from the robot, +y to its left).
PLACE_X = (0.38, 0.62)
PLACE_Y = (-0.22, 0.22)
MIN_GAP = 0.09  # between cube centres
BOWL_GAP = 0.14  # between the bowl centre and any cube


@dataclass(frozen=True)
class World:
    """Immutable, shareable across threads: each episode makes its own MjData."""

    robot: RobotSpec
    scene: SceneSpec
    bundle: Bundle
    model: mujoco.MjModel
    arm_qpos: np.ndarray  # qpos addresses of the arm joints
    arm_dof: np.ndarray
    finger_qpos: np.ndarray
    arm_act: np.ndarray  # actuator ids of the arm joints, in arm-joint order
    finger_act: np.ndarray
    ee_site: int
    objects: dict[str, int]  # object name ("red", "green", "blue", "bowl") -> qpos address of its free joint

    def object_pos(self, data: mujoco.MjData, name: str) -> np.ndarray:
        adr = self.objects[name]
        return data.qpos[adr : adr + 3].copy()

    def object_quat(self, data: mujoco.MjData, name: str) -> np.ndarray:
        adr = self.objects[name]
        return data.qpos[adr + 3 : adr + 7].copy()

    def ee_pos(self, data: mujoco.MjData) -> np.ndarray:
        return data.site_xpos[self.ee_site].copy()

    def ee_mat(self, data: mujoco.MjData) -> np.ndarray:
        return data.site_xmat[self.ee_site].reshape(3, 3).copy()

    def gripper_closure(self, data: mujoco.MjData) -> float:
        """0 fully open .. 1 fully closed, from the finger joint positions (DROID convention)."""
        r = self.robot  # closed is 0.0 on the Franka: subtracting it is exact
        opening = (float(np.mean(data.qpos[self.finger_qpos])) - r.finger_closed) / (r.finger_open - r.finger_closed)
        return float(np.clip(1.0 - opening, 0.0, 1.0))

    def finger_command(self, closure: float) -> float:
        """Finger actuator target for a closure in [0, 1] (0 open)."""
        r = self.robot
        return r.finger_closed + (r.finger_open - r.finger_closed) * (1.0 - closure)

    def reset(self, data: mujoco.MjData, seed: int) -> None:
        """Home the robot and place the objects from `seed` (deterministic)."""
        mujoco.mj_resetData(self.model, data)
        data.qpos[self.arm_qpos] = self.robot.home
        data.qpos[self.finger_qpos] = self.robot.finger_open
        data.ctrl[self.arm_act] = self.robot.home
        data.ctrl[self.finger_act] = self.robot.finger_open
        for name, value in self.robot.coupled:
            data.qpos[self.model.jnt_qposadr[mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_JOINT, name)]] = value
        for name, (x, y, yaw) in sample_layout(seed, self.scene, self.robot).items():
            adr = self.objects[name]
            z = TABLE_TOP + (CUBE_HALF if name != "bowl" else 0.0)
            data.qpos[adr : adr + 7] = (x, y, z, np.cos(yaw / 2), 0.0, 0.0, np.sin(yaw / 2))
        mujoco.mj_forward(self.model, data)


def sample_layout(seed: int, scene: SceneSpec, robot: RobotSpec | None = None) -> dict[str, tuple[float, float, float]]:
    """(x, y, yaw) for every object, drawn by rejection sampling from `seed` within the robot's reach
    (the Franka's, PLACE_X and PLACE_Y, when no robot is given)."""
    place_x, place_y = (PLACE_X, PLACE_Y) if robot is None else (robot.reach_x, robot.reach_y)
    rng = np.random.default_rng(seed)
    placed: dict[str, tuple[float, float, float]] = {}
    names = list(scene.cubes) + (["bowl"] if scene.bowl else [])
    for name in names:
        for _ in range(1000):
            x, y = rng.uniform(*place_x), rng.uniform(*place_y)
            if all(_far_enough(name, other, x, y, p) for other, p in placed.items()):
                break
        yaw = float(rng.uniform(-np.pi / 4, np.pi / 4)) if name != "bowl" else 0.0
        placed[name] = (float(x), float(y), yaw)
    return placed


def _far_enough(name: str, other: str, x: float, y: float, p: tuple[float, float, float]) -> bool:
    gap = BOWL_GAP if "bowl" in (name, other) else MIN_GAP
    if "bowl" in (name, other):
        gap = BOWL_INNER + 0.08
    return bool(np.hypot(x - p[0], y - p[1]) >= gap)


@cache
def load_world(robot_id: str, scene_id: str) -> World:
    """Compile (once per process) the model for a robot+scene pair."""
    robot, scene = get_robot(robot_id), get_scene(scene_id, robot_id)
    bundle = build_bundle(robot_id, scene_id)
    assets = {k: v for k, v in bundle.files.items() if k != bundle.entry}
    model = mujoco.MjModel.from_xml_string(bundle.files[bundle.entry].decode(), assets)

    def jid(name: str) -> int:
        return mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_JOINT, name)

    def act_for(joint: str) -> int:
        j = jid(joint)
        return next(a for a in range(model.nu) if model.actuator_trnid[a, 0] == j)

    arm = [jid(n) for n in robot.arm_joints]
    fingers = [jid(n) for n in robot.finger_joints]
    objects = {c: int(model.jnt_qposadr[jid(f"cube_{c}")]) for c in scene.cubes}
    if scene.bowl:
        objects["bowl"] = int(model.jnt_qposadr[jid("bowl")])
    return World(
        robot=robot, scene=scene, bundle=bundle, model=model,
        arm_qpos=model.jnt_qposadr[arm].copy(), arm_dof=model.jnt_dofadr[arm].copy(),
        finger_qpos=model.jnt_qposadr[fingers].copy(),
        arm_act=np.array([act_for(n) for n in robot.arm_joints]),
        finger_act=np.array([act_for(n) for n in robot.finger_joints]),
        ee_site=mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_SITE, robot.ee_site),
        objects=objects,
    )
