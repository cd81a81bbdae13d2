"""Benchmark the `.vlar` replay format (1.0 and 1.1) against raw float64, JSON, zstd and pcodec.

    python bench/bench_replay.py [--steps 50 300] [--repeat 5] [--json PATH] [--no-arena]

pcodec is optional (not a project dependency): `pip install --target /tmp/pcodec pcodec` and run
with PYTHONPATH=/tmp/pcodec; without it the pcodec rows say "not installed".

Episodes (bench/replay_episodes.py): a synthetic arm + boxes rollout and four real arena episodes
(Franka in the `table` scene), recorded twice: with MuJoCo body sleeping off (the scenes before
SceneSpec.sleep) and on (the default). For each, two tables, all measured in this run on the same arrays:

1. whole files: every method stores time, qpos, qvel, ctrl per frame and action, progress per step;
   "raw" is their float64 bytes; speeds are raw MB per second, best of --repeat runs;
2. qpos + qvel only, bytes per frame: raw, zstd -19 of the raw bytes, pcodec (per stream,
   column-major, and per column), the 1.0 transform, the 1.1 transform, and other transforms tried,
   all cut in 512-row chunks like the writer; the last column is the size relative to format 1.0.

Then the totals per physics variant, and a summary: raw, zstd -19, pcodec, 1.0 and 1.1 in B/frame with
sleep off and on, each against 1.1 with sleep off.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import zstandard

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import replay_episodes  # noqa: E402

from replay_format import DEFAULT_CHUNK_FRAMES, DEFAULT_LEVEL, codec, decode_replay, encode_replay, predict  # noqa: E402

try:
    from pcodec import ChunkConfig, standalone
except ImportError:  # optional
    standalone = None


def best_seconds(fn: Callable[[], object], repeat: int) -> float:
    """Best wall time of `repeat` calls (time.perf_counter)."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def file_methods(header, frames: dict, steps: dict) -> dict[str, tuple[Callable, Callable]]:
    """name -> (encode() -> bytes, decode(bytes)) for every whole-file method, over the same arrays."""
    arrays = [*frames.values(), *steps.values()]

    def raw() -> bytes:
        return b"".join(np.ascontiguousarray(a).tobytes() for a in arrays)

    def to_json() -> bytes:
        lists = {name: a.tolist() for name, a in {**frames, **steps}.items()}
        return json.dumps(lists).encode()

    def zstd_of(level: int) -> tuple[Callable, Callable]:
        return (
            lambda: zstandard.ZstdCompressor(level=level).compress(raw()),
            lambda blob: np.frombuffer(zstandard.ZstdDecompressor().decompress(blob), np.float64),
        )

    def vlar(**options) -> tuple[Callable, Callable]:
        return (lambda: encode_replay(header, frames, steps, **options), decode_replay)

    return {
        "raw float64": (raw, lambda blob: np.frombuffer(blob, np.float64)),
        "JSON (lists of floats)": (to_json, json.loads),
        "zstd -3 of raw": zstd_of(3),
        "zstd -19 of raw": zstd_of(19),
        ".vlar 1.0 (level 15)": vlar(version=(1, 0)),
        ".vlar 1.1 (level 15, default)": vlar(),
        ".vlar 1.1 level 19": vlar(level=19),
    }


def measure_files(header, frames: dict, steps: dict, repeat: int) -> list[dict]:
    raw_bytes = sum(a.nbytes for a in [*frames.values(), *steps.values()])
    rows = []
    for name, (encode, decode) in file_methods(header, frames, steps).items():
        blob = encode()
        enc, dec = best_seconds(encode, repeat), best_seconds(functools.partial(decode, blob), repeat)
        rows.append({"method": name, "bytes": len(blob), "encode_mb_s": raw_bytes / enc / 1e6,
                     "decode_mb_s": raw_bytes / dec / 1e6})
    return rows


def _chunks(array: np.ndarray) -> list[tuple[int, np.ndarray]]:
    a = array.reshape(len(array), -1)
    return [(i, a[i : i + DEFAULT_CHUNK_FRAMES]) for i in range(0, len(a), DEFAULT_CHUNK_FRAMES)]


