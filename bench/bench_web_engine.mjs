// @ts-check
/**
 * The browser's MuJoCo WebAssembly engine in Node, against native MuJoCo on the same model.
 *
 *     node bench/bench_web_engine.mjs [--scene table] [--seconds 1]
 *
 * Measures the WASM module load, compiling the served scene bundle (msgpack decode excluded, shown
 * apart), and poses per second: one `SceneModel.pose` = copy a recorded qpos row into MjData and run
 * `mj_kinematics`, cycling over the frames of a real arena episode. The native column times the same
 * loop in Python MuJoCo (`data.qpos[:] = row; mj_kinematics`) on a model compiled from the same bundle
 * bytes, in the same run. Rates are the best of three timed windows. Needs web/node_modules (npm ci
 * in web/) and the project's venv (or ARENA_PYTHON).
 */

import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';

import { SceneModel, mujoco } from '../web/src/mujoco/engine.js';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const FIXTURE = path.join(REPO, 'web', 'test', 'support', 'crossruntime_fixture.py');
// Bare specifiers resolve from web/, where the front end's dependencies are installed.
const { decode } = createRequire(path.join(REPO, 'web', 'package.json'))('@msgpack/msgpack');

// Native side: compile from the same msgpack bytes, then time the same pose loop.
const NATIVE = String.raw`
import json, sys, time
import msgspec, mujoco, numpy as np
out, nq, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
body = open(f"{out}/bundle.msgpack", "rb").read()
b = msgspec.msgpack.decode(body)
assets = {k: v for k, v in b["files"].items() if k != b["entry"]}
t0 = time.perf_counter()
m = mujoco.MjModel.from_xml_string(b["files"][b["entry"]].decode(), assets)
compile_ms = 1e3 * (time.perf_counter() - t0)
qpos = np.fromfile(f"{out}/qpos.bin", dtype="<f8").reshape(-1, nq)
d = mujoco.MjData(m)
def window():
    n, t0 = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - t0) < seconds:
        for row in qpos:
            d.qpos[:] = row
            mujoco.mj_kinematics(m, d)
        n += len(qpos)
    return n / elapsed
rate = max(window() for _ in range(3))
print(json.dumps({"version": mujoco.__version__, "compile_ms": compile_ms, "poses_per_s": rate}))
`;

/** @param {string[]} args */
async function python(args) {
  const venv = path.join(REPO, '.venv', 'bin', 'python');
  const exe = process.env.ARENA_PYTHON || (existsSync(venv) ? venv : 'python3');
  const { stdout } = await promisify(execFile)(exe, args, { cwd: REPO, maxBuffer: 16 << 20 });
  return stdout;
}

/**
 * Poses per second over `seconds`, best of three windows.
 * @param {SceneModel} scene @param {Float64Array} qpos @param {number} frames @param {number} seconds
 */
function poseRate(scene, qpos, frames, seconds) {
  const data = scene.newData();
  let best = 0;
  for (let w = 0; w < 3; w++) {
    let n = 0;
    const t0 = performance.now();
    let elapsed = 0;
    while ((elapsed = (performance.now() - t0) / 1e3) < seconds) {
      for (let f = 0; f < frames; f++) scene.pose(data, qpos, f);
      n += frames;
    }
    best = Math.max(best, n / elapsed);
  }
  scene.freeData(data);
  return best;
}

/** @param {() => unknown} fn */
async function timed(fn) {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}

async function main() {
  const options = { scene: { type: 'string', default: 'table' }, seconds: { type: 'string', default: '1' } };
  const { values } = parseArgs({ options: /** @type {const} */ (options) });
  const sceneId = /** @type {string} */ (values.scene);
  const seconds = Number(values.seconds);
  const tmp = mkdtempSync(path.join(tmpdir(), 'arena-bench-web-'));
  try {
    await python([FIXTURE, tmp, '--scenes', sceneId]);
    const out = path.join(tmp, sceneId);
    const load = await timed(() => mujoco());
    const mj = /** @type {Awaited<ReturnType<typeof mujoco>>} */ (load.value);
    const bytes = readFileSync(path.join(out, 'bundle.msgpack'));
    const unpacked = await timed(() => decode(bytes));
    const bundle = /** @type {any} */ (unpacked.value);
    const first = await timed(() => SceneModel.fromBundle(bundle, mj));
    const scene = /** @type {SceneModel} */ (first.value);
    const again = await timed(async () => (await SceneModel.fromBundle(bundle, mj)).dispose());
    const raw = readFileSync(path.join(out, 'qpos.bin'));
    const qpos = new Float64Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
    const frames = qpos.length / scene.model.nq;
    const wasmRate = poseRate(scene, qpos, frames, seconds);
    const m = scene.model;
    const header = `${bundle.robot_id}/${sceneId}: nq ${m.nq}, nbody ${m.nbody}, ngeom ${m.ngeom}, ` +
      `nmesh ${m.nmesh}; ${frames} recorded frames; bundle ${(bytes.length / 2 ** 20).toFixed(1)} MiB`;
    const nq = m.nq;
    scene.dispose();
    const native = JSON.parse(await python(['-c', NATIVE, out, String(nq), String(seconds)]));
    report(header, mj.mj_versionString(), native, {
      loadMs: load.ms, decodeMs: unpacked.ms, firstMs: first.ms, againMs: again.ms, rate: wasmRate,
    });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * @param {string} header @param {string} version
 * @param {{version: string, compile_ms: number, poses_per_s: number}} native
 * @param {{loadMs: number, decodeMs: number, firstMs: number, againMs: number, rate: number}} w
 */
function report(header, version, native, w) {
  /** @param {string} name @param {string} a @param {string} [b] @param {string} [r] */
  const row = (name, a, b = '', r = '') =>
    console.log(`${name.padEnd(28)} ${a.padStart(12)} ${b.padStart(12)} ${r.padStart(12)}`);
  console.log(header);
  row('', `WASM ${version}`, `native ${native.version}`, 'WASM/native');
  row('engine load, ms', w.loadMs.toFixed(0));
  row('bundle msgpack decode, ms', w.decodeMs.toFixed(1));
  const ratio = (/** @type {number} */ x) => x.toFixed(2);
  const compileRatio = ratio(w.firstMs / native.compile_ms);
  row('scene compile (first), ms', w.firstMs.toFixed(0), native.compile_ms.toFixed(0), compileRatio);
  row('scene compile (again), ms', w.againMs.toFixed(0));
  row('poses per second', w.rate.toFixed(0), native.poses_per_s.toFixed(0), ratio(w.rate / native.poses_per_s));
  row('us per pose', (1e6 / w.rate).toFixed(2), (1e6 / native.poses_per_s).toFixed(2));
}

await main();
