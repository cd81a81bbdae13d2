// @ts-check
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { crc32 } from '../../src/lib/crc32.js';
import { runPython } from '../support/python.mjs';

const ascii = (/** @type {string} */ s) => new TextEncoder().encode(s);

test('crc32 check value of "123456789" is 0xCBF43926 (spec section 1)', () => {
  assert.equal(crc32(ascii('123456789')), 0xcbf43926);
  assert.equal(crc32(new Uint8Array(0)), 0);
});

test('crc32 continues over split data with a seed', () => {
  const data = ascii('the quick brown fox jumps over the lazy dog');
  assert.equal(crc32(data.subarray(17), crc32(data.subarray(0, 17))), crc32(data));
});

test('crc32 equals Python zlib.crc32 on pseudo-random buffers', () => {
  const buffers = [1, 7, 64, 1000, 65537].map((n, s) => Uint8Array.from({ length: n }, (_, i) => (i * 2654435761 + s * 97) >>> 24));
  const hex = buffers.map((b) => Buffer.from(b).toString('hex')).join('\n');
  const script = 'import sys, zlib; print(" ".join(str(zlib.crc32(bytes.fromhex(h))) for h in sys.stdin.read().split()))';
  const expected = runPython(['-c', script], { input: hex }).toString().trim().split(' ').map(Number);
  assert.deepEqual(buffers.map((b) => crc32(b)), expected);
});
