// @ts-check
/**
 * Consistency checks of a parsed `.vlar` index (docs/replay-format.md section 9, in its order): the
 * stream table against the header, step_frames, then the chunk table (row coverage, lengths, codecs
 * and their predictors). They decide which streams this reader decodes. Nothing here touches a
 * chunk payload. Python twin: replay_format/layout.py; error messages name the same things.
 */
import { CorruptReplayError, UnsupportedVersionError } from './vlar-errors.js';
import { PREDICTORS, VELOCITY, velocityColumns } from './vlar-predict.js';

/** @typedef {import('./vlar-index.js').FileIndex} FileIndex */
/** @typedef {import('./vlar-index.js').ReplayHeader} ReplayHeader */
/** @typedef {import('./vlar-index.js').StreamInfo} StreamInfo */
/** @typedef {import('./vlar-index.js').ChunkInfo} ChunkInfo */
/** A stream this reader decodes: `cols` is 1 for a 1-D stream. */
/** @typedef {{name: string, group: 'frames' | 'steps', rows: number, cols: number}} Readable */

export const DELTA_CODEC = 'delta-shuffle-zstd';
export const PREDICT_CODEC = 'predict-shuffle-zstd';
const CODECS = [DELTA_CODEC, PREDICT_CODEC];
/** Decoded float64 bytes above which a file is refused before anything is allocated. */
export const MAX_DECODED_BYTES = 2 ** 31;

/** Known streams per group: name -> header field giving the column count (null: 1-D). */
const KNOWN = /** @type {const} */ ({
  frames: { time: null, qpos: 'nq', qvel: 'nv', ctrl: 'nu' },
  steps: { action: 'action_dim', progress: null },
});
const REQUIRED = { frames: ['time', 'qpos', 'qvel', 'ctrl'], steps: ['action'] };

/** How a stream is named in messages, e.g. `frames['qpos']`. @param {string} group @param {string} name */
export function describe(group, name) {
  return `${group}['${name}']`;
}

/** How a chunk is named in messages. @param {number} number @param {ChunkInfo} chunk */
export function chunkLabel(number, chunk) {
  return `chunk ${number} (stream '${chunk.stream}', rows ${chunk.row_start}..${chunk.row_start + chunk.row_count})`;
}

/**
 * Check the stream and chunk tables against each other and the header (spec section 9, in its
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

/** Non-decreasing, each in the half-open range [0, n_frames). @param {FileIndex} index */
function checkStepFrames(index) {
  index.header.step_frames.forEach((frame, i, all) => {
    if (!(frame >= 0 && frame < index.n_frames)) {
      throw new CorruptReplayError(`corrupt replay: header.step_frames[${i}]: ${frame} is outside [0, n_frames=${index.n_frames})`);
    }
    if (i && frame < all[i - 1]) {
      throw new CorruptReplayError(`corrupt replay: header.step_frames[${i}]: ${frame} < ${all[i - 1]}; must be non-decreasing`);
    }
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
    if (!CODECS.includes(chunk.codec)) {
      throw new UnsupportedVersionError(`unsupported replay: ${label} uses codec '${chunk.codec}', unknown to this viewer`);
    }
    const problem = chunkProblem(chunk, stream, /** @type {number} */ (nextRow.get(chunk.stream)))
      ?? predictorProblem(chunk, stream, index);
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

/**
 * The predictor fields of a chunk against its codec, stream and the joint table (spec section 7).
 * @param {ChunkInfo} chunk @param {Readable} stream @param {FileIndex} index @returns {string | null}
 */
function predictorProblem(chunk, stream, index) {
  const { predictors: p, coefficients: k } = chunk;
  if (chunk.codec !== PREDICT_CODEC) {
    return p.length || k.length ? 'has predictors or coefficients, which its codec does not use' : null;
  }
  if (p.length !== stream.cols || p.some((id) => !PREDICTORS.includes(id))) {
    return `needs one predictor in [${PREDICTORS.join(', ')}] per column (${stream.cols}), got [${p.join(', ')}]`;
  }
  if (!p.includes(VELOCITY)) return k.length ? 'has coefficients but no velocity predictor' : null;
  if (k.length !== 2 || !k.every(Number.isFinite)) {
    return `needs 2 finite coefficients for its velocity predictor, got [${k.join(', ')}]`;
  }
  if (stream.group !== 'frames' || stream.name !== 'qpos') return "uses the velocity predictor outside frames['qpos']";
  const mapped = velocityColumns(index.header.joints, index.header.nq, index.header.nv);
  const bad = p.flatMap((id, c) => (id === VELOCITY && mapped[c] < 0 ? [c] : []));
  return bad.length ? `uses the velocity predictor on qpos column(s) [${bad.join(', ')}], which no joint maps to a qvel column` : null;
}
