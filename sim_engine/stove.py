"""The kitchen's stove: two burners (left, right) on the counter at the robot's right, and where the kettle
starts beside them, all placed from the robot's reach box (`RobotSpec.reach_x`, `reach_y`), so every robot
gets the same arrangement at its own scale.

The burners are visual only (no contacts): a dark plate with two rings, and a site per burner
(`burner_left`, `burner_right`) that `sim_engine.fixtures` reads their centres from. Left is +y (the robot's
left), as everywhere. The kettle starts nearer the robot's base than the burners and between them across,
turned so that its handle runs along y and its spout points away from the reach box.

Clearances (a Franka; the other robots the same relative to their box): the kettle's 0.244 m body starts
wholly outside the box and out of the way of a cube pushed right out of it (the expert pushes 16 cm past a
cube's start); on a burner it stays clear of the cubes. The right burner's centre is within the end
effector's workspace (`sim_engine.actions.WORKSPACE_LOW`, y >= -0.55).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np

from sim_engine.robots import RobotSpec

# offsets (m) from the reach box's near right corner (reach_x[0], reach_y[0])
BURNERS = {"left": (0.02, -0.17), "right": (0.02, -0.32)}
KETTLE_START = (-0.22, -0.27)
KETTLE_HALF = 0.122  # half the kettle body's footprint (gymnasium-robotics' kettle collision box)
BURNER_RADIUS = 0.07  # m, the drawn disc (the kettle counts as on it within scene_tasks.ON_BURNER)
KETTLE_YAW = np.pi / 2  # handle along y, spout towards -y


def burner_centres(robot: RobotSpec) -> dict[str, tuple[float, float]]:
    """Burner name ("left", "right") -> its centre (x, y) on the counter."""
    x0, y0 = robot.reach_x[0], robot.reach_y[0]
    return {k: (round(x0 + dx, 4), round(y0 + dy, 4)) for k, (dx, dy) in BURNERS.items()}


def kettle_start(robot: RobotSpec, table_near_x: float) -> tuple[float, float]:
    """Where the kettle stands at reset: (x, y), kept wholly on the table (its near edge at `table_near_x`)."""
    x0, y0 = robot.reach_x[0], robot.reach_y[0]
    return (round(max(x0 + KETTLE_START[0], table_near_x + KETTLE_HALF + 0.01), 4), round(y0 + KETTLE_START[1], 4))


def add_stove(root: ET.Element, robot: RobotSpec, table_top: float) -> tuple[float, float, str]:
    """Add the stove to `root`'s worldbody; return the kettle's start (x, y, quat)."""
    asset, world = root.find("asset"), root.find("worldbody")
    assert asset is not None
    assert world is not None
    ET.SubElement(asset, "material", name="stove_plate", rgba="0.16 0.16 0.17 1", reflectance="0")
    ET.SubElement(asset, "material", name="burner_ring", rgba="0.45 0.12 0.06 1", reflectance="0")
    centres = burner_centres(robot)
    xs, ys = [c[0] for c in centres.values()], [c[1] for c in centres.values()]
    mid = ((min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2)
    half = (BURNER_RADIUS + 0.03, (max(ys) - min(ys)) / 2 + BURNER_RADIUS + 0.03)
    stove = ET.SubElement(world, "body", name="stove", pos=f"{mid[0]} {mid[1]} {table_top}")
    ET.SubElement(stove, "geom", name="stove_plate", type="box", size=f"{half[0]} {half[1]} 0.001", pos="0 0 0.001",
                  material="stove_plate", contype="0", conaffinity="0")
    for name, (x, y) in centres.items():
        p = f"{x - mid[0]:.4f} {y - mid[1]:.4f}"
        ET.SubElement(stove, "geom", name=f"burner_{name}", type="cylinder", size=f"{BURNER_RADIUS} 0.0015",
                      pos=f"{p} 0.0025", material="stove_plate", rgba="0.08 0.08 0.08 1", contype="0",
                      conaffinity="0")
        ET.SubElement(stove, "geom", name=f"burner_{name}_ring", type="cylinder",
                      size=f"{BURNER_RADIUS * 0.6:.4f} 0.0015", pos=f"{p} 0.003", material="burner_ring",
                      contype="0", conaffinity="0")
        ET.SubElement(stove, "site", name=f"burner_{name}", pos=f"{p} 0", size="0.01", group="3")
    table = world.find("body[@name='table']/geom[@name='table_top']")
    body = world.find("body[@name='table']")
    near = -1e9
    if table is not None and body is not None:
        near = float(body.get("pos", "0 0 0").split()[0]) - float(table.get("size", "0").split()[0])
    x, y = kettle_start(robot, near)
    return x, y, f"{np.cos(KETTLE_YAW / 2):.6f} 0 0 {np.sin(KETTLE_YAW / 2):.6f}"
