// @ts-check
/**
 * The JavaScript `.vlar` decoder against files Python wrote (web/test/support/replay_fixtures.py):
 * every stream must come back bit for bit. Plus the spec's worked examples and a seeded round trip
 * of random bit patterns through a JS-built file. Corrupt inputs: vlar-errors.test.js.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';

import { decodeReplay, readHeader } from '../../src/lib/vlar.js';
import { assertSameBits, bytesOf, makeFixtures } from '../support/fixtures.mjs';
import { buildVlar, forwardTransform, headerMap, splitVlar, zstdStored } from '../support/vlar-builder.mjs';

/** @type {ReturnType<typeof makeFixtures>} */
let fx;
before(() => {
  fx = makeFixtures('tests');
});
after(() => fx?.cleanup());

/** @param {string} name */
const fixture = (name) => {
  const found = fx.cases.find((c) => c.name === name);
  assert.ok(found, `no fixture case ${name}`);
  return found;
};

describe('decodeReplay of files Python wrote', () => {
  test('every case decodes to the encoded arrays, bit for bit', async (t) => {
    assert.ok(fx.cases.length >= 7);
    for (const c of fx.cases) {
      await t.test(c.name, () => {
        const replay = decodeReplay(readFileSync(c.file));
        assert.deepEqual(replay.version, { major: c.version[0], minor: c.version[1] });
        assert.equal(replay.nFrames, c.n_frames);
        assert.equal(replay.nSteps, c.n_steps);
        assert.deepEqual(replay.header, c.header);
        for (const group of /** @type {const} */ (['frames', 'steps'])) {
          const expected = c.streams.filter((s) => s.group === group);
          assert.deepEqual(Object.keys(replay[group]), expected.map((s) => s.name), `${group} streams in file order`);
        }
        for (const s of c.streams) {
          const array = s.group === 'frames' ? replay.frames[s.name] : replay.steps[s.name];
          assertSameBits(array, readFileSync(s.bin), `${c.name} ${s.group}['${s.name}']`);
          assert.deepEqual(replay.shapes[s.name], [s.shape[0], s.shape.length === 2 ? s.shape[1] : 1]);
        }
      });
    }
  });

  test('the arena episode has the arena sizes and a real header', () => {
    const replay = decodeReplay(readFileSync(fixture('arena_expert').file));
    const h = replay.header;
    assert.deepEqual([h.nq, h.nv, h.nu, h.action_dim], [37, 33, 9, 7]);
    assert.equal(replay.frames.qpos.length, replay.nFrames * 37);
    assert.match(h.bundle_hash, /^sha256:[0-9a-f]{64}$/);
    assert.equal(h.joints.length > 0 && h.actuators.length, 9);
    assert.equal(h.metadata.outcome.n_frames, replay.nFrames);
    assert.deepEqual(replay.chunks.map((ch) => ch.stream), ['time', 'qpos', 'qvel', 'ctrl', 'action', 'progress']);
  });

  test('many small chunks with a ragged last one decode the same as one chunk per stream', () => {
    const small = decodeReplay(readFileSync(fixture('arena_expert_chunk7').file));
    const big = decodeReplay(readFileSync(fixture('arena_expert').file));
    assert.equal(small.chunks.filter((ch) => ch.stream === 'qpos').length, Math.ceil(86 / 7));
    for (const name of ['time', 'qpos', 'qvel', 'ctrl']) assertSameBits(small.frames[name], bytesOf(big.frames[name]), name);
  });

  test('edge values survive: NaN payloads, -0.0, infinities, subnormals, extra streams, zero columns', () => {
    const replay = decodeReplay(readFileSync(fixture('edge_values').file));
    const qpos = new BigUint64Array(replay.frames.qpos.buffer);
    const at = (/** @type {number} */ row) => qpos[row * 6 + 1].toString(16);
    assert.deepEqual([at(3), at(4), at(7), at(8)], ['8000000000000000', '7ff0000000000000', '7ff4000000000bad', 'fff8deadbeef0001']);
    assert.equal(replay.frames.ctrl.length, 0);
    assert.deepEqual(replay.shapes.ctrl, [1100, 0]);
    assert.deepEqual(replay.shapes.contact_force, [1100, 3]);
    assert.deepEqual(Object.keys(replay.steps), ['action', 'progress', 'reward']);
    assert.equal(replay.chunks.filter((ch) => ch.stream === 'time').length, 3);
  });

  test('the committed 1.1 golden file uses every predictor and decodes like the 1.0 one where the inputs agree', () => {
    const v11 = decodeReplay(readFileSync(fixture('golden_v1_1').file));
    const v10 = decodeReplay(readFileSync(fixture('golden_v1_0').file));
    assert.deepEqual(v11.version, { major: 1, minor: 1 });
    assert.deepEqual(new Set(v11.chunks.flatMap((ch) => ch.predictors)), new Set([0, 1, 2]));
    assert.ok(v11.chunks.every((ch) => ch.codec === 'predict-shuffle-zstd'));
    assert.ok(v10.chunks.every((ch) => ch.codec === 'delta-shuffle-zstd' && ch.predictors.length === 0));
    for (const name of ['time', 'qvel', 'ctrl']) assertSameBits(v11.frames[name], bytesOf(v10.frames[name]), name);
    assert.equal(new BigUint64Array(v11.frames.qvel.buffer)[5 * 7 + 3], 0x7ff4000000000badn);
  });

  test('the committed golden file (format 1.0) keeps its signalling NaN and metadata', () => {
    const replay = decodeReplay(readFileSync(fixture('golden_v1_0').file));
    assert.equal(new BigUint64Array(replay.frames.qvel.buffer)[5 * 7 + 3], 0x7ff4000000000badn);
    assert.equal(new BigUint64Array(replay.steps.action.buffer)[1 * 4 + 3], 0x8000000000000000n);
    assert.deepEqual(replay.header.metadata.outcome, { success: true, steps: 3 });
  });

  test('readHeader needs only the first 20 + H bytes and decompresses nothing', () => {
    const bytes = readFileSync(fixture('arena_expert').file);
    const { dataStart } = splitVlar(bytes);
    const index = readHeader(bytes.subarray(0, dataStart));
    const replay = decodeReplay(bytes);
    assert.deepEqual(index.version, { major: 1, minor: 1 });
    assert.deepEqual(index.header, replay.header);
    assert.equal(index.n_frames, replay.nFrames);
    assert.deepEqual(index.streams, replay.streams);
    assert.deepEqual(index.chunks, replay.chunks);
  });

  test('ArrayBuffer input and a Uint8Array at an odd offset decode identically', () => {
    const bytes = readFileSync(fixture('edge_values').file);
    const expected = decodeReplay(bytes);
    const exact = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length);
    const odd = new Uint8Array(bytes.length + 3);
    odd.set(bytes, 3);
    for (const input of [exact, odd.subarray(3)]) {
      const replay = decodeReplay(input);
      for (const name of Object.keys(expected.frames)) assertSameBits(replay.frames[name], bytesOf(expected.frames[name]), name);
    }
  });
});

