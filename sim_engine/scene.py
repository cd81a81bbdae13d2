"""Compose a robot and a scene into one self-contained MJCF bundle.

A bundle is the scene XML plus every asset file it references, keyed by the path the XML uses.
The same bundle feeds native MuJoCo here and MuJoCo WASM in the browser, and its content hash is
written into every replay header, so a replay names exactly the model it was recorded with.

Everything that varies per episode (cube and bowl placement) lives in qpos, never in the XML, so one
bundle serves every seed.
"""

from __future__ import annotations

import copy
import hashlib
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from functools import cache, cached_property
from typing import Any

import numpy as np

from schemas.errors import NotFoundError, SimulationError
from sim_engine.robot_models import build_parts
from sim_engine.robots import ROBOTS, RobotSpec, asset_root
from sim_engine.scene_extras import add_furniture

TABLE_TOP = 0.4
CUBE_HALF = 0.02
BOWL_INNER = 0.065  # half-width of the bowl's inner floor
BOWL_WALL = 0.045  # wall height
SLEEP_TOLERANCE = "0.001"  # MuJoCo 3.14's default, pinned in the bundle so a replay names it
COLOURS: dict[str, str] = {"red": "0.85 0.15 0.15 1", "green": "0.2 0.7 0.25 1", "blue": "0.15 0.35 0.9 1"}


@dataclass(frozen=True)
class SceneSpec:
    id: str
    name: str
    description: str
    cubes: tuple[str, ...] = tuple(COLOURS)
    bowl: bool = True
    furniture: str | None = None  # "kitchen" | "warehouse": sim_engine.scene_extras
    fixtures: tuple[str, ...] = ()  # furniture a voter may name (never refused as absent; sim_engine.scene_tasks)
    # Robots offered in this scene: only cells that compile, hold their home pose and where the scripted
    # expert picks reliably (tests/sim_engine/test_robots.py, bench/bench_robots.py).
    robots: tuple[str, ...] = ("franka", "ur5e", "widowx")
    # MuJoCo body sleeping: an object at rest (velocities under SLEEP_TOLERANCE) freezes, qvel exactly 0, until
    # touched; the robot never sleeps. Replays lose resting objects' solver noise: qpos+qvel ~342 -> ~144 B/frame.
    sleep: bool = True


SCENES: dict[str, SceneSpec] = {
    "table": SceneSpec(
        id="table",
        name="Table top",
        description="Red, green and blue cubes and a bowl, laid out from the turn's seed.",
    ),
    "table-cubes": SceneSpec(
        id="table-cubes",
        name="Table top, cubes only",
        description="Red, green and blue cubes laid out from the turn's seed; no bowl.",
        bowl=False,
    ),
    "kitchen": SceneSpec(
        id="kitchen",
        name="Kitchen counter",
        description="A counter beside a microwave, a kettle and wall cabinets; red, green and blue cubes and a "
                    "bowl laid out from the turn's seed.",
        furniture="kitchen",
        fixtures=("microwave", "kettle", "cabinet", "drawer", "stove"),
    ),
    "warehouse": SceneSpec(
        id="warehouse",
        name="Warehouse bench",
        description="A packing bench between a bin and a shelf of boxes; red, green and blue cubes laid out "
                    "from the turn's seed.",
        bowl=False,
        furniture="warehouse",
        fixtures=("bin", "shelf"),
    ),
}


@dataclass(frozen=True)
class Bundle:
    """Scene XML and its assets. `files[entry]` is the XML; other keys are asset paths."""

    robot_id: str
    scene_id: str
    entry: str
    files: dict[str, bytes] = field(repr=False)

    @cached_property
    def content_hash(self) -> str:
        """Computed once per bundle (~12 ms over the Franka's 6.8 MB of meshes; every episode header needs it)."""
        return bundle_hash(self.files)


def bundle_hash(files: dict[str, bytes]) -> str:
    """sha256 over the files sorted by path: for each, utf-8 path, NUL, 8-byte LE length, bytes."""
    h = hashlib.sha256()
    for path in sorted(files):
        data = files[path]
        h.update(path.encode() + b"\0" + len(data).to_bytes(8, "little"))
        h.update(data)
    return "sha256:" + h.hexdigest()


def get_robot(robot_id: str) -> RobotSpec:
    try:
        return ROBOTS[robot_id]
    except KeyError:
        raise NotFoundError("robot", robot_id) from None


def get_scene(scene_id: str, robot_id: str | None = None) -> SceneSpec:
    scene = SCENES.get(scene_id)
    if scene is None:
        raise NotFoundError("scene", scene_id)
    if robot_id is not None and robot_id not in scene.robots:
        raise NotFoundError("scene", f"{scene_id} for robot {robot_id}")
    return scene