def _shuffled(values: np.ndarray) -> bytes:
    return codec.shuffle(values)


def _delta2(bits: np.ndarray) -> np.ndarray:
    d = bits.copy()
    d[1:] -= bits[:-1]
    d2 = d.copy()
    d2[2:] -= d[1:-1]
    return d2


def transform_sizes(header, qpos: np.ndarray, qvel: np.ndarray, level: int = DEFAULT_LEVEL) -> dict[str, int]:
    """qpos + qvel payload bytes of every transform, 512-row chunks, zstd `level`."""
    zc = zstandard.ZstdCompressor(level=level)
    mapped_cols = predict.velocity_columns(header.joints, header.nq, header.nv)
    nan = np.full(len(qvel), np.nan)
    w_all = np.stack([qvel[:, c] if c >= 0 else nan for c in mapped_cols], axis=1) if mapped_cols else None
    mapped = np.array([c >= 0 for c in mapped_cols], dtype=bool)
    period = 1.0 / header.frame_rate
    coef = ((period - header.timestep) / 2, (period + header.timestep) / 2)

    def predicted(x: np.ndarray, start: int, velocity: bool) -> bytes:
        w = w_all[start : start + len(x)] if velocity and w_all is not None else None
        modes = predict.choose_modes(x, w, mapped if w is not None else np.zeros(x.shape[1], bool), coef)
        return codec.forward_predict(x, modes, w, coef)

    variants: dict[str, Callable[[np.ndarray, int, bool], bytes]] = {
        "none (zstd per chunk)": lambda x, s, q: x.tobytes(),
        "shuffle, no delta": lambda x, s, q: _shuffled(x.view(np.uint64)),
        "xor delta + shuffle": lambda x, s, q: _shuffled(np.vstack([x[:1].view(np.uint64),
                                                                     x[1:].view(np.uint64) ^ x[:-1].view(np.uint64)])),
        "2nd-order sub delta + shuffle": lambda x, s, q: _shuffled(_delta2(x.view(np.uint64))),
        "1.0: sub delta + shuffle": lambda x, s, q: codec.forward(x),
        "predict delta/linear, zigzag": lambda x, s, q: predicted(x, s, False),
        "1.1: predict delta/linear/velocity": lambda x, s, q: predicted(x, s, q),
    }
    sizes = {}
    for name, fn in variants.items():
        sizes[name] = sum(len(zc.compress(fn(np.ascontiguousarray(x), s, is_qpos)))
                          for is_qpos, array in ((True, qpos), (False, qvel)) for s, x in _chunks(array))
    return sizes


def baseline_sizes(qpos: np.ndarray, qvel: np.ndarray) -> dict[str, int | None]:
    """qpos + qvel bytes of raw, zstd -19 and pcodec (no chunking)."""
    zc = zstandard.ZstdCompressor(level=19)
    out: dict[str, int | None] = {
        "raw float64": qpos.nbytes + qvel.nbytes,
        "zstd -19 of raw (per stream)": sum(len(zc.compress(a.tobytes())) for a in (qpos, qvel)),
    }
    if standalone is None:
        out["pcodec (not installed)"] = None
        return out
    config = ChunkConfig()
    out["pcodec, per stream column-major"] = sum(
        len(standalone.simple_compress(np.ascontiguousarray(a.T).reshape(-1), config)) for a in (qpos, qvel))
    out["pcodec, per column"] = sum(
        len(standalone.simple_compress(np.ascontiguousarray(a[:, c]), config)) for a in (qpos, qvel)
        for c in range(a.shape[1]))
    return out


def measure(episode: replay_episodes.Episode, repeat: int) -> dict:
    source, header, frames, steps = episode
    qpos, qvel = (np.ascontiguousarray(frames[k], dtype=np.float64) for k in ("qpos", "qvel"))
    states = {**baseline_sizes(qpos, qvel), **transform_sizes(header, qpos, qvel)}
    states["1.1 at zstd level 19"] = transform_sizes(header, qpos, qvel, 19)["1.1: predict delta/linear/velocity"]
    return {"source": source, "n_frames": len(frames["time"]), "n_steps": len(header.step_frames),
            "dims": {"nq": header.nq, "nv": header.nv, "nu": header.nu, "action_dim": header.action_dim},
            "raw_bytes": sum(a.nbytes for a in [*frames.values(), *steps.values()]),
            "files": measure_files(header, frames, steps, repeat), "qpos_qvel": states}