describe('spec examples (docs/replay-format.md section 6)', () => {
  /** @param {number[][]} rows a 2-column qpos @returns {Uint8Array} */
  const fileWithQpos = (rows) => buildVlar({
    header: headerMap({ nq: 2, step_frames: [] }), n_frames: rows.length,
    streams: [
      { name: 'time', group: 'frames', shape: [rows.length], values: Float64Array.from(rows, (_, i) => i * 0.02) },
      { name: 'qpos', group: 'frames', shape: [rows.length, 2], values: Float64Array.from(rows.flat()) },
      { name: 'qvel', group: 'frames', shape: [rows.length, 0], values: new Float64Array(0) },
      { name: 'ctrl', group: 'frames', shape: [rows.length, 0], values: new Float64Array(0) },
      { name: 'action', group: 'steps', shape: [0, 0], values: new Float64Array(0) },
    ],
  });

  test('the worked example: [[1.0, -2.0], [1.5, -2.0]] and its 32 transformed bytes', () => {
    const expectedT = Uint8Array.from(
      '00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 F0 08 00 00 3F 00 C0 00'
        .split(' '), (h) => parseInt(h, 16));
    assert.deepEqual(forwardTransform(Float64Array.of(1.0, -2.0, 1.5, -2.0), 2, 0, 2), expectedT);
    const bytes = fileWithQpos([[1.0, -2.0], [1.5, -2.0]]);
    const { index, section } = splitVlar(bytes);
    const chunk = index.chunks[1];
    assert.deepEqual(section.subarray(chunk.offset, chunk.offset + chunk.length), zstdStored(expectedT));
    assert.deepEqual([...decodeReplay(bytes).frames.qpos], [1.0, -2.0, 1.5, -2.0]);
  });

  test('a decreasing value wraps: [1.5, 1.0] has planes 6 and 7 = F8 F8, 3F FF', () => {
    const T = forwardTransform(Float64Array.of(1.5, 1.0), 1, 0, 2);
    assert.deepEqual([...T.subarray(12, 16)], [0xf8, 0xf8, 0x3f, 0xff]);
    assert.deepEqual([...decodeReplay(fileWithQpos([[1.5, 0], [1.0, -0]])).frames.qpos], [1.5, 0, 1.0, -0]);
  });
});

