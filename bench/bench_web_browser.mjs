// @ts-check
/**
 * The browser front end in headless Chromium against the real server, on localhost.
 *
 *     node bench/bench_web_browser.mjs [--runs 3] [--scrub-seconds 3] [--decode-iters 50]
 *                                      [--draw-iters 30] [--no-video] [--json bench/out/web_browser.json]
 *     node bench/bench_web_browser.mjs --start-only [--runs 3] [--before-ref 6fe7e54] [--skip-no-preload]
 *
 * --start-only: submit to first frame and page load, before and after in the same run (see
 * bench/web_start.mjs), and nothing else.
 *
 * 1. Page load to first rendered frame of a finished battle turn: cold (a new browser context, empty
 *    HTTP cache) and warm (the same context reloaded: cached vendor files and bundle, 304s for the
 *    rest), median of --runs each, from the page's own marks (arena:battle-start, arena:bundle-fetched,
 *    arena:scene-compiled, arena:first-frame), navigation and resource timing, and two marks this
 *    script adds from an init script: `bench:wasm-instantiated` (WebAssembly.instantiateStreaming
 *    resolved) and `bench:both-drawn` (first draw with both replays).
 * 2. Episode decode in the page: what the battle page records (`__arena.episodes`), then decodeReplay on the
 *    same bytes --decode-iters times.
 * 3. Scrubbing both views: viewer.seek(next frame) on every requestAnimationFrame for --scrub-seconds,
 *    counting viewer draws; then viewer.draw() in a tight loop, and its parts timed apart.
 * 4. Bytes on the wire (gzip and identity) of the bundle, engine, three.js, the app's JS and the
 *    trajectories, against H.264 mp4s of the same episodes rendered by bench/web_payloads.py.
 *
 * Headless Chromium draws WebGL with SwiftShader (software rasterisation on the CPU): frame rates and
 * render times are a floor, a GPU browser does much better. Needs web/node_modules (npm ci in web/),
 * Debian's chromium, the project's venv, and ffmpeg for the video comparison.
 */

import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

import { launchChromium } from '../web/test/support/browser.mjs';
import { repoRoot, runPython } from '../web/test/support/python.mjs';
import { startServer } from '../web/test/support/server.mjs';
import { startSection } from './web_start.mjs';

const { values: opts } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    'scrub-seconds': { type: 'string', default: '3' },
    'decode-iters': { type: 'string', default: '50' },
    'draw-iters': { type: 'string', default: '30' },
    instruction: { type: 'string', default: 'pick up the red cube' },
    'no-video': { type: 'boolean', default: false },
    'start-only': { type: 'boolean', default: false },
    'skip-no-preload': { type: 'boolean', default: false },
    'before-ref': { type: 'string', default: '6fe7e54' },
    json: { type: 'string', default: path.join(repoRoot, 'bench', 'out', 'web_browser.json') },
  },
});
const RUNS = Number(opts.runs);
const VIEWPORT = { width: 1400, height: 1000 };
const SIDES = /** @type {const} */ (['left', 'right']);

// Playwright's types, named through the support module (bench/ has no node_modules of its own).
/** @typedef {Awaited<ReturnType<typeof launchChromium>>} Browser */
/** @typedef {Awaited<ReturnType<Browser['newPage']>>} Page */

// ---- small helpers ---------------------------------------------------------------------------------

/** @param {number[]} xs */
const median = (xs) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!s.length) return NaN;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
/** @param {number[]} xs @param {number} q */
const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(q * s.length))] : NaN;
};
/** @param {number} n */
const kb = (n) => (Number.isFinite(n) ? `${(n / 1024).toFixed(1)} KB` : '—');
/** @param {number} n */
const ms = (n) => (Number.isFinite(n) ? `${n.toFixed(1)} ms` : '—');

/**
 * @template T
 * @param {Promise<T>} promise @param {number} timeoutMs @param {string} what
 * @returns {Promise<T>}
 */
