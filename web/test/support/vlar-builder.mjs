// @ts-check
/**
 * A test-only `.vlar` writer in JavaScript, for files Python would never write: hand-made chunk tables,
 * stored (uncompressed) zstd frames with chosen declared sizes, edited headers with a valid CRC.
 * The transform follows docs/replay-format.md section 6 with BigInt arithmetic, independently of
 * the decoder's 32-bit-halves code.
 */
import { decode, encode } from '@msgpack/msgpack';

import { crc32 } from '../../src/lib/crc32.js';

export const MAGIC = [0x89, 0x56, 0x4c, 0x41, 0x52, 0x0d, 0x0a, 0x1a];

/**
 * One zstd frame holding `bytes` in raw blocks (RFC 8878), declaring `contentSize` (default: the
 * real size; null: declare none).
 * @param {Uint8Array} bytes @param {{contentSize?: number | null}} [opts] @returns {Uint8Array}
 */
export function zstdStored(bytes, { contentSize = bytes.length } = {}) {
  const head = contentSize === null
    ? [0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x58] // no content size; window descriptor: 2^(10+11) bytes
    : [0x28, 0xb5, 0x2f, 0xfd, 0xa0, ...u32(contentSize)]; // single segment, 4-byte content size
  /** @type {Uint8Array[]} */
  const parts = [Uint8Array.from(head)];
  const MAX = 128 * 1024;
  for (let at = 0; at === 0 || at < bytes.length; at += MAX) {
    const block = bytes.subarray(at, at + MAX);
    const last = at + MAX >= bytes.length ? 1 : 0;
    const h = last | (block.length << 3); // block type 0: raw
    parts.push(Uint8Array.of(h & 0xff, (h >> 8) & 0xff, (h >> 16) & 0xff), block);
  }
  return concat(parts);
}

/** @param {number} n */
function u32(n) {
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
}

/** @param {Uint8Array[]} parts */
export function concat(parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Forward `delta-shuffle-zstd` transform (steps 1-4) of rows r0..r0+R of a row-major C-column array.
 * @param {Float64Array} values @param {number} C @param {number} r0 @param {number} R @returns {Uint8Array}
 */
export function forwardTransform(values, C, r0, R) {
  const u = new BigUint64Array(values.buffer, values.byteOffset, values.length);
  const N = R * C;
  const T = new Uint8Array(N * 8);
  for (let c = 0; c < C; c++) {
    let previous = 0n;
    for (let r = 0; r < R; r++) {
      const bits = u[(r0 + r) * C + c];
      const delta = BigInt.asUintN(64, bits - previous);
      previous = bits;
      for (let k = 0; k < 8; k++) T[k * N + c * R + r] = Number((delta >> BigInt(8 * k)) & 0xffn);
    }
  }
  return T;
}

/**
 * A header map with every required field (values of a small synthetic robot).
 * @param {Record<string, unknown>} fields overrides
 */
export function headerMap(fields) {
  return {
    mujoco_version: '3.14.0', bundle_hash: `sha256:${'ab'.repeat(32)}`, robot_id: 'js_arm', scene_id: 'js_scene',
    nq: 0, nv: 0, nu: 0, timestep: 0.002, frame_rate: 50.5, control_rate: 10.5, joints: [],
    actuators: [{ name: 'fan', joint: null }], action_space: 'joint_pos', action_dim: 0, step_frames: [],
    metadata: { note: 'written by vlar-builder.mjs' }, ...fields,
  };
}

/**
 * Encode streams into a whole file. `streams`: [{name, group, shape, values}] (values row-major).
 * @param {{header: Record<string, any>, n_frames: number,
 *   streams: {name: string, group: string, shape: number[], values: Float64Array, dtype?: string}[]}} spec
 * @param {{chunkRows?: number, major?: number, minor?: number}} [opts]
 */
export function buildVlar(spec, { chunkRows = 512, major = 1, minor = 0 } = {}) {
  const chunks = [];
  const payloads = [];
  let offset = 0;
  for (const s of spec.streams) {
    const C = s.shape.length === 2 ? s.shape[1] : 1;
    for (let r0 = 0; C > 0 && r0 < s.shape[0]; r0 += chunkRows) {
      const R = Math.min(chunkRows, s.shape[0] - r0);
      const payload = zstdStored(forwardTransform(s.values, C, r0, R));
      chunks.push({ stream: s.name, row_start: r0, row_count: R, offset, length: payload.length,
        raw_length: R * C * 8, codec: 'delta-shuffle-zstd', crc32: crc32(payload) });
      payloads.push(payload);
      offset += payload.length;
    }
  }
  const streams = spec.streams.map((s) => ({ name: s.name, group: s.group, dtype: s.dtype ?? 'float64', shape: s.shape }));
  const index = { header: spec.header, n_frames: spec.n_frames, streams, chunks };
  return assemble(index, concat(payloads), { major, minor });
}

/**
 * Prelude + msgpack header (with its CRC) + data section.
 * @param {unknown} index @param {Uint8Array} section @param {{major?: number, minor?: number, headerBytes?: Uint8Array}} [opts]
 */
export function assemble(index, section, { major = 1, minor = 0, headerBytes = encode(index) } = {}) {
  const prelude = new Uint8Array(20);
  prelude.set(MAGIC);
  const view = new DataView(prelude.buffer);
  view.setUint16(8, major, true);
  view.setUint16(10, minor, true);
  view.setUint32(12, headerBytes.length, true);
  view.setUint32(16, crc32(headerBytes), true);
  return concat([prelude, headerBytes, section]);
}

/**
 * Split a file into its msgpack index (as a plain object) and data section.
 * @param {Uint8Array} bytes @returns {{index: any, section: Uint8Array, dataStart: number}}
 */
export function splitVlar(bytes) {
  const length = new DataView(bytes.buffer, bytes.byteOffset).getUint32(12, true);
  const dataStart = 20 + length;
  return { index: decode(bytes.subarray(20, dataStart)), section: bytes.subarray(dataStart), dataStart };
}

/**
 * The same file with its index edited by `mutate` (which may return a replacement), CRC recomputed.
 * @param {Uint8Array} bytes @param {(index: any) => any} mutate @param {{section?: Uint8Array}} [opts]
 */
export function rewriteIndex(bytes, mutate, opts = {}) {
  const { index, section } = splitVlar(bytes);
  const edited = mutate(index) ?? index;
  return assemble(edited, opts.section ?? section);
}
