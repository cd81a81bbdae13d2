// @ts-check
/**
 * The live episode stream (docs/api.md "Stream messages"; Python: api/streaming.py): one msgpack map
 * per WebSocket binary frame, tagged on `type`:
 *
 *   waiting {ahead, eta_s}  the turn waits for a free worker; `ahead` episodes are queued before it,
 *           and it should start in about `eta_s` seconds (each nil when the server cannot tell)
 *   header  {episode_id, header}  the replay header, step_frames empty, no outcome yet
 *   frames  {step, start_frame, n, time, qpos, qvel, ctrl[, action, progress]}  frames recorded during
 *           control step `step` (-1: frame 0, the initial state) as raw little-endian float64 bytes
 *   end     {status, steps, n_frames, error[, success, progress, terminated]}
 *
 * Streams are the blinded view (docs/api.md): the header hides the action space (action_dim 0), and
 * frames and the end message carry no action, progress or outcome. The bracketed fields are read when
 * present (older, unblinded streams) and the episode then carries them too.
 *
 * `LiveEpisode` assembles the messages into the same shape as a decoded `.vlar` Replay; once the
 * stream is complete it equals decodeReplay() of the stored file bit for bit.
 */
import { decode as decodeMsgpack } from '@msgpack/msgpack';

import { parseHeader } from './vlar-index.js';

/** @typedef {import('./vlar-index.js').ReplayHeader} ReplayHeader */
/** @typedef {{type: 'waiting', ahead: number | null, eta_s: number | null}} WaitingMessage */
/** @typedef {{type: 'header', episode_id: string, header: ReplayHeader}} HeaderMessage */
/**
 * @typedef {{type: 'frames', step: number, start_frame: number, n: number, time: Uint8Array,
 *   qpos: Uint8Array, qvel: Uint8Array, ctrl: Uint8Array, action?: number[] | null,
 *   progress?: number | null}} FramesMessage
 */
/**
 * @typedef {{type: 'end', status: 'done' | 'failed', success?: boolean | null, progress?: number | null,
 *   steps: number, n_frames: number, terminated?: string | null, error: string | null}} EndMessage
 */
/** @typedef {WaitingMessage | HeaderMessage | FramesMessage | EndMessage} StreamMessage */

/** A message that is not msgpack, has an unknown type, lacks a field, or does not fit the stream. */
export class StreamProtocolError extends Error {
  /** @param {string} message @param {ErrorOptions} [options] */
  constructor(message, options) {
    super(message, options);
    this.name = 'StreamProtocolError';
  }
}

const ARRAYS = /** @type {const} */ (['time', 'qpos', 'qvel', 'ctrl']);
/** Column count of each frame array, from the header. */
const WIDTH = { time: () => 1, qpos: (/** @type {ReplayHeader} */ h) => h.nq, qvel: (/** @type {ReplayHeader} */ h) => h.nv, ctrl: (/** @type {ReplayHeader} */ h) => h.nu };
/** Defaults of the end message's optional fields (EndMessage in api/streaming.py). */
const END_DEFAULTS = { steps: 0, n_frames: 0, error: null };
/** Outcome fields an unblinded end message may carry. */
const END_OUTCOME = ['success', 'progress', 'terminated'];
/** The quiet NaN numpy writes (0x7FF8000000000000), copied by bytes so no engine can change it. */
const NAN_BITS = new Float64Array(Uint32Array.of(0, 0x7ff80000).buffer);

/** @param {string} problem */
const protocolError = (problem) => new StreamProtocolError(`live stream: ${problem}`);
const isInt = Number.isSafeInteger;
/** @param {unknown} v */
const isNumberOrNull = (v) => v === null || typeof v === 'number';

/**
 * Decode and validate one stream message.
 * @param {Uint8Array | ArrayBuffer} data one WebSocket binary frame
 * @returns {StreamMessage}
 * @throws {StreamProtocolError}
 */
