"""Native MuJoCo poses of stored episodes, for the browser tests that check what the page draws.

    .venv/bin/python web/test/support/pose_reference.py BUNDLE.msgpack EPISODE.vlar FRAME [EPISODE.vlar FRAME ...]

BUNDLE.msgpack is the body of GET /api/scenes/{id}/bundle as the page received it; each EPISODE.vlar is a
trajectory as GET /api/episodes/{id}/trajectory served it. The model is compiled from those bytes (the same
route as crossruntime_fixture.py), each episode's recorded qpos row FRAME (and its time) is applied, and
mj_kinematics runs. Prints JSON: {"bundle_hash", "robot_id", "scene_id", "episodes": [{"bundle_hash",
"n_frames", "xpos", "geom_xpos", "geom_xmat"}]}, the arrays flat and in MuJoCo's order. Python's float repr
round-trips, so the Node side reads the exact doubles.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import msgspec
import mujoco

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from replay_format import decode_replay  # noqa: E402


def main() -> None:
    bundle_path, *pairs = sys.argv[1:]
    body = Path(bundle_path).read_bytes()
    bundle = msgspec.msgpack.decode(body)
    assets = {path: data for path, data in bundle["files"].items() if path != bundle["entry"]}
    model = mujoco.MjModel.from_xml_string(bundle["files"][bundle["entry"]].decode(), assets)
    data = mujoco.MjData(model)
    out = []
    for path, frame in zip(pairs[::2], pairs[1::2], strict=True):
        replay = decode_replay(Path(path).read_bytes())
        qpos, time = replay.frames["qpos"], replay.frames["time"]
        data.qpos[:] = qpos[int(frame)]
        data.time = time[int(frame)]
        mujoco.mj_kinematics(model, data)
        out.append({"bundle_hash": replay.header.bundle_hash, "n_frames": int(qpos.shape[0]),
                    "xpos": data.xpos.ravel().tolist(), "geom_xpos": data.geom_xpos.ravel().tolist(),
                    "geom_xmat": data.geom_xmat.ravel().tolist()})
    print(json.dumps({"bundle_hash": bundle["hash"], "robot_id": bundle["robot_id"], "scene_id": bundle["scene_id"],
                      "episodes": out}))


if __name__ == "__main__":
    main()
