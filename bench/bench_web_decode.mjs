// @ts-check
/**
 * Decode timing of real arena episodes with the browser's `.vlar` decoder (web/src/lib/vlar.js),
 * against same-process baselines over the same arrays.
 *
 *     node bench/bench_web_decode.mjs [--ms 300] [--json PATH]
 *
 * The episodes come from web/test/support/replay_fixtures.py --set bench (Franka in the `table`
 * scene, nq=37, nv=33, nu=9, action_dim=7; 151-301 frames), run by the project's Python. Every
 * method yields the same float64 values (time, qpos, qvel, ctrl per frame; action, progress per
 * step); MB/s is those raw float64 bytes per second. The fixture files are format 1.1 (predictive
 * codec); each is also re-encoded as format 1.0 (delta codec) by the project's Python, so both are
 * timed in the same run. Baselines: `fzstd.decompress` of plain zstd
 * (levels 3 and 15) of the raw bytes, copied into an aligned Float64Array; `JSON.parse` of the
 * arrays as JSON lists. Each time is the best per-iteration mean of several batches of --ms/10 ms.
 */
import { readFileSync, writeFileSync } from 'node:fs';

// @ts-expect-error -- imported by path (bench/ has no node_modules); fzstd's types live in its lib/
import { decompress as fzstdDecompress } from '../web/node_modules/fzstd/esm/index.mjs';
import { crc32 } from '../web/src/lib/crc32.js';
import { decodeReplay, readHeader } from '../web/src/lib/vlar.js';
import { makeFixtures } from '../web/test/support/fixtures.mjs';
import { runPython } from '../web/test/support/python.mjs';

const TO_V1_0 = `import sys
from replay_format import decode_replay, encode_replay
for path in sys.argv[1:]:
    r = decode_replay(open(path, "rb").read())
    open(path + ".v1_0", "wb").write(encode_replay(r.header, r.frames, r.steps, version=(1, 0)))
`;

/** @type {(data: Uint8Array) => Uint8Array} */
const decompress = fzstdDecompress;

/** @param {string} flag @param {string} fallback */
function arg(flag, fallback) {
  const i = process.argv.indexOf(flag);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

/**
 * Best per-iteration milliseconds of `fn` over 10 batches of about `budgetMs / 10` each, after warm-up.
 * @param {() => unknown} fn @param {number} budgetMs
 */
function bestMs(fn, budgetMs) {
  let t0 = performance.now();
  let warm = 0;
  while (performance.now() - t0 < budgetMs / 5 || warm < 10) {
    fn();
    warm += 1;
  }
  const perBatch = Math.max(1, Math.round(warm / ((performance.now() - t0) / (budgetMs / 10))));
  let best = Infinity;
  for (let batch = 0; batch < 10; batch++) {
    t0 = performance.now();
    for (let i = 0; i < perBatch; i++) fn();
    best = Math.min(best, (performance.now() - t0) / perBatch);
  }
  return best;
}

/** @param {import('../web/test/support/fixtures.mjs').FixtureCase} c @param {number} budget */
function measure(c, budget) {
  const file = new Uint8Array(readFileSync(c.file));
  const v10 = new Uint8Array(readFileSync(`${c.file}.v1_0`));
  const zst3 = new Uint8Array(readFileSync(c.baselines.zstd3));
  const zst15 = new Uint8Array(readFileSync(c.baselines.zstd15));
  const json = readFileSync(c.baselines.json, 'utf8');
  const replay = decodeReplay(file);
  const arrays = [...Object.values(replay.frames), ...Object.values(replay.steps)];
  const rawBytes = arrays.reduce((n, a) => n + a.byteLength, 0);
  const raw = new Uint8Array(decompress(zst3));
  const concatenated = Buffer.concat(arrays.map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength)));
  if (!concatenated.equals(raw)) throw new Error(`${c.name}: the .vlar decode differs from the raw float64 baseline`);
  const old = decodeReplay(v10);
  const oldBytes = Buffer.concat([...Object.values(old.frames), ...Object.values(old.steps)].map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength)));
  if (!oldBytes.equals(raw)) throw new Error(`${c.name}: the 1.0 decode differs from the raw float64 baseline`);
  const { chunks } = readHeader(file);
  const start = 20 + new DataView(file.buffer, file.byteOffset).getUint32(12, true); // the data section
  const payloads = chunks.map((ch) => file.subarray(start + ch.offset, start + ch.offset + ch.length));
  const plainZstd = (/** @type {Uint8Array} */ blob) => new Float64Array(decompress(blob).slice().buffer);
  const ms = {
    vlar: bestMs(() => decodeReplay(file), budget),
    vlar10: bestMs(() => decodeReplay(v10), budget),
    vlar_crc32: bestMs(() => payloads.forEach((p) => crc32(p)), budget),
    vlar_zstd: bestMs(() => payloads.forEach((p) => decompress(p)), budget),
    zstd3: bestMs(() => plainZstd(zst3), budget),
    zstd15: bestMs(() => plainZstd(zst15), budget),
    json: bestMs(() => JSON.parse(json), budget),
  };
  const bytes = { vlar: file.length, vlar10: v10.length, zstd3: zst3.length, zstd15: zst15.length, json: Buffer.byteLength(json) };
  return { name: c.name, n_frames: replay.nFrames, n_steps: replay.nSteps, raw_bytes: rawBytes, bytes, ms };
}

