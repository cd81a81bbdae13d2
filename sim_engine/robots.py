"""Robots the arena can simulate, described as data so that more can be added as entries.

The Franka Panda is the one that ships inside the PyPI package `gymnasium-robotics`
(envs/assets/kitchen_franka/franka_assets, Apache-2.0): position servos on the seven arm joints
and on both fingers. It is located with importlib.resources and never copied into this repo.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

from schemas.errors import MissingDependencyError


@dataclass(frozen=True)
class RobotSpec:
    id: str
    name: str
    description: str
    package: str  # PyPI distribution that ships the assets
    asset_dir: str  # folder inside the package
    includes: tuple[str, ...]  # mujocoinclude files: assets/defaults, kinematic chain, actuators
    arm_joints: tuple[str, ...]
    finger_joints: tuple[str, ...]
    finger_open: float  # finger joint position when fully open (closed is 0)
    ee_site: str
    wrist_body: str
    home: tuple[float, ...]  # arm joint angles at episode start (end effector pointing down)
    licence: str


FRANKA = RobotSpec(
    id="franka",
    name="Franka Emika Panda",
    description="7-DoF arm with a parallel gripper; position servos on joints and fingers.",
    package="gymnasium_robotics",
    asset_dir="envs/assets/kitchen_franka/franka_assets",
    includes=("assets.xml", "chain.xml", "actuator.xml"),
    arm_joints=tuple(f"robot:panda0_joint{i}" for i in range(1, 8)),
    finger_joints=("robot:panda0_finger_joint1", "robot:panda0_finger_joint2"),
    finger_open=0.04,
    ee_site="end_effector",
    wrist_body="panda0_link7",
    home=(0.0, -0.259, 0.0, -2.4322, 0.0, 0.6032, 0.0),
    licence="Apache-2.0",
)

ROBOTS: dict[str, RobotSpec] = {FRANKA.id: FRANKA}


def asset_root(robot: RobotSpec) -> Path:
    """The robot's asset folder inside its installed package."""
    # find_spec locates the package without importing it (importing gymnasium_robotics is slow and noisy)
    spec = importlib.util.find_spec(robot.package)
    if spec is None or not spec.submodule_search_locations:
        raise MissingDependencyError(robot.package, f"pip install {robot.package.replace('_', '-')}")
    return Path(next(iter(spec.submodule_search_locations))) / robot.asset_dir
