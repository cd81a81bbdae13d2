// @ts-check
/**
 * The msgpack header of a `.vlar` file (docs/replay-format.md sections 3-5 and 9): typed parsing of
 * the episode header, stream table and chunk table, checked against the header's wire types (see
 * vlar-shape.js) and the value rules the writer enforces. Nothing here touches a chunk payload; the
 * table cross-checks are in vlar-layout.js. Python twin: replay_format/header.py (types), rules.py
 * (values) and container.py (order); error messages name the same fields.
 */
import { CorruptReplayError } from './vlar-errors.js';

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
 * A chunk table entry. `predictors` (one id per column) and `coefficients` ([a, b] when a column uses
 * the velocity predictor) belong to codec `predict-shuffle-zstd`; they are empty for other codecs.
 * @typedef {{stream: string, row_start: number, row_count: number, offset: number, length: number,
 *   raw_length: number, codec: string, crc32: number, predictors: number[], coefficients: number[]}} ChunkInfo
 */
/** @typedef {{header: ReplayHeader, n_frames: number, streams: StreamInfo[], chunks: ChunkInfo[]}} FileIndex */
/** @typedef {import('./vlar-shape.js').Shape} Shape */

export const JOINT_TYPES = Object.freeze(['ball', 'free', 'hinge', 'slide']);
const BUNDLE_HASH = /^sha256:[0-9a-f]{64}$/;
const FLOAT_FIELDS = ['timestep', 'frame_rate', 'control_rate'];

