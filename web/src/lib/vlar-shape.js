// @ts-check
/**
 * The wire types of a `.vlar` msgpack header, which a msgpack decoder forgets (an int and an
 * integral float64 both become a JS number). `shapeOf(bytes)` walks the header once and returns a
 * tree mirroring the value: an object (key -> shape) for a map, an array for an array, and for a
 * scalar its family: 'int', 'float64', 'str', 'nil' or 'bool'. It throws CorruptReplayError for what
 * the spec forbids anywhere in a header (section 3): bin, ext (timestamps included) and float32
 * values, non-string or duplicate map keys, invalid UTF-8, nesting deeper than MAX_DEPTH and bytes
 * after the top-level value. Python twin: replay_format/msgpack_shape.py (same rules and order).
 */
import { CorruptReplayError } from './vlar-errors.js';

export const MAX_DEPTH = 32;
/** @typedef {string | any[] | {[key: string]: any}} Shape a family name, or an array or map of shapes */

const UTF8 = new TextDecoder('utf-8', { fatal: true });
/** @type {Record<number, number>} int formats -> payload bytes */
const INTS = { 0xcc: 1, 0xcd: 2, 0xce: 4, 0xcf: 8, 0xd0: 1, 0xd1: 2, 0xd2: 4, 0xd3: 8 };
/** @type {Record<number, [string, number]>} sized formats -> [family, length bytes] */
const SIZED = {
  0xc4: ['bin', 1], 0xc5: ['bin', 2], 0xc6: ['bin', 4], 0xc7: ['ext', 1], 0xc8: ['ext', 2], 0xc9: ['ext', 4],
  0xd9: ['str', 1], 0xda: ['str', 2], 0xdb: ['str', 4],
};
/** @type {Record<string, string>} */
const FORBIDDEN = { bin: 'binary data', ext: 'extension data', float32: 'a float32' };

/** @param {string} problem */
const corrupt = (problem) => new CorruptReplayError(`corrupt replay header: ${problem}`);

/**
 * The shape tree of the one msgpack value that must fill `bytes` exactly.
 * @param {Uint8Array} bytes @returns {Shape}
 * @throws {CorruptReplayError}
 */
export function shapeOf(bytes) {
  const walker = new Walker(bytes);
  const shape = walker.value('file', 0);
  if (walker.at !== bytes.length) throw corrupt(`${bytes.length - walker.at} bytes after the header map`);
  return shape;
}

class Walker {
  /** @param {Uint8Array} bytes */
  constructor(bytes) {
    this.bytes = bytes;
    this.at = 0;
  }

  /** @param {number} n @param {string} where @returns {Uint8Array} */
  take(n, where) {
    if (this.at + n > this.bytes.length) throw corrupt(`${where}: truncated msgpack`);
    const out = this.bytes.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }

  /** @param {number} n @param {string} where */
  uint(n, where) {
    const b = this.take(n, where);
    let v = 0;
    for (let i = 0; i < n; i++) v = v * 256 + b[i];
    return v;
  }

  /** @param {string} where @param {number} depth @returns {Shape} */
  value(where, depth) {
    if (depth > MAX_DEPTH) throw corrupt(`${where}: nested deeper than ${MAX_DEPTH} levels`);
    const b = this.uint(1, where);
    if (b <= 0x7f || b >= 0xe0) return 'int';
    if (b in INTS) {
      this.take(INTS[b], where);
      return 'int';
    }
    if (b >= 0xa0 && b <= 0xbf) return this.text(b & 0x1f, where);
    if (b >= 0x80 && b <= 0x8f) return this.map(b & 0x0f, where, depth);
    if (b >= 0x90 && b <= 0x9f) return this.array(b & 0x0f, where, depth);
    if (b === 0xdc || b === 0xdd) return this.array(this.uint(b === 0xdc ? 2 : 4, where), where, depth);
    if (b === 0xde || b === 0xdf) return this.map(this.uint(b === 0xde ? 2 : 4, where), where, depth);
    return this.scalar(b, where);
  }

  /** @param {number} b @param {string} where @returns {Shape} */
  scalar(b, where) {
    let family;
    if (b === 0xc0) family = 'nil';
    else if (b === 0xc2 || b === 0xc3) family = 'bool';
    else if (b === 0xca) family = 'float32';
    else if (b === 0xcb) {
      this.take(8, where);
      family = 'float64';
    } else if (b in SIZED) {
      const [kind, n] = SIZED[b];
      if (kind === 'str') return this.text(this.uint(n, where), where);
      family = kind;
    } else if (b >= 0xd4 && b <= 0xd8) family = 'ext';
    else throw corrupt(`${where}: byte 0x${b.toString(16)} is not a msgpack value`);
    if (family in FORBIDDEN) throw corrupt(`${where} is ${FORBIDDEN[family]}, which a replay header may not hold`);
    return family;
  }

  /** @param {number} n @param {string} where */
  text(n, where) {
    try {
      UTF8.decode(this.take(n, where));
    } catch (error) {
      if (error instanceof CorruptReplayError) throw error;
      throw corrupt(`${where}: a string is not valid UTF-8`);
    }
    return 'str';
  }

  /** @param {number} count @param {string} where @param {number} depth @returns {Shape[]} */
  array(count, where, depth) {
    const out = [];
    for (let i = 0; i < count; i++) out.push(this.value(`${where}[${i}]`, depth + 1));
    return out;
  }

  /** @param {number} count @param {string} where @param {number} depth @returns {{[key: string]: Shape}} */
  map(count, where, depth) {
    /** @type {{[key: string]: Shape}} */
    const out = Object.create(null);
    for (let i = 0; i < count; i++) {
      const start = this.at;
      if (this.value(`${where} (a key)`, depth + 1) !== 'str') throw corrupt(`${where} has a map key that is not a string`);
      const raw = this.bytes.subarray(start, this.at);
      const skip = raw[0] <= 0xbf ? 1 : 1 + { 0xd9: 1, 0xda: 2, 0xdb: 4 }[/** @type {0xd9 | 0xda | 0xdb} */ (raw[0])];
      const key = UTF8.decode(raw.subarray(skip));
      if (Object.hasOwn(out, key)) throw corrupt(`${where} has the key '${key}' twice`);
      out[key] = this.value(`${where}.${key}`, depth + 1);
    }
    return out;
  }
}
