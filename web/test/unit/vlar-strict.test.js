// @ts-check
/**
 * The JavaScript reader enforces every rule the Python writer enforces (docs/replay-format.md section
 * 9): hand-built mutants of the committed 1.1 golden file, each with a valid CRC, so only the rule
 * under test can object. The Python reader has the same table (tests/replay_format/test_replay_strict.py).
 * The golden file has 12 frames in 4-row chunks: chunks 3..5 are 'qpos' (nq=8; the free joint maps
 * qpos 0..2, the elbow qpos 7), 6..8 'qvel' (nv=7).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';

import { ExtData } from '@msgpack/msgpack';

import { CorruptReplayError, decodeReplay, readHeader } from '../../src/lib/vlar.js';
import { repoRoot } from '../support/python.mjs';
import { assemble, encodeMsgpack, F64, Int, rewriteIndex, splitVlar, versionOf, withFloats } from '../support/vlar-builder.mjs';

const GOLDEN = new Uint8Array(readFileSync(path.join(repoRoot, 'tests', 'replay_format', 'golden', 'episode_v1_1.vlar')));

/** @param {(index: any) => void} edit */
const edited = (edit) => rewriteIndex(GOLDEN, (index) => { edit(index); });

/** @param {Uint8Array} bytes @param {RegExp} pattern */
function corrupt(bytes, pattern) {
  assert.throws(() => decodeReplay(bytes), (/** @type {any} */ error) => {
    assert.ok(error instanceof CorruptReplayError, `expected CorruptReplayError, got ${error?.name}: ${error?.message}`);
    assert.match(error.message, pattern);
    return true;
  });
}

/** @type {[string, (index: any) => void, RegExp][]} */
const EDITS = [
  ['timestep 0', (i) => { i.header.timestep = 0; }, /header\.timestep must be a finite number > 0, got 0$/],
  ['negative frame rate', (i) => { i.header.frame_rate = -50; }, /header\.frame_rate must be a finite number > 0/],
  ['NaN frame rate', (i) => { i.header.frame_rate = NaN; }, /header\.frame_rate must be .* got NaN$/],
  ['infinite control rate', (i) => { i.header.control_rate = Infinity; }, /header\.control_rate must be/],
  ['int timestep', (i) => { i.header.timestep = new Int(1); }, /header\.timestep should be a float64, got a msgpack int$/],
  ['int frame rate', (i) => { i.header.frame_rate = new Int(50); }, /header\.frame_rate should be a float64, got a msgpack int/],
  ['upper-case hash', (i) => { i.header.bundle_hash = `sha256:${'AB'.repeat(32)}`; }, /header\.bundle_hash should be 'sha256:'/],
  ['short hash', (i) => { i.header.bundle_hash = 'sha256:abc'; }, /header\.bundle_hash/],
  ['negative nq', (i) => { i.header.nq = -1; }, /header\.nq should be an integer >= 0/],
  ['float64-encoded nq', (i) => { i.header.nq = new F64(8); }, /header\.nq should be an integer >= 0, got a msgpack float64$/],
  ['unknown joint type', (i) => { i.header.joints[1].type = 'prismatic'; }, /header\.joints\[1\]\.type should be one of/],
  ['binary metadata', (i) => { i.header.metadata.x = Uint8Array.of(0, 1); }, /file\.header\.metadata\.x is binary data/],
  ['ext metadata', (i) => { i.header.metadata.x = new ExtData(5, Uint8Array.of(1)); }, /file\.header\.metadata\.x is extension data/],
  ['timestamp metadata', (i) => { i.header.metadata.x = new ExtData(-1, new Uint8Array(4)); }, /is extension data/],
  ['non-string key', (i) => { i.header.metadata.x = new Map([[1, 'a']]); }, /file\.header\.metadata\.x has a map key that is not a string/],
  ['negative n_frames', (i) => { i.n_frames = -1; }, /file\.n_frames should be an integer >= 0/],
  ['step at n_frames (half-open)', (i) => { i.header.step_frames = [0, 4, 12]; }, /header\.step_frames\[2\]: 12 is outside \[0, n_frames=12\)/],
  ['too few predictors', (i) => { i.chunks[3].predictors = [0, 0]; }, /chunk 3 .*in \[0, 1, 2\] per column \(8\)/],
  ['unknown predictor', (i) => { i.chunks[6].predictors = new Array(7).fill(3); }, /chunk 6 .*needs one predictor/],
  ['predictors, delta codec', (i) => { i.chunks[3].codec = 'delta-shuffle-zstd'; }, /chunk 3 .*its codec does not use/],
  ['velocity outside qpos', (i) => { Object.assign(i.chunks[6], { predictors: new Array(7).fill(2), coefficients: [0.009, 0.011] }); },
    /chunk 6 .*outside frames\['qpos'\]/],
  ['velocity on an unmapped column', (i) => { Object.assign(i.chunks[3], { predictors: new Array(8).fill(2), coefficients: [0.009, 0.011] }); },
    /chunk 3 .*velocity predictor on qpos column\(s\) \[3, 4, 5, 6\]/],
  ['velocity without coefficients', (i) => { Object.assign(i.chunks[3], { predictors: [2, 0, 0, 0, 0, 0, 0, 0], coefficients: [] }); },
    /chunk 3 .*needs 2 finite coefficients/],
  ['int coefficients', (i) => { Object.assign(i.chunks[3], { predictors: [2, 0, 0, 0, 0, 0, 0, 0], coefficients: [new Int(0), new Int(1)] }); },
    /chunks\[3\]\.coefficients\[0\] should be a float64, got a msgpack int/],
  ['coefficients without velocity', (i) => { Object.assign(i.chunks[3], { predictors: new Array(8).fill(0), coefficients: [0.5, 0.5] }); },
    /chunk 3 .*has coefficients but no velocity predictor/],
];

