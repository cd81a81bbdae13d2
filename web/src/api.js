// @ts-check
/**
 * The arena's HTTP and WebSocket API, as the page uses it. Errors become `ApiError`s carrying the
 * server's message (which names the offending field or id).
 */

import { decode } from '@msgpack/msgpack';

export class ApiError extends Error {
  /**
   * @param {string} message
   * @param {number} status HTTP status (0 for network errors)
   * @param {string | null} [field]
   */
  constructor(message, status, field = null) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.field = field;
  }
}

/**
 * @param {string} path
 * @param {{method?: string, body?: unknown, cache?: RequestCache}} [options]
 */
async function request(path, options = {}) {
  let response;
  try {
    response = await fetch(path, {
      method: options.method ?? 'GET',
      cache: options.cache ?? 'default',
      credentials: 'same-origin',
      headers: options.body === undefined ? {} : { 'content-type': 'application/json' },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
  } catch (err) {
    throw new ApiError(`cannot reach the arena server (${/** @type {Error} */ (err).message})`, 0);
  }
  if (!response.ok) {
    let detail = `${response.status} ${response.statusText}`;
    let field = null;
    try {
      const body = await response.json();
      detail = body.detail ?? detail;
      field = body.field ?? body.extra?.[0]?.key ?? null;
      if (body.extra && !body.field && Array.isArray(body.extra)) {
        detail += `: ${body.extra.map((/** @type {any} */ e) => `${e.key ?? ''} ${e.message ?? ''}`.trim()).join('; ')}`;
      }
    } catch {
      /* not JSON: keep the status line */
    }
    throw new ApiError(detail, response.status, field);
  }
  return response;
}

/** @param {string} path @param {{method?: string, body?: unknown, cache?: RequestCache}} [options] */
async function json(path, options) {
  return (await request(path, options)).json();
}

export const api = {
  robots: () => json('/api/robots'),
  /** @param {string} robotId */
  scenes: (robotId) => json(`/api/scenes?robot_id=${encodeURIComponent(robotId)}`),
  models: () => json('/api/models'),
  /**
   * The scene bundle, msgpack-decoded: {robot_id, scene_id, entry, hash, files}.
   * @param {string} sceneId @param {string} robotId
   */
  async bundle(sceneId, robotId) {
    const r = await request(`/api/scenes/${encodeURIComponent(sceneId)}/bundle?robot_id=${encodeURIComponent(robotId)}`);
    const bytes = new Uint8Array(await r.arrayBuffer());
    return { bundle: /** @type {any} */ (decode(bytes)), bytes: bytes.length };
  },
  /** The voter is the server-issued `arena_voter` cookie, never a field. @param {string} robotId @param {string} sceneId */
  createSession: (robotId, sceneId) =>
    json('/api/sessions', { method: 'POST', body: { robot_id: robotId, scene_id: sceneId } }),
  /** @param {string} sessionId */
  newBattle: (sessionId) => json(`/api/sessions/${encodeURIComponent(sessionId)}/battles`, { method: 'POST' }),
  /** @param {string} battleId */
  battle: (battleId) => json(`/api/battles/${encodeURIComponent(battleId)}`),
  /**
   * @param {string} battleId @param {string} instruction
   * @param {'continue' | 'reset'} [start] where the episodes start: each side's last state, or a fresh layout
   */
  createTurn: (battleId, instruction, start = 'continue') =>
    json(`/api/battles/${encodeURIComponent(battleId)}/turns`, { method: 'POST', body: { instruction, start } }),
  /**
   * How an instruction would be understood in this battle, before it runs: {summary, partial, unscored, ...};
   * a 400 ApiError naming what the scene has when the instruction names an object it lacks.
   * @param {string} battleId @param {string} instruction @param {'continue' | 'reset'} start
   */
  understand: (battleId, instruction, start) => json(`/api/battles/${encodeURIComponent(battleId)}/understand?instruction=${
    encodeURIComponent(instruction)}&start=${start}`),
  /** @param {string} turnId */
  turn: (turnId) => json(`/api/turns/${encodeURIComponent(turnId)}`),
  /** @param {string} battleId @param {string} choice */
  vote: (battleId, choice) => json(`/api/battles/${encodeURIComponent(battleId)}/vote`, { method: 'POST', body: { choice } }),
  /** @param {string | null} robotId */
  leaderboard: (robotId) => json(`/api/leaderboard${robotId ? `?robot_id=${encodeURIComponent(robotId)}` : ''}`),
  /** The caller's own battles (the cookie says who), newest first. */
  myBattles: () => json('/api/me/battles'),
  /**
   * An episode's replay file: blinded before the vote, complete after it (same URL, another ETag, so
   * the browser revalidates rather than reusing the blinded copy).
   * @param {string} url @returns {Promise<Uint8Array>}
   */
  async trajectory(url) {
    const r = await request(url, { cache: 'no-cache' });
    return new Uint8Array(await r.arrayBuffer());
  },
};

/** How long a stream opened ahead of its page waits to be taken before it is closed. */
const EARLY_STREAM_MS = 15_000;
/** @type {Map<string, {attach: (onMessage: (b: Uint8Array) => void, onClose: (code: number, reason: string) => void) => () => void}>} */
const early = new Map();

/** @param {string} path */
function socketUrl(path) {
  const url = new URL(path, location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url;
}

/**
 * Open an episode's live stream now, before the page that shows it exists (a turn just created: its
 * first states are due within a fraction of a second, while the battle page is still being built).
 * Messages wait in order until `openStream(path, ...)` takes the socket; unclaimed, it closes.
 * @param {string} path e.g. /api/episodes/ID/stream
 */
export function openStreamEarly(path) {
  const ws = new WebSocket(socketUrl(path));
  ws.binaryType = 'arraybuffer';
  /** @type {Uint8Array[]} */
  const held = [];
  /** @type {[number, string] | null} */
  let closedWith = null;
  ws.onmessage = (ev) => { if (ev.data instanceof ArrayBuffer) held.push(new Uint8Array(ev.data)); };
  ws.onclose = (ev) => { closedWith = [ev.code, ev.reason]; };
  const timer = setTimeout(() => { early.delete(path); ws.close(); }, EARLY_STREAM_MS);
  early.set(path, {
    attach(onMessage, onClose) {
      clearTimeout(timer);
      early.delete(path);
      return wire(ws, onMessage, onClose, held, closedWith);
    },
  });
}

/**
 * Open an episode's live stream (or take the one `openStreamEarly` opened). Calls `onMessage(bytes)`
 * for each binary message and `onClose(code, reason)` once. Returns a function that closes it.
 * @param {string} path e.g. /api/episodes/ID/stream
 * @param {(bytes: Uint8Array) => void} onMessage
 * @param {(code: number, reason: string) => void} onClose
 */
export function openStream(path, onMessage, onClose) {
  const opened = early.get(path);
  if (opened) return opened.attach(onMessage, onClose);
  const ws = new WebSocket(socketUrl(path));
  ws.binaryType = 'arraybuffer';
  return wire(ws, onMessage, onClose, [], null);
}

/**
 * @param {WebSocket} ws @param {(bytes: Uint8Array) => void} onMessage
 * @param {(code: number, reason: string) => void} onClose
 * @param {Uint8Array[]} held messages that came before, in order @param {[number, string] | null} closedWith
 */
function wire(ws, onMessage, onClose, held, closedWith) {
  let closed = false;
  const close = (/** @type {number} */ code, /** @type {string} */ reason) => {
    if (!closed) {
      closed = true;
      onClose(code, reason);
    }
  };
  ws.onmessage = (ev) => {
    if (ev.data instanceof ArrayBuffer) onMessage(new Uint8Array(ev.data));
  };
  ws.onclose = (ev) => close(ev.code, ev.reason);
  for (const bytes of held) if (!closed) onMessage(bytes);
  if (closedWith) close(...closedWith);
  return () => {
    closed = true;
    ws.close();
  };
}
