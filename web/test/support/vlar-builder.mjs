// @ts-check
/**
 * A test-only `.vlar` writer in JavaScript, for files Python would never write: hand-made chunk tables,
 * stored (uncompressed) zstd frames with chosen declared sizes, edited headers with a valid CRC (the
 * 1.1 rule covers prelude bytes 8..16 too). The transforms follow docs/replay-format.md sections 6
 * and 7 with BigInt arithmetic, independently of the decoder's 32-bit-halves code. Headers are
 * encoded by `encodeMsgpack`, which keeps float fields float64 even when their value is integral.
 */
import { decode, ExtData } from '@msgpack/msgpack';

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

/** A number that `encodeMsgpack` writes as a msgpack float64 even when it is integral. */
export class F64 {
  /** @param {number} value */
  constructor(value) {
    this.value = value;
  }
}

/** A number that `encodeMsgpack` writes as a msgpack int (so `withFloats` leaves it alone). */
export class Int {
  /** @param {number} value */
  constructor(value) {
    this.value = value;
  }
}

/**
 * A small msgpack encoder for hand-made headers: integral numbers and Int -> the smallest int, other
 * numbers and F64 -> float64, strings, arrays, objects and Maps (any keys) -> maps, null, booleans,
 * Uint8Array -> bin, ExtData -> ext.
 * @param {unknown} value @returns {Uint8Array}
 */
export function encodeMsgpack(value) {
  /** @type {number[]} */
  const out = [];
  const be = (/** @type {number} */ n, /** @type {number} */ bytes) => {
    for (let k = bytes - 1; k >= 0; k--) out.push(Number((BigInt(n) >> BigInt(8 * k)) & 0xffn));
  };
  const head = (/** @type {number} */ fix, /** @type {number[]} */ codes, /** @type {number} */ n) => {
    if (n < 16) out.push(fix | n);
    else if (n < 2 ** 16) { out.push(codes[0]); be(n, 2); }
    else { out.push(codes[1]); be(n, 4); }
  };
  const walk = (/** @type {any} */ v) => {
    if (v instanceof Int) v = v.value;
    if (v === null || v === undefined) out.push(0xc0);
    else if (typeof v === 'boolean') out.push(v ? 0xc3 : 0xc2);
    else if (v instanceof F64 || (typeof v === 'number' && !Number.isSafeInteger(v))) {
      const f = new DataView(new ArrayBuffer(8));
      f.setFloat64(0, v instanceof F64 ? v.value : v);
      out.push(0xcb, ...new Uint8Array(f.buffer));
    } else if (typeof v === 'number') {
      if (v >= 0 && v < 128) out.push(v);
      else if (v < 0 && v >= -32) out.push(v & 0xff);
      else if (v >= 0) { out.push(0xcf); be(v, 8); }
      else { out.push(0xd3); be(Number(BigInt.asUintN(64, BigInt(v))), 8); }
    } else if (typeof v === 'string') {
      const bytes = new TextEncoder().encode(v);
      if (bytes.length < 32) out.push(0xa0 | bytes.length); else { out.push(0xdb); be(bytes.length, 4); }
      out.push(...bytes);
    } else if (v instanceof Uint8Array) { out.push(0xc6); be(v.length, 4); out.push(...v); }
    else if (v instanceof ExtData) { out.push(0xc9); be(v.data.length, 4); out.push(v.type & 0xff, .../** @type {Uint8Array} */ (v.data)); }
    else if (Array.isArray(v)) { head(0x90, [0xdc, 0xdd], v.length); v.forEach(walk); }
    else if (v instanceof Map) {
      head(0x80, [0xde, 0xdf], v.size);
      for (const [k, item] of v) { walk(k); walk(item); }
    }
    else {
      const entries = Object.entries(v);
      head(0x80, [0xde, 0xdf], entries.length);
      for (const [k, item] of entries) { walk(k); walk(item); }
    }
  };
  walk(value);
  return Uint8Array.from(out);
}

/**
 * A copy of a file index whose float fields (the header's rates and timestep, chunk coefficients)
 * are wrapped in F64, as a Python writer would encode them.
 * @param {any} index @returns {any}
 */
export function withFloats(index) {
  if (!index || typeof index !== 'object') return index;
  const copy = clone(index);
  const h = copy.header;
  if (h && typeof h === 'object') {
    for (const k of ['timestep', 'frame_rate', 'control_rate']) if (typeof h[k] === 'number') h[k] = new F64(h[k]);
  }
  for (const c of Array.isArray(copy.chunks) ? copy.chunks : []) {
    if (c && Array.isArray(c.coefficients)) c.coefficients = c.coefficients.map((/** @type {any} */ x) => (typeof x === 'number' ? new F64(x) : x));
  }
  return copy;
}

/**
 * A deep copy of plain arrays and objects; anything else (Int, F64, Uint8Array, ExtData, Map) is shared.
 * @param {any} v @returns {any}
 */
function clone(v) {
  if (Array.isArray(v)) return v.map(clone);
  if (v && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, clone(x)]));
  }
  return v;
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
 * Forward `predict-shuffle-zstd` transform (spec section 7) of rows r0..r0+R of a row-major C-column
 * array: per-column predictions in float64, zigzag of the wrapping bit difference, column-major
 * order, byte shuffle. BigInt arithmetic throughout.
 * @param {Float64Array} values @param {number} C @param {number} r0 @param {number} R
 * @param {number[]} predictors @param {{w: Float64Array, nv: number, map: number[], a: number, b: number} | null} velocity
 * @returns {Uint8Array}
 */
