"""Write `.vlar` files with Python, plus the exact arrays they hold, for the JavaScript decoder tests.

    python web/test/support/replay_fixtures.py OUTDIR [--set tests|bench]

For every case OUTDIR gets `<case>.vlar` (or the case names a committed file), one raw little-endian
float64 file `<case>.<stream>.bin` per stream holding the arrays that were ENCODED (not a decode of
them), and for arena episodes the live stream messages, each as a u32 LE length + msgpack bytes:
`<case>.live.msgs` (what the worker publishes while the episode runs) and `<case>.rebuilt.msgs`
(`api.streaming.replay_messages` of the stored file), and `<case>.blind.vlar`, the blinded file the
trajectory endpoint serves before the vote (`api.blind`), which the blinded stream assembles into.
`manifest.json` lists the cases with their header (as JSON), version, frame/step counts and streams.

Sets: `tests` (two short arena episodes, synthetic edge values, the golden file; a few seconds) and
`bench` (four longer arena episodes for bench/bench_web_decode.mjs, each also as baselines over the
same arrays: `<case>.raw.zst3` / `.raw.zst15`, plain zstd of the raw float64 bytes of every stream
back to back, and `<case>.json`, the arrays as JSON lists as in bench/bench_replay.py, NaN as null).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import math
import struct
import sys
from collections.abc import Callable
from pathlib import Path

import msgspec
import numpy as np
import zstandard

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from api.blind import blind_replay_uncached  # noqa: E402
from api.streaming import encode, end_message, frames_message, header_message, replay_messages  # noqa: E402
from replay_format import ActuatorInfo, JointInfo, ReplayHeader, decode_replay, encode_replay, read_header  # noqa: E402
from sim_engine.episode import EpisodeOutcome, StepFrames  # noqa: E402

GOLDEN_SCRIPT = ROOT / "tests" / "replay_format" / "make_golden.py"
# (case, policy, scene, instruction, seed, max_steps). The slow policy's first actions land after its
# latency (null actions in the stream, NaN rows in the file); "wave" has no task metric (no progress).
TEST_EPISODES = [
    ("arena_expert", "scripted-expert", "table", "pick up the red cube", 1, 25),
    ("arena_slow_nometric", "scripted-slow", "table-cubes", "wave at the camera", 2, 12),
]
BENCH_EPISODES = [
    ("bench_expert", "scripted-expert", "table", "put the red cube in the bowl", 3, 60),
    ("bench_slow", "scripted-slow", "table", "put the green cube in the bowl", 4, 60),
    ("bench_noisy", "scripted-noisy", "table", "pick up the blue cube", 5, 30),
    ("bench_random", "random", "table", "pick up the red cube", 6, 40),
]
# Bit patterns a float-arithmetic decoder would break.
SPECIAL_BITS = [
    0x8000000000000000,  # -0.0
    0x7FF0000000000000,  # +inf
    0xFFF0000000000000,  # -inf
    0x7FF8000000000000,  # canonical quiet NaN
    0x7FF4000000000BAD,  # signalling NaN with a payload
    0xFFF8DEADBEEF0001,  # negative quiet NaN with a payload
    0x0000000000000001,  # smallest subnormal
    0x000FFFFFFFFFFFFF,  # largest subnormal
    0x7FEFFFFFFFFFFFFF,  # largest finite
    0xFFFFFFFFFFFFFFFF,  # all ones (a NaN)
]


def _nan_to_none(value):
    """JSON has no NaN: write null, as a JSON-speaking server would."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, list):
        return [_nan_to_none(v) for v in value]
    if isinstance(value, dict):
        return {k: _nan_to_none(v) for k, v in value.items()}
    return value


def bits(values: list[int]) -> np.ndarray:
    return np.array(values, dtype=np.uint64).view(np.float64)


