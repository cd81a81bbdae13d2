// @ts-check
/**
 * Page-load figures for every robot's bundle, against the Franka table in the same browser run.
 *
 *     node bench/bench_web_robots.mjs [--runs 3] [--cells franka/table,ur5e/table,widowx/table,...]
 *                                     [--no-submit] [--json bench/out/web_robots.json]
 *
 * 1. Bundle size per robot + scene cell (every cell the server offers): bytes on the wire of
 *    GET /api/scenes/{id}/bundle with gzip (as a browser asks) and without. Goal: ≤ 4 MB gzipped.
 * 2. Battle page load to first frame of a finished one-turn battle in each of --cells: cold (a new browser
 *    context, empty HTTP cache) and warm (the same page reloaded), with the page's own marks
 *    (arena:bundle-fetched, arena:scene-compiled, arena:first-frame; ms since navigation start).
 * 3. Submit to first frame from the setup page (the scene is preloaded while the voter types at 80 ms a
 *    key), cold and warm; skipped with --no-submit.
 *
 * The cells are measured round-robin within each run (Franka table first), so load on the machine falls
 * on all of them alike; each figure is printed as a ratio to the Franka table's (goal: ≤ 1.25). Every
 * battle is run by the same two cheap policies (zero and random, a light registry for all robots) with
 * 20 control steps, so the trajectories are alike in length and only the robot and scene differ.
 * Headless Chromium draws with SwiftShader: absolute times are a floor for a CPU renderer.
 */

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

import { launchChromium } from '../web/test/support/browser.mjs';
import { repoRoot } from '../web/test/support/python.mjs';
import { everyRobotModels, startServer } from '../web/test/support/server.mjs';
import { client } from './voter_client.mjs';

/** @typedef {Awaited<ReturnType<typeof launchChromium>>} Browser */
/** @typedef {Awaited<ReturnType<Browser['newPage']>>} Page */

const { values: opts } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    cells: { type: 'string', default: 'franka/table,ur5e/table,widowx/table,ur5e/kitchen,widowx/warehouse' },
    'no-submit': { type: 'boolean', default: false },
    json: { type: 'string', default: path.join(repoRoot, 'bench', 'out', 'web_robots.json') },
  },
});
const RUNS = Number(opts.runs);
const BASE_CELL = 'franka/table';
const CELLS = [BASE_CELL, ...String(opts.cells).split(',').filter((c) => c && c !== BASE_CELL)];
const VIEWPORT = { width: 1440, height: 900 };
const INSTRUCTION = 'pick up the red cube';
const MODELS = everyRobotModels(['bench-zero', 'bench-random'], ['zero', 'random'], 'bench');

/** @param {number[]} xs */
const median = (xs) => {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : NaN;
};
const sec = (/** @type {number} */ x) => `${(x / 1000).toFixed(2)} s`;
const mb = (/** @type {number} */ x) => `${(x / 1e6).toFixed(2)} MB`;

/**
 * GET without decompressing: body bytes as sent.
 * @param {string} url @param {'gzip' | 'identity'} encoding
 * @returns {Promise<number>}
 */
function wireBytes(url, encoding) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers: { 'accept-encoding': encoding } }, (res) => {
      let bytes = 0;
      res.on('data', (chunk) => { bytes += chunk.length; });
      res.on('end', () => (res.statusCode === 200 ? resolve(bytes) : reject(new Error(`${url}: ${res.statusCode}`))));
      res.on('error', reject);
    });
    req.setTimeout(60_000, () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
  });
}