/** @param {ReturnType<typeof measure>} r */
function report(r) {
  const mbs = (/** @type {number} */ t) => (r.raw_bytes / t / 1e3).toFixed(0).padStart(5);
  const row = (/** @type {string} */ label, /** @type {number} */ t, /** @type {number | null} */ size) =>
    `  ${label.padEnd(34)} ${t.toFixed(3).padStart(8)} ms ${mbs(t)} MB/s` +
    `${size === null ? '' : `  ${String(size).padStart(7)} B ${(size / r.n_frames).toFixed(1).padStart(7)} B/frame`}` +
    `  x${(t / r.ms.vlar).toFixed(2)} of .vlar time`;
  console.log(`${r.name}: ${r.n_frames} frames, ${r.n_steps} steps, ${r.raw_bytes} raw float64 bytes (${(r.raw_bytes / r.n_frames).toFixed(1)} B/frame)`);
  console.log(row('.vlar 1.1 decodeReplay (all checks)', r.ms.vlar, r.bytes.vlar));
  console.log(row('.vlar 1.0 decodeReplay (all checks)', r.ms.vlar10, r.bytes.vlar10));
  console.log(row('  of which CRC-32 of the payloads', r.ms.vlar_crc32, null));
  console.log(row('  of which fzstd of the payloads', r.ms.vlar_zstd, null));
  console.log(row('fzstd of zstd -3 raw + Float64Array', r.ms.zstd3, r.bytes.zstd3));
  console.log(row('fzstd of zstd -15 raw + Float64Array', r.ms.zstd15, r.bytes.zstd15));
  console.log(row('JSON.parse of the arrays', r.ms.json, r.bytes.json));
}

function main() {
  const budget = Number(arg('--ms', '300'));
  const fx = makeFixtures('bench');
  try {
    console.log(`node ${process.version}, ${process.arch}; best of 10 batches of ~${budget / 10} ms each\n`);
    runPython(['-c', TO_V1_0, ...fx.cases.map((c) => c.file)]);
    fx.cases.forEach((c) => measure(c, budget / 4)); // warm the JIT on every path first
    const results = fx.cases.map((c) => measure(c, budget));
    results.forEach((r) => { report(r); console.log(''); });
    const sum = (/** @type {(r: ReturnType<typeof measure>) => number} */ f) => results.reduce((n, r) => n + f(r), 0);
    const [raw, frames, vlarMs] = [sum((r) => r.raw_bytes), sum((r) => r.n_frames), sum((r) => r.ms.vlar)];
    console.log(`all ${results.length} episodes: .vlar 1.1 ${(vlarMs / results.length).toFixed(3)} ms per episode ` +
      `(1.0: ${(sum((r) => r.ms.vlar10) / results.length).toFixed(3)} ms, ${(sum((r) => r.bytes.vlar10) / frames).toFixed(1)} B/frame), ` +
      `${(raw / vlarMs / 1e3).toFixed(0)} MB/s, ${(sum((r) => r.bytes.vlar) / frames).toFixed(1)} B/frame; ` +
      `time vs zstd -3: x${(vlarMs / sum((r) => r.ms.zstd3)).toFixed(2)}, vs JSON.parse: x${(vlarMs / sum((r) => r.ms.json)).toFixed(2)}; ` +
      `size vs zstd -3: x${(sum((r) => r.bytes.zstd3) / sum((r) => r.bytes.vlar)).toFixed(2)} smaller, ` +
      `vs JSON: x${(sum((r) => r.bytes.json) / sum((r) => r.bytes.vlar)).toFixed(2)} smaller`);
    const out = arg('--json', '');
    if (out) writeFileSync(out, JSON.stringify({ node: process.version, episodes: results }, null, 2));
  } finally {
    fx.cleanup();
  }
}

main();
