// @ts-check
/**
 * How fast a voter sees something, before and after, in one run (`node bench/bench_web_browser.mjs
 * --start-only`; headless Chromium, SwiftShader, this machine's CPUs):
 *
 * 1. Submit to first frame: from the click on "Start battle" (mark `arena:submit`) to the first draw
 *    showing an episode's state (`arena:first-frame`), for the current page with the scene preloaded
 *    while the voter types (after) and with preloading turned off (`localStorage['arena.preload'] =
 *    'off'`: the page as it was, compiling the scene only once the battle page opens; before). Cold:
 *    a new browser context (empty HTTP cache); warm: the same context, page reloaded. The voter
 *    "types" the instruction at 80 ms per key, as a person would.
 * 2. Battle page load to first frame of a finished turn, cold and warm, for the committed front end
 *    (git HEAD's web/, served by a second server through ARENA_WEB_DIR: before) and the working
 *    tree's (after), both against the same server code.
 */

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { launchChromium } from '../web/test/support/browser.mjs';
import { repoRoot } from '../web/test/support/python.mjs';
import { startServer } from '../web/test/support/server.mjs';

// Playwright's types, named through the support module (bench/ has no node_modules of its own).
/** @typedef {Awaited<ReturnType<typeof launchChromium>>} Browser */
/** @typedef {Awaited<ReturnType<Browser['newPage']>>} Page */

const VIEWPORT = { width: 1440, height: 900 };
const INSTRUCTION = 'pick up the red cube';