export function forwardPredict(values, C, r0, R, predictors, velocity) {
  const u = new BigUint64Array(values.buffer, values.byteOffset, values.length);
  const bitsOf = (/** @type {number} */ x) => new BigUint64Array(Float64Array.of(x).buffer)[0];
  const N = R * C;
  const T = new Uint8Array(N * 8);
  for (let c = 0; c < C; c++) {
    for (let r = 0; r < R; r++) {
      const at = (r0 + r) * C + c;
      let p = 0n;
      if (r > 0) {
        p = u[at - C];
        let q = NaN;
        if (predictors[c] === 1 && r >= 2) q = 2 * values[at - C] - values[at - 2 * C];
        if (predictors[c] === 2 && velocity) {
          const v = velocity.map[c];
          q = values[at - C] + (velocity.a * velocity.w[(r0 + r - 1) * velocity.nv + v] + velocity.b * velocity.w[(r0 + r) * velocity.nv + v]);
        }
        if (Number.isFinite(q)) p = bitsOf(q);
      }
      const d = BigInt.asUintN(64, u[at] - p);
      const e = BigInt.asUintN(64, (d << 1n) ^ (BigInt.asIntN(64, d) < 0n ? 0xffffffffffffffffn : 0n));
      for (let k = 0; k < 8; k++) T[k * N + c * R + r] = Number((e >> BigInt(8 * k)) & 0xffn);
    }
  }
  return T;
}

/**
 * Encode streams into a whole file. `streams`: [{name, group, shape, values, predictors?}] (values
 * row-major). A stream with `predictors` (one id per column) uses `predict-shuffle-zstd`, the others
 * `delta-shuffle-zstd`; `velocity` gives the coefficients [a, b] and the qpos -> qvel column map used
 * by predictor 2 (the qvel values come from the 'qvel' stream).
 * @param {{header: Record<string, any>, n_frames: number,
 *   streams: {name: string, group: string, shape: number[], values: Float64Array, dtype?: string, predictors?: number[]}[],
 *   velocity?: {a: number, b: number, map: number[]}}} spec
 * @param {{chunkRows?: number, major?: number, minor?: number}} [opts]
 */
export function buildVlar(spec, { chunkRows = 512, major = 1, minor = 1 } = {}) {
  const chunks = [];
  const payloads = [];
  let offset = 0;
  const qvel = spec.streams.find((s) => s.name === 'qvel');
  const velocity = spec.velocity && qvel
    ? { ...spec.velocity, w: qvel.values, nv: qvel.shape.length === 2 ? qvel.shape[1] : 1 } : null;
  for (const s of spec.streams) {
    const C = s.shape.length === 2 ? s.shape[1] : 1;
    for (let r0 = 0; C > 0 && r0 < s.shape[0]; r0 += chunkRows) {
      const R = Math.min(chunkRows, s.shape[0] - r0);
      const p = s.predictors;
      const raw = p ? forwardPredict(s.values, C, r0, R, p, velocity) : forwardTransform(s.values, C, r0, R);
      const payload = zstdStored(raw);
      /** @type {Record<string, unknown>} */
      const chunk = { stream: s.name, row_start: r0, row_count: R, offset, length: payload.length,
        raw_length: R * C * 8, codec: p ? 'predict-shuffle-zstd' : 'delta-shuffle-zstd', crc32: crc32(payload) };
      if (p) chunk.predictors = p;
      if (p?.includes(2) && velocity) chunk.coefficients = [velocity.a, velocity.b];
      chunks.push(chunk);
      payloads.push(payload);
      offset += payload.length;
    }
  }
  const streams = spec.streams.map((s) => ({ name: s.name, group: s.group, dtype: s.dtype ?? 'float64', shape: s.shape }));
  const index = { header: spec.header, n_frames: spec.n_frames, streams, chunks };
  return assemble(index, concat(payloads), { major, minor });
}

/**
 * Prelude + msgpack header (with its CRC: of the header for minor 0, of prelude bytes 8..16 and then
 * the header from minor 1 on) + data section.
 * @param {unknown} index @param {Uint8Array} section @param {{major?: number, minor?: number, headerBytes?: Uint8Array}} [opts]
 */
export function assemble(index, section, { major = 1, minor = 1, headerBytes = encodeMsgpack(withFloats(index)) } = {}) {
  const prelude = new Uint8Array(20);
  prelude.set(MAGIC);
  const view = new DataView(prelude.buffer);
  view.setUint16(8, major, true);
  view.setUint16(10, minor, true);
  view.setUint32(12, headerBytes.length, true);
  view.setUint32(16, crc32(headerBytes, minor >= 1 ? crc32(prelude.subarray(8, 16)) : 0), true);
  return concat([prelude, headerBytes, section]);
}

/** The (major, minor) version a file declares. @param {Uint8Array} bytes */
export function versionOf(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  return { major: view.getUint16(8, true), minor: view.getUint16(10, true) };
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
  return assemble(edited, opts.section ?? section, versionOf(bytes));
}