def print_result(r: dict) -> None:
    n = r["n_frames"]
    dims = ", ".join(f"{k}={v}" for k, v in r["dims"].items())
    print(f"{r['source']}: {r['n_steps']} control steps, {n} frames, {dims}")
    print(f"  {'whole file':<32}{'bytes':>10}{'B/frame':>10}{'vs raw':>8}{'enc MB/s':>10}{'dec MB/s':>10}")
    for row in r["files"]:
        print(f"  {row['method']:<32}{row['bytes']:>10,}{row['bytes'] / n:>10.1f}{r['raw_bytes'] / row['bytes']:>7.2f}x"
              f"{row['encode_mb_s']:>10.1f}{row['decode_mb_s']:>10.1f}")
    print_states(r["qpos_qvel"], n)


def print_states(states: dict, n_frames: int) -> None:
    v10 = states["1.0: sub delta + shuffle"]
    print(f"  {'qpos + qvel only':<40}{'bytes':>10}{'B/frame':>10}{'vs 1.0':>8}")
    for name, size in states.items():
        if size is None:
            print(f"  {name:<40}{'-':>10}")
            continue
        print(f"  {name:<40}{size:>10,}{size / n_frames:>10.1f}{size / v10:>7.3f}x")


SUMMARY = {"raw": "raw float64", "zstd -19": "zstd -19 of raw (per stream)",
           "pcodec": "pcodec, per stream column-major", "v1.0": "1.0: sub delta + shuffle",
           "v1.1": "1.1: predict delta/linear/velocity"}


def arena_totals(results: list[dict]) -> tuple[dict, int]:
    """qpos + qvel bytes per method summed over `results`, and their frame count."""
    totals = {k: sum(r["qpos_qvel"][k] or 0 for r in results) or None for k in results[-1]["qpos_qvel"]}
    return totals, sum(r["n_frames"] for r in results)


def print_summary(sets: dict[str, tuple[dict, int]]) -> None:
    """qpos + qvel B/frame of the headline methods per physics variant, against v1.1 with sleep off."""
    base_states, base_frames = sets["sleep off"]
    base = base_states[SUMMARY["v1.1"]] / base_frames
    print(f"qpos + qvel B/frame, arena episodes (ratio to v1.1 with sleep off = {base:.1f} B/frame):")
    print(f"  {'method':<12}" + "".join(f"{name:>24}" for name in sets))
    for label, key in SUMMARY.items():
        cells = []
        for states, frames in sets.values():
            size = states.get(key)
            cells.append(f"{'-':>24}" if size is None else f"{size / frames:>14.1f} ({size / frames / base:.3f}x)")
        print(f"  {label:<12}" + "".join(cells))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, nargs="*", default=[50, 300], help="synthetic episodes' control steps")
    parser.add_argument("--repeat", type=int, default=5, help="timing runs per method (best is kept)")
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    parser.add_argument("--no-arena", action="store_true", help="skip the real arena episodes")
    args = parser.parse_args(argv)
    groups = {"synthetic": [replay_episodes.synthetic(s) for s in args.steps]}
    if not args.no_arena:
        groups |= {"sleep off": replay_episodes.arena(sleep=False), "sleep on": replay_episodes.arena(sleep=True)}
    results: dict[str, list[dict]] = {}
    for group, episodes in groups.items():
        for episode in episodes:
            results.setdefault(group, []).append(measure(episode, args.repeat))
            print_result(results[group][-1])
            print()
    sets = {g: arena_totals(rs) for g, rs in results.items() if g != "synthetic"}
    for group, (totals, frames) in sets.items():
        print(f"all {len(results[group])} arena episodes together, {group} ({frames} frames):")
        print_states(totals, frames)
        print()
    if sets:
        print_summary(sets)
    if args.json:
        args.json.write_text(json.dumps({"episodes": results}, indent=2))


if __name__ == "__main__":
    main()