/** A voter over HTTP: keeps the server-issued cookie. @param {string} base */
function client(base) {
  let cookie = '';
  /** @param {string} p @param {unknown} [body] */
  const call = async (p, body) => {
    const r = await fetch(`${base}${p}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { ...(cookie ? { cookie } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const set = r.headers.get('set-cookie');
    if (set?.startsWith('arena_voter=')) cookie = set.split(';')[0];
    if (!r.ok) throw new Error(`${p}: ${r.status} ${await r.text()}`);
    return r.json();
  };
  return { call, cookies: () => (cookie ? [{ name: 'arena_voter', value: cookie.slice('arena_voter='.length), url: base }] : []) };
}

/** A finished one-turn battle on `base`, and the voter's cookies. @param {string} base */
async function finishedBattle(base) {
  const c = client(base);
  const session = await c.call('/api/sessions', { robot_id: 'franka', scene_id: 'table' });
  const turn = await c.call(`/api/battles/${session.battle.battle_id}/turns`, { instruction: INSTRUCTION, start: 'reset' });
  for (let i = 0; i < 600; i++) {
    const t = await c.call(`/api/turns/${turn.turn_id}`);
    if (t.status !== 'running') return { url: `${base}/battles/${session.battle.battle_id}/turns/${turn.seq}`, cookies: c.cookies() };
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('the turn did not finish');
}

/** @param {number[]} xs */
const median = (xs) => {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : NaN;
};

/** In the page: ms from a mark to another (the latest of each). @param {[string, string]} names */
function between([a, b]) {
  const last = (/** @type {string} */ n) => performance.getEntriesByName(n).at(-1)?.startTime ?? NaN;
  return last(b) - last(a);
}

/**
 * One battle started from the setup page; ms from submit to first frame.
 * @param {Page} page @param {string} base
 */
async function submitOnce(page, base) {
  await page.goto(`${base}/`, { waitUntil: 'load' });
  await page.locator('[data-testid=instruction]').waitFor();
  await page.type('[data-testid=instruction]', INSTRUCTION, { delay: 80 });
  await page.click('[data-testid=start]');
  await page.waitForFunction(() => performance.getEntriesByName('arena:first-frame').length > 0, null, { timeout: 120_000, polling: 20 });
  const ms = await page.evaluate(between, /** @type {[string, string]} */ (['arena:submit', 'arena:first-frame']));
  const created = await page.evaluate(between, /** @type {[string, string]} */ (['arena:submit', 'arena:turn-created']));
  // let the turn finish so the next run finds free workers
  await page.waitForFunction(() => !(/** @type {HTMLButtonElement | null} */ (document.querySelector('[data-testid=vote-left]')))?.disabled,
    null, { timeout: 180_000 });
  return { ms, created };
}

/**
 * @param {Browser} browser @param {string} base @param {boolean} preload @param {number} runs
 */
async function submitRuns(browser, base, preload, runs) {
  const cold = [];
  const warm = [];
  for (let i = 0; i < runs; i++) {
    const context = await browser.newContext({ viewport: VIEWPORT });
    if (!preload) await context.addInitScript(() => localStorage.setItem('arena.preload', 'off'));
    const page = await context.newPage();
    cold.push(await submitOnce(page, base));
    warm.push(await submitOnce(page, base));
    await context.close();
  }
  return { cold, warm };
}

/**
 * Battle page load to first frame (ms since navigation start), cold then warm.
 * @param {Browser} browser @param {{url: string, cookies: any[]}} battle @param {number} runs
 */
async function loadRuns(browser, battle, runs) {
  const once = async (/** @type {Page} */ page, /** @type {boolean} */ reload) => {
    if (reload) await page.reload({ waitUntil: 'load' });
    else await page.goto(battle.url, { waitUntil: 'load' });
    await page.waitForFunction(() => performance.getEntriesByName('arena:first-frame').length > 0, null, { timeout: 120_000, polling: 20 });
    return page.evaluate(() => performance.getEntriesByName('arena:first-frame')[0].startTime);
  };
  const cold = [];
  const warm = [];
  for (let i = 0; i < runs; i++) {
    const context = await browser.newContext({ viewport: VIEWPORT });
    await context.addCookies(battle.cookies);
    const page = await context.newPage();
    cold.push(await once(page, false));
    warm.push(await once(page, true));
    await context.close();
  }
  return { cold, warm };
}

/** The committed web/ (git HEAD) in a temporary folder, sharing node_modules. */
function committedWeb() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'arena-web-head-'));
  const tar = execFileSync('git', ['-C', repoRoot, 'archive', 'HEAD', 'web'], { maxBuffer: 256 * 1024 * 1024 });
  execFileSync('tar', ['-x', '-C', dir], { input: tar });
  symlinkSync(path.join(repoRoot, 'web', 'node_modules'), path.join(dir, 'web', 'node_modules'));
  return { webDir: path.join(dir, 'web'), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Run both measurements and print them.
 * @param {Browser} browser @param {number} runs
 */
export async function startSection(browser, runs) {
  const env = { ARENA_MAX_STEPS: '20' }; // paced at real time (the default), as voters see it
  const head = committedWeb();
  const now = await startServer({ env });
  const before = await startServer({ env: { ...env, ARENA_WEB_DIR: head.webDir } });
  try {
    const submit = {
      before: await submitRuns(browser, now.url, false, runs),
      after: await submitRuns(browser, now.url, true, runs),
    };
    const load = {
      before: await loadRuns(browser, await finishedBattle(before.url), runs),
      after: await loadRuns(browser, await finishedBattle(now.url), runs),
    };
    const f = (/** @type {number} */ x) => `${(x / 1000).toFixed(2)} s`;
    const med = (/** @type {any[]} */ xs, /** @type {string} */ k) => median(xs.map((x) => (k ? x[k] : x)));
    console.log(`\nSubmit -> first frame (median of ${runs}; before = no preload, after = preload while typing)`);
    console.log('                     before      after    after/before');
    for (const k of /** @type {const} */ (['cold', 'warm'])) {
      const [b, a] = [med(submit.before[k], 'ms'), med(submit.after[k], 'ms')];
      console.log(`  ${k.padEnd(6)}           ${f(b).padStart(8)}   ${f(a).padStart(8)}   ${(a / b).toFixed(2)}`);
    }
    console.log(`  (of which submit -> turn created: ${f(med(submit.after.cold, 'created'))} cold, ${f(med(submit.after.warm, 'created'))} warm)`);
    console.log(`\nBattle page load -> first frame, finished turn (median of ${runs}; before = git HEAD web/, after = working tree)`);
    for (const k of /** @type {const} */ (['cold', 'warm'])) {
      const [b, a] = [med(load.before[k], ''), med(load.after[k], '')];
      console.log(`  ${k.padEnd(6)}           ${f(b).padStart(8)}   ${f(a).padStart(8)}   ${(a / b).toFixed(2)}`);
    }
    return { submit, load, runs };
  } finally {
    await before.stop();
    await now.stop();
    head.cleanup();
  }
}
