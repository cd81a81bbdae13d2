"""Benchmark the `.vlar` replay format against raw float64, JSON and plain zstd.

    python bench/bench_replay.py [--steps 50] [--repeat 30] [--json PATH]

The episode is simulated here with MuJoCo (no dependency on sim_engine): a 7-dof hinge arm with a
two-finger gripper driven by position actuators, plus three free-joint boxes falling onto a plane
(nq=30, nv=27, nu=9, action_dim=8). Control runs at 10 Hz with smooth varying targets, physics at
timestep 0.002, and frames are sampled at 50 fps (5 per control step), as in real rollouts.

Every method stores the same arrays (time, qpos, qvel, ctrl per frame; action, progress per step);
"raw" is their float64 bytes. Throughput is raw MB per second, best of --repeat runs.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

import mujoco
import numpy as np
import zstandard

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from replay_format import (  # noqa: E402
    DEFAULT_CHUNK_FRAMES,
    DEFAULT_LEVEL,
    ActuatorInfo,
    JointInfo,
    ReplayHeader,
    codec,
    decode_replay,
    encode_replay,
)

FRAME_RATE, CONTROL_RATE, TIMESTEP = 50.0, 10.0, 0.002
JOINT_TYPES = {0: "free", 1: "ball", 2: "slide", 3: "hinge"}


def build_mjcf() -> str:
    """A 7-dof arm (alternating z/y hinge axes), a slide-joint gripper and three free boxes."""
    axes = ["0 0 1", "0 1 0"] * 3 + ["0 0 1"]
    links = "".join(
        f'<body name="link{i}" pos="0 0 {0.1 if i == 0 else 0.15}">'
        f'<joint name="j{i}" axis="{axis}" range="-2.5 2.5" damping="1"/>'
        f'<geom type="capsule" fromto="0 0 0 0 0 0.15" size="0.03" mass="{1.5 - 0.15 * i:.2f}"/>'
        for i, axis in enumerate(axes)
    )
    finger = (
        '<body name="f{s}" pos="{x} 0 0.02">'
        '<joint name="finger_{s}" type="slide" axis="{a} 0 0" range="0 0.04"/>'
    )
    hand = (
        '<body name="hand" pos="0 0 0.15"><geom type="box" size="0.04 0.01 0.01" mass="0.2"/>'
        + finger.format(s="l", x=0.02, a=1)
        + '<geom type="box" size="0.005 0.01 0.02" mass="0.05"/></body>'
        + finger.format(s="r", x=-0.02, a=-1)
        + '<geom type="box" size="0.005 0.01 0.02" mass="0.05"/></body></body>'
    )
    boxes = "".join(
        f'<body name="box{k}" pos="{0.35 + 0.1 * k} {0.1 * k - 0.1} {0.3 + 0.1 * k}">'
        f'<freejoint name="box{k}"/>'
        f'<geom type="box" size="0.025 0.025 0.025" mass="0.1"/></body>'
        for k in range(3)
    )
    actuators = "".join(f'<position name="a{i}" joint="j{i}" kp="200"/>' for i in range(7))
    actuators += (
        '<position name="grip_l" joint="finger_l" kp="50"/><position name="grip_r" joint="finger_r" kp="50"/>'
    )
    return (
        f'<mujoco model="bench_arm"><option timestep="{TIMESTEP}"/><worldbody>'
        f'<geom name="floor" type="plane" size="2 2 0.1"/>{links}{hand}{"</body>" * 7}{boxes}</worldbody>'
        f"<actuator>{actuators}</actuator></mujoco>"
    )


def simulate(model: mujoco.MjModel, n_steps: int, seed: int = 0) -> tuple[dict, dict, list[int]]:
    """Roll out `n_steps` control steps of smooth sinusoidal joint targets; sample frames at 50 fps."""
    data = mujoco.MjData(model)
    rng = np.random.default_rng(seed)
    phase, freq, amp = rng.uniform(0, 2 * np.pi, 8), rng.uniform(0.1, 0.5, 8), rng.uniform(0.3, 1.0, 8)
    substeps = round(1 / (FRAME_RATE * model.opt.timestep))
    rows: dict[str, list] = {"time": [], "qpos": [], "qvel": [], "ctrl": []}
    actions, step_frames = [], []
    for step in range(n_steps):
        action = amp * np.sin(2 * np.pi * freq * step / CONTROL_RATE + phase)
        action[7] = 0.02 + 0.02 * np.sign(action[7])  # gripper open/close
        data.ctrl[:] = [*action[:7], action[7], action[7]]
        actions.append(action)
        step_frames.append(len(rows["time"]))
        for _ in range(round(FRAME_RATE / CONTROL_RATE)):
            for name, values in rows.items():
                values.append(np.copy(getattr(data, name)))
            mujoco.mj_step(model, data, nstep=substeps)
    frames = {name: np.array(value, dtype=np.float64) for name, value in rows.items()}
    steps = {"action": np.array(actions), "progress": np.linspace(0.0, 1.0, n_steps)}
    return frames, steps, step_frames


def make_header(model: mujoco.MjModel, step_frames: list[int]) -> ReplayHeader:
    """The replay header of a rollout of `model`."""
    name = lambda kind, i: mujoco.mj_id2name(model, kind, i)  # noqa: E731
    joints = [
        JointInfo(
            name=name(mujoco.mjtObj.mjOBJ_JOINT, j),
            type=JOINT_TYPES[int(model.jnt_type[j])],
            qpos_adr=int(model.jnt_qposadr[j]),
            dof_adr=int(model.jnt_dofadr[j]),
        )
        for j in range(model.njnt)
    ]
    actuators = [
        ActuatorInfo(
            name=name(mujoco.mjtObj.mjOBJ_ACTUATOR, a),
            joint=name(mujoco.mjtObj.mjOBJ_JOINT, model.actuator_trnid[a, 0]),
        )
        for a in range(model.nu)
    ]
    return ReplayHeader(
        mujoco_version=mujoco.__version__,
        bundle_hash="sha256:" + hashlib.sha256(build_mjcf().encode()).hexdigest(),
        robot_id="bench_arm7",
        scene_id="three_boxes",
        nq=model.nq,
        nv=model.nv,
        nu=model.nu,
        timestep=model.opt.timestep,
        frame_rate=FRAME_RATE,
        control_rate=CONTROL_RATE,
        joints=joints,
        actuators=actuators,
        action_space="joint_pos+gripper",
        action_dim=8,
        step_frames=step_frames,
        metadata={"instruction": "push the red box to the left", "seed": 0, "task": "push"},
    )


def best_seconds(fn: Callable[[], object], repeat: int) -> float:
    """Best wall time of `repeat` calls (time.perf_counter)."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def methods(header: ReplayHeader, frames: dict, steps: dict) -> dict[str, tuple[Callable, Callable]]:
    """name -> (encode() -> bytes, decode(bytes)) for every method, all over the same arrays."""
    arrays = [*frames.values(), *steps.values()]

    def raw() -> bytes:
        return b"".join(a.tobytes() for a in arrays)

    def from_raw(blob: bytes) -> list[np.ndarray]:
        return [np.frombuffer(blob, np.float64)]

    def to_json() -> bytes:
        per_frame = [
            [t, *q, *v, *c] for t, q, v, c in zip(*(frames[k].tolist() for k in frames), strict=True)
        ]
        per_step = [
            [*a, p] for a, p in zip(steps["action"].tolist(), steps["progress"].tolist(), strict=True)
        ]
        return json.dumps({"frames": per_frame, "steps": per_step}).encode()

    def zstd_of(level: int) -> tuple[Callable, Callable]:
        return (
            lambda: zstandard.ZstdCompressor(level=level).compress(raw()),
            lambda blob: from_raw(zstandard.ZstdDecompressor().decompress(blob)),
        )

    return {
        "raw float64": (raw, from_raw),
        "JSON (lists of floats)": (to_json, json.loads),
        "zstd -3 of raw float64": zstd_of(3),
        "zstd -15 of raw float64": zstd_of(15),
        ".vlar level 3": (lambda: encode_replay(header, frames, steps, level=3), decode_replay),
        f".vlar (default, level {DEFAULT_LEVEL})": (
            lambda: encode_replay(header, frames, steps),
            decode_replay,
        ),
        ".vlar level 19": (lambda: encode_replay(header, frames, steps, level=19), decode_replay),
    }


