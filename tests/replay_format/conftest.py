"""Fixtures for the replay-format tests: a header factory and a small smooth episode."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pytest

from replay_format import ActuatorInfo, JointInfo, ReplayHeader

HeaderFactory = Callable[..., ReplayHeader]
BUNDLE_HASH = "sha256:" + "ab" * 32


def build_header(
    *,
    nq: int = 8,
    nv: int = 7,
    nu: int = 2,
    action_dim: int = 3,
    step_frames: Sequence[int] = (0, 5, 10, 15, 20),
    metadata: dict[str, Any] | None = None,
) -> ReplayHeader:
    """A valid header; joints/actuators are illustrative, the codec does not cross-check them."""
    return ReplayHeader(
        mujoco_version="3.14.0",
        bundle_hash=BUNDLE_HASH,
        robot_id="arm7",
        scene_id="table_boxes",
        nq=nq,
        nv=nv,
        nu=nu,
        timestep=0.002,
        frame_rate=50.0,
        control_rate=10.0,
        joints=[
            JointInfo(name="box_free", type="free", qpos_adr=0, dof_adr=0),
            JointInfo(name="elbow", type="hinge", qpos_adr=7, dof_adr=6),
        ],
        actuators=[ActuatorInfo(name="elbow_pos", joint="elbow"), ActuatorInfo(name="thrust", joint=None)],
        action_space="joint_pos",
        action_dim=action_dim,
        step_frames=list(step_frames),
        metadata={"instruction": "push the red cube left", "seed": 7} if metadata is None else metadata,
    )


@pytest.fixture(scope="session")
def make_header() -> HeaderFactory:
    """`make_header(nq=..., step_frames=...)` -> a valid ReplayHeader."""
    return build_header


@pytest.fixture
def episode() -> tuple[ReplayHeader, dict[str, np.ndarray], dict[str, np.ndarray]]:
    """23 frames, 5 control steps: smooth trajectories like a real rollout, nq=8, nv=7, nu=2."""
    n = 23
    t = np.arange(n) * 0.02
    qpos = np.sin(np.outer(t, np.arange(1, 9)) + np.arange(8))
    qvel = np.cos(np.outer(t, np.arange(1, 8))) * 0.1
    ctrl = np.repeat(np.array([[0.1, -0.2], [0.3, 0.0], [0.5, 0.2], [0.4, 0.1], [0.2, 0.2]]), 5, axis=0)[:n]
    frames = {"time": t, "qpos": qpos, "qvel": qvel, "ctrl": ctrl}
    steps = {"action": np.linspace(-1, 1, 15).reshape(5, 3), "progress": np.array([0, 0.1, 0.3, np.nan, 1.0])}
    return build_header(), frames, steps
