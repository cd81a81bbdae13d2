"""Regenerate the golden replay files `golden/episode_v1_0.vlar` and `golden/episode_v1_1.vlar`.

The golden files pin formats 1.0 and 1.1: `test_replay_golden.py` decodes the committed bytes and
checks every value against `golden_inputs()` below, so a reader change that breaks old files fails.
Both hold the same episode; 1.1 uses the predictive codec (and its prelude CRC), 1.0 the delta codec.

Regenerate ONLY when the format itself changes on purpose (a new major or minor version):

1. Bump FORMAT_VERSION in replay_format/header.py and update docs/replay-format.md.
2. Keep the old golden files and their tests (old files must still read); add the new version to
   GOLDENS below, e.g. `(1, 2): golden/episode_v1_2.vlar`.
3. From the repository root run:  python tests/replay_format/make_golden.py 1.2
   (only the versions named are written; never rewrite a committed older golden file).
4. Copy the printed SHA-256 into GOLDEN_SHA256 in tests/replay_format/test_replay_golden.py.
5. Run `pytest tests/replay_format -q`, then commit the script, the .vlar file and the test together.

The files are written with zstd level 19 and 4-row chunks, so every stream spans several chunks.

Never edit `golden_inputs()` without doing all of the above: the test compares against it.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
GOLDEN_DIR = Path(__file__).resolve().parent / "golden"
GOLDENS = {(1, 0): GOLDEN_DIR / "episode_v1_0.vlar", (1, 1): GOLDEN_DIR / "episode_v1_1.vlar"}
GOLDEN = GOLDENS[(1, 0)]
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


def golden_inputs(version: tuple[int, int] = (1, 0)):
    """(header, frames, steps) of the golden episode: 12 frames, 3 control steps, nq=8, nv=7, nu=2.

    From 1.1 on the elbow angle (qpos column 7) integrates its velocity (qvel column 6) the way the
    velocity predictor expects, so the golden file exercises all three predictors.
    """
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
    if version >= (1, 1):
        period = 1.0 / header.frame_rate
        a, b = (period - header.timestep) / 2, (period + header.timestep) / 2
        for r in range(1, n):
            qpos[r, 7] = qpos[r - 1, 7] + (a * qvel[r - 1, 6] + b * qvel[r, 6])
    frames = {"time": time, "qpos": qpos, "qvel": qvel, "ctrl": ctrl}
    steps = {"action": actions, "progress": np.array([0.0, np.nan, 1.0])}
    return header, frames, steps


def golden_bytes(version: tuple[int, int]) -> bytes:
    """The golden file of `version` as the current writer produces it."""
    sys.path.insert(0, str(ROOT))
    from replay_format import encode_replay

    return encode_replay(*golden_inputs(version), level=LEVEL, chunk_frames=CHUNK_FRAMES, version=version)


def main(argv: list[str]) -> None:
    versions = [tuple(int(p) for p in v.split(".")) for v in argv] or [max(GOLDENS)]
    for version in versions:
        path = GOLDENS[version]  # type: ignore[index]
        data = golden_bytes(version)  # type: ignore[arg-type]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        print(f"wrote {path.relative_to(ROOT)}: {len(data)} bytes, sha256 {hashlib.sha256(data).hexdigest()}")


if __name__ == "__main__":
    main(sys.argv[1:])
