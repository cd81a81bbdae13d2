import xml.etree.ElementTree as ET

import mujoco
import pytest

from schemas.errors import NotFoundError
from sim_engine.robots import FRANKA, asset_root
from sim_engine.scene import build_bundle, bundle_hash
from sim_engine.world import load_world, sample_layout


def test_franka_assets_come_from_the_installed_package():
    root = asset_root(FRANKA)
    assert "gymnasium_robotics" in str(root)
    assert (root / "chain.xml").is_file()


def test_bundle_is_self_contained_and_loads():
    bundle = build_bundle("franka", "table")
    assets = {k: v for k, v in bundle.files.items() if k != bundle.entry}
    model = mujoco.MjModel.from_xml_string(bundle.files[bundle.entry].decode(), assets)
    assert model.nu == 9
    names = {mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_JOINT, j) for j in range(model.njnt)}
    assert {"cube_red", "cube_green", "cube_blue", "bowl"} <= names
    assert any(k.endswith(".stl") for k in assets)


def test_bundle_hash_is_deterministic_and_content_based():
    files = build_bundle("franka", "table").files
    assert bundle_hash(files) == bundle_hash(dict(reversed(list(files.items()))))
    changed = dict(files, **{"scene.xml": files["scene.xml"] + b" "})
    assert bundle_hash(changed) != bundle_hash(files)
    assert build_bundle("franka", "table-cubes").content_hash != bundle_hash(files)


def test_offscreen_rendering_settings_are_cheap():
    root = ET.fromstring(build_bundle("franka", "table").files["scene.xml"])
    assert root.find("visual/quality").get("shadowsize") == "0"
    assert all(light.get("castshadow") == "false" for light in root.iter("light"))
    assert all(m.get("reflectance") in (None, "0") for m in root.iter("material"))


def test_unknown_robot_and_scene_are_named():
    with pytest.raises(NotFoundError, match="nope"):
        build_bundle("nope", "table")
    with pytest.raises(NotFoundError, match="kitchen-of-mars"):
        build_bundle("franka", "kitchen-of-mars")


@pytest.mark.parametrize("seed", range(20))
def test_layouts_are_seeded_and_separated(seed):
    scene = load_world("franka", "table").scene
    layout = sample_layout(seed, scene)
    assert layout == sample_layout(seed, scene)
    cubes = [v for k, v in layout.items() if k != "bowl"]
    for i, a in enumerate(cubes):
        for b in cubes[i + 1:]:
            assert ((a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2) ** 0.5 >= 0.09


def test_reset_places_objects_at_rest_on_the_table():
    world = load_world("franka", "table")
    data = mujoco.MjData(world.model)
    world.reset(data, 7)
    before = {n: world.object_pos(data, n) for n in world.objects}
    for _ in range(200):
        mujoco.mj_step(world.model, data)
    for name, pos in before.items():
        assert abs(world.object_pos(data, name)[2] - pos[2]) < 2e-3, name