class Writer:
    """Collects the cases into OUTDIR and its manifest."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.cases: list[dict] = []

    def add(
        self,
        name: str,
        data: bytes | Path,
        header: ReplayHeader,
        frames: dict,
        steps: dict,
        messages: dict[str, list[bytes]] | None = None,
        baselines: bool = False,
    ) -> None:
        path = data if isinstance(data, Path) else self.out / f"{name}.vlar"
        if not isinstance(data, Path):
            path.write_bytes(data)
        streams = [
            self._stream(name, group, key, array)
            for group, arrays in (("frames", frames), ("steps", steps))
            for key, array in arrays.items()
        ]
        case = {
            "name": name,
            "file": str(path),
            "version": list(read_header(path.read_bytes())[0]),
            "n_frames": len(frames["time"]),
            "n_steps": len(header.step_frames),
            "header": msgspec.to_builtins(header),
            "streams": streams,
            "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
            "messages": {},
        }
        for kind, sequence in (messages or {}).items():
            target = self.out / f"{name}.{kind}.msgs"
            target.write_bytes(b"".join(struct.pack("<I", len(m)) + m for m in sequence))
            case["messages"][kind] = str(target)
        case["baselines"] = self._baselines(name, frames, steps) if baselines else {}
        self.cases.append(case)

    def _baselines(self, case: str, frames: dict, steps: dict) -> dict[str, str]:
        arrays = [np.ascontiguousarray(a, dtype="<f8") for a in [*frames.values(), *steps.values()]]
        raw = b"".join(a.tobytes() for a in arrays)
        out = {}
        for level in (3, 15):
            target = self.out / f"{case}.raw.zst{level}"
            target.write_bytes(zstandard.ZstdCompressor(level=level).compress(raw))
            out[f"zstd{level}"] = str(target)
        target = self.out / f"{case}.json"
        target.write_text(json.dumps(_nan_to_none({name: a.tolist() for name, a in {**frames, **steps}.items()})))
        out["json"] = str(target)
        return out

    def _stream(self, case: str, group: str, name: str, array: np.ndarray) -> dict:
        a = np.ascontiguousarray(array, dtype="<f8")
        target = self.out / f"{case}.{name}.bin"
        target.write_bytes(a.tobytes())
        return {"name": name, "group": group, "shape": list(a.shape), "bin": str(target)}

    def finish(self) -> None:
        (self.out / "manifest.json").write_text(json.dumps({"cases": self.cases}, indent=1))


class _LiveSink:
    """What api.worker publishes while an episode runs, the end message included."""

    def __init__(self, episode_id: str) -> None:
        self.episode_id = episode_id
        self.messages: list[bytes] = []

    def on_header(self, header: ReplayHeader) -> None:
        self.messages.append(encode(header_message(self.episode_id, header)))

    def on_step(self, frames: StepFrames) -> None:
        self.messages.append(encode(frames_message(frames)))

    def on_end(self, outcome: EpisodeOutcome) -> None:
        self.messages.append(encode(end_message(outcome)))


def arena_cases(w: Writer, episodes: list[tuple], *, baselines: bool = False) -> None:
    from policy_host.registry import Registry
    from sim_engine.episode import EpisodeSpec, run_episode

    registry = Registry.from_file()
    for name, policy, scene, instruction, seed, max_steps in episodes:
        spec = EpisodeSpec(robot_id="franka", scene_id=scene, instruction=instruction, seed=seed, max_steps=max_steps)
        sink = _LiveSink(f"ep-{name}")
        out = run_episode(spec, registry.build(policy), sink)
        rebuilt = replay_messages(f"ep-{name}", decode_replay(out.replay))
        messages = {"live": sink.messages, "rebuilt": rebuilt}
        w.add(name, out.replay, out.header, out.frames, out.steps, messages, baselines=baselines)
        blind = w.out / f"{name}.blind.vlar"  # what the trajectory endpoint serves before the vote
        blind.write_bytes(blind_replay_uncached(out.replay))
        w.cases[-1]["blind_file"] = str(blind)
        if name == "arena_expert":  # the same episode in many small chunks, ragged last chunk
            data = encode_replay(out.header, out.frames, out.steps, level=1, chunk_frames=7)
            w.add(f"{name}_chunk7", data, out.header, out.frames, out.steps)


def synthetic_header(nq: int, nv: int, nu: int, action_dim: int, step_frames: list[int]) -> ReplayHeader:
    return ReplayHeader(
        mujoco_version="3.14.0",
        bundle_hash="sha256:" + hashlib.sha256(b"synthetic").hexdigest(),
        robot_id="synthetic_arm",
        scene_id="synthetic_scene",
        nq=nq,
        nv=nv,
        nu=nu,
        timestep=0.002,
        frame_rate=50.0,
        control_rate=10.0,
        joints=[JointInfo(name="slider", type="slide", qpos_adr=0, dof_adr=0)],
        actuators=[ActuatorInfo(name="push", joint="slider"), ActuatorInfo(name="site_motor", joint=None)],
        action_space="joint_pos+gripper",
        action_dim=action_dim,
        step_frames=step_frames,
        metadata={"instruction": "edge values", "nested": {"b": [1, 2.5, None, True], "a": "x"}, "seed": 7},
    )


def edge_case(w: Writer) -> None:
    """1100 frames (3 chunks of 512 rows), random bit patterns, special values, an extra stream of each
    group, and a zero-column ctrl."""
    rng = np.random.default_rng(20240501)
    n, nq, nv, n_steps = 1100, 6, 4, 220
    time = np.arange(n) * 0.02
    qpos = np.cumsum(rng.normal(size=(n, nq)), axis=0)
    qpos[:, 0] = rng.integers(0, 2**64, size=n, dtype=np.uint64).view(np.float64)  # any bit pattern
    qpos[3 : 3 + len(SPECIAL_BITS), 1] = bits(SPECIAL_BITS)
    qpos[600 : 600 + len(SPECIAL_BITS), 2] = bits(SPECIAL_BITS)  # in the second chunk
    qvel = rng.normal(size=(n, nv)) * 1e-310  # subnormals
    qvel[::7, 3] = -0.0
    step_frames = list(range(0, n, 5))
    action = rng.normal(size=(n_steps, 3))
    action[:4] = bits([0x7FF8000000000000] * 3 + [0x7FF4000000000BAD] * 3 + SPECIAL_BITS[:6]).reshape(4, 3)
    progress = np.linspace(0.0, 1.0, n_steps)
    progress[::3] = bits([0x7FF8000000000000])[0]
    progress[1] = bits([0xFFF8DEADBEEF0001])[0]
    frames = {
        "time": time,
        "qpos": qpos,
        "qvel": qvel,
        "ctrl": np.zeros((n, 0)),
        "contact_force": rng.normal(size=(n, 3)).astype(np.float32),
    }
    steps = {"action": action, "progress": progress, "reward": rng.normal(size=n_steps)}
    header = synthetic_header(nq, nv, 0, 3, step_frames)
    w.add("edge_values", encode_replay(header, frames, steps), header, frames, steps)


def tiny_cases(w: Writer) -> None:
    """One frame and no control step; and zero-width streams everywhere but time."""
    header = synthetic_header(2, 2, 1, 2, [])
    frames = {
        "time": np.array([0.0]),
        "qpos": np.array([[1.0, -0.0]]),
        "qvel": np.zeros((1, 2)),
        "ctrl": np.array([[np.inf]]),
    }
    steps = {"action": np.zeros((0, 2))}
    w.add("one_frame_no_steps", encode_replay(header, frames, steps), header, frames, steps)
    header = synthetic_header(0, 0, 0, 0, [0, 1, 1])
    frames = {
        "time": np.array([0.0, 0.5, 1.0]),
        "qpos": np.zeros((3, 0)),
        "qvel": np.zeros((3, 0)),
        "ctrl": np.zeros((3, 0)),
        "empty": np.zeros((3, 0)),
    }
    steps = {"action": np.zeros((3, 0)), "progress": np.array([0.1, 0.2, 0.3])}
    w.add("zero_columns", encode_replay(header, frames, steps), header, frames, steps)


def golden_case(w: Writer) -> None:
    spec = importlib.util.spec_from_file_location("replay_make_golden", GOLDEN_SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    header, frames, steps = module.golden_inputs()
    w.add("golden_v1_0", module.GOLDEN, header, frames, steps)
    for version, path in sorted(module.GOLDENS.items())[1:]:  # later versions: their own inputs
        w.add(f"golden_v{version[0]}_{version[1]}", path, *module.golden_inputs(version))


SETS: dict[str, list[Callable[[Writer], None]]] = {
    "tests": [lambda w: arena_cases(w, TEST_EPISODES), edge_case, tiny_cases, golden_case],
    "bench": [lambda w: arena_cases(w, BENCH_EPISODES, baselines=True)],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--set", choices=sorted(SETS), default="tests")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    writer = Writer(args.out)
    for make in SETS[args.set]:
        make(writer)
    writer.finish()


if __name__ == "__main__":
    main()