def _shuffle(values: np.ndarray) -> bytes:
    return np.ascontiguousarray(values.reshape(-1).view(np.uint8).reshape(-1, 8).T).tobytes()


def _delta(bits: np.ndarray, op: np.ufunc) -> np.ndarray:
    out = bits.copy()
    out[1:] = op(bits[1:], bits[:-1])
    return out


# Transforms tried before zstd (input: a chunk's uint64 bit patterns, rows x columns).
VARIANTS: dict[str, Callable[[np.ndarray], bytes]] = {
    "none (plain zstd per chunk)": lambda u: u.tobytes(),
    "shuffle, no delta": lambda u: _shuffle(u.T.copy()),
    "xor delta + shuffle": lambda u: _shuffle(_delta(u, np.bitwise_xor).T.copy()),
    "sub delta + shuffle, row-major": lambda u: _shuffle(_delta(u, np.subtract)),
    "2nd-order sub delta + shuffle": lambda u: _shuffle(_delta(_delta(u, np.subtract), np.subtract).T.copy()),
    "sub delta + shuffle (kept)": lambda u: codec.forward(u.view(np.float64)),
}


def variant_sizes(arrays: list[np.ndarray], level: int, chunk_rows: int) -> dict[str, int]:
    """Total compressed chunk bytes of every transform variant, chunked like the writer does."""
    compressor = zstandard.ZstdCompressor(level=level)
    chunks = [a.reshape(len(a), -1).view(np.uint64) for a in arrays]
    chunks = [c[i : i + chunk_rows] for c in chunks for i in range(0, len(c), chunk_rows)]
    return {name: sum(len(compressor.compress(fn(c))) for c in chunks) for name, fn in VARIANTS.items()}


