import mujoco
import numpy as np
import pytest

from schemas.policy import ActionSpace
from sim_engine.actions import MAX_TRANSLATION, ActionAdapter


def test_joint_position_sets_targets_and_gripper(world_data):
    world, data = world_data
    adapter = ActionAdapter(world, ActionSpace.JOINT_POSITION, data, 0.1)
    target = np.r_[0.1, -0.2, 0.0, -2.0, 0.0, 1.0, 0.3, 1.0]
    adapter.apply(target, data)
    np.testing.assert_array_equal(data.ctrl[world.arm_act], target[:7])
    np.testing.assert_array_equal(data.ctrl[world.finger_act], [0.0, 0.0])  # gripper 1 = closed


def test_joint_velocity_integrates_over_the_control_period(world_data):
    world, data = world_data
    adapter = ActionAdapter(world, ActionSpace.JOINT_VELOCITY, data, 0.1)
    home = data.qpos[world.arm_qpos].copy()
    vel = np.r_[0.5, 0, 0, 0, 0, 0, -0.5, 0.0]
    adapter.apply(vel, data)
    adapter.apply(vel, data)
    np.testing.assert_allclose(data.ctrl[world.arm_act], home + 2 * 0.1 * vel[:7])
    assert data.ctrl[world.finger_act][0] == world.robot.finger_open


def test_ee_delta_moves_the_end_effector_target(world_data):
    world, data = world_data
    adapter = ActionAdapter(world, ActionSpace.EE_DELTA, data, 0.1)
    start = world.ee_pos(data)
    adapter.apply(np.r_[0.03, -0.02, -0.05, 0, 0, 0, 0], data)
    for _ in range(400):
        mujoco.mj_step(world.model, data)
    np.testing.assert_allclose(world.ee_pos(data), start + [0.03, -0.02, -0.05], atol=3e-3)


def test_ee_delta_is_rate_limited(world_data):
    world, data = world_data
    adapter = ActionAdapter(world, ActionSpace.EE_DELTA, data, 0.1)
    start = adapter.ee_pos.copy()
    adapter.apply(np.r_[1.0, 0, 0, 0, 0, 0, 0], data)
    assert np.linalg.norm(adapter.ee_pos - start) == pytest.approx(MAX_TRANSLATION)
