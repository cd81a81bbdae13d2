"""MuJoCo body sleeping (SceneSpec.sleep): resting objects freeze exactly, the robot never sleeps, and a
replay poses identically with or without the flag (the browser only sets qpos and runs kinematics)."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest

from policy_host.registry import Registry
from sim_engine.episode import EpisodeOutput, EpisodeSpec, run_episode
from sim_engine.scene import SCENES, build_bundle
from sim_engine.world import load_world

SLEEP = int(mujoco.mjtEnableBit.mjENBL_SLEEP)


@pytest.fixture(scope="module")
def episode() -> EpisodeOutput:
    spec = EpisodeSpec(robot_id="franka", scene_id="table", instruction="put the red cube in the bowl", seed=3,
                       max_steps=60)
    return run_episode(spec, Registry.from_file().build("scripted-expert"))


def _free_dofs(model: mujoco.MjModel, joint: str) -> slice:
    adr = int(model.jnt_dofadr[mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_JOINT, joint)])
    return slice(adr, adr + 6)


@pytest.mark.parametrize("scene", sorted(SCENES))
def test_every_scene_enables_sleep_in_its_bundle(scene: str) -> None:
    xml = build_bundle("franka", scene).files["scene.xml"].decode()
    assert '<flag sleep="enable" />' in xml
    assert 'sleep_tolerance="0.001"' in xml


def test_the_compiled_model_sleeps_objects_but_never_the_robot() -> None:
    world = load_world("franka", "table")
    model = world.model
    assert model.opt.enableflags & SLEEP
    assert model.opt.sleep_tolerance == 0.001
    robot_tree = model.dof_treeid[world.arm_dof[0]]
    assert model.tree_sleep_policy[robot_tree] == mujoco.mjtSleepPolicy.mjSLEEP_AUTO_NEVER
    cube_tree = model.body_treeid[mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_BODY, "cube_green")]
    assert model.tree_sleep_policy[cube_tree] == mujoco.mjtSleepPolicy.mjSLEEP_AUTO_ALLOWED


def test_a_resting_object_has_exactly_zero_velocity_and_a_frozen_pose(episode: EpisodeOutput) -> None:
    world = load_world("franka", "table")
    qpos, qvel = episode.frames["qpos"], episode.frames["qvel"]
    dofs = _free_dofs(world.model, "cube_green")  # never touched when the red cube goes into the bowl
    asleep = np.all(qvel[:, dofs] == 0.0, axis=1)
    assert asleep.mean() > 0.9
    adr = world.objects["green"]
    for i in np.flatnonzero(asleep[:-1] & asleep[1:]):
        assert qpos[i, adr : adr + 7].tobytes() == qpos[i + 1, adr : adr + 7].tobytes()
    assert not np.any(np.all(qvel[5:, world.arm_dof] == 0.0, axis=1))  # the arm moves and never sleeps


def test_the_picked_cube_wakes_when_the_gripper_touches_it(episode: EpisodeOutput) -> None:
    qvel = episode.frames["qvel"]
    dofs = _free_dofs(load_world("franka", "table").model, "cube_red")
    asleep = np.all(qvel[:, dofs] == 0.0, axis=1)
    first_sleep = int(np.argmax(asleep[1:])) + 1  # frame 0 is the reset state, at rest by construction
    woken = first_sleep + int(np.argmin(asleep[first_sleep:]))
    assert 1 < first_sleep < 10 < woken
    assert not asleep[woken:].any()
    assert episode.outcome.success


def test_posing_a_replay_ignores_the_sleep_flag(episode: EpisodeOutput) -> None:
    world = load_world("franka", "table")
    files = world.bundle.files
    plain = mujoco.MjModel.from_xml_string(files["scene.xml"].decode().replace('<flag sleep="enable" />', ""),
                                           {k: v for k, v in files.items() if k != "scene.xml"})
    assert not plain.opt.enableflags & SLEEP
    sleepy, awake = mujoco.MjData(world.model), mujoco.MjData(plain)
    for q in [*episode.frames["qpos"], *episode.frames["qpos"][::-7]]:  # forwards, then scrubbing back
        sleepy.qpos[:], awake.qpos[:] = q, q
        mujoco.mj_kinematics(world.model, sleepy)
        mujoco.mj_kinematics(plain, awake)
        assert sleepy.xpos.tobytes() == awake.xpos.tobytes()
        assert sleepy.xquat.tobytes() == awake.xquat.tobytes()