export function decodeStreamMessage(data) {
  let raw;
  try {
    raw = decodeMsgpack(data instanceof ArrayBuffer ? new Uint8Array(data) : data);
  } catch (error) {
    throw protocolError(`message is not msgpack (${error instanceof Error ? error.message : error})`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw protocolError('message is not a map');
  const msg = /** @type {Record<string, any>} */ (raw);
  if (msg.type === 'waiting') {
    return { type: 'waiting', ahead: isInt(msg.ahead) ? msg.ahead : null, eta_s: isInt(msg.eta_s) ? msg.eta_s : null };
  }
  if (msg.type === 'header') return headerMessage(msg);
  if (msg.type === 'frames') return framesMessage(msg);
  if (msg.type === 'end') return endMessage(msg);
  throw protocolError(`unknown message type ${JSON.stringify(msg.type)}`);
}

/** @param {Record<string, any>} msg @param {string} key @param {(v: unknown) => boolean} ok @param {string} kind */
function need(msg, key, ok, kind) {
  if (!Object.hasOwn(msg, key)) throw protocolError(`${msg.type} message lacks the field '${key}'`);
  if (!ok(msg[key])) throw protocolError(`${msg.type} message field '${key}' should be ${kind}`);
  return msg[key];
}

/** @param {Record<string, any>} msg @returns {HeaderMessage} */
function headerMessage(msg) {
  const episodeId = need(msg, 'episode_id', (v) => typeof v === 'string', 'a string');
  need(msg, 'header', (v) => typeof v === 'object' && v !== null, 'a map');
  try {
    return { type: 'header', episode_id: episodeId, header: parseHeader(msg.header) };
  } catch (error) {
    throw protocolError(`header message: ${error instanceof Error ? error.message : error}`);
  }
}

/** @param {Record<string, any>} msg @returns {FramesMessage} */
function framesMessage(msg) {
  const step = need(msg, 'step', (v) => isInt(v) && /** @type {number} */ (v) >= -1, 'an integer >= -1');
  const start = need(msg, 'start_frame', (v) => isInt(v) && /** @type {number} */ (v) >= 0, 'an integer >= 0');
  const n = need(msg, 'n', (v) => isInt(v) && /** @type {number} */ (v) >= 0, 'an integer >= 0');
  /** @type {Record<string, Uint8Array>} */
  const arrays = {};
  for (const key of ARRAYS) {
    const bytes = need(msg, key, (v) => v instanceof Uint8Array, 'binary data');
    const rowBytes = n * 8;
    const fits = key === 'time' ? bytes.length === rowBytes
      : rowBytes === 0 ? bytes.length === 0 : bytes.length % rowBytes === 0;
    if (!fits) throw protocolError(`frames message for step ${step}: '${key}' has ${bytes.length} bytes, not a whole number of ${n} float64 rows`);
    arrays[key] = bytes;
  }
  const out = /** @type {FramesMessage} */ ({ type: 'frames', step, start_frame: start, n, ...arrays });
  if (Object.hasOwn(msg, 'action')) {
    out.action = need(msg, 'action', (v) => v === null || (Array.isArray(v) && v.every((x) => typeof x === 'number')), 'an array of numbers or nil');
  }
  if (Object.hasOwn(msg, 'progress')) out.progress = need(msg, 'progress', isNumberOrNull, 'a number or nil');
  return out;
}

/** @param {Record<string, any>} msg @returns {EndMessage} */
function endMessage(msg) {
  need(msg, 'status', (v) => v === 'done' || v === 'failed', "'done' or 'failed'");
  const end = /** @type {EndMessage} */ ({ type: 'end', ...END_DEFAULTS });
  for (const key of ['status', ...Object.keys(END_DEFAULTS), ...END_OUTCOME]) {
    if (Object.hasOwn(msg, key)) /** @type {Record<string, unknown>} */ (end)[key] = msg[key];
  }
  return end;
}

/**
 * An episode assembled from its stream. Same fields as a decoded Replay (header, nFrames, nSteps,
 * frames.time/qpos/qvel/ctrl, steps.action (and steps.progress when the stream carries it), shapes),
 * growing as messages arrive: `header.step_frames` gains an entry per control step, and on a 'done'
 * end carrying an outcome `header.metadata.outcome` is filled in as the stored file has it. A blinded
 * stream assembles into the blinded file the trajectory endpoint serves before the vote. 'waiting'
 * messages change nothing but `ahead` and `etaS`. Listen for 'change' (or the message type: 'header',
 * 'frames', 'end') events, whose `detail` is the message, or set `onchange`.
 */
export class LiveEpisode extends EventTarget {
  constructor() {
    super();
    /** @type {string | null} */ this.episodeId = null;
    /** @type {ReplayHeader | null} */ this.header = null;
    this.nFrames = 0;
    this.nSteps = 0;
    /** @type {Record<string, Float64Array>} views of the filled part of growing buffers */
    this.frames = { time: new Float64Array(0), qpos: new Float64Array(0), qvel: new Float64Array(0), ctrl: new Float64Array(0) };
    /** @type {Record<string, Float64Array>} */
    this.steps = { action: new Float64Array(0) };
    /** @type {number | null} episodes queued before this one while it waits for a worker */
    this.ahead = null;
    /** @type {number | null} about how many seconds until it starts, while it waits */
    this.etaS = null;
    /** @type {Record<string, [number, number]>} */
    this.shapes = {};
    this.ended = false;
    /** @type {EndMessage | null} */ this.outcome = null;
    /** @type {((message: StreamMessage) => void) | null} */ this.onchange = null;
    /** @type {Record<string, Float64Array>} */ this._buffers = {};
    this._nextStep = -1;
  }

  /**
   * Apply one message (raw bytes are decoded first); notifies listeners.
   * @param {StreamMessage | Uint8Array | ArrayBuffer} input
   * @returns {StreamMessage}
   * @throws {StreamProtocolError} when the message does not continue the stream
   */
  apply(input) {
    const msg = input instanceof Uint8Array || input instanceof ArrayBuffer ? decodeStreamMessage(input) : input;
    if (this.ended) throw protocolError(`${msg.type} message after the end message`);
    if (msg.type === 'waiting') {
      if (this.header) throw protocolError('a waiting message after the header message');
      this.ahead = msg.ahead;
      this.etaS = msg.eta_s;
    } else if (msg.type === 'header') this._header(msg);
    else if (msg.type === 'end' && msg.status === 'failed' && !this.header) {
      this.ended = true; // an episode that failed before it started has no header
      this.outcome = msg;
    } else if (!this.header) throw protocolError(`${msg.type} message before the header message`);
    else if (msg.type === 'frames') this._frames(msg, this.header);
    else this._end(msg, this.header);
    this.onchange?.(msg);
    this.dispatchEvent(new CustomEvent(msg.type, { detail: msg }));
    this.dispatchEvent(new CustomEvent('change', { detail: msg }));
    return msg;
  }

  /** @param {HeaderMessage} msg */
  _header(msg) {
    if (this.header) throw protocolError('a second header message');
    if (msg.header.step_frames.length) throw protocolError('the header message must have an empty step_frames');
    const h = msg.header;
    this.episodeId = msg.episode_id;
    this.header = { ...h, step_frames: [], metadata: { ...h.metadata } };
    for (const key of ARRAYS) this.shapes[key] = [0, WIDTH[key](h)];
    this.shapes.action = [0, h.action_dim];
  }

  /** @param {FramesMessage} msg @param {ReplayHeader} h */
  _frames(msg, h) {
    const where = `frames message for step ${msg.step}`;
    if (msg.step !== this._nextStep) throw protocolError(`${where} arrived, expected step ${this._nextStep}`);
    if (msg.start_frame !== this.nFrames) throw protocolError(`${where} starts at frame ${msg.start_frame}, expected ${this.nFrames}`);
    for (const key of ARRAYS) {
      if (msg[key].length !== msg.n * WIDTH[key](h) * 8) {
        throw protocolError(`${where}: '${key}' has ${msg[key].length} bytes, expected ${msg.n} rows of ${WIDTH[key](h)} float64`);
      }
    }
    if (msg.action && msg.action.length !== h.action_dim) {
      throw protocolError(`${where}: action has ${msg.action.length} values, header.action_dim is ${h.action_dim}`);
    }
    for (const key of ARRAYS) this._append('frames', key, this.nFrames, WIDTH[key](h), msg[key], msg.n);
    this.nFrames += msg.n;
    if (msg.step >= 0) this._step(msg, h);
    this._nextStep += 1;
  }

  /** @param {FramesMessage} msg @param {ReplayHeader} h */
  _step(msg, h) {
    const k = this.nSteps;
    const action = this._grow('steps', 'action', k + 1, h.action_dim);
    if (msg.action) action.set(msg.action, k * h.action_dim);
    else for (let j = 0; j < h.action_dim; j++) action.set(NAN_BITS, k * h.action_dim + j);
    if (msg.progress !== undefined) {
      const progress = this._grow('steps', 'progress', k + 1, 1);
      if (msg.progress === null) progress.set(NAN_BITS, k);
      else progress[k] = msg.progress;
    }
    h.step_frames.push(msg.start_frame - 1); // the step starts from the state last recorded before it
    this.nSteps = k + 1;
  }

  /** @param {EndMessage} msg @param {ReplayHeader} h */
  _end(msg, h) {
    if (msg.status === 'done' && (msg.n_frames !== this.nFrames || msg.steps !== this.nSteps)) {
      throw protocolError(`end message says ${msg.n_frames} frames and ${msg.steps} steps, received ${this.nFrames} and ${this.nSteps}`);
    }
    if (msg.status === 'done' && msg.success !== undefined) {
      const { success, progress, steps, n_frames, terminated } = msg;
      h.metadata.outcome = { success, progress, steps, n_frames, terminated };
    }
    this.ended = true;
    this.outcome = msg;
  }

  /**
   * Copy `n` rows of raw little-endian float64 bytes to row `row` of a stream (byte copy: bit-exact).
   * @param {'frames' | 'steps'} group @param {string} key @param {number} row @param {number} cols
   * @param {Uint8Array} bytes @param {number} n
   */
  _append(group, key, row, cols, bytes, n) {
    const buffer = this._grow(group, key, row + n, cols);
    new Uint8Array(buffer.buffer, buffer.byteOffset + row * cols * 8, bytes.length).set(bytes);
  }

  /**
   * Make room for `rows` rows (capacity doubles), and update the public view to `rows` rows.
   * @param {'frames' | 'steps'} group @param {string} key @param {number} rows @param {number} cols
   * @returns {Float64Array} the view
   */
  _grow(group, key, rows, cols) {
    let buffer = this._buffers[key];
    if (!buffer || buffer.length < rows * cols) {
      const capacity = Math.max(rows, 2 * (buffer ? buffer.length / Math.max(cols, 1) : 0), 64);
      const bigger = new Float64Array(capacity * cols);
      if (buffer) bigger.set(buffer);
      buffer = this._buffers[key] = bigger;
    }
    const view = buffer.subarray(0, rows * cols);
    this[group][key] = view;
    this.shapes[key] = [rows, cols];
    return view;
  }
}
