// @ts-check
/**
 * The msgpack header of a `.vlar` file (docs/replay-format.md sections 3-5 and 8): typed parsing of
 * the episode header, stream table and chunk table, then the consistency checks that decide which
 * streams this reader decodes. Nothing here touches a chunk payload. Python twin: replay_format/
 * header.py (types) and layout.py (checks); error messages name the same things.
 */
import { CorruptReplayError, UnsupportedVersionError } from './vlar-errors.js';

/** @typedef {{name: string, type: string, qpos_adr: number, dof_adr: number}} JointInfo */
/** @typedef {{name: string, joint: string | null}} ActuatorInfo */
/**
 * The episode header (spec section 3.1). Unknown keys of newer minor versions are dropped.
 * @typedef {object} ReplayHeader
 * @property {string} mujoco_version
 * @property {string} bundle_hash "sha256:" + 64 hex digits
 * @property {string} robot_id
 * @property {string} scene_id
 * @property {number} nq
 * @property {number} nv
 * @property {number} nu
 * @property {number} timestep
 * @property {number} frame_rate
 * @property {number} control_rate
 * @property {JointInfo[]} joints
 * @property {ActuatorInfo[]} actuators
 * @property {string} action_space
 * @property {number} action_dim
 * @property {number[]} step_frames frame index at the start of each control step
 * @property {Record<string, any>} metadata opaque to the format
 */
/** @typedef {{name: string, group: string, dtype: string, shape: number[]}} StreamInfo */
/**
 * @typedef {{stream: string, row_start: number, row_count: number, offset: number, length: number,
 *   raw_length: number, codec: string, crc32: number}} ChunkInfo
 */
/** @typedef {{header: ReplayHeader, n_frames: number, streams: StreamInfo[], chunks: ChunkInfo[]}} FileIndex */
/** A stream this reader decodes: `cols` is 1 for a 1-D stream. */
/** @typedef {{name: string, group: 'frames' | 'steps', rows: number, cols: number}} Readable */

export const CODEC = 'delta-shuffle-zstd';
/** Decoded float64 bytes above which a file is refused before anything is allocated. */
export const MAX_DECODED_BYTES = 2 ** 31;

/** Known streams per group: name -> header field giving the column count (null: 1-D). */
const KNOWN = /** @type {const} */ ({
  frames: { time: null, qpos: 'nq', qvel: 'nv', ctrl: 'nu' },
  steps: { action: 'action_dim', progress: null },
});
const REQUIRED = { frames: ['time', 'qpos', 'qvel', 'ctrl'], steps: ['action'] };

/** @type {Record<string, (v: unknown) => boolean>} what each field type accepts */
const KINDS = {
  'a string': (v) => typeof v === 'string',
  'an integer': (v) => Number.isSafeInteger(v),
  'an integer >= 0': (v) => Number.isSafeInteger(v) && /** @type {number} */ (v) >= 0,
  'a number': (v) => typeof v === 'number',
  'an array': (v) => Array.isArray(v),
  'a map': (v) => isMap(v),
  'a string or nil': (v) => v === null || typeof v === 'string',
};
const HEADER_FIELDS = {
  mujoco_version: 'a string', bundle_hash: 'a string', robot_id: 'a string', scene_id: 'a string',
  nq: 'an integer >= 0', nv: 'an integer >= 0', nu: 'an integer >= 0', timestep: 'a number',
  frame_rate: 'a number', control_rate: 'a number', joints: 'an array', actuators: 'an array',
  action_space: 'a string', action_dim: 'an integer >= 0', step_frames: 'an array',
};
const JOINT_FIELDS = { name: 'a string', type: 'a string', qpos_adr: 'an integer', dof_adr: 'an integer' };
const ACTUATOR_FIELDS = { name: 'a string', joint: 'a string or nil' };
const STREAM_FIELDS = { name: 'a string', group: 'a string', dtype: 'a string', shape: 'an array' };
const CHUNK_FIELDS = {
  stream: 'a string', row_start: 'an integer', row_count: 'an integer', offset: 'an integer',
  length: 'an integer', raw_length: 'an integer', codec: 'a string', crc32: 'an integer >= 0',
};

/** @param {unknown} v @returns {v is Record<string, unknown>} */
function isMap(v) {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v);
}

/** @param {string} problem */
function corruptHeader(problem) {
  return new CorruptReplayError(`corrupt replay header: ${problem}`);
}

/** @param {unknown} v */
function typeName(v) {
  if (v === null) return 'nil';
  if (Array.isArray(v)) return 'an array';
  if (ArrayBuffer.isView(v)) return 'binary data';
  return typeof v === 'object' ? 'a map' : `${typeof v} ${JSON.stringify(v)}`;
}

