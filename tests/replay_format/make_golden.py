"""Regenerate the golden replay file `golden/episode_v1_0.vlar`.

The golden file pins format 1.0: `test_replay_golden.py` decodes the committed bytes and checks
every value against `golden_inputs()` below, so a reader change that breaks old files fails.

Regenerate ONLY when the format itself changes on purpose (a new major or minor version):

1. Bump FORMAT_VERSION in replay_format/header.py and update docs/replay-format.md.
2. Keep the old golden file and its test (old files must still read); point GOLDEN below at a new
   name such as `golden/episode_v1_1.vlar`.
3. From the repository root run:  python tests/replay_format/make_golden.py
4. Copy the printed SHA-256 into GOLDEN_SHA256 in tests/replay_format/test_replay_golden.py.
5. Run `pytest tests/replay_format -q`, then commit the script, the .vlar file and the test together.

The file is written with zstd level 19 and 4-row chunks, so every stream spans several chunks.

Never edit `golden_inputs()` without doing all of the above: the test compares against it.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).resolve().parent / "golden" / "episode_v1_0.vlar"
CHUNK_FRAMES = 4
LEVEL = 19

# Values that a lossy or float-arithmetic codec would break: their exact bit patterns.
SPECIAL_BITS = [
    0x8000000000000000,
    0x7FF0000000000000,
    0xFFF0000000000000,
    0x7FF4000000000BAD,
    0x0000000000000001,
]


def golden_inputs():
    """(header, frames, steps) of the golden episode: 12 frames, 3 control steps, nq=8, nv=7, nu=2."""
    from replay_format import ActuatorInfo, JointInfo, ReplayHeader

    n = 12
    time = np.arange(n) * 0.02
    qpos = np.empty((n, 8))
    qpos[:, :3] = np.array([0.5, -0.25, 0.1]) + np.outer(time, [0.1, 0.2, -0.05])
    qpos[:, 3:7] = [1.0, 0.0, 0.0, 0.0]
    qpos[:, 7] = np.sin(time * 3.0)
    qvel = np.cos(np.outer(time, np.arange(1, 8))) * 0.25
    qvel[5, :5] = np.array(SPECIAL_BITS, dtype=np.uint64).view(np.float64)
    ctrl = np.repeat([[0.3, -1.0], [0.6, -0.5], [0.9, 0.0]], 4, axis=0)
    actions = np.array([[0.3, -1.0, 0.0, 1e-300], [0.6, -0.5, 0.25, -0.0], [0.9, 0.0, 0.5, 5e-324]])
    header = ReplayHeader(
        mujoco_version="3.14.0",
        bundle_hash="sha256:" + hashlib.sha256(b"golden scene bundle").hexdigest(),
        robot_id="golden_arm",
        scene_id="golden_table",
        nq=8,
        nv=7,
        nu=2,
        timestep=0.002,
        frame_rate=50.0,
        control_rate=12.5,
        joints=[
            JointInfo(name="cube", type="free", qpos_adr=0, dof_adr=0),
            JointInfo(name="elbow", type="hinge", qpos_adr=7, dof_adr=6),
        ],
        actuators=[ActuatorInfo(name="elbow_pos", joint="elbow"), ActuatorInfo(name="fan", joint=None)],
        action_space="joint_pos+gripper",
        action_dim=4,
        step_frames=[0, 4, 8],
        metadata={"instruction": "lift the red cube", "seed": 42, "outcome": {"success": True, "steps": 3}},
    )
    frames = {"time": time, "qpos": qpos, "qvel": qvel, "ctrl": ctrl}
    steps = {"action": actions, "progress": np.array([0.0, np.nan, 1.0])}
    return header, frames, steps


def main() -> None:
    sys.path.insert(0, str(ROOT))
    from replay_format import encode_replay

    data = encode_replay(*golden_inputs(), level=LEVEL, chunk_frames=CHUNK_FRAMES)
    GOLDEN.parent.mkdir(parents=True, exist_ok=True)
    GOLDEN.write_bytes(data)
    print(f"wrote {GOLDEN.relative_to(ROOT)}: {len(data)} bytes, sha256 {hashlib.sha256(data).hexdigest()}")


if __name__ == "__main__":
    main()