describe('the reader rejects what the writer refuses', () => {
  test('the base file (the 1.1 golden file, re-encoded by the test builder) reads', () => {
    assert.deepEqual(versionOf(GOLDEN), { major: 1, minor: 1 });
    const again = edited(() => {});
    assert.deepEqual(decodeReplay(again).frames.qpos, decodeReplay(GOLDEN).frames.qpos);
    const { index } = splitVlar(GOLDEN);
    assert.equal(index.chunks[3].stream, 'qpos');
    assert.equal(index.chunks[6].stream, 'qvel');
  });

  for (const [name, edit, pattern] of EDITS) test(name, () => corrupt(edited(edit), pattern));
});

describe('wire rules on raw header bytes', () => {
  const { index, section } = splitVlar(GOLDEN);
  const headerBytes = encodeMsgpack(withFloats(index));
  /** @param {number[]} from @param {number[]} to */
  const swap = (from, to) => {
    const hex = (/** @type {Iterable<number>} */ b) => Buffer.from([...b]).toString('hex');
    const text = hex(headerBytes);
    assert.equal(text.split(hex(from)).length, 2, 'the pattern occurs once');
    return assemble(null, section, { headerBytes: Uint8Array.from(Buffer.from(text.replace(hex(from), hex(to)), 'hex')) });
  };
  const ascii = (/** @type {string} */ s) => [...Buffer.from(s)];

  test('a duplicate key', () => corrupt(swap([0xa8, ...ascii('robot_id')], [0xa8, ...ascii('scene_id')]), /has the key 'scene_id' twice/));
  test('invalid UTF-8', () => corrupt(swap([0xaa, ...ascii('golden_arm')], [0xaa, 0xff, ...ascii('olden_arm')]), /not valid UTF-8/));
  test('a float32', () => {
    const f64 = new DataView(new ArrayBuffer(8));
    f64.setFloat64(0, 0.002);
    const f32 = new DataView(new ArrayBuffer(4));
    f32.setFloat32(0, 0.002);
    corrupt(swap([0xa8, ...ascii('timestep'), 0xcb, ...new Uint8Array(f64.buffer)], [0xa8, ...ascii('timestep'), 0xca, ...new Uint8Array(f32.buffer)]),
      /file\.header\.timestep is a float32/);
  });
  test('a byte after the header map', () => {
    const bytes = assemble(null, section, { headerBytes: Uint8Array.from([...headerBytes, 0xc0]) });
    assert.throws(() => readHeader(bytes), /1 bytes after the header map/);
  });
});