@cache
def build_bundle(robot_id: str, scene_id: str) -> Bundle:
    """Compose robot + scene into a bundle (cached: the result is immutable)."""
    robot = get_robot(robot_id)
    scene = get_scene(scene_id, robot_id)
    root = ET.Element("mujoco", model=f"{robot_id}-{scene_id}")
    mesh_files = _add_robot_parts(root, robot)
    _add_visual(root)
    if scene.sleep:
        _enable_sleep(root)
    world = root.find("worldbody")
    assert world is not None
    _add_environment(world)
    for colour in scene.cubes:
        world.append(_cube(colour))
    if scene.bowl:
        world.append(_bowl())
    extra = {} if scene.furniture is None else add_furniture(scene.furniture, root, robot, TABLE_TOP)
    ET.indent(root)
    xml = ET.tostring(root, encoding="unicode").encode()
    files = {"scene.xml": xml}
    if robot.builder is not None:
        files.update({f"{robot.id}/{flat}": data for flat, data in sorted(mesh_files.items())})
    else:
        meshdir = asset_root(robot) / "meshes"
        for flat, src in sorted(mesh_files.items()):
            files[f"{robot.id}/{flat}"] = (meshdir / src).read_bytes()
    files.update(sorted(extra.items()))
    return Bundle(robot_id=robot_id, scene_id=scene_id, entry="scene.xml", files=files)


def _load_include(robot: RobotSpec, name: str) -> ET.Element:
    path = asset_root(robot) / name
    try:
        return ET.parse(path).getroot()
    except (OSError, ET.ParseError) as exc:
        raise SimulationError(f"cannot read robot asset {path}: {exc}") from exc


def _add_robot_parts(root: ET.Element, robot: RobotSpec) -> dict[str, Any]:
    """Inline the robot's include files (or its builder's parts); return the mesh files they reference:
    {bundle name: source path} for included files, {bundle name: bytes} for a builder's."""
    if robot.builder is not None:
        parts = build_parts(robot.builder)
        wrapped = [ET.Element("asset"), ET.Element("default")]
        wrapped[0].extend(parts.assets)
        wrapped[1].extend(parts.defaults)
        chain = ET.Element("chain")
        chain.extend(parts.chain)
        actuators = ET.Element("extras")
        actuators.extend(parts.extras)
        _compose(root, robot, wrapped, chain, actuators)
        return parts.files
    assets, chain, actuators = (_load_include(robot, n) for n in robot.includes)
    asset = _compose(root, robot, list(assets), chain, actuators)
    return _flatten_mesh_paths(asset)


def _compose(root: ET.Element, robot: RobotSpec, assets: list[ET.Element], chain: ET.Element,
             actuators: ET.Element) -> ET.Element:
    ET.SubElement(root, "compiler", angle="radian", meshdir=robot.id, autolimits="true")
    ET.SubElement(root, "option", timestep="0.002", integrator="implicitfast")
    ET.SubElement(root, "size", nuser_actuator="5")
    asset = ET.SubElement(root, "asset")
    default = ET.SubElement(root, "default")
    for el in assets:
        if el.tag == "asset":
            asset.extend(copy.deepcopy(list(el)))
        elif el.tag == "default":
            default.extend(copy.deepcopy(list(el)))
    _add_materials(asset)
    world = ET.SubElement(root, "worldbody")
    base = ET.SubElement(world, "body", name="robot_base", pos=f"0 0 {TABLE_TOP}")
    base.extend(copy.deepcopy(list(chain)))
    for body in base.iter("body"):
        body.set("gravcomp", "1")  # the real arm's controller compensates gravity; servos alone would sag
    wrist = next((b for b in base.iter("body") if b.get("name") == robot.wrist_body), None)
    if wrist is None:
        raise SimulationError(f"robot {robot.id} has no body {robot.wrist_body!r}")
    # Looks along the gripper, from beside the hand (the Franka's: link +z).
    pos, xyaxes = robot.wrist_camera
    ET.SubElement(wrist, "camera", name="wrist", pos=pos, xyaxes=xyaxes, fovy="80")
    for el in actuators:
        root.append(copy.deepcopy(el))
    return asset


def _enable_sleep(root: ET.Element) -> None:
    option = root.find("option")
    assert option is not None
    option.set("sleep_tolerance", SLEEP_TOLERANCE)
    ET.SubElement(option, "flag", sleep="enable")


def _flatten_mesh_paths(asset: ET.Element) -> dict[str, str]:
    """Give every mesh a unique flat file name (MuJoCo's asset dicts key on base names, and the
    robot ships collision/link0.stl next to visual/link0.stl). Returns {bundle name: source path}."""
    renamed: dict[str, str] = {}
    for mesh in asset.iter("mesh"):
        src = mesh.get("file")
        if src:
            flat = src.replace("/", "_")
            mesh.set("file", flat)
            renamed[flat] = src
    return renamed