describe('round trip of random bit patterns through a JS-built file', () => {
  /** mulberry32: a small seeded PRNG, so a failure can be replayed with VLAR_SEED. @param {number} seed */
  const prng = (seed) => () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 2 ** 32;
  };

  test('any bit pattern, any chunking', (t) => {
    const seed = Number(process.env.VLAR_SEED ?? Date.now() % 2 ** 31);
    t.diagnostic(`VLAR_SEED=${seed}`);
    const random = prng(seed);
    const int = (/** @type {number} */ n) => Math.floor(random() * n);
    const bits = (/** @type {number} */ n) => new Float64Array(Uint32Array.from({ length: 2 * n }, () => int(2 ** 32)).buffer);
    for (let trial = 0; trial < 25; trial++) {
      const nFrames = 1 + int(60);
      const [nq, nv, nu, actionDim] = [int(6), int(4), int(3), int(3)];
      const stepFrames = Array.from({ length: int(8) }, () => int(nFrames)).sort((a, b) => a - b);
      const s = stepFrames.length;
      const streams = [
        { name: 'time', group: 'frames', shape: [nFrames], values: bits(nFrames) },
        { name: 'qpos', group: 'frames', shape: [nFrames, nq], values: bits(nFrames * nq) },
        { name: 'qvel', group: 'frames', shape: [nFrames, nv], values: bits(nFrames * nv) },
        { name: 'ctrl', group: 'frames', shape: [nFrames, nu], values: bits(nFrames * nu) },
        { name: 'action', group: 'steps', shape: [s, actionDim], values: bits(s * actionDim) },
        { name: 'progress', group: 'steps', shape: [s], values: bits(s) },
      ];
      // format 1.1 half the time: random predictors per column, the velocity one on qpos column 0
      const predictive = trial % 2 === 1;
      const joints = nq && nv ? [{ name: 'slider', type: 'slide', qpos_adr: 0, dof_adr: nv - 1 }] : [];
      if (predictive) {
        for (const st of streams) {
          const cols = st.shape.length === 2 ? st.shape[1] : 1;
          /** @type {any} */ (st).predictors = Array.from({ length: cols }, (_, c) => (st.name === 'qpos' && c === 0 && joints.length ? int(3) : int(2)));
        }
        // smooth values too, so predictions are finite and the float arithmetic is exercised
        for (const st of streams.slice(0, 3)) st.values.forEach((_, k) => { if (k % 3 === 0) st.values[k] = Math.sin(k) * 1e3 * random(); });
      }
      const header = headerMap({ nq, nv, nu, action_dim: actionDim, step_frames: stepFrames, joints });
      const velocity = predictive ? { a: random(), b: -random(), map: Array.from({ length: nq }, (_, c) => (c === 0 && joints.length ? nv - 1 : -1)) } : undefined;
      const file = buildVlar({ header, n_frames: nFrames, streams, velocity }, { chunkRows: 1 + int(20), minor: predictive ? 1 : 0 });
      const replay = decodeReplay(file);
      assert.equal(replay.version.minor, predictive ? 1 : 0);
      for (const st of streams) {
        const got = st.group === 'frames' ? replay.frames[st.name] : replay.steps[st.name];
        assertSameBits(got, bytesOf(st.values), `seed ${seed} trial ${trial} ${st.name}`);
      }
    }
  });
});
