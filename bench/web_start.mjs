// @ts-check
/**
 * How fast a voter sees something, before and after, in one run (`node bench/bench_web_browser.mjs
 * --start-only`; headless Chromium, SwiftShader, this machine's CPUs). "Before" is the whole arena as
 * committed at --before-ref (default 6fe7e54, before the blinding and voter-experience work: its page
 * and its server, extracted with `git archive` and served from a temporary folder with the same venv);
 * "after" is the working tree. Both servers run side by side, paced at real time (the default).
 *
 * 1. Submit to first frame: from the click on "Start battle" (an init script marks `bench:submit` at
 *    the click) to the first draw showing an episode's state (`arena:first-frame`). The voter "types"
 *    the instruction at 80 ms per key first. Cold: a new browser context (empty HTTP cache); warm: the
 *    same context, page reloaded. Also "after, no preload" (`localStorage['arena.preload'] = 'off'`).
 * 2. Battle page load to first frame of a finished turn, cold and warm.
 */

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { launchChromium } from '../web/test/support/browser.mjs';
import { repoRoot } from '../web/test/support/python.mjs';
import { startServer } from '../web/test/support/server.mjs';
import { client } from './voter_client.mjs';

// Playwright's types, named through the support module (bench/ has no node_modules of its own).
/** @typedef {Awaited<ReturnType<typeof launchChromium>>} Browser */
/** @typedef {Awaited<ReturnType<Browser['newPage']>>} Page */

const VIEWPORT = { width: 1440, height: 900 };
const INSTRUCTION = 'pick up the red cube';

/**
 * A finished one-turn battle on `base`, and the voter's cookies. A server from before the voter cookie
 * (voter id in the body, no `start`) refuses today's request, and is then asked the old way.
 * @param {string} base
 */
async function finishedBattle(base) {
  const c = client(base);
  const ask = async (/** @type {boolean} */ old) => {
    const session = await c.call('/api/sessions', { robot_id: 'franka', scene_id: 'table', ...(old ? { voter_id: 'v-bench' } : {}) });
    return { session, turn: await c.call(`/api/battles/${session.battle.battle_id}/turns`, { instruction: INSTRUCTION, ...(old ? {} : { start: 'reset' }) }) };
  };
  const { session, turn } = await ask(false).catch(() => ask(true));
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
  await page.evaluate(() => document.addEventListener('click', (e) => {
    if (/** @type {HTMLElement} */ (e.target).closest?.('[data-testid=start]')) performance.mark('bench:submit');
  }, { capture: true, once: true }));
  await page.click('[data-testid=start]');
  await page.waitForFunction(() => performance.getEntriesByName('arena:first-frame').length > 0, null, { timeout: 120_000, polling: 20 });
  const ms = await page.evaluate(between, /** @type {[string, string]} */ (['bench:submit', 'arena:first-frame']));
  const parts = Object.fromEntries(await Promise.all(['arena:turn-created', 'arena:battle-start', 'arena:scene-ready', 'arena:viewer-ready',
    'arena:first-message-left', 'arena:first-state-left', 'arena:first-frame'].map(async (m) =>
    [m.replace('arena:', ''), await page.evaluate(between, /** @type {[string, string]} */ (['bench:submit', m]))])));
  // let the turn finish so the next run finds free workers
  await page.waitForFunction(() => !(/** @type {HTMLButtonElement | null} */ (document.querySelector('[data-testid=vote-left]')))?.disabled,
    null, { timeout: 180_000 });
  return { ms, parts };
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

/** The repository as committed at `ref`, in a temporary folder, sharing web/node_modules. @param {string} ref */
function committedTree(ref) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'arena-before-'));
  const tar = execFileSync('git', ['-C', repoRoot, 'archive', ref], { maxBuffer: 512 * 1024 * 1024 });
  execFileSync('tar', ['-x', '-C', dir], { input: tar, maxBuffer: 64 * 1024 * 1024 });
  symlinkSync(path.join(repoRoot, 'web', 'node_modules'), path.join(dir, 'web', 'node_modules'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Run both measurements and print them.
 * @param {Browser} browser @param {number} runs
 * @param {string} beforeRef the commit whose web/ is "before" for the page load
 * @param {boolean} [withNoPreload] also measure the working tree with preloading off
 */
export async function startSection(browser, runs, beforeRef, withNoPreload = true) {
  const env = { ARENA_MAX_STEPS: '20' }; // paced at real time (the default), as voters see it
  const tree = committedTree(beforeRef);
  const now = await startServer({ env });
  const then = await startServer({ env, cwd: tree.dir });
  try {
    const submit = {
      before: await submitRuns(browser, then.url, true, runs),
      noPreload: withNoPreload ? await submitRuns(browser, now.url, false, runs) : { cold: [], warm: [] },
      after: await submitRuns(browser, now.url, true, runs),
    };
    const load = {
      before: await loadRuns(browser, await finishedBattle(then.url), runs),
      after: await loadRuns(browser, await finishedBattle(now.url), runs),
    };
    const f = (/** @type {number} */ x) => `${(x / 1000).toFixed(2)} s`;
    const med = (/** @type {any[]} */ xs, /** @type {string} */ k) => median(xs.map((x) => (k ? x[k] : x)));
    console.log(`\nSubmit -> first frame (median of ${runs}; before = ${beforeRef}, after = working tree)`);
    console.log('                     before   after, no preload      after    after/before');
    for (const k of /** @type {const} */ (['cold', 'warm'])) {
      const [b, n, a] = [med(submit.before[k], 'ms'), med(submit.noPreload[k], 'ms'), med(submit.after[k], 'ms')];
      console.log(`  ${k.padEnd(6)}           ${f(b).padStart(8)}   ${f(n).padStart(15)}   ${f(a).padStart(8)}   ${(a / b).toFixed(2)}`);
    }
    console.log('  time since submit (median):           before cold   before warm    after cold    after warm');
    for (const k of Object.keys(submit.after.cold[0].parts)) {
      const at = (/** @type {any[]} */ xs) => f(median(xs.map((x) => x.parts[k] ?? NaN)));
      console.log(`    ${k.padEnd(34)} ${[submit.before.cold, submit.before.warm, submit.after.cold, submit.after.warm].map((xs) => at(xs).padStart(12)).join('  ')}`);
    }
    console.log(`\nBattle page load -> first frame, finished turn (median of ${runs}; before = web/ at ${beforeRef}, after = working tree)`);
    for (const k of /** @type {const} */ (['cold', 'warm'])) {
      const [b, a] = [med(load.before[k], ''), med(load.after[k], '')];
      console.log(`  ${k.padEnd(6)}           ${f(b).padStart(8)}   ${f(a).padStart(8)}   ${(a / b).toFixed(2)}`);
    }
    return { submit, load, runs };
  } finally {
    await then.stop();
    await now.stop();
    tree.cleanup();
  }
}