/** A finished one-turn battle in `cell`: its page URL and the voter's cookies. @param {string} base @param {string} cell */
async function finishedBattle(base, cell) {
  const [robot, scene] = cell.split('/');
  const c = client(base);
  const session = await c.call('/api/sessions', { robot_id: robot, scene_id: scene });
  const turn = await c.call(`/api/battles/${session.battle.battle_id}/turns`, { instruction: INSTRUCTION, start: 'reset' });
  for (let i = 0; i < 600; i++) {
    const t = await c.call(`/api/turns/${turn.turn_id}`);
    if (t.status === 'done') return { url: `${base}/battles/${session.battle.battle_id}/turns/${turn.seq}`, cookies: c.cookies() };
    if (t.status !== 'running') throw new Error(`${cell}: turn ${t.status}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${cell}: the turn did not finish`);
}

/** In the page: the first time of each mark, ms since navigation start. */
function marks() {
  const at = (/** @type {string} */ n) => performance.getEntriesByName(n)[0]?.startTime ?? NaN;
  return { bundle: at('arena:bundle-fetched'), compiled: at('arena:scene-compiled'), frame: at('arena:first-frame') };
}

/** @param {Page} page */
const firstFrame = (page) => page.waitForFunction(() => performance.getEntriesByName('arena:first-frame').length > 0,
  null, { timeout: 120_000, polling: 20 });

/** Battle page load, cold then warm (reload). @param {Browser} browser @param {{url: string, cookies: any[]}} battle */
async function pageLoad(browser, battle) {
  const context = await browser.newContext({ viewport: VIEWPORT });
  try {
    await context.addCookies(battle.cookies);
    const page = await context.newPage();
    await page.goto(battle.url, { waitUntil: 'load' });
    await firstFrame(page);
    const cold = await page.evaluate(marks);
    await page.reload({ waitUntil: 'load' });
    await firstFrame(page);
    return { cold, warm: await page.evaluate(marks) };
  } finally {
    await context.close();
  }
}

/** One battle from the setup page: ms from the click on Start to the first frame. @param {Page} page @param {string} base @param {string} cell */
async function submitOnce(page, base, cell) {
  const [robot, scene] = cell.split('/');
  await page.goto(`${base}/`, { waitUntil: 'load' });
  await page.locator('[data-testid=scene] option').first().waitFor({ state: 'attached' });
  await page.selectOption('[data-testid=robot]', robot);
  await page.waitForFunction((s) => Boolean(document.querySelector(`[data-testid=scene] option[value="${s}"]`)), scene);
  await page.selectOption('[data-testid=scene]', scene);
  await page.type('[data-testid=instruction]', INSTRUCTION, { delay: 80 });
  await page.evaluate(() => document.addEventListener('click', (e) => {
    if (/** @type {HTMLElement} */ (e.target).closest?.('[data-testid=start]')) performance.mark('bench:submit');
  }, { capture: true, once: true }));
  await page.click('[data-testid=start]');
  await firstFrame(page);
  const ms = await page.evaluate(() => (performance.getEntriesByName('arena:first-frame').at(-1)?.startTime ?? NaN)
    - (performance.getEntriesByName('bench:submit').at(-1)?.startTime ?? NaN));
  await page.waitForFunction(() => document.querySelector('[data-testid=vote-left]') && !(/** @type {HTMLButtonElement} */ (
    document.querySelector('[data-testid=vote-left]'))).disabled, null, { timeout: 180_000 }); // free the workers
  return ms;
}

/** Cold (new context) then warm (same context) submit. @param {Browser} browser @param {string} base @param {string} cell */
async function submit(browser, base, cell) {
  const context = await browser.newContext({ viewport: VIEWPORT });
  try {
    const page = await context.newPage();
    return { cold: await submitOnce(page, base, cell), warm: await submitOnce(page, base, cell) };
  } finally {
    await context.close();
  }
}

/** Bundle bytes on the wire for every offered cell. @param {string} base */
async function bundleSizes(base) {
  const robots = await (await fetch(`${base}/api/robots`)).json();
  /** @type {Record<string, {gzip: number, identity: number}>} */
  const sizes = {};
  for (const r of robots) {
    for (const s of r.scenes) {
      const url = `${base}/api/scenes/${s}/bundle?robot_id=${r.id}`;
      sizes[`${r.id}/${s}`] = { gzip: await wireBytes(url, 'gzip'), identity: await wireBytes(url, 'identity') };
    }
  }
  return sizes;
}

/** @param {Record<string, any[]>} results @param {(x: any) => number} pick @param {string} label */
function printRatios(results, pick, label) {
  const base = median(results[BASE_CELL].map(pick));
  console.log(`  ${label.padEnd(34)} ${CELLS.map((c) => {
    const m = median(results[c].map(pick));
    return `${sec(m)} (${(m / base).toFixed(2)}x)`.padStart(18);
  }).join('')}`);
}

async function main() {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'arena-bench-robots-'));
  const models = path.join(tmp, 'models.toml');
  writeFileSync(models, MODELS);
  const server = await startServer({ env: { ARENA_MODELS: models, ARENA_MAX_STEPS: '20', ARENA_STREAM_PACE: '0' } });
  const browser = await launchChromium();
  try {
    const sizes = await bundleSizes(server.url);
    console.log('Bundles as served (GET /api/scenes/{id}/bundle): gzip on the wire, identity; goal ≤ 4 MB gzipped');
    for (const [cell, s] of Object.entries(sizes)) {
      console.log(`  ${cell.padEnd(20)} ${mb(s.gzip).padStart(9)} ${mb(s.identity).padStart(9)}  ${s.gzip <= 4e6 ? 'ok' : 'OVER 4 MB'}`);
    }
    const battles = Object.fromEntries(await Promise.all(CELLS.map(async (c) => [c, await finishedBattle(server.url, c)])));
    /** @type {Record<string, any[]>} */
    const load = Object.fromEntries(CELLS.map((c) => [c, []]));
    /** @type {Record<string, any[]>} */
    const sub = Object.fromEntries(CELLS.map((c) => [c, []]));
    for (let i = 0; i < RUNS; i++) {
      for (const c of CELLS) load[c].push(await pageLoad(browser, battles[c]));
      if (!opts['no-submit']) for (const c of CELLS) sub[c].push(await submit(browser, server.url, c));
    }
    console.log(`\nMedians of ${RUNS} runs, ms since navigation start; ratio to ${BASE_CELL} in this run (goal ≤ 1.25x)`);
    console.log(`  ${''.padEnd(34)} ${CELLS.map((c) => c.padStart(18)).join('')}`);
    for (const k of /** @type {const} */ (['cold', 'warm'])) {
      printRatios(load, (x) => x[k].bundle, `page load -> bundle fetched, ${k}`);
      printRatios(load, (x) => x[k].compiled, `page load -> scene compiled, ${k}`);
      printRatios(load, (x) => x[k].frame, `page load -> first frame, ${k}`);
    }
    if (!opts['no-submit']) for (const k of /** @type {const} */ (['cold', 'warm'])) printRatios(sub, (x) => x[k], `submit -> first frame, ${k}`);
    mkdirSync(path.dirname(String(opts.json)), { recursive: true });
    writeFileSync(String(opts.json), JSON.stringify({ runs: RUNS, cells: CELLS, sizes, load, submit: sub }, null, 1));
    console.log(`\nwrote ${opts.json}`);
  } finally {
    await browser.close();
    await server.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
