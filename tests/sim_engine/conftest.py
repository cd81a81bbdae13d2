"""Small policies used to probe the episode loop."""

import mujoco
import numpy as np
import pytest

from schemas.policy import ActionSpace, CameraSpec, PolicyMetadata
from sim_engine.world import load_world


@pytest.fixture
def world_data():
    """The table scene, reset from seed 11."""
    world = load_world("franka", "table")
    data = mujoco.MjData(world.model)
    world.reset(data, 11)
    return world, data


class ScriptedJoints:
    """Returns a fixed joint-position chunk, and records what it was asked."""

    def __init__(self, target, *, chunk=1, horizon=None, latency_s=0.0, cameras=()):
        self.target = np.asarray(target, dtype=np.float64)
        self._meta = PolicyMetadata(action_space=ActionSpace.JOINT_POSITION, chunk_length=chunk,
                                    action_horizon=horizon, latency_s=latency_s, cameras=tuple(cameras))
        self.calls: list[dict] = []

    @property
    def metadata(self):
        return self._meta

    def reset(self, seed=0):
        self.calls.clear()

    def infer(self, obs):
        self.calls.append(obs)
        return np.tile(self.target, (self._meta.chunk_length, 1))


class BadOutput(ScriptedJoints):
    def __init__(self, output):
        super().__init__(np.zeros(8))
        self.output = output

    def infer(self, obs):
        return self.output


@pytest.fixture
def camera_policy():
    cams = (CameraSpec(key="observation/exterior_image_1_left", width=128, height=96),
            CameraSpec(key="observation/wrist_image_left", width=64, height=64))
    return ScriptedJoints(np.r_[0.0, -0.259, 0.0, -2.4322, 0.0, 0.6032, 0.0, 0.0], cameras=cams)
