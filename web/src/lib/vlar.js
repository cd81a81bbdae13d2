// @ts-check
/**
 * Decoder of the `.vlar` replay format, version 1.x, written from the normative spec
 * docs/replay-format.md (Python reference: replay_format/). Pure: no DOM, no fetch; runs in
 * browsers and Node.
 *
 * Every value comes back bit for bit (NaN payloads, -0.0, infinities, subnormals): the inverse
 * transforms (vlar-predict.js) work on the 32-bit halves of each float64's bit pattern; the only
 * float arithmetic is the 1.1 predictors', on finite values, which JavaScript rounds like NumPy.
 * Every check of spec section 9 raises a named error whose message can be shown as it is.
 */
import { decode as decodeMsgpack } from '@msgpack/msgpack';
import { decompress } from 'fzstd';

import { crc32 } from './crc32.js';
import { CorruptReplayError, ReplayFormatError, UnsupportedVersionError } from './vlar-errors.js';
import { parseIndex } from './vlar-index.js';
import { DELTA_CODEC, chunkLabel, readableStreams } from './vlar-layout.js';
import { VELOCITY, undeltaInto, unpredictInto, velocityColumns } from './vlar-predict.js';
import { shapeOf } from './vlar-shape.js';

export { CorruptReplayError, ReplayFormatError, UnsupportedVersionError } from './vlar-errors.js';
export { MAX_DECODED_BYTES } from './vlar-layout.js';

/** @typedef {import('./vlar-index.js').ReplayHeader} ReplayHeader */
/** @typedef {import('./vlar-index.js').StreamInfo} StreamInfo */
/** @typedef {import('./vlar-index.js').ChunkInfo} ChunkInfo */
/** @typedef {import('./vlar-layout.js').Readable} Readable */
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
/** The newest version this reader knows; it reads every 1.x file. */
export const FORMAT_VERSION = Object.freeze({ major: 1, minor: 1 });
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
  // From 1.1 on the CRC also covers the version and length fields (prelude bytes 8..16).
  const actual = crc32(header, version.minor >= 1 ? crc32(bytes.subarray(8, 16)) : 0);
  if (actual !== stored) {
    const covers = version.minor >= 1 ? 'prelude and header fail their' : 'header fails its';
    throw new CorruptReplayError(
      `corrupt replay: the ${covers} CRC-32 check (computed ${hex32(actual)}, stored ${hex32(stored)})`);
  }
  const shape = shapeOf(header);
  return { version, index: parseIndex(decodeHeaderBytes(header), shape), dataStart };
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
  /** @type {[ChunkInfo, Uint8Array][]} */
  const deferred = []; // velocity-predicted chunks wait until every qvel chunk is decoded
  index.chunks.forEach((chunk, number) => {
    const stream = readable.get(chunk.stream);
    if (!stream) return;
    const raw = inflateChunk(section, number, chunk);
    if (chunk.predictors.includes(VELOCITY)) deferred.push([chunk, raw]);
    else invert(raw, chunk, stream.cols, /** @type {Float64Array} */ (arrays.get(chunk.stream)), null);
  });
  if (deferred.length) {
    const { joints, nq, nv } = index.header;
    const w = /** @type {Float64Array} */ (arrays.get('qvel'));
    const map = velocityColumns(joints, nq, nv);
    for (const [chunk, raw] of deferred) {
      const [a, b] = chunk.coefficients;
      invert(raw, chunk, nq, /** @type {Float64Array} */ (arrays.get(chunk.stream)), { w, nv, map, a, b });
    }
  }
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
 * Bounds, CRC-32 and zstd checks of one chunk; returns its transformed bytes.
 * @param {Uint8Array} section the data section @param {number} number @param {ChunkInfo} chunk
 * @returns {Uint8Array}
 */
function inflateChunk(section, number, chunk) {
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
  return raw;
}

/**
 * Undo a chunk's transform into its rows of `out` (row-major, `cols` columns).
 * @param {Uint8Array} raw @param {ChunkInfo} chunk @param {number} cols @param {Float64Array} out
 * @param {Parameters<typeof unpredictInto>[6]} velocity
 */
function invert(raw, chunk, cols, out, velocity) {
  if (chunk.codec === DELTA_CODEC) undeltaInto(raw, chunk.row_count, cols, out, chunk.row_start);
  else unpredictInto(raw, chunk.row_count, cols, out, chunk.row_start, chunk.predictors, velocity);
}

/**
 * zstd-decompress one payload. The frame's declared content size is checked against the chunk
 * table first, so a crafted frame cannot make fzstd allocate more than the table allows.
 * @param {Uint8Array} payload @param {number} rawLength @param {string} label @returns {Uint8Array}
 */
function inflate(payload, rawLength, label) {
  const length = zstdFrameLength(payload);
  if (length === null) throw new CorruptReplayError(`corrupt replay: ${label} holds bad zstd data (not one zstd frame)`);
  if (length !== payload.length) {
    const why = length > payload.length ? 'the frame runs past the payload' : `${payload.length - length} bytes after the frame`;
    throw new CorruptReplayError(`corrupt replay: ${label} holds bad zstd data (${why})`);
  }
  const declared = zstdContentSize(payload);
  if (declared === null) throw new CorruptReplayError(`corrupt replay: ${label}'s zstd frame does not declare its content size`);
  if (declared !== rawLength) {
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
 * The length of the zstd frame at the start of `p`, from its frame header and block headers (RFC 8878
 * 3.1.1), or null when the bytes are not a frame or its block chain runs past the end.
 * @param {Uint8Array} p @returns {number | null}
 */
export function zstdFrameLength(p) {
  if (p.length < 6 || p[0] !== 0x28 || p[1] !== 0xb5 || p[2] !== 0x2f || p[3] !== 0xfd) return null;
  const fhd = p[4];
  const single = (fhd >> 5) & 1;
  let at = 5 + (single ? 0 : 1) + [0, 1, 2, 4][fhd & 3] + [single, 2, 4, 8][fhd >> 6];
  for (;;) {
    if (at + 3 > p.length) return null;
    const head = p[at] | (p[at + 1] << 8) | (p[at + 2] << 16);
    at += 3 + (((head >> 1) & 3) === 1 ? 1 : head >> 3);
    if (head & 1) return at + (fhd & 4 ? 4 : 0);
  }
}
