// @ts-check
/**
 * What real shadows cost: draws per second while scrubbing both views of a finished battle, with
 * shadows off and on (`localStorage['arena.shadows']`), alternating in one run, in headless Chromium
 * (SwiftShader, a software rasteriser: the figure a voter without a GPU gets), plus a synced draw time
 * (viewer.draw() then a 1-pixel readPixels per view, which waits for the rasteriser). Screenshots of
 * both settings go to bench/out/.
 *
 *     node bench/bench_web_shadows.mjs [--runs 3] [--seconds 3]
 */

import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

import { launchChromium } from '../web/test/support/browser.mjs';
import { repoRoot } from '../web/test/support/python.mjs';
import { startServer } from '../web/test/support/server.mjs';
import { client } from './voter_client.mjs';

const { values: opts } = parseArgs({ options: { runs: { type: 'string', default: '3' }, seconds: { type: 'string', default: '3' } } });
const OUT = path.join(repoRoot, 'bench', 'out');

/** A finished one-turn battle: its URL and the voter's cookie. @param {string} base */
async function finishedBattle(base) {
  const voter = client(base);
  const call = voter.call;
  const session = await call('/api/sessions', { robot_id: 'franka', scene_id: 'table' });
  const turn = await call(`/api/battles/${session.battle.battle_id}/turns`, { instruction: 'pick up the red cube', start: 'reset' });
  for (let i = 0; i < 600 && (await call(`/api/turns/${turn.turn_id}`)).status === 'running'; i++) await new Promise((r) => setTimeout(r, 200));
  return { url: `${base}/battles/${session.battle.battle_id}/turns/${turn.seq}`, cookies: voter.cookies() };
}

/** In the page: scrub for `seconds` (a seek per animation frame), then synced draws. @param {number} seconds */
async function measure(seconds) {
  const v = /** @type {any} */ (globalThis).__arena.viewer;
  v.setPlaying(false);
  const n = v.maxLastFrame() + 1;
  await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  const r0 = v.renders;
  const t0 = performance.now();
  let f = 0;
  await new Promise((resolve) => {
    const tick = () => {
      if (performance.now() - t0 >= seconds * 1000) return resolve(undefined);
      f = (f + 1) % n;
      v.seek(f);
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
  const drawsPerS = (v.renders - r0) / ((performance.now() - t0) / 1000);
  const px = new Uint8Array(4);
  const synced = [];
  for (let i = 0; i < 10; i++) {
    v.seek((f + i) % n);
    const t = performance.now();
    v.draw();
    for (const s of ['left', 'right']) {
      const gl = v.views[s].renderer.getContext();
      gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, px);
    }
    synced.push(performance.now() - t);
  }
  synced.sort((a, b) => a - b);
  return { drawsPerS, syncedMs: synced[5], shadows: v.views.left.renderer.shadowMap.enabled };
}

const server = await startServer({ env: { ARENA_MAX_STEPS: '60' } });
const browser = await launchChromium();
try {
  mkdirSync(OUT, { recursive: true });
  const battle = await finishedBattle(server.url);
  /** @type {Record<string, {drawsPerS: number, syncedMs: number}[]>} */
  const results = { off: [], on: [] };
  for (let run = 0; run < Number(opts.runs); run++) {
    for (const setting of /** @type {const} */ (['off', 'on'])) {
      const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
      await context.addCookies(battle.cookies);
      await context.addInitScript((s) => localStorage.setItem('arena.shadows', s), setting);
      const page = await context.newPage();
      await page.goto(battle.url, { waitUntil: 'load' });
      await page.waitForFunction(() => performance.getEntriesByName('arena:first-frame').length > 0, null, { timeout: 120_000 });
      await page.waitForTimeout(500);
      const r = await page.evaluate(measure, Number(opts.seconds));
      if (r.shadows !== (setting === 'on')) throw new Error(`shadows ${setting} did not take`);
      results[setting].push(r);
      if (run === 0) await page.screenshot({ path: path.join(OUT, `web_shadows_${setting}.png`) });
      await context.close();
    }
  }
  const med = (/** @type {number[]} */ xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const off = { d: med(results.off.map((r) => r.drawsPerS)), s: med(results.off.map((r) => r.syncedMs)) };
  const on = { d: med(results.on.map((r) => r.drawsPerS)), s: med(results.on.map((r) => r.syncedMs)) };
  console.log(`Scrubbing both views, SwiftShader, median of ${opts.runs} (off and on alternating)`);
  console.log(`                       shadows off   shadows on   on/off`);
  console.log(`  draws/s              ${off.d.toFixed(1).padStart(11)}   ${on.d.toFixed(1).padStart(10)}   ${(on.d / off.d).toFixed(2)}`);
  console.log(`  synced draw, ms      ${off.s.toFixed(1).padStart(11)}   ${on.s.toFixed(1).padStart(10)}   ${(on.s / off.s).toFixed(2)}`);
} finally {
  await browser.close();
  await server.stop();
}
