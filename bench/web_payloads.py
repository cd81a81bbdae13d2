"""Encode arena episodes as H.264 video, to compare with shipping the `.vlar` replay to the browser.

    python bench/web_payloads.py LEFT.vlar [RIGHT.vlar] --out-dir DIR [--width 672 --height 504]
                                 [--crf 23 --preset medium]

Every frame of each replay is rendered offscreen with Python MuJoCo from the exact stored states
(qpos, then mj_forward, as sim_engine/filmstrip.py does) at the replay's frame rate, through a free
camera placed like the page's home view (web/src/render/scene3d.js `frameScene`), and piped as raw
RGB to ffmpeg (libx264, yuv420p, +faststart). One mp4 per replay, plus with two replays one
side-by-side mp4 (the shorter episode holds its last frame, as the page's locked cursor does).
Prints one JSON object: per-video bytes, frames, render and encode seconds. Used by
bench/bench_web_browser.mjs; needs `ffmpeg` on the PATH.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("MUJOCO_GL", "osmesa")  # before the first `import mujoco`

import mujoco  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from replay_format import Replay, decode_replay  # noqa: E402
from sim_engine.world import load_world  # noqa: E402

# The page's home view looks from target + (1, -0.62, 0.62) * distance, vertical fov 45 degrees.
_PAGE_DIR = np.array([1.0, -0.62, 0.62]) / np.linalg.norm([1.0, -0.62, 0.62])


def page_camera(model: mujoco.MjModel) -> mujoco.MjvCamera:
    """A free camera matching the front end's `SharedCamera.frameScene` home view."""
    cam = mujoco.MjvCamera()
    cam.type = mujoco.mjtCamera.mjCAMERA_FREE
    c = model.stat.center
    cam.lookat[:] = (c[0], c[1], max(c[2], 0.45))
    cam.distance = min(max(0.9 * model.stat.extent, 1.2), 3.0)
    forward = -_PAGE_DIR  # MuJoCo places the camera at lookat - distance * forward
    cam.azimuth = math.degrees(math.atan2(forward[1], forward[0]))
    cam.elevation = math.degrees(math.asin(forward[2]))
    return cam


def ffmpeg(path: Path, width: int, height: int, fps: float, crf: int, preset: str) -> subprocess.Popen[bytes]:
    """An ffmpeg process reading raw rgb24 frames on stdin and writing an H.264 mp4."""
    args = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24",
            "-s", f"{width}x{height}", "-r", f"{fps:g}", "-i", "-", "-c:v", "libx264", "-preset", preset,
            "-crf", str(crf), "-pix_fmt", "yuv420p", "-movflags", "+faststart", str(path)]
    return subprocess.Popen(args, stdin=subprocess.PIPE)


def render_frames(replays: list[Replay], width: int, height: int):
    """Yield, per frame index, one RGB image per replay (a replay past its end repeats its last frame)."""
    h = replays[0].header
    world = load_world(h.robot_id, h.scene_id)
    model = world.model
    model.vis.global_.offwidth = max(model.vis.global_.offwidth, width)
    model.vis.global_.offheight = max(model.vis.global_.offheight, height)
    cam = page_camera(model)
    datas = [mujoco.MjData(model) for _ in replays]
    n = max(r.n_frames for r in replays)
    with mujoco.Renderer(model, height, width) as renderer:
        for f in range(n):
            images = []
            for r, d in zip(replays, datas, strict=True):
                d.qpos[:] = r.frames["qpos"][min(f, r.n_frames - 1)]
                mujoco.mj_forward(model, d)
                renderer.update_scene(d, camera=cam)
                images.append(renderer.render().copy())
            yield images


def encode(paths: list[Path], out_dir: Path, width: int, height: int, crf: int, preset: str) -> dict:
    replays = [decode_replay(p.read_bytes()) for p in paths]
    fps = replays[0].header.frame_rate
    names = [p.stem for p in paths]
    targets = {name: (out_dir / f"{name}.mp4", width) for name in names}
    if len(replays) == 2:
        targets["side_by_side"] = (out_dir / "side_by_side.mp4", 2 * width)
    procs = {k: ffmpeg(path, w, height, fps, crf, preset) for k, (path, w) in targets.items()}
    render_s = 0.0
    t_all = time.perf_counter()
    try:
        t0 = time.perf_counter()
        for images in render_frames(replays, width, height):
            render_s += time.perf_counter() - t0
            for name, image in zip(names, images, strict=True):
                procs[name].stdin.write(image.tobytes())  # type: ignore[union-attr]
            if "side_by_side" in procs:
                procs["side_by_side"].stdin.write(np.concatenate(images, axis=1).tobytes())  # type: ignore[union-attr]
            t0 = time.perf_counter()
    finally:
        for p in procs.values():
            p.stdin.close()  # type: ignore[union-attr]
            p.wait()
    failed = [k for k, p in procs.items() if p.returncode != 0]
    if failed:
        raise SystemExit(f"ffmpeg failed for {failed}")
    frames = {name: r.n_frames for name, r in zip(names, replays, strict=True)}
    frames["side_by_side"] = max(frames.values())
    videos = {k: {"path": str(path), "bytes": path.stat().st_size, "width": w, "height": height,
                  "frames": frames[k]} for k, (path, w) in targets.items()}
    return {"fps": fps, "crf": crf, "preset": preset, "codec": "libx264 yuv420p", "camera": "page home view",
            "render_s": render_s, "total_s": time.perf_counter() - t_all, "videos": videos}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("trajectories", type=Path, nargs="+", help="one or two .vlar files")
    ap.add_argument("--out-dir", type=Path, required=True)
    ap.add_argument("--width", type=int, default=672, help="even, for yuv420p")
    ap.add_argument("--height", type=int, default=504, help="even, for yuv420p")
    ap.add_argument("--crf", type=int, default=23)
    ap.add_argument("--preset", default="medium")
    args = ap.parse_args()
    if not 1 <= len(args.trajectories) <= 2:
        ap.error("give one or two trajectories")
    if shutil.which("ffmpeg") is None:
        raise SystemExit("ffmpeg not found: apt-get install ffmpeg")
    args.out_dir.mkdir(parents=True, exist_ok=True)
    width, height = args.width - args.width % 2, args.height - args.height % 2
    print(json.dumps(encode(args.trajectories, args.out_dir, width, height, args.crf, args.preset)))


if __name__ == "__main__":
    main()
