"""Furniture for the kitchen and warehouse scenes, placed around the robot's reach so that it never stands
where the objects are placed (or where the arm hovers above them).

Kitchen: the microwave, hinge cabinet, slide cabinet and kettle of gymnasium-robotics' kitchen
(envs/assets/kitchen_franka/kitchen_assets, Apache-2.0), read from the installed package. Their textures
(8 MB, 4.7 MB of it wood) are left out: materials keep their colours. The kettle stands on the robot's right,
beside a two-burner stove (`sim_engine.stove`), both placed from the robot's reach box. Warehouse: a bin after
robosuite's bins arena (MIT; plain box geoms, so rebuilt here at a size that fits the table), a shelf built from
boxes and cardboard boxes on it. Everything here is static or starts at rest; what varies per episode (the cubes,
the bowl) stays in qpos.
"""

from __future__ import annotations

import copy
import xml.etree.ElementTree as ET

from sim_engine.robots import FRANKA, RobotSpec, asset_root
from sim_engine.stove import add_stove

KITCHEN_ITEMS = ("microwave", "hingecabinet", "slidecabinet", "kettle")
SIDE_GAP = 0.45  # m from the reach box's left edge to the microwave's centre (its door 0.24 m beyond)
CARDBOARD = "0.72 0.56 0.38 1"


def add_furniture(kind: str, root: ET.Element, robot: RobotSpec, table_top: float) -> dict[str, bytes]:
    """Add the scene's furniture to `root` (a table top at `table_top`); return its mesh files
    (bundle name -> bytes)."""
    if kind == "kitchen":
        return _kitchen(root, robot, table_top)
    if kind == "warehouse":
        _warehouse(root, robot, table_top)
    return {}


def _sections(root: ET.Element) -> tuple[ET.Element, ET.Element, ET.Element]:
    asset, default, world = root.find("asset"), root.find("default"), root.find("worldbody")
    assert asset is not None
    assert default is not None
    assert world is not None
    return asset, default, world


def _kitchen(root: ET.Element, robot: RobotSpec, table_top: float) -> dict[str, bytes]:
    base = asset_root(FRANKA).parent / "kitchen_assets"  # beside the Franka's folder in gymnasium-robotics
    asset, default, world = _sections(root)
    files: dict[str, bytes] = {}
    parts: dict[str, ET.Element] = {}
    for item in KITCHEN_ITEMS:
        inc = ET.parse(base / f"item_assets/{item}_asset.xml").getroot()
        for el in inc.findall("asset/*"):
            if el.tag == "texture":
                continue
            if el.tag == "mesh":
                name = el.get("file", "").rsplit("/", 1)[-1]
                files[f"{robot.id}/kitchen_{name}"] = (base / "meshes" / name).read_bytes()
                el.set("file", f"kitchen_{name}")
            el.attrib.pop("texture", None)
            if el.tag == "material":
                el.set("reflectance", "0")
            asset.append(el)
        for cls in inc.findall("default/default"):
            geom = cls.find("geom")
            if geom is not None:
                geom.set("density", "0")  # visual geoms weigh nothing; collision geoms state their mass
            default.append(cls)
        parts[item] = ET.parse(base / f"item_assets/{item}_chain.xml").getroot()[0]
    cx = sum(robot.reach_x) / 2
    side = robot.reach_y[1] + SIDE_GAP  # the robot's left, beside the objects, clear of the cameras
    counter = ET.SubElement(world, "body", name="side_counter", pos=f"{cx + 0.2} {side} {table_top - 0.02}")
    ET.SubElement(counter, "geom", name="side_counter", type="box", size="0.55 0.3 0.02", material="table")
    _place(world, parts["microwave"], f"{cx} {side} {table_top}")
    kettle = add_stove(root, robot, table_top)  # the kettle's start, beside the stove, handle along y
    _place(world, parts["kettle"], f"{kettle[0]} {kettle[1]} {table_top + 0.001}", free=True, quat=kettle[2])
    _place(world, parts["hingecabinet"], f"{cx - 0.05} {side + 0.05} {table_top + 0.85}")
    _place(world, parts["slidecabinet"], f"{cx + 0.8} {side + 0.05} {table_top + 0.85}")
    return files


def _place(world: ET.Element, body: ET.Element, pos: str, *, free: bool = False, quat: str | None = None) -> None:
    holder = ET.SubElement(world, "body", name=f"{body.get('name')}_mount", pos=pos)
    if quat is not None:
        holder.set("quat", quat)
    body = copy.deepcopy(body)
    if free:
        ET.SubElement(holder, "freejoint", name=f"{body.get('name')}_free")
    holder.append(body)


def _warehouse(root: ET.Element, robot: RobotSpec, table_top: float) -> None:
    asset, _, world = _sections(root)
    ET.SubElement(asset, "material", name="cardboard", rgba=CARDBOARD, reflectance="0")
    ET.SubElement(asset, "material", name="bin_wood", rgba="0.78 0.66 0.5 1", reflectance="0")
    ET.SubElement(asset, "material", name="shelf_metal", rgba="0.35 0.38 0.42 1", reflectance="0")
    cx = sum(robot.reach_x) / 2
    # robosuite's bin1: a floor and four walls; 0.3 x 0.36 m here, on the robot's right, beside the objects
    bin_y = robot.reach_y[0] - 0.34  # its near wall 0.14 m beyond the reach box (a Franka wrist is wide)
    b = ET.SubElement(world, "body", name="bin", pos=f"{cx} {bin_y} {table_top}")
    hx, hy, h, t = 0.15, 0.18, 0.05, 0.01
    walls = [("floor", 0, 0, t / 2, hx, hy, t / 2), ("wall0", hx, 0, h, t, hy + t, h),
             ("wall1", -hx, 0, h, t, hy + t, h), ("wall2", 0, hy, h, hx, t, h), ("wall3", 0, -hy, h, hx, t, h)]
    for name, x, y, z, sx, sy, sz in walls:
        ET.SubElement(b, "geom", name=f"bin_{name}", type="box", pos=f"{x} {y} {z}", size=f"{sx} {sy} {sz}",
                      material="bin_wood", friction="1 0.005 0.0001")
    # a shelf of boxes on the robot's left: two uprights, three boards, cardboard boxes on the boards
    sy_ = robot.reach_y[1] + 0.34
    shelf = ET.SubElement(world, "body", name="shelf", pos=f"{cx} {sy_} {table_top}")
    for i, x in enumerate((-0.3, 0.3)):
        ET.SubElement(shelf, "geom", name=f"shelf_post{i}", type="box", pos=f"{x} 0 0.35", size="0.015 0.15 0.35",
                      material="shelf_metal")
    for i, z in enumerate((0.01, 0.3, 0.6)):
        ET.SubElement(shelf, "geom", name=f"shelf_board{i}", type="box", pos=f"0 0 {z}", size="0.3 0.15 0.01",
                      material="shelf_metal")
        for j, x in enumerate((-0.18, 0.02, 0.19)):
            size = 0.05 + 0.015 * ((i + j) % 3)
            ET.SubElement(shelf, "geom", name=f"shelf_box{i}{j}", type="box", material="cardboard",
                          pos=f"{x} 0 {z + 0.01 + size}", size=f"{size + 0.02} {min(size + 0.03, 0.12)} {size}")
