// @ts-check
/**
 * Decoder of the `.vlar` replay format, version 1.x, written from the normative spec
 * docs/replay-format.md (Python reference: replay_format/). Pure: no DOM, no fetch; runs in
 * browsers and Node.
 *
 * Every value comes back bit for bit (NaN payloads, -0.0, infinities, subnormals): the inverse
 * transform works on the 32-bit halves of each float64's bit pattern and never on floats.
 * Every check of spec section 8 raises a named error whose message can be shown as it is.
 */
import { decode as decodeMsgpack } from '@msgpack/msgpack';
import { decompress } from 'fzstd';

import { crc32 } from './crc32.js';
import { CorruptReplayError, ReplayFormatError, UnsupportedVersionError } from './vlar-errors.js';
import { chunkLabel, parseIndex, readableStreams } from './vlar-index.js';

export { CorruptReplayError, ReplayFormatError, UnsupportedVersionError } from './vlar-errors.js';
export { MAX_DECODED_BYTES } from './vlar-index.js';

/** @typedef {import('./vlar-index.js').ReplayHeader} ReplayHeader */
/** @typedef {import('./vlar-index.js').StreamInfo} StreamInfo */
/** @typedef {import('./vlar-index.js').ChunkInfo} ChunkInfo */
/** @typedef {import('./vlar-index.js').Readable} Readable */
/** @typedef {{major: number, minor: number}} FormatVersion */
/**
 * `readHeader`'s result: the whole msgpack header, no chunk decoded.
 * @typedef {{version: FormatVersion, header: ReplayHeader, n_frames: number, streams: StreamInfo[],
 *   chunks: ChunkInfo[]}} ReplayIndex
 */
/**
 * A decoded episode. Arrays are row-major float64: `frames.qpos[f * nq + j]` is qpos[j] at frame f.
 * `frames` holds time (nFrames), qpos, qvel, ctrl plus any extra frame streams; `steps` holds
 * action (nSteps * action_dim), progress (nSteps, NaN where undefined) when present, and extras.
 * `shapes[name]` is [rows, columns] (columns = 1 for a 1-D stream).
 * @typedef {object} Replay
 * @property {FormatVersion} version the version the file declares
 * @property {ReplayHeader} header
 * @property {number} nFrames
 * @property {number} nSteps
 * @property {{time: Float64Array, qpos: Float64Array, qvel: Float64Array, ctrl: Float64Array}
 *   & Record<string, Float64Array>} frames the required streams are always present
 * @property {{action: Float64Array, progress?: Float64Array} & Record<string, Float64Array>} steps
 * @property {Record<string, [number, number]>} shapes
 * @property {StreamInfo[]} streams the file's stream table
 * @property {ChunkInfo[]} chunks the file's chunk table
 */

export const MAGIC = Uint8Array.of(0x89, 0x56, 0x4c, 0x41, 0x52, 0x0d, 0x0a, 0x1a);
export const FORMAT_VERSION = Object.freeze({ major: 1, minor: 0 });
export const FILE_EXTENSION = '.vlar';
export const MEDIA_TYPE = 'application/vnd.vla-arena.replay';
const PRELUDE_SIZE = 20;
/** Output is written through Uint32 views of Float64Arrays, which assumes a little-endian host. */
const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

/** @param {Uint8Array | ArrayBuffer} input @returns {Uint8Array} */
function asBytes(input) {
  if (input instanceof Uint8Array) return input;
  if (input instanceof ArrayBuffer) return new Uint8Array(input);
  throw new TypeError('expected the replay as a Uint8Array or an ArrayBuffer');
}

/** @param {number} n */
const hex32 = (n) => `0x${n.toString(16).padStart(8, '0')}`;

/**
 * Parse the prelude and the msgpack header. Needs only the first 20 + H bytes of the file.
 * @param {Uint8Array} bytes @returns {{version: FormatVersion, index: import('./vlar-index.js').FileIndex, dataStart: number}}
 */