/**
 * Copy the listed fields of a msgpack map, checking each one's type; other keys are dropped.
 * @param {unknown} map @param {string} where @param {Record<string, string>} fields
 * @returns {any}
 */
function pick(map, where, fields) {
  if (!isMap(map)) throw corruptHeader(`${where} should be a map, got ${typeName(map)}`);
  /** @type {Record<string, unknown>} */
  const out = {};
  for (const [key, kind] of Object.entries(fields)) {
    if (!Object.hasOwn(map, key)) throw corruptHeader(`${where}.${key} is missing`);
    const value = map[key];
    if (!KINDS[kind](value)) throw corruptHeader(`${where}.${key} should be ${kind}, got ${typeName(value)}`);
    out[key] = value;
  }
  return out;
}

/** @param {unknown[]} items @param {string} where @param {string} kind @returns {any[]} */
function listOf(items, where, kind) {
  items.forEach((v, i) => {
    if (!KINDS[kind](v)) throw corruptHeader(`${where}[${i}] should be ${kind}, got ${typeName(v)}`);
  });
  return items.slice();
}

/**
 * Type-check a decoded msgpack header map and return it as a FileIndex.
 * @param {unknown} raw @returns {FileIndex}
 * @throws {CorruptReplayError} naming the missing or mistyped field
 */
export function parseIndex(raw) {
  const top = pick(raw, 'file', { header: 'a map', n_frames: 'an integer', streams: 'an array', chunks: 'an array' });
  const streams = top.streams.map((/** @type {unknown} */ s, /** @type {number} */ i) => {
    const stream = pick(s, `streams[${i}]`, STREAM_FIELDS);
    stream.shape = listOf(stream.shape, `streams[${i}].shape`, 'an integer');
    return stream;
  });
  const chunks = top.chunks.map((/** @type {unknown} */ c, /** @type {number} */ i) => pick(c, `chunks[${i}]`, CHUNK_FIELDS));
  return { header: parseHeader(top.header), n_frames: top.n_frames, streams, chunks };
}

/**
 * Type-check a decoded episode header map (also the live stream's header message).
 * @param {unknown} raw @returns {ReplayHeader}
 * @throws {CorruptReplayError} naming the missing or mistyped field
 */
export function parseHeader(raw) {
  const header = pick(raw, 'header', HEADER_FIELDS);
  header.joints = header.joints.map((/** @type {unknown} */ j, /** @type {number} */ i) => pick(j, `header.joints[${i}]`, JOINT_FIELDS));
  header.actuators = header.actuators.map((/** @type {unknown} */ a, /** @type {number} */ i) => pick(a, `header.actuators[${i}]`, ACTUATOR_FIELDS));
  header.step_frames = listOf(header.step_frames, 'header.step_frames', 'an integer');
  const map = /** @type {Record<string, unknown>} */ (raw);
  const metadata = Object.hasOwn(map, 'metadata') ? map.metadata : {};
  if (!isMap(metadata)) throw corruptHeader(`header.metadata should be a map, got ${typeName(metadata)}`);
  header.metadata = metadata;
  return header;
}

/** How a stream is named in messages, e.g. `frames['qpos']`. @param {string} group @param {string} name */
export function describe(group, name) {
  return `${group}['${name}']`;
}

/** How a chunk is named in messages. @param {number} number @param {ChunkInfo} chunk */
export function chunkLabel(number, chunk) {
  return `chunk ${number} (stream '${chunk.stream}', rows ${chunk.row_start}..${chunk.row_start + chunk.row_count})`;
}

/**
 * Check the stream and chunk tables against each other and the header (spec section 8, in its
 * order); return the streams this reader decodes, by name, in stream-table order.
 * @param {FileIndex} index @returns {Map<string, Readable>}
 */
export function readableStreams(index) {
  /** @type {Map<string, StreamInfo>} */
  const declared = new Map();
  for (const s of index.streams) {
    if (declared.has(s.name)) throw new CorruptReplayError(`corrupt replay: stream table: stream '${s.name}' is declared twice`);
    declared.set(s.name, s);
  }
  const known = [...declared.values()].filter((s) => Object.hasOwn(KNOWN, s.group) && s.dtype === 'float64');
  for (const [group, names] of Object.entries(REQUIRED)) {
    for (const name of names) checkRequired(declared, group, name);
  }
  /** @type {Map<string, Readable>} */
  const readable = new Map(known.map((s) => [s.name, checkShape(index, s)]));
  checkSize(readable);
  checkStepFrames(index);
  checkChunks(index, declared, readable);
  return readable;
}