function within(promise, timeoutMs, what) {
  /** @type {NodeJS.Timeout | undefined} */
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no result within ${timeoutMs / 1000} s`)), timeoutMs);
  });
  return /** @type {Promise<T>} */ (Promise.race([promise, timeout])).finally(() => clearTimeout(timer));
}

/**
 * GET `url` without decompressing: bytes as sent on the wire (body only).
 * @param {string} url @param {'gzip' | 'identity'} encoding
 * @returns {Promise<{status: number, bytes: number, encoding: string}>}
 */
function wireBytes(url, encoding) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers: { 'accept-encoding': encoding, ...(voterCookie ? { cookie: voterCookie } : {}) } }, (res) => {
      let bytes = 0;
      res.on('data', (chunk) => { bytes += chunk.length; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes, encoding: String(res.headers['content-encoding'] ?? 'identity') }));
      res.on('error', reject);
    });
    req.setTimeout(30_000, () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
  });
}

/** The server-issued voter cookie (`arena_voter=...`): battles are visible only to the voter who made them. */
let voterCookie = '';

/**
 * fetch() as one voter: sends the voter cookie, keeps the one the server issues.
 * @param {string} url @param {RequestInit & {headers?: Record<string, string>}} [init]
 */
async function vfetch(url, init = {}) {
  const r = await fetch(url, { ...init, headers: { ...(init.headers ?? {}), ...(voterCookie ? { cookie: voterCookie } : {}) } });
  const set = r.headers.get('set-cookie');
  if (set && set.startsWith('arena_voter=')) voterCookie = set.split(';')[0];
  return r;
}

/** The voter cookie for a browser context. @param {string} base */
export function voterCookies(base) {
  const [name, ...value] = voterCookie.split('=');
  return voterCookie ? [{ name, value: value.join('='), url: base }] : [];
}

/** @param {string} url @param {unknown} [body] */
async function apiJson(url, body) {
  const r = await vfetch(url, body === undefined ? {} : {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
  if (!r.ok) throw new Error(`${body === undefined ? 'GET' : 'POST'} ${url}: ${r.status} ${await r.text()}`);
  return r.json();
}

/** Every file under web/src, as URL paths. @param {string} dir @param {string} prefix @returns {string[]} */
function srcFiles(dir = path.join(repoRoot, 'web', 'src'), prefix = '/src') {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory()
    ? srcFiles(path.join(dir, e.name), `${prefix}/${e.name}`)
    : e.name.endsWith('.js') ? [`${prefix}/${e.name}`] : []));
}

/** Plain-text table with a title; rows are arrays of cells (strings). @param {string} title @param {string[][]} rows */
function table(title, rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i] ?? '').length)));
  const line = (/** @type {string[]} */ r) => r.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('   ');
  const out = [`\n${title}`, line(rows[0]), widths.map((w) => '-'.repeat(w)).join('   '), ...rows.slice(1).map(line)];
  console.log(out.join('\n'));
}

// ---- the battle --------------------------------------------------------------------------------------

/** Create a session and one turn over HTTP and wait for both episodes. @param {string} base */
async function makeBattle(base) {
  const session = await apiJson(`${base}/api/sessions`, { robot_id: 'franka', scene_id: 'table' });
  const battleId = session.battle.battle_id;
  const created = await apiJson(`${base}/api/battles/${battleId}/turns`, { instruction: opts.instruction });
  const t0 = Date.now();
  for (;;) {
    const turn = await apiJson(`${base}/api/turns/${created.turn_id}`);
    if (turn.status !== 'running') {
      for (const side of SIDES) {
        if (turn.episodes[side].status !== 'done') throw new Error(`${side} episode ${turn.episodes[side].status}: ${turn.episodes[side].error}`);
      }
      return { battleId, seq: created.seq, turn, turnSeconds: (Date.now() - t0) / 1000 };
    }
    if (Date.now() - t0 > 120_000) throw new Error('the turn did not finish within 120 s');
    await new Promise((r) => setTimeout(r, 200));
  }
}

// ---- page load ---------------------------------------------------------------------------------------

/**
 * Runs in the page before its scripts: a bigger resource-timing buffer, a mark when the engine's
 * WebAssembly is instantiated, and a mark at the first draw that shows both replays.
 */
function pageInit() {
  performance.setResourceTimingBufferSize(2000);
  const original = WebAssembly.instantiateStreaming;
  WebAssembly.instantiateStreaming = function (...args) {
    performance.mark('bench:wasm-instantiate-called');
    return original.apply(this, /** @type {any} */ (args)).then((r) => {
      performance.mark('bench:wasm-instantiated');
      return r;
    });
  };
  let hooked = false;
  const poll = () => {
    const v = /** @type {any} */ (globalThis).__arena?.viewer;
    if (v && !hooked) {
      hooked = true;
      const after = v.afterDraw;
      let done = false;
      v.afterDraw = () => {
        after();
        if (!done && v.sides.left && v.sides.right) {
          done = true;
          performance.mark('bench:both-drawn');
        }
      };
    }
    if (!hooked) requestAnimationFrame(poll);
  };
  requestAnimationFrame(poll);
}

/** In the page, after the load: every timing this benchmark reads. */
function collectLoad() {
  const marks = Object.fromEntries(performance.getEntriesByType('mark').map((m) => [m.name, m.startTime]));
  const nav = /** @type {PerformanceNavigationTiming} */ (performance.getEntriesByType('navigation')[0]);
  const resources = /** @type {PerformanceResourceTiming[]} */ (performance.getEntriesByType('resource')).map((r) => ({
    url: new URL(r.name).pathname, start: r.startTime, responseStart: r.responseStart, end: r.responseEnd,
    transfer: r.transferSize, encoded: r.encodedBodySize, decoded: r.decodedBodySize, status: r.responseStatus,
  }));
  const a = /** @type {any} */ (globalThis).__arena;
  const canvas = /** @type {HTMLCanvasElement} */ (document.querySelector('[data-testid=canvas-left]'));
  return {
    marks,
    nav: { responseEnd: nav.responseEnd, domContentLoaded: nav.domContentLoadedEventEnd, load: nav.loadEventEnd, transfer: nav.transferSize },
    resources,
    episodes: a?.episodes ?? {},
    bundleBytes: a?.bundleBytes,
    canvas: { cssWidth: canvas.clientWidth, cssHeight: canvas.clientHeight, width: canvas.width, height: canvas.height, dpr: devicePixelRatio },
    webgl: (() => {
      const gl = a?.viewer?.views?.left?.renderer?.getContext();
      const ext = gl?.getExtension('WEBGL_debug_renderer_info');
      return ext ? String(gl.getParameter(ext.UNMASKED_RENDERER_WEBGL)) : 'unknown';
    })(),
  };
}

/**
 * Navigate (or reload) and wait until both replays are drawn; returns the derived timings.
 * @param {Page} page @param {string | null} url null: reload
 */
async function loadOnce(page, url) {
  if (url) await page.goto(url, { waitUntil: 'load', timeout: 60_000 });
  else await page.reload({ waitUntil: 'load', timeout: 60_000 });
  await page.waitForFunction(() => performance.getEntriesByName('bench:both-drawn').length > 0
    || Boolean(document.querySelector('[data-testid^=failure-]')), null, { timeout: 90_000, polling: 50 });
  const failure = await page.$('[data-testid^=failure-]');
  if (failure) throw new Error(`the page shows a failure: ${await failure.textContent()}`);
  const raw = await page.evaluate(collectLoad);
  return { ...derive(raw), raw };
}

/** @param {Awaited<ReturnType<typeof collectLoad>>} raw */
function derive(raw) {
  const m = raw.marks;
  const res = (/** @type {(u: string) => boolean} */ test) => raw.resources.filter((r) => test(r.url));
  const wasm = res((u) => u.endsWith('/mujoco.wasm'))[0];
  const bundle = res((u) => u.includes('/bundle'))[0];
  const trajs = res((u) => u.endsWith('/trajectory'));
  const engineReady = m['bench:wasm-instantiated'] ?? NaN;
  const battleApi = res((u) => u.startsWith('/api/battles/'))[0];
  const modules = res((u) => /\.m?js$/.test(u));
  return {
    htmlResponseEnd: raw.nav.responseEnd,
    domContentLoaded: raw.nav.domContentLoaded,
    loadEvent: raw.nav.load,
    modulesLoaded: modules.length ? Math.max(...modules.map((r) => r.end)) : NaN,
    wasmFetchStart: wasm?.start ?? NaN,
    wasmFetchEnd: wasm?.end ?? NaN,
    wasmInstantiated: engineReady,
    battleStart: m['arena:battle-start'] ?? NaN,
    battleApiMs: battleApi ? battleApi.end - battleApi.start : NaN,
    battleApiWaitMs: battleApi ? battleApi.responseStart - battleApi.start : NaN,
    bundleFetchStart: bundle?.start ?? NaN,
    bundleFetched: m['arena:bundle-fetched'] ?? NaN,
    sceneCompiled: m['arena:scene-compiled'] ?? NaN,
    // engine wait excluded: the compile starts when both the bundle and the engine are there
    compileMs: (m['arena:scene-compiled'] ?? NaN) - Math.max(m['arena:bundle-fetched'] ?? NaN, engineReady),
    trajectoriesFetched: trajs.length ? Math.max(...trajs.map((r) => r.end)) : NaN,
    firstFrame: m['arena:first-frame'] ?? NaN,
    bothDrawn: m['bench:both-drawn'] ?? NaN,
    transferBytes: raw.nav.transfer + raw.resources.reduce((n, r) => n + r.transfer, 0),
    requests: raw.resources.length + 1,
    // Chrome gives a revalidated entry (304) the cached body's encodedBodySize and only header bytes
    // (~300) as transferSize; a full response transfers its body plus headers; a cache hit transfers 0
    notModified: raw.resources.filter((r) => r.transfer > 0 && r.transfer < r.encoded + 150).length,
    fromCache: raw.resources.filter((r) => r.transfer === 0).length,
  };
}

/** Console messages this benchmark causes itself (its readPixels GPU sync), kept apart from the page's. */
const BENCH_INDUCED = /GPU stall due to ReadPixels/;

/**
 * Attach listeners that collect console errors and warnings, page errors, failed requests and HTTP
 * errors.
 * @param {Page} page @param {{problems: string[], induced: string[]}} log @param {string} label
 */
function watch(page, log, label) {
  page.on('console', (msg) => {
    if (msg.type() !== 'error' && msg.type() !== 'warning') return;
    (BENCH_INDUCED.test(msg.text()) ? log.induced : log.problems).push(`${label} console.${msg.type()}: ${msg.text()}`);
  });
  page.on('pageerror', (e) => log.problems.push(`${label} pageerror: ${e.message}`));
  page.on('requestfailed', (r) => log.problems.push(`${label} request failed: ${r.url()} ${r.failure()?.errorText ?? ''}`));
  page.on('response', (r) => { if (r.status() >= 400) log.problems.push(`${label} HTTP ${r.status()}: ${r.url()}`); });
}

// ---- in-page measurements ----------------------------------------------------------------------------

/** Decode each trajectory `iters` times with the page's decoder. @param {{urls: Record<string, string>, iters: number}} a */
async function decodeInPage({ urls, iters }) {
  // @ts-expect-error -- a URL of the page: this function runs in the browser
  const { decodeReplay } = await import('/src/lib/vlar.js');
  /** @type {Record<string, any>} */
  const out = {};
  for (const [side, url] of Object.entries(urls)) {
    const bytes = new Uint8Array(await (await fetch(url)).arrayBuffer());
    for (let i = 0; i < 5; i++) decodeReplay(bytes);
    const times = [];
    const t0 = performance.now();
    let replay;
    for (let i = 0; i < iters; i++) {
      const t = performance.now();
      replay = decodeReplay(bytes);
      times.push(performance.now() - t);
    }
    const total = performance.now() - t0;
    const raw = Object.values(replay.frames).concat(Object.values(replay.steps))
      .reduce((n, x) => n + /** @type {Float64Array} */ (x).byteLength, 0);
    out[side] = { bytes: bytes.length, nFrames: replay.nFrames, nSteps: replay.nSteps, nq: replay.header.nq, rawBytes: raw, meanMs: total / iters, times };
  }
  return out;
}

/** Scrub as a user would: seek to the next frame on every animation frame. @param {{seconds: number}} a */
async function scrubInPage({ seconds }) {
  const v = /** @type {any} */ (globalThis).__arena.viewer;
  v.setPlaying(false);
  const n = v.maxLastFrame() + 1;
  await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  const r0 = v.renders;
  /** @type {number[]} */
  const stamps = [];
  let f = 0;
  const t0 = performance.now();
  await new Promise((resolve) => {
    const tick = (/** @type {number} */ t) => {
      stamps.push(t);
      if (performance.now() - t0 >= seconds * 1000) { resolve(undefined); return; }
      f = (f + 1) % n;
      v.seek(f);
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
  const elapsed = (performance.now() - t0) / 1000;
  const gaps = stamps.slice(1).map((t, i) => t - stamps[i]);
  return { frames: n, draws: v.renders - r0, animationFrames: stamps.length, seconds: elapsed, gaps };
}

/**
 * viewer.draw() in a tight loop (seek between), without and with a GPU sync (a 1-pixel readPixels
 * per view, which waits for the rasteriser), then its parts apart: pose both sides (copy qpos +
 * mj_kinematics), three.js update + render both views, GPU sync, readouts + plot.
 * @param {{iters: number}} a
 */
function drawInPage({ iters }) {
  const v = /** @type {any} */ (globalThis).__arena.viewer;
  const sides = /** @type {const} */ (['left', 'right']);
  v.setPlaying(false);
  const n = v.maxLastFrame() + 1;
  const px = new Uint8Array(4);
  const sync = () => {
    for (const s of sides) {
      const gl = v.views[s].renderer.getContext();
      gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, px);
    }
  };
  const loop = (/** @type {(f: number) => void} */ body) => {
    for (let i = 0; i < 5; i++) body(i % n);
    const times = [];
    for (let i = 0; i < iters; i++) {
      const t = performance.now();
      body((i * 7) % n);
      times.push(performance.now() - t);
    }
    return times;
  };
  const submit = loop((f) => { v.seek(f); v.draw(); });
  const synced = loop((f) => { v.seek(f); v.draw(); sync(); });
  /** @type {Record<string, number[]>} */
  const parts = { pose: [], update: [], render: [], sync: [], panels: [] };
  loop((f) => {
    v.seek(f);
    const t0 = performance.now();
    for (const s of sides) {
      const st = v.sides[s];
      const g = Math.min(f, st.timeline.lastFrame);
      v.scene.pose(st.data, st.episode.frames.qpos, g, st.episode.frames.time[g]);
    }
    const t1 = performance.now();
    for (const s of sides) v.views[s].update(v.sides[s].data);
    const t2 = performance.now();
    for (const s of sides) v.views[s].render();
    const t3 = performance.now();
    sync();
    const t4 = performance.now();
    v._drawControls();
    v._drawReadout();
    v._drawPlot();
    const t5 = performance.now();
    v.dirty = false;
    parts.pose.push(t1 - t0);
    parts.update.push(t2 - t1);
    parts.render.push(t3 - t2);
    parts.sync.push(t4 - t3);
    parts.panels.push(t5 - t4);
  });
  // pose alone, many times: the WASM side of a draw
  const poseData = v.sides.left.data;
  const qpos = v.sides.left.episode.frames.qpos;
  const nl = v.sides.left.timeline.lastFrame + 1;
  const tp = performance.now();
  let poses = 0;
  while (performance.now() - tp < 300) {
    for (let f = 0; f < nl; f++) v.scene.pose(poseData, qpos, f);
    poses += nl;
  }
  const poseMs = (performance.now() - tp) / poses;
  /** @type {Record<string, any>} */
  const info = {};
  for (const s of sides) {
    v.views[s].render();
    const r = v.views[s].renderer.info.render;
    info[s] = { triangles: r.triangles, calls: r.calls, drawingBuffer: [v.views[s].renderer.getContext().drawingBufferWidth, v.views[s].renderer.getContext().drawingBufferHeight] };
  }
  sync();
  return { submit, synced, parts, poseMs, frames: n, info };
}

/**
 * What the rasteriser costs: the left view's three.js scene rendered (and synced) by extra renderers
 * on offscreen canvases, antialias on and off, full and half size. Nothing of the page changes.
 * @param {{iters: number}} a
 */
async function rasterInPage({ iters }) {
  const THREE = await import('three');
  const v = /** @type {any} */ (globalThis).__arena.viewer;
  const view = v.views.left;
  const [w, hgt] = [view.canvas.clientWidth, view.canvas.clientHeight];
  const px = new Uint8Array(4);
  /** @type {Record<string, number>} */
  const out = {};
  for (const [label, antialias, scale] of /** @type {[string, boolean, number][]} */ ([
    ['antialias on, full size', true, 1], ['antialias off, full size', false, 1], ['antialias off, half size', false, 0.5]])) {
    const canvas = document.createElement('canvas');
    const renderer = new THREE.WebGLRenderer({ canvas, antialias, preserveDrawingBuffer: true });
    renderer.setSize(Math.round(w * scale), Math.round(hgt * scale), false);
    renderer.outputColorSpace = THREE.SRGBColorSpace;
    const gl = renderer.getContext();
    const times = [];
    for (let i = 0; i < iters + 2; i++) {
      const t = performance.now();
      renderer.render(view.scene, view.camera);
      gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, px);
      if (i >= 2) times.push(performance.now() - t); // the first renders compile shaders
    }
    times.sort((a, b) => a - b);
    out[label] = times[Math.floor(times.length / 2)];
    renderer.dispose();
    renderer.forceContextLoss();
  }
  return out;
}

// ---- main ------------------------------------------------------------------------------------------

async function main() {
  const startedAt = Date.now();
  /** @type {{problems: string[], induced: string[]}} */
  const log = { problems: [], induced: [] };
  const { problems } = log;
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'bench-web-browser-'));
  /** @type {Awaited<ReturnType<typeof startServer>> | undefined} */
  let server;
  /** @type {Browser | undefined} */
  let browser;
  const stopAll = async () => {
    await browser?.close().catch(() => {});
    browser = undefined;
    await server?.stop().catch(() => {});
    server = undefined;
  };
  const onSignal = () => { stopAll().finally(() => process.exit(130)); };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  /** @type {Record<string, any>} */
  const result = { machine: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model, node: process.version }, renderer: 'SwiftShader (software WebGL on the CPU), headless Chromium' };
  try {
    if (opts['start-only']) {
      browser = await within(launchChromium(), 60_000, 'chromium launch');
      result.start = await within(startSection(browser, RUNS, opts['before-ref'], !opts['skip-no-preload']), 1_200_000, 'start section');
      mkdirSync(path.dirname(opts.json), { recursive: true });
      writeFileSync(opts.json.replace(/\.json$/, '_start.json'), `${JSON.stringify(result, null, 2)}\n`);
      return;
    }
    server = await within(startServer({ env: { ARENA_STREAM_PACE: '0' } }), 90_000, 'server start');
    const base = server.url;
    console.log(`server ${base}; creating a battle turn: "${opts.instruction}"`);
    const battle = await within(makeBattle(base), 150_000, 'battle turn');
    const trajUrls = Object.fromEntries(SIDES.map((s) => [s, battle.turn.episodes[s].trajectory_url]));
    console.log(`turn done in ${battle.turnSeconds.toFixed(1)} s (${SIDES.map((s) => `${s} ${battle.turn.episodes[s].steps} steps`).join(', ')})`);

    // the battle API the page calls first, from Node (no browser competing for the CPU)
    const battleApi = [];
    for (let i = 0; i < 7; i++) {
      const t = performance.now();
      await apiJson(`${base}/api/battles/${battle.battleId}`);
      battleApi.push(performance.now() - t);
    }

    // 4a. wire bytes (also warms the server's asset caches, as a long-running server would be)
    const assets = {
      'scene bundle (franka/table)': ['/api/scenes/table/bundle?robot_id=franka'],
      'mujoco.wasm': ['/vendor/mujoco/mujoco.wasm'],
      'mujoco.js': ['/vendor/mujoco/mujoco.js'],
      'three.module.js + three.core.js': ['/vendor/three/build/three.module.js', '/vendor/three/build/three.core.js'],
      [`app JS (/src/**, ${srcFiles().length} files)`]: srcFiles(),
      'index.html + app.css': ['/', '/assets/app.css'],
      'trajectory left (.vlar)': [trajUrls.left],
      'trajectory right (.vlar)': [trajUrls.right],
    };
    /** @type {Record<string, {gzip: number, identity: number, files: number}>} */
    const wire = {};
    for (const [name, urls] of Object.entries(assets)) {
      let gzip = 0;
      let identity = 0;
      for (const u of urls) {
        const [g, i] = [await wireBytes(`${base}${u}`, 'gzip'), await wireBytes(`${base}${u}`, 'identity')];
        if (g.status !== 200 || i.status !== 200) throw new Error(`GET ${u}: ${g.status}/${i.status}`);
        gzip += g.bytes;
        identity += i.bytes;
      }
      wire[name] = { gzip, identity, files: urls.length };
    }
    // conditional requests: does a repeat visit get a 304?
    /** @type {Record<string, number>} */
    const conditional = {};
    for (const [name, u] of [['scene bundle', assets['scene bundle (franka/table)'][0]], ['mujoco.wasm', '/vendor/mujoco/mujoco.wasm'],
      ['/src/app.js', '/src/app.js'], ['trajectory', trajUrls.left]]) {
      const etag = (await vfetch(`${base}${u}`)).headers.get('etag');
      conditional[name] = etag ? (await vfetch(`${base}${u}`, { headers: { 'if-none-match': etag } })).status : 0;
    }
    for (const side of SIDES) {
      writeFileSync(path.join(tmp, `${side}.vlar`), new Uint8Array(await (await vfetch(`${base}${trajUrls[side]}`)).arrayBuffer()));
    }

    browser = await within(launchChromium(), 60_000, 'chromium launch');
    const pageUrl = `${base}/battles/${battle.battleId}/turns/${battle.seq}`;

    // 1. cold loads (a new context each) and warm reloads (one context)
    const cold = [];
    for (let i = 0; i < RUNS; i++) {
      const context = await browser.newContext({ viewport: VIEWPORT });
      await context.addCookies(voterCookies(base));
      try {
        const page = await context.newPage();
        watch(page, log, `cold#${i + 1}`);
        await page.addInitScript(pageInit);
        cold.push(await within(loadOnce(page, pageUrl), 120_000, `cold load ${i + 1}`));
      } finally {
        await context.close();
      }
    }
    const context = await browser.newContext({ viewport: VIEWPORT });
    await context.addCookies(voterCookies(base));
    const page = await context.newPage();
    page.setDefaultTimeout(60_000);
    watch(page, log, 'warm');
    await page.addInitScript(pageInit);
    await within(loadOnce(page, pageUrl), 120_000, 'warm-up load');
    const warm = [];
    for (let i = 0; i < RUNS; i++) warm.push(await within(loadOnce(page, null), 120_000, `warm reload ${i + 1}`));
    const last = warm[warm.length - 1].raw;

    // 2. decode
    const decode = await within(page.evaluate(decodeInPage, { urls: trajUrls, iters: Number(opts['decode-iters']) }), 120_000, 'decode loop');
    // 3. scrub, then draw() in a tight loop
    const scrub = await within(page.evaluate(scrubInPage, { seconds: Number(opts['scrub-seconds']) }), 60_000, 'scrub');
    const draw = {
      ...await within(page.evaluate(drawInPage, { iters: Number(opts['draw-iters']) }), 180_000, 'draw loop'),
      raster: await within(page.evaluate(rasterInPage, { iters: 8 }), 120_000, 'raster probe'),
    };
    await page.screenshot({ path: path.join(repoRoot, 'bench', 'out', 'web_browser.png') }).catch(() => {});
    await context.close();
    await browser.close();
    browser = undefined;

    // 4b. mp4 of the same episodes, rendered offscreen from the stored states
    let video = null;
    const size = { width: last.canvas.cssWidth - (last.canvas.cssWidth % 2), height: last.canvas.cssHeight - (last.canvas.cssHeight % 2) };
    if (!opts['no-video']) {
      try {
        console.log(`rendering ${size.width}x${size.height} mp4s of both episodes (Python MuJoCo + ffmpeg libx264)…`);
        video = JSON.parse(runPython([path.join(repoRoot, 'bench', 'web_payloads.py'), path.join(tmp, 'left.vlar'), path.join(tmp, 'right.vlar'),
          '--out-dir', path.join(tmp, 'video'), '--width', String(size.width), '--height', String(size.height)], { timeoutMs: 400_000 }).toString());
      } catch (err) {
        problems.push(`video step skipped: ${/** @type {Error} */ (err).message.split('\n').slice(0, 3).join(' ')}`);
      }
    }

    Object.assign(result, report({ battle, cold, warm, last, decode, scrub, draw, wire, video, size, problems, induced: log.induced, battleApi, conditional }));
    result.wallSeconds = (Date.now() - startedAt) / 1000;
    mkdirSync(path.dirname(opts.json), { recursive: true });
    writeFileSync(opts.json, `${JSON.stringify(result, null, 2)}\n`);
    console.log(`\nwrote ${path.relative(process.cwd(), opts.json)} (${result.wallSeconds.toFixed(0)} s)`);
  } catch (err) {
    if (server) console.error(`server log (tail):\n${server.log().slice(-3000)}`);
    throw err;
  } finally {
    await stopAll();
    rmSync(tmp, { recursive: true, force: true });
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** Print the tables and return the JSON figures. @param {any} r */
function report({ battle, cold, warm, last, decode, scrub, draw, wire, video, size, problems, induced, battleApi, conditional }) {
  const steps = SIDES.map((s) => `${s} ${decode[s].nSteps} steps / ${decode[s].nFrames} frames`).join(', ');
  console.log(`\nVLA Arena front end in headless Chromium (${last.webgl}; ${os.cpus().length} CPU cores, ${os.cpus()[0]?.model ?? ''}).`);
  console.log('WebGL is software-rendered (SwiftShader on the CPU): render and frame-rate figures are a floor; a GPU browser is faster.');
  console.log(`battle turn "${opts.instruction}": ${steps}; views ${last.canvas.cssWidth}x${last.canvas.cssHeight} CSS px each (dpr ${last.canvas.dpr})`);

  const keys = /** @type {const} */ ([
    ['htmlResponseEnd', 'HTML responseEnd'], ['modulesLoaded', 'last JS module fetched'], ['domContentLoaded', 'DOMContentLoaded'],
    ['wasmFetchStart', 'mujoco.wasm fetch start'], ['wasmFetchEnd', 'mujoco.wasm fetched'],
    ['wasmInstantiated', 'mujoco.wasm compiled+instantiated'], ['battleStart', 'arena:battle-start'],
    ['bundleFetchStart', 'bundle request start'], ['bundleFetched', 'arena:bundle-fetched (downloaded + msgpack)'],
    ['sceneCompiled', 'arena:scene-compiled'], ['trajectoriesFetched', 'both trajectories fetched'],
    ['firstFrame', 'arena:first-frame'], ['bothDrawn', 'both replays drawn'],
  ]);
  /** @param {any[]} runs @param {string} k */
  const med = (runs, k) => median(runs.map((x) => x[k]));
  const loadRows = [['time since navigation start (median)', `cold (n=${cold.length})`, `warm (n=${warm.length})`]];
  for (const [k, label] of keys) loadRows.push([label, ms(med(cold, k)), ms(med(warm, k))]);
  const spans = /** @type {[string, (x: any) => number][]} */ ([
    ['  GET /api/battles/{id}: request -> response start', (x) => x.battleApiWaitMs],
    ['  engine: wasm fetch', (x) => x.wasmFetchEnd - x.wasmFetchStart],
    ['  engine: fetch start -> instantiated', (x) => x.wasmInstantiated - x.wasmFetchStart],
    ['  bundle download + msgpack decode', (x) => x.bundleFetched - x.bundleFetchStart],
    ['  scene compile (MuJoCo WASM, after bundle+engine)', (x) => x.compileMs],
    ['  scene-compiled -> first frame (assets, viewer, replay fetch+decode, draw)', (x) => x.firstFrame - x.sceneCompiled],
    ['  battle-start -> first frame', (x) => x.firstFrame - x.battleStart],
  ]);
  for (const [label, f] of spans) loadRows.push([label, ms(median(cold.map(f))), ms(median(warm.map(f)))]);
  loadRows.push(['requests / revalidated (304) / from cache, no request', `${med(cold, 'requests')} / ${med(cold, 'notModified')} / ${med(cold, 'fromCache')}`,
    `${med(warm, 'requests')} / ${med(warm, 'notModified')} / ${med(warm, 'fromCache')}`]);
  loadRows.push(['bytes transferred (headers included)', kb(med(cold, 'transferBytes')), kb(med(warm, 'transferBytes'))]);
  table('1. Battle page load to first frame (localhost)', loadRows);
  console.log(`   GET /api/battles/{id} from Node, no browser running: median ${ms(median(battleApi))} of ${battleApi.length}`);

  const epRows = [['episode decode', 'left', 'right']];
  const pageEp = last.episodes;
  epRows.push(['.vlar bytes', ...SIDES.map((s) => String(decode[s].bytes))]);
  epRows.push(['frames (nq)', ...SIDES.map((s) => `${decode[s].nFrames} (${decode[s].nq})`)]);
  epRows.push(['page fetch (warm page, last load)', ...SIDES.map((s) => ms(pageEp[s]?.fetchMs))]);
  epRows.push(['page decode (warm page, last load)', ...SIDES.map((s) => ms(pageEp[s]?.decodeMs))]);
  epRows.push(['page decode (cold loads, median)', ...SIDES.map((s) => ms(median(cold.map((/** @type {any} */ c) => c.raw.episodes[s]?.decodeMs))))]);
  epRows.push([`decodeReplay x${opts['decode-iters']}: median`, ...SIDES.map((s) => ms(median(decode[s].times)))]);
  epRows.push(['decodeReplay: mean (total / iterations)', ...SIDES.map((s) => ms(decode[s].meanMs))]);
  epRows.push(['decodeReplay: raw float64 MB/s', ...SIDES.map((s) => (decode[s].rawBytes / 1e6 / (decode[s].meanMs / 1e3)).toFixed(0))]);
  epRows.push(['decodeReplay: us per frame', ...SIDES.map((s) => (1e3 * decode[s].meanMs / decode[s].nFrames).toFixed(1))]);
  table('2. Episode decode in the page', epRows);

  const drawsPerS = scrub.draws / scrub.seconds;
  const partMed = Object.fromEntries(Object.entries(draw.parts).map(([k, v]) => [k, median(/** @type {number[]} */ (v))]));
  const scrubRows = [['scrub both views', 'value']];
  scrubRows.push([`rAF scrub for ${scrub.seconds.toFixed(1)} s over ${scrub.frames} frames: draws/s`, drawsPerS.toFixed(1)]);
  scrubRows.push(['  animation frames/s (rAF callbacks)', (scrub.animationFrames / scrub.seconds).toFixed(1)]);
  scrubRows.push(['  frame interval median / p95', `${ms(median(scrub.gaps))} / ${ms(quantile(scrub.gaps, 0.95))}`]);
  scrubRows.push([`viewer.draw() tight loop x${opts['draw-iters']}: ms/draw (GL submit only)`, ms(median(draw.submit))]);
  scrubRows.push(['viewer.draw() + GPU sync (readPixels): ms/draw', ms(median(draw.synced))]);
  scrubRows.push(['  -> draws/s bound from the synced draw', (1000 / median(draw.synced)).toFixed(1)]);
  scrubRows.push(['  pose both sides (qpos copy + mj_kinematics)', ms(partMed.pose)]);
  scrubRows.push(['  three.js update both (geom matrices)', ms(partMed.update)]);
  scrubRows.push(['  three.js render both (CPU + GL submit)', ms(partMed.render)]);
  scrubRows.push(['  GPU sync: rasterise both (SwiftShader)', ms(partMed.sync)]);
  scrubRows.push(['  readouts + plot (DOM, 2D canvas)', ms(partMed.panels)]);
  scrubRows.push(['one pose alone (loop over frames), us', (1e3 * draw.poseMs).toFixed(1)]);
  scrubRows.push(['triangles / draw calls per view', `${draw.info.left.triangles} / ${draw.info.left.calls}`]);
  scrubRows.push(['drawing buffer per view (antialias on)', draw.info.left.drawingBuffer.join('x')]);
  for (const [label, t] of Object.entries(draw.raster)) scrubRows.push([`one view, render + sync, extra renderer: ${label}`, ms(/** @type {number} */ (t))]);
  table('3. Scrubbing both views (one draw = pose 2 sides + render 2 WebGL views + readouts + plot)', scrubRows);

  const wireRows = [['payload', 'gzip', 'identity', 'files']];
  for (const [name, w] of Object.entries(wire)) wireRows.push([name, kb(w.gzip), kb(w.identity), String(w.files)]);
  for (const s of SIDES) {
    wireRows.push([`trajectory ${s}: bytes per frame`, (wire[`trajectory ${s} (.vlar)`].identity / decode[s].nFrames).toFixed(1), '', '']);
  }
  const oneOff = wire['scene bundle (franka/table)'].gzip + wire['mujoco.wasm'].gzip + wire['mujoco.js'].gzip
    + wire['three.module.js + three.core.js'].gzip;
  wireRows.push(['one-off: bundle + engine + three.js (gzip)', kb(oneOff), '', '']);
  table('4. Bytes on the wire', wireRows);
  console.log(`   GET with If-None-Match: its ETag -> ${Object.entries(conditional).map(([k, st]) => `${k} ${st || 'no ETag'}`).join(', ')}`);

  /** @type {Record<string, any> | null} */
  let videoOut = null;
  const vlar = { left: wire['trajectory left (.vlar)'].identity, right: wire['trajectory right (.vlar)'].identity };
  if (video) {
    const v = video.videos;
    const both = v.left.bytes + v.right.bytes;
    const vidRows = [['episode as video vs .vlar', 'mp4', '.vlar', 'mp4 / .vlar']];
    vidRows.push([`left view ${v.left.width}x${v.left.height}, ${v.left.frames} frames`, kb(v.left.bytes), kb(vlar.left), (v.left.bytes / vlar.left).toFixed(2)]);
    vidRows.push([`right view ${v.right.width}x${v.right.height}, ${v.right.frames} frames`, kb(v.right.bytes), kb(vlar.right), (v.right.bytes / vlar.right).toFixed(2)]);
    vidRows.push(['two views (two mp4s)', kb(both), kb(vlar.left + vlar.right), (both / (vlar.left + vlar.right)).toFixed(2)]);
    vidRows.push([`two views side by side (${v.side_by_side.width}x${v.side_by_side.height}, one mp4)`, kb(v.side_by_side.bytes), kb(vlar.left + vlar.right),
      (v.side_by_side.bytes / (vlar.left + vlar.right)).toFixed(2)]);
    vidRows.push(['two views, first battle incl. one-off downloads', kb(both), kb(vlar.left + vlar.right + oneOff), (both / (vlar.left + vlar.right + oneOff)).toFixed(2)]);
    vidRows.push(['mp4 bytes per frame (left)', (v.left.bytes / v.left.frames).toFixed(0), (vlar.left / decode.left.nFrames).toFixed(0), '']);
    table(`5. H.264 mp4 (${video.codec}, crf ${video.crf}, preset ${video.preset}, ${video.fps} fps, page camera) vs the replay files`, vidRows);
    console.log('   mp4: lossy pixels of one fixed camera; .vlar: exact float64 states (any camera, readouts, plot), drawn by the page.');
    videoOut = { ...video, vlarBytes: vlar };
  }

  if (induced.length) console.log(`\n(${induced.length} console warnings caused by this benchmark's own readPixels sync, not by the page: "GPU stall due to ReadPixels")`);
  console.log(problems.length ? `\nproblems seen (${problems.length}):\n${problems.map((/** @type {string} */ p) => `  - ${p}`).join('\n')}` : '\nproblems seen: none (no console errors or warnings, page errors, failed requests or HTTP errors)');

  const strip = (/** @type {any[]} */ runs) => runs.map(({ raw, ...rest }) => ({ ...rest, episodes: raw.episodes }));
  return {
    battle: { instruction: opts.instruction, battleId: battle.battleId, turnSeconds: battle.turnSeconds, frames: SIDES.map((s) => decode[s].nFrames) },
    webgl: last.webgl, canvas: last.canvas, viewport: VIEWPORT,
    load: {
      unit: 'ms since navigation start', cold: strip(cold), warm: strip(warm),
      median: { cold: Object.fromEntries(keys.map(([k]) => [k, med(cold, k)])), warm: Object.fromEntries(keys.map(([k]) => [k, med(warm, k)])) },
      spansMedian: Object.fromEntries(spans.map(([label, f]) => [label.trim(), { cold: median(cold.map(f)), warm: median(warm.map(f)) }])),
      coldResources: cold[0].raw.resources,
      warmResources: warm[warm.length - 1].raw.resources,
    },
    decode: Object.fromEntries(SIDES.map((s) => [s, { ...decode[s], medianMs: median(decode[s].times), arenaJs: pageEp[s] }])),
    scrub: { drawsPerSecond: drawsPerS, animationFramesPerSecond: scrub.animationFrames / scrub.seconds, ...scrub },
    draw: {
      submitMsMedian: median(draw.submit), syncedMsMedian: median(draw.synced), partsMsMedian: partMed, poseUs: 1e3 * draw.poseMs,
      perView: draw.info, rasterProbeMs: draw.raster,
      submit: draw.submit, synced: draw.synced,
    },
    conditionalGetStatus: conditional,
    wire: { ...wire, oneOffGzip: oneOff, bytesPerFrame: Object.fromEntries(SIDES.map((s) => [s, vlar[s] / decode[s].nFrames])) },
    video: videoOut,
    videoSize: size,
    battleApiMs: battleApi,
    problems,
    benchInducedMessages: induced,
  };
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