function unpackIndex(bytes) {
  for (let i = 0; i < Math.min(bytes.length, MAGIC.length); i++) {
    if (bytes[i] !== MAGIC[i]) throw new CorruptReplayError('not a .vlar replay file (bad magic)');
  }
  if (bytes.length < PRELUDE_SIZE) {
    throw new CorruptReplayError(
      `truncated replay: the file has ${bytes.length} bytes, fewer than the ${PRELUDE_SIZE}-byte prelude`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, PRELUDE_SIZE);
  const version = { major: view.getUint16(8, true), minor: view.getUint16(10, true) };
  if (version.major !== FORMAT_VERSION.major) {
    throw new UnsupportedVersionError(
      `unsupported replay version ${version.major}.${version.minor} (this viewer reads ${FORMAT_VERSION.major}.x)`);
  }
  const length = view.getUint32(12, true);
  const dataStart = PRELUDE_SIZE + length;
  if (bytes.length < dataStart) {
    throw new CorruptReplayError(
      `truncated replay: the header needs bytes ${PRELUDE_SIZE}..${dataStart}, the file has ${bytes.length}`);
  }
  const header = bytes.subarray(PRELUDE_SIZE, dataStart);
  const stored = view.getUint32(16, true);
  const actual = crc32(header);
  if (actual !== stored) {
    throw new CorruptReplayError(
      `corrupt replay: the header fails its CRC-32 check (computed ${hex32(actual)}, stored ${hex32(stored)})`);
  }
  return { version, index: parseIndex(decodeHeaderBytes(header)), dataStart };
}

/** @param {Uint8Array} header @returns {unknown} */
function decodeHeaderBytes(header) {
  try {
    return decodeMsgpack(header);
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw new CorruptReplayError(`corrupt replay header: not valid msgpack (${why})`, { cause: error });
  }
}

/**
 * Read the format version and the whole header (episode header, stream and chunk tables) without
 * decompressing anything. A prefix of the file holding the first 20 + H bytes is enough.
 * @param {Uint8Array | ArrayBuffer} input
 * @returns {ReplayIndex}
 * @throws {ReplayFormatError}
 */
export function readHeader(input) {
  const { version, index } = unpackIndex(asBytes(input));
  return { version, ...index };
}

/**
 * Decode a whole `.vlar` file, verifying every table, chunk CRC-32 and length.
 * @param {Uint8Array | ArrayBuffer} input
 * @returns {Replay}
 * @throws {UnsupportedVersionError} unknown major version, or a dtype/codec this reader lacks
 * @throws {CorruptReplayError} bad magic, truncation, checksum or table mismatch, bad zstd data
 */
export function decodeReplay(input) {
  if (!LITTLE_ENDIAN) throw new ReplayFormatError('this viewer needs a little-endian machine');
  const bytes = asBytes(input);
  const { version, index, dataStart } = unpackIndex(bytes);
  const readable = readableStreams(index);
  /** @type {Map<string, Float64Array>} */
  const arrays = new Map([...readable.values()].map((s) => [s.name, new Float64Array(s.rows * s.cols)]));
  const section = bytes.subarray(dataStart);
  index.chunks.forEach((chunk, number) => {
    const stream = readable.get(chunk.stream);
    if (stream) decodeChunk(section, number, chunk, stream.cols, /** @type {Float64Array} */ (arrays.get(chunk.stream)));
  });
  /** @type {Replay} */
  const replay = {
    version, header: index.header, nFrames: index.n_frames, nSteps: index.header.step_frames.length,
    frames: /** @type {Replay['frames']} */ ({}), steps: /** @type {Replay['steps']} */ ({}), shapes: {},
    streams: index.streams, chunks: index.chunks,
  };
  for (const s of readable.values()) {
    replay[s.group][s.name] = /** @type {Float64Array} */ (arrays.get(s.name));
    replay.shapes[s.name] = [s.rows, s.cols];
  }
  return replay;
}

/**
 * Verify and decode one chunk into its rows of `out` (row-major, `cols` columns).
 * @param {Uint8Array} section the data section @param {number} number @param {ChunkInfo} chunk
 * @param {number} cols @param {Float64Array} out
 */
function decodeChunk(section, number, chunk, cols, out) {
  const label = chunkLabel(number, chunk);
  const end = chunk.offset + chunk.length;
  if (end > section.length) {
    throw new CorruptReplayError(
      `truncated replay: ${label} needs data bytes ${chunk.offset}..${end}, the file has ${section.length}`);
  }
  const payload = section.subarray(chunk.offset, end);
  const crc = crc32(payload);
  if (crc !== chunk.crc32) {
    throw new CorruptReplayError(
      `corrupt replay: ${label} fails its CRC-32 check (computed ${hex32(crc)}, stored ${hex32(chunk.crc32)})`);
  }
  const raw = inflate(payload, chunk.raw_length, label);
  if (raw.length !== chunk.raw_length) {
    throw new CorruptReplayError(
      `corrupt replay: ${label} decompressed to ${raw.length} bytes, the chunk table says ${chunk.raw_length}`);
  }
  unshuffleInto(raw, chunk.row_count, cols, new Uint32Array(out.buffer, out.byteOffset, out.length * 2), chunk.row_start);
}

/**
 * zstd-decompress one payload. The frame's declared content size is checked against the chunk
 * table first, so a crafted frame cannot make fzstd allocate more than the table allows.
 * @param {Uint8Array} payload @param {number} rawLength @param {string} label @returns {Uint8Array}
 */
function inflate(payload, rawLength, label) {
  const declared = zstdContentSize(payload);
  if (declared !== null && declared !== rawLength) {
    throw new CorruptReplayError(
      `corrupt replay: ${label} declares ${declared} decompressed bytes, the chunk table says ${rawLength}`);
  }
  try {
    return decompress(payload);
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw new CorruptReplayError(`corrupt replay: ${label} holds bad zstd data (${why})`, { cause: error });
  }
}

/**
 * The content size a zstd frame header declares (RFC 8878 3.1.1.1), or null when it declares none
 * or the bytes are not a zstd frame (then fzstd reports the problem).
 * @param {Uint8Array} p @returns {number | null}
 */
export function zstdContentSize(p) {
  if (p.length < 6 || p[0] !== 0x28 || p[1] !== 0xb5 || p[2] !== 0x2f || p[3] !== 0xfd) return null;
  const fhd = p[4];
  const singleSegment = (fhd >> 5) & 1;
  const fcsFlag = fhd >> 6;
  const size = fcsFlag ? 1 << fcsFlag : singleSegment;
  if (size === 0) return null;
  const dictIdBytes = [0, 1, 2, 4][fhd & 3];
  const at = 5 + (singleSegment ? 0 : 1) + dictIdBytes;
  if (p.length < at + size) return null;
  let value = 0;
  for (let k = size - 1; k >= 0; k--) value = value * 256 + p[at + k]; // up to 2^64: fine as a magnitude
  return size === 2 ? value + 256 : value;
}

/**
 * Undo the byte shuffle, column-major order and wrapping delta of `delta-shuffle-zstd` (spec section
 * 6) for a chunk of R rows x C columns, writing the bit patterns as (lo, hi) uint32 pairs into rows
 * rowStart.. of `out32`, a view of a row-major float64 buffer with C columns.
 * @param {Uint8Array} raw the R*C*8 transformed bytes @param {number} R @param {number} C
 * @param {Uint32Array} out32 @param {number} rowStart
 */
function unshuffleInto(raw, R, C, out32, rowStart) {
  const N = R * C;
  const n2 = 2 * N, n3 = 3 * N, n4 = 4 * N, n5 = 5 * N, n6 = 6 * N, n7 = 7 * N;
  const stride = 2 * C;
  for (let c = 0; c < C; c++) {
    let lo = 0;
    let hi = 0;
    let o = 2 * (rowStart * C + c);
    for (let i = c * R, last = i + R; i < last; i++, o += stride) {
      const dlo = (raw[i] | (raw[i + N] << 8) | (raw[i + n2] << 16) | (raw[i + n3] << 24)) >>> 0;
      const dhi = (raw[i + n4] | (raw[i + n5] << 8) | (raw[i + n6] << 16) | (raw[i + n7] << 24)) >>> 0;
      const sum = lo + dlo; // exact in a double: < 2^33
      lo = sum >>> 0;
      hi = (hi + dhi + (sum > 0xffffffff ? 1 : 0)) >>> 0;
      out32[o] = lo;
      out32[o + 1] = hi;
    }
  }
}