def _add_materials(asset: ET.Element) -> None:
    ET.SubElement(asset, "texture", name="floor_grid", type="2d", builtin="checker", width="256",
                  height="256", rgb1="0.32 0.34 0.38", rgb2="0.26 0.28 0.31")
    ET.SubElement(asset, "material", name="floor", texture="floor_grid", texrepeat="8 8", reflectance="0")
    ET.SubElement(asset, "material", name="table", rgba="0.62 0.5 0.38 1", reflectance="0")
    ET.SubElement(asset, "material", name="bowl", rgba="0.92 0.9 0.84 1", reflectance="0")


def _add_visual(root: ET.Element) -> None:
    visual = ET.SubElement(root, "visual")
    # No shadows (~6x faster offscreen on CPU) and no multisampling for camera observations (another
    # ~1.6x: the Franka's visual meshes make software rasterisation the cost of every policy image).
    ET.SubElement(visual, "quality", shadowsize="0", offsamples="0")
    ET.SubElement(visual, "global", offwidth="640", offheight="480")
    ET.SubElement(visual, "headlight", ambient="0.35 0.35 0.35", diffuse="0.5 0.5 0.5")


def _add_environment(world: ET.Element) -> None:
    ET.SubElement(world, "light", name="key", pos="0.6 -0.8 2.2", dir="-0.2 0.35 -1",
                  diffuse="0.6 0.6 0.6", castshadow="false")
    ET.SubElement(world, "geom", name="floor", type="plane", size="3 3 0.05", material="floor")
    table = ET.SubElement(world, "body", name="table", pos=f"0.4 0 {TABLE_TOP - 0.02}")
    ET.SubElement(table, "geom", name="table_top", type="box", size="0.5 0.6 0.02", material="table",
                  friction="1 0.005 0.0001")
    for i, (x, y) in enumerate([(0.42, 0.52), (0.42, -0.52), (-0.42, 0.52), (-0.42, -0.52)]):
        ET.SubElement(table, "geom", name=f"table_leg{i}", type="box", size="0.03 0.03 0.19",
                      pos=f"{x} {y} -0.21", material="table", contype="0", conaffinity="0")
    target = (0.45, 0.0, TABLE_TOP + 0.15)
    ET.SubElement(world, "camera", name="exterior_1_left", pos="1.45 -0.95 1.2",
                  xyaxes=_look_at((1.45, -0.95, 1.2), target), fovy="50")
    ET.SubElement(world, "camera", name="overview", pos="1.45 0 1.15",
                  xyaxes=_look_at((1.45, 0.0, 1.15), target), fovy="50")


def _look_at(pos: tuple[float, float, float], target: tuple[float, float, float]) -> str:
    """MJCF xyaxes for a z-up camera at `pos` looking at `target`."""
    z = np.subtract(pos, target)
    z /= np.linalg.norm(z)
    x = np.cross((0.0, 0.0, 1.0), z)
    x /= np.linalg.norm(x)
    y = np.cross(z, x)
    return " ".join(f"{v:.4f}" for v in (*x, *y))


def _cube(colour: str) -> ET.Element:
    body = ET.Element("body", name=f"cube_{colour}", pos=f"0 0 {TABLE_TOP + CUBE_HALF}")
    ET.SubElement(body, "freejoint", name=f"cube_{colour}")
    h = CUBE_HALF
    ET.SubElement(body, "geom", name=f"cube_{colour}", type="box", size=f"{h} {h} {h}", mass="0.05",
                  rgba=COLOURS[colour], friction="1.2 0.005 0.0001", condim="4")
    return body


def _bowl() -> ET.Element:
    body = ET.Element("body", name="bowl", pos=f"0 0 {TABLE_TOP}")
    ET.SubElement(body, "freejoint", name="bowl")
    r, t, h = BOWL_INNER, 0.006, BOWL_WALL
    ET.SubElement(body, "geom", name="bowl_floor", type="box", size=f"{r + t} {r + t} {t / 2}",
                  pos=f"0 0 {t / 2}", material="bowl", mass="0.2")
    walls = [(r + t / 2, 0, t / 2, r + t), (-(r + t / 2), 0, t / 2, r + t),
             (0, r + t / 2, r + t, t / 2), (0, -(r + t / 2), r + t, t / 2)]
    for i, (x, y, sx, sy) in enumerate(walls):
        ET.SubElement(body, "geom", name=f"bowl_wall{i}", type="box", size=f"{sx} {sy} {h / 2}",
                      pos=f"{x} {y} {h / 2}", material="bowl", mass="0.05")
    return body
