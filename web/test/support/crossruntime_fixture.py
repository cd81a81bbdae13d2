"""Reference poses from native MuJoCo for the browser engine's cross-runtime test.

    .venv/bin/python web/test/support/crossruntime_fixture.py OUT_DIR [--robot franka] [--scenes table ...]
    .venv/bin/python web/test/support/crossruntime_fixture.py OUT_DIR --cells all | ROBOT/SCENE ...

For each scene of `--robot` it writes, under OUT_DIR/<scene>/ (with `--cells`, OUT_DIR/<robot>-<scene>/):

    bundle.msgpack   the scene bundle exactly as GET /api/scenes/{id}/bundle serves it
    episode.vlar     a real arena episode (the scripted expert moving a cube), as the worker stores it
    qpos.bin, time.bin         every recorded frame (n_frames x nq, n_frames), from the decoded replay
    <field>.bin      native `mj_kinematics` output for the selected frames (n_selected x n x k), for
                     xpos, xquat, xmat, geom_xpos, geom_xmat, site_xpos, site_xmat, and `mj_camlight`'s
                     cam_xpos, cam_xmat

and OUT_DIR/index.json: the MuJoCo version, every robot/scene cell the server offers (`offered`), and per
cell ("robot/scene" under `cells`; with `--scenes`, also by scene under `scenes`) the frames chosen, model
sizes, object names, and each .bin file's shape. Every .bin file is little-endian float64 in C order, so the
Node side needs neither the .vlar decoder nor msgpack to read it.

The reference model is compiled from the msgpack bytes written here, not from sim_engine's cache, and is
checked to be byte-identical (mj_saveModel) to the model the episode ran on.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import msgspec
import mujoco
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from policy_host.registry import Registry  # noqa: E402
from replay_format import decode_replay  # noqa: E402
from sim_engine.episode import EpisodeSpec, run_episode  # noqa: E402
from sim_engine.scene import CUBE_HALF, SCENES, TABLE_TOP, build_bundle  # noqa: E402
from sim_engine.world import World, load_world  # noqa: E402

# Instructions the scripted expert completes, so cubes slide, are grasped, lifted and set down: into the bowl
# where the scene has one, else onto another cube. The seed is the first of SEEDS the expert succeeds on
# (the robot's own first: 5 keeps the Franka's episodes as they were).
INSTRUCTIONS = {"table": "put the red cube in the bowl", "table-cubes": "stack the blue cube on the green cube"}
PLACE, STACK = INSTRUCTIONS["table"], INSTRUCTIONS["table-cubes"]
SEEDS = (5, 4, 1, 6, 7, 0, 2, 3, 8, 9)
POLICY, MAX_STEPS = "scripted-expert", 60
POSE_FIELDS = {"xpos": ("nbody", 3), "xquat": ("nbody", 4), "xmat": ("nbody", 9),
               "geom_xpos": ("ngeom", 3), "geom_xmat": ("ngeom", 9),
               "site_xpos": ("nsite", 3), "site_xmat": ("nsite", 9),
               "cam_xpos": ("ncam", 3), "cam_xmat": ("ncam", 9)}  # cameras: after mj_camlight
SIZES = ("nq", "nv", "nu", "na", "njnt", "nbody", "ngeom", "nsite", "nmesh", "ncam", "nlight")
MOVING = 1e-4  # metres an object's centre moves between frames for the frame to count as "moving"
LIFTED = TABLE_TOP + CUBE_HALF + 0.01


def served_bundle(robot_id: str, scene_id: str) -> bytes:
    """The response body of the bundle route: api.service.ArenaService.bundle, msgspec-msgpack encoded."""
    b = build_bundle(robot_id, scene_id)
    bundle = {"robot_id": robot_id, "scene_id": scene_id, "entry": b.entry, "hash": b.content_hash,
              "files": b.files}
    return msgspec.msgpack.encode(bundle)


def compile_served(body: bytes) -> mujoco.MjModel:
    bundle = msgspec.msgpack.decode(body)
    assets = {path: data for path, data in bundle["files"].items() if path != bundle["entry"]}
    return mujoco.MjModel.from_xml_string(bundle["files"][bundle["entry"]].decode(), assets)


def model_bytes(model: mujoco.MjModel) -> bytes:
    buf = np.zeros(mujoco.mj_sizeModel(model), np.uint8)
    mujoco.mj_saveModel(model, None, buf)
    return buf.tobytes()


def select_frames(qpos: np.ndarray, world: World) -> tuple[list[int], list[int], list[int]]:
    """First, every 10th, last, and every frame where an object moves or a cube is off the table."""
    n = qpos.shape[0]
    adrs = list(world.objects.values())
    step = np.zeros(n)
    for adr in adrs:
        step[1:] = np.maximum(step[1:], np.linalg.norm(np.diff(qpos[:, adr:adr + 3], axis=0), axis=1))
    moving = [int(i) for i in np.flatnonzero(step > MOVING)]
    cube_z = qpos[:, [world.objects[c] + 2 for c in world.scene.cubes]]
    lifted = [int(i) for i in np.flatnonzero((cube_z > LIFTED).any(axis=1))]
    frames = sorted({0, n - 1, *range(0, n, 10), *moving, *lifted})
    return frames, moving, lifted


def reference_poses(model: mujoco.MjModel, qpos: np.ndarray, time: np.ndarray,
                    frames: list[int]) -> dict[str, np.ndarray]:
    data = mujoco.MjData(model)
    out = {name: np.empty((len(frames), getattr(model, size), k)) for name, (size, k) in POSE_FIELDS.items()}
    for row, i in enumerate(frames):
        data.qpos[:] = qpos[i]
        data.time = time[i]
        mujoco.mj_kinematics(model, data)
        mujoco.mj_camlight(model, data)  # camera poses, for the wrist-camera view
        for name, arr in out.items():
            arr[row] = getattr(data, name)
    return out


def names(model: mujoco.MjModel, obj: mujoco.mjtObj, count: int) -> list[str]:
    return [mujoco.mj_id2name(model, obj, i) or "" for i in range(count)]


def write_bin(path: Path, arr: np.ndarray) -> list[int]:
    path.write_bytes(np.ascontiguousarray(arr, dtype="<f8").tobytes())
    return list(arr.shape)


def offered_cells() -> list[str]:
    """Every robot/scene pair the server offers (the catalogue's cells), as "robot/scene"."""
    return [f"{robot}/{scene_id}" for scene_id, scene in SCENES.items() for robot in scene.robots]


def instruction_for(scene_id: str) -> str:
    return INSTRUCTIONS.get(scene_id) or (PLACE if SCENES[scene_id].bowl else STACK)


def write_scene(out: Path, robot_id: str, scene_id: str, registry: Registry) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    body = served_bundle(robot_id, scene_id)
    (out / "bundle.msgpack").write_bytes(body)
    world = load_world(robot_id, scene_id)
    model = compile_served(body)
    if model_bytes(model) != model_bytes(world.model):
        raise SystemExit(f"{scene_id}: the served bundle compiles to a different model than sim_engine's")
    for seed in SEEDS:
        spec = EpisodeSpec(robot_id=robot_id, scene_id=scene_id, instruction=instruction_for(scene_id), seed=seed,
                           max_steps=MAX_STEPS)
        episode = run_episode(spec, registry.build(POLICY))
        if episode.outcome.success:
            break
    (out / "episode.vlar").write_bytes(episode.replay)
    replay = decode_replay(episode.replay)
    qpos, time = replay.frames["qpos"], replay.frames["time"]
    if qpos.tobytes() != episode.frames["qpos"].tobytes():
        raise SystemExit(f"{scene_id}: the decoded replay differs from the recorded states")
    frames, moving, lifted = select_frames(qpos, world)
    shapes = {"qpos": write_bin(out / "qpos.bin", qpos), "time": write_bin(out / "time.bin", time)}
    for name, arr in reference_poses(model, qpos, time, frames).items():
        shapes[name] = write_bin(out / f"{name}.bin", arr)
    return {
        "dir": out.name, "robot_id": robot_id, "scene_id": scene_id, "instruction": spec.instruction,
        "seed": seed, "policy": POLICY,
        "success": episode.outcome.success, "n_frames": int(qpos.shape[0]),
        "bundle_hash": build_bundle(robot_id, scene_id).content_hash,
        "replay_bundle_hash": replay.header.bundle_hash,
        "frames": frames, "moving_frames": moving, "lifted_frames": lifted,
        "sizes": {s: int(getattr(model, s)) for s in SIZES},
        "names": {"body": names(model, mujoco.mjtObj.mjOBJ_BODY, model.nbody),
                  "geom": names(model, mujoco.mjtObj.mjOBJ_GEOM, model.ngeom),
                  "site": names(model, mujoco.mjtObj.mjOBJ_SITE, model.nsite)},
        "shapes": shapes,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--robot", default="franka")
    ap.add_argument("--scenes", nargs="+", default=list(INSTRUCTIONS))
    ap.add_argument("--cells", nargs="+", default=None, help='"all", or robot/scene pairs (overrides --scenes)')
    args = ap.parse_args()
    registry = Registry.from_file()
    index: dict = {"mujoco_version": mujoco.__version__, "offered": offered_cells()}
    if args.cells is None:
        scenes = {s: write_scene(args.out / s, args.robot, s, registry) for s in args.scenes}
        index |= {"robot_id": args.robot, "scenes": scenes,
                  "cells": {f"{args.robot}/{s}": ref for s, ref in scenes.items()}}
    else:
        cells = index["offered"] if args.cells == ["all"] else args.cells
        pairs = [(cell, *cell.split("/", 1)) for cell in cells]
        index["cells"] = {cell: write_scene(args.out / f"{r}-{s}", r, s, registry) for cell, r, s in pairs}
    (args.out / "index.json").write_text(json.dumps(index, indent=1))


if __name__ == "__main__":
    main()
