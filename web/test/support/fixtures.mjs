// @ts-check
/**
 * Replay fixtures written by Python (web/test/support/replay_fixtures.py) into a temporary folder,
 * and byte-level comparisons of decoded arrays against them.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { repoRoot, runPython } from './python.mjs';

export const FIXTURE_SCRIPT = path.join(repoRoot, 'web', 'test', 'support', 'replay_fixtures.py');

/** @typedef {{name: string, group: 'frames' | 'steps', shape: number[], bin: string}} FixtureStream */
/**
 * One case of manifest.json: `file` is the .vlar, `streams` the arrays that were encoded, `messages`
 * the live ('live') and rebuilt ('rebuilt') stream message files of arena episodes, `baselines`
 * (bench set) the same arrays as plain zstd ('zstd3', 'zstd15') and JSON ('json').
 * @typedef {{name: string, file: string, version: [number, number], n_frames: number, n_steps: number,
 *   header: Record<string, any>, streams: FixtureStream[], sha256: string,
 *   messages: Record<string, string>, baselines: Record<string, string>,
 *   blind_file?: string}} FixtureCase
 */

/**
 * Run the fixture script for `set` ('tests' or 'bench') into a new temporary folder.
 * @param {string} [set]
 * @returns {{dir: string, cases: FixtureCase[], cleanup: () => void}}
 */
export function makeFixtures(set = 'tests') {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vlar-fixtures-'));
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  try {
    runPython([FIXTURE_SCRIPT, dir, '--set', set]);
    const manifest = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
    return { dir, cases: manifest.cases, cleanup };
  } catch (error) {
    cleanup();
    throw error;
  }
}

/**
 * The messages of a `.msgs` file: each is a u32 little-endian length followed by that many bytes.
 * @param {string} file @returns {Uint8Array[]}
 */
export function readMessages(file) {
  const data = readFileSync(file);
  const out = [];
  for (let at = 0; at < data.length;) {
    const length = data.readUInt32LE(at);
    out.push(new Uint8Array(data.subarray(at + 4, at + 4 + length)));
    at += 4 + length;
  }
  return out;
}

/** The bytes of a typed array. @param {ArrayBufferView} a @returns {Buffer} */
export function bytesOf(a) {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

/** @param {Buffer} b @param {number} i */
const hexAt = (b, i) => b.subarray(i, i + 8).reverse().toString('hex');

/**
 * Assert that a Float64Array holds exactly `expected` (raw little-endian float64 bytes): bits, not
 * values, so NaN payloads and signed zeros count. Names the first differing element.
 * @param {Float64Array | undefined} actual @param {Buffer} expected @param {string} label
 */
export function assertSameBits(actual, expected, label) {
  assert.ok(actual instanceof Float64Array, `${label}: expected a Float64Array, got ${actual}`);
  const got = bytesOf(actual);
  assert.equal(got.length, expected.length, `${label}: ${got.length / 8} values, expected ${expected.length / 8}`);
  if (got.equals(expected)) return;
  let i = 0;
  while (got.readBigUInt64LE(i) === expected.readBigUInt64LE(i)) i += 8;
  assert.fail(`${label}: element ${i / 8} has bits 0x${hexAt(Buffer.from(got), i)}, expected 0x${hexAt(Buffer.from(expected), i)}`);
}