/** @type {Record<string, (v: unknown) => boolean>} what each field type accepts */
const KINDS = {
  'a string': (v) => typeof v === 'string',
  'an integer': (v) => Number.isSafeInteger(v),
  'an integer >= 0': (v) => Number.isSafeInteger(v) && /** @type {number} */ (v) >= 0,
  'a float64': (v) => typeof v === 'number',
  'an array': (v) => Array.isArray(v),
  'a map': (v) => isMap(v),
  'a string or nil': (v) => v === null || typeof v === 'string',
};
const HEADER_FIELDS = {
  mujoco_version: 'a string', bundle_hash: 'a string', robot_id: 'a string', scene_id: 'a string',
  nq: 'an integer >= 0', nv: 'an integer >= 0', nu: 'an integer >= 0', timestep: 'a float64',
  frame_rate: 'a float64', control_rate: 'a float64', joints: 'an array', actuators: 'an array',
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

/** Wire families a field kind needs (checked only when the header's shape is known). */
/** @param {string} kind @returns {string | null} */
const wireFamily = (kind) => (kind.startsWith('an integer') ? 'int' : kind === 'a float64' ? 'float64' : null);

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
 * Check one value against a field kind and, when known, its wire family.
 * @param {unknown} value @param {Shape | undefined} shape @param {string} where @param {string} kind
 */
function checkKind(value, shape, where, kind) {
  if (!KINDS[kind](value)) throw corruptHeader(`${where} should be ${kind}, got ${typeName(value)}`);
  const family = wireFamily(kind);
  if (family && shape !== undefined && shape !== family) {
    throw corruptHeader(`${where} should be ${kind}, got a msgpack ${shape}`);
  }
}

/**
 * Copy the listed fields of a msgpack map, checking each one's type; other keys are dropped.
 * @param {unknown} map @param {Shape | undefined} shape @param {string} where
 * @param {Record<string, string>} fields @returns {any}
 */
function pick(map, shape, where, fields) {
  if (!isMap(map)) throw corruptHeader(`${where} should be a map, got ${typeName(map)}`);
  /** @type {Record<string, unknown>} */
  const out = {};
  for (const [key, kind] of Object.entries(fields)) {
    if (!Object.hasOwn(map, key)) throw corruptHeader(`${where}.${key} is missing`);
    checkKind(map[key], sub(shape, key), `${where}.${key}`, kind);
    out[key] = map[key];
  }
  return out;
}

/**
 * An optional array field (default []) whose items are all of `kind`.
 * @param {Record<string, unknown>} map @param {Shape | undefined} shape @param {string} where
 * @param {string} key @param {string} kind @returns {any[]}
 */
function optionalList(map, shape, where, key, kind) {
  if (!Object.hasOwn(map, key)) return [];
  checkKind(map[key], sub(shape, key), `${where}.${key}`, 'an array');
  return listOf(/** @type {unknown[]} */ (map[key]), sub(shape, key), `${where}.${key}`, kind);
}

/** @param {Shape | undefined} shape @param {string | number} key @returns {Shape | undefined} */
function sub(shape, key) {
  if (shape === undefined || typeof shape === 'string') return undefined;
  return /** @type {any} */ (shape)[key];
}

/** @param {unknown[]} items @param {Shape | undefined} shape @param {string} where @param {string} kind @returns {any[]} */
function listOf(items, shape, where, kind) {
  items.forEach((v, i) => checkKind(v, sub(shape, i), `${where}[${i}]`, kind));
  return items.slice();
}

/**
 * Type-check a decoded msgpack header map and return it as a FileIndex. `shape` (from shapeOf of the
 * same bytes) adds the wire-type checks: integer fields must be msgpack ints, float fields float64.
 * @param {unknown} raw @param {Shape} [shape] @returns {FileIndex}
 * @throws {CorruptReplayError} naming the missing or mistyped field
 */
export function parseIndex(raw, shape) {
  const top = pick(raw, shape, 'file', { header: 'a map', n_frames: 'an integer >= 0', streams: 'an array', chunks: 'an array' });
  const header = parseHeader(top.header, sub(shape, 'header'));
  const streams = top.streams.map((/** @type {unknown} */ s, /** @type {number} */ i) => {
    const where = `streams[${i}]`;
    const stream = pick(s, sub(sub(shape, 'streams'), i), where, STREAM_FIELDS);
    stream.shape = listOf(stream.shape, sub(sub(sub(shape, 'streams'), i), 'shape'), `${where}.shape`, 'an integer');
    return stream;
  });
  const chunks = top.chunks.map((/** @type {unknown} */ c, /** @type {number} */ i) => {
    const where = `chunks[${i}]`;
    const cShape = sub(sub(shape, 'chunks'), i);
    const chunk = pick(c, cShape, where, CHUNK_FIELDS);
    const map = /** @type {Record<string, unknown>} */ (c);
    chunk.predictors = optionalList(map, cShape, where, 'predictors', 'an integer');
    chunk.coefficients = optionalList(map, cShape, where, 'coefficients', 'a float64');
    return chunk;
  });
  return { header, n_frames: top.n_frames, streams, chunks };
}

/**
 * Type-check a decoded episode header map (also the live stream's header message, with no shape) and
 * apply the writer's value rules: finite positive rates, a lower-case sha256 hash, known joint types.
 * @param {unknown} raw @param {Shape} [shape] @returns {ReplayHeader}
 * @throws {CorruptReplayError} naming the missing, mistyped or invalid field
 */
export function parseHeader(raw, shape) {
  const header = pick(raw, shape, 'header', HEADER_FIELDS);
  header.joints = header.joints.map((/** @type {unknown} */ j, /** @type {number} */ i) => pick(j, sub(sub(shape, 'joints'), i), `header.joints[${i}]`, JOINT_FIELDS));
  header.actuators = header.actuators.map((/** @type {unknown} */ a, /** @type {number} */ i) => pick(a, sub(sub(shape, 'actuators'), i), `header.actuators[${i}]`, ACTUATOR_FIELDS));
  header.step_frames = listOf(header.step_frames, sub(shape, 'step_frames'), 'header.step_frames', 'an integer');
  const map = /** @type {Record<string, unknown>} */ (raw);
  const metadata = Object.hasOwn(map, 'metadata') ? map.metadata : {};
  if (!isMap(metadata)) throw corruptHeader(`header.metadata should be a map, got ${typeName(metadata)}`);
  header.metadata = metadata;
  checkValues(header);
  return header;
}

/** The value rules of replay_format/rules.py, in the same order. @param {ReplayHeader} header */
function checkValues(header) {
  for (const field of FLOAT_FIELDS) {
    const value = /** @type {number} */ (header[/** @type {keyof ReplayHeader} */ (field)]);
    if (!(Number.isFinite(value) && value > 0)) throw corruptHeader(`header.${field} must be a finite number > 0, got ${value}`);
  }
  if (!BUNDLE_HASH.test(header.bundle_hash)) {
    throw corruptHeader(`header.bundle_hash should be 'sha256:' + 64 lowercase hex digits, got '${header.bundle_hash}'`);
  }
  header.joints.forEach((joint, i) => {
    if (!JOINT_TYPES.includes(joint.type)) {
      throw corruptHeader(`header.joints[${i}].type should be one of ${JOINT_TYPES.join(', ')}, got '${joint.type}'`);
    }
  });
}