ARENA_EPISODES = [("scripted-expert", "put the red cube in the bowl"), ("random", "pick up the red cube")]


def run(n_steps: int, repeat: int) -> dict:
    """Simulate one synthetic episode and measure every method; returns a JSON-able result dict."""
    model = mujoco.MjModel.from_xml_string(build_mjcf())
    frames, steps, step_frames = simulate(model, n_steps)
    header = make_header(model, step_frames)
    result = measure(header, frames, steps, repeat)
    result["source"] = "synthetic arm + 3 boxes"
    return result


def run_arena(policy: str, instruction: str, repeat: int) -> dict:
    """A real arena episode (Franka, table scene, seed 0) from sim_engine, measured the same way."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from policy_host.registry import Registry
    from sim_engine.episode import EpisodeSpec, run_episode

    spec = EpisodeSpec(robot_id="franka", scene_id="table", instruction=instruction, seed=0)
    out = run_episode(spec, Registry.from_file().build(policy))
    result = measure(out.header, out.frames, out.steps, repeat)
    result["source"] = f"arena: {policy}, {instruction!r}"
    return result


def measure(header: ReplayHeader, frames: dict, steps: dict, repeat: int) -> dict:
    n_steps = len(header.step_frames)
    n_frames = len(frames["time"])
    raw_bytes = sum(a.nbytes for a in [*frames.values(), *steps.values()])
    rows = []
    for name, (encode, decode) in methods(header, frames, steps).items():
        blob = encode()
        enc, dec = best_seconds(encode, repeat), best_seconds(functools.partial(decode, blob), repeat)
        rows.append(
            {
                "method": name,
                "bytes": len(blob),
                "bytes_per_frame": len(blob) / n_frames,
                "encode_mb_s": raw_bytes / enc / 1e6,
                "decode_mb_s": raw_bytes / dec / 1e6,
            }
        )
    raw_size = rows[0]["bytes"]
    json_size = rows[1]["bytes"]
    for row in rows:
        row["vs_raw"], row["vs_json"] = raw_size / row["bytes"], json_size / row["bytes"]
    dims = {"nq": header.nq, "nv": header.nv, "nu": header.nu, "action_dim": header.action_dim}
    variants = variant_sizes([*frames.values(), *steps.values()], DEFAULT_LEVEL, DEFAULT_CHUNK_FRAMES)
    return {
        "n_steps": n_steps,
        "n_frames": n_frames,
        "raw_bytes": raw_bytes,
        "dims": dims,
        "results": rows,
        "variants": variants,
    }


def print_table(result: dict) -> None:
    dims = ", ".join(f"{k}={v}" for k, v in result["dims"].items())
    print(f"episode ({result['source']}): {result['n_steps']} control steps, {result['n_frames']} frames, {dims}")
    print(
        f"{'method':<26}{'bytes/episode':>14}{'bytes/frame':>12}{'vs raw':>8}{'vs JSON':>9}"
        f"{'enc MB/s':>10}{'dec MB/s':>10}"
    )
    for row in result["results"]:
        speeds = f"{row['encode_mb_s']:>10.1f}{row['decode_mb_s']:>10.1f}"
        if row["method"] == "raw float64":
            speeds = f"{'-':>10}{'-':>10}"  # a memory copy; not a meaningful codec speed
        print(
            f"{row['method']:<26}{row['bytes']:>14,}{row['bytes_per_frame']:>12.1f}{row['vs_raw']:>7.2f}x"
            f"{row['vs_json']:>8.2f}x{speeds}"
        )
    print(
        f"transform variants, zstd level {DEFAULT_LEVEL}, {DEFAULT_CHUNK_FRAMES}-row chunks (payload only):"
    )
    for name, size in result["variants"].items():
        print(f"  {name:<34}{size:>10,} bytes {result['raw_bytes'] / size:>6.3f}x")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", type=int, nargs="+", default=[50, 300], help="control steps per episode")
    parser.add_argument("--repeat", type=int, default=20, help="timing runs per method (best is kept)")
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    parser.add_argument("--no-arena", action="store_true", help="skip the real arena episodes")
    args = parser.parse_args(argv)
    results = []
    for n_steps in args.steps:
        results.append(run(n_steps, args.repeat))
        print_table(results[-1])
        print()
    arena = [] if args.no_arena else ARENA_EPISODES
    for policy, instruction in arena:
        results.append(run_arena(policy, instruction, args.repeat))
        print_table(results[-1])
        print()
    if args.json:
        args.json.write_text(json.dumps({"mujoco": mujoco.__version__, "episodes": results}, indent=2))


if __name__ == "__main__":
    main()