/** @param {Map<string, StreamInfo>} declared @param {string} group @param {string} name */
function checkRequired(declared, group, name) {
  const s = declared.get(name);
  if (!s || s.group !== group) {
    throw new CorruptReplayError(`corrupt replay: stream table: required stream ${describe(group, name)} is missing`);
  }
  if (s.dtype !== 'float64') {
    throw new UnsupportedVersionError(
      `unsupported replay: stream ${describe(group, name)} has dtype '${s.dtype}', unknown to this viewer`);
  }
}

/** @param {FileIndex} index @param {StreamInfo} s @returns {Readable} */
function checkShape(index, s) {
  const group = /** @type {'frames' | 'steps'} */ (s.group);
  const rows = group === 'frames' ? index.n_frames : index.header.step_frames.length;
  const known = /** @type {Record<string, string | null>} */ (KNOWN[group]);
  const width = Object.hasOwn(known, s.name) ? known[s.name] : undefined;
  const expected = width === undefined ? null
    : width === null ? [rows] : [rows, /** @type {number} */ (index.header[/** @type {keyof ReplayHeader} */ (width)])];
  const ok = expected ? s.shape.length === expected.length && s.shape.every((n, i) => n === expected[i])
    : (s.shape.length === 1 || s.shape.length === 2) && s.shape[0] === rows;
  if (!ok || s.shape.some((n) => n < 0)) {
    const want = expected ? `[${expected.join(', ')}]` : `[${rows}] or [${rows}, columns]`;
    throw new CorruptReplayError(
      `corrupt replay: stream table: ${describe(group, s.name)} has shape [${s.shape.join(', ')}], expected ${want}`);
  }
  return { name: s.name, group, rows: s.shape[0], cols: s.shape.length === 2 ? s.shape[1] : 1 };
}

/** Refuse absurd sizes before any allocation. @param {Map<string, Readable>} readable */
function checkSize(readable) {
  let total = 0;
  for (const s of readable.values()) total += s.rows * s.cols * 8;
  if (total > MAX_DECODED_BYTES) {
    throw new CorruptReplayError(
      `corrupt replay: stream table: the streams would decode to ${total} bytes, more than this viewer's limit of ${MAX_DECODED_BYTES}`);
  }
}

/** @param {FileIndex} index */
function checkStepFrames(index) {
  let previous = 0;
  index.header.step_frames.forEach((frame, i) => {
    if (!(previous <= frame && frame < index.n_frames)) {
      throw new CorruptReplayError(
        `corrupt replay: header.step_frames[${i}] = ${frame} is not in [${previous}, n_frames=${index.n_frames})`);
    }
    previous = frame;
  });
}

/** @param {FileIndex} index @param {Map<string, StreamInfo>} declared @param {Map<string, Readable>} readable */
function checkChunks(index, declared, readable) {
  /** @type {Map<string, number>} */
  const nextRow = new Map([...readable.keys()].map((name) => [name, 0]));
  index.chunks.forEach((chunk, number) => {
    const label = chunkLabel(number, chunk);
    if (!declared.has(chunk.stream)) throw new CorruptReplayError(`corrupt replay: chunk table: ${label} names an undeclared stream`);
    const stream = readable.get(chunk.stream);
    if (!stream) return; // a stream this reader skips
    if (chunk.codec !== CODEC) {
      throw new UnsupportedVersionError(`unsupported replay: ${label} uses codec '${chunk.codec}', unknown to this viewer`);
    }
    const problem = chunkProblem(chunk, stream, /** @type {number} */ (nextRow.get(chunk.stream)));
    if (problem) throw new CorruptReplayError(`corrupt replay: chunk table: ${label} ${problem}`);
    nextRow.set(chunk.stream, chunk.row_start + chunk.row_count);
  });
  for (const [name, s] of readable) {
    const rows = s.cols ? s.rows : 0;
    if (nextRow.get(name) !== rows) {
      throw new CorruptReplayError(`corrupt replay: chunk table: chunks of stream '${name}' cover ${nextRow.get(name)} of ${rows} rows`);
    }
  }
}

/** @param {ChunkInfo} chunk @param {Readable} stream @param {number} start @returns {string | null} */
function chunkProblem(chunk, stream, start) {
  if (chunk.row_start !== start || chunk.row_count < 1) return `does not continue the stream at row ${start}`;
  if (chunk.row_start + chunk.row_count > stream.rows) return `runs past the stream's ${stream.rows} rows`;
  if (chunk.raw_length !== chunk.row_count * stream.cols * 8) {
    return `has raw_length ${chunk.raw_length}, expected ${chunk.row_count} rows * ${stream.cols} columns * 8`;
  }
  if (chunk.offset < 0 || chunk.length < 0) return 'has a negative offset or length';
  return null;
}
