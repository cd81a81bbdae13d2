// @ts-check
/**
 * End to end, in headless Chromium against the real server with one episode worker: what a voter sees
 * while the worker is busy with another voter's turn (the queue position over the starting scene, not
 * black panels, with an estimate of the wait, then the live frames), a reload or the battle's link in a
 * new tab in the middle of a paced episode (each resumes at the live edge, not at frame 0), and the wrist camera preset (each view through its own robot's wrist
 * camera; dragging a view leaves it). Screenshots go to test-artifacts/e2e/.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { launchChromium } from '../support/browser.mjs';
import { repoRoot } from '../support/python.mjs';
import { startServer } from '../support/server.mjs';

const ARTIFACTS = path.join(repoRoot, 'test-artifacts', 'e2e');
/** No automatic metric, so it runs every step (it never ends early on success). */
const LONG_TASK = 'wave at the camera';

/** @type {Awaited<ReturnType<typeof startServer>>} */
let server;
/** @type {import('playwright-core').Browser} */
let browser;

before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  // One worker: a second voter's turn must queue. Real-time streams of 250 control steps (~25 s): time
  // for a reload and a new tab before the episode ends.
  server = await startServer({ env: { ARENA_WORKERS: '1', ARENA_STREAM_PACE: '1', ARENA_MAX_STEPS: '250' } });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** Another voter, over plain HTTP with its own cookie jar (the server-issued `arena_voter` cookie). */
class HttpVoter {
  /** @param {string} base */
  constructor(base) {
    this.base = base;
    this.cookie = '';
  }

  /** @param {string} path @param {unknown} [body] POSTed as JSON when given */
  async json(path, body) {
    const r = await fetch(`${this.base}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(this.cookie ? { cookie: this.cookie } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const set = r.headers.getSetCookie().map((c) => c.split(';')[0]);
    if (set.length) this.cookie = set.join('; ');
    assert.ok(r.ok, `${path}: ${r.status} ${await r.clone().text()}`);
    return r.json();
  }
}

/**
 * What a view shows, as 64x48 grey levels (the canvases keep their drawing buffer).
 * @param {import('playwright-core').Page} page @param {'left' | 'right'} side
 * @returns {Promise<number[]>}
 */
const pixels = (page, side) => page.evaluate((s) => {
  const c = /** @type {HTMLCanvasElement} */ (document.querySelector(`[data-testid=canvas-${s}]`));
  const o = document.createElement('canvas');
  o.width = 64;
  o.height = 48;
  const g = /** @type {CanvasRenderingContext2D} */ (o.getContext('2d'));
  g.drawImage(c, 0, 0, 64, 48);
  const d = g.getImageData(0, 0, 64, 48).data;
  return Array.from({ length: 64 * 48 }, (_, i) => Math.round((d[4 * i] + d[4 * i + 1] + d[4 * i + 2]) / 3));
}, side);

/** @param {number[]} a @param {number[]} b mean absolute difference of grey levels */
const diff = (a, b) => a.reduce((sum, v, i) => sum + Math.abs(v - b[i]), 0) / a.length;

/** @param {number[]} p distinct grey levels: a drawn scene has many, a blank panel one */
const levels = (p) => new Set(p).size;

/** @param {import('playwright-core').Page} page @param {string} instruction */
async function fillSetup(page, instruction) {
  await page.goto(`${server.url}/`);
  await page.selectOption('[data-testid=robot]', 'franka');
  await page.selectOption('[data-testid=scene]', 'table');
  await page.fill('[data-testid=instruction]', instruction);
}

/** @param {import('playwright-core').Page} page */
const frameOf = async (page) => Number(await page.getAttribute('[data-testid=label-left]', 'data-frame'));

describe('live episodes with one busy worker', () => {
  test('a queued turn shows its place in the queue and a time estimate over the starting scene, then plays', { timeout: 240_000 }, async () => {
    const page = await (await browser.newContext({ viewport: { width: 1440, height: 900 } })).newPage();
    await fillSetup(page, 'pick up the red cube');
    // another voter: a short turn first (the server's estimate is measured on other voters' episodes),
    // then a long one that takes the only worker
    const other = new HttpVoter(server.url);
    const session = await other.json('/api/sessions', { robot_id: 'franka', scene_id: 'table' });
    const warm = await other.json(`/api/battles/${session.battle.battle_id}/turns`, { instruction: LONG_TASK, max_steps: 10, start: 'reset' });
    for (let t = Date.now(); (await other.json(`/api/turns/${warm.turn_id}`)).status === 'running';) {
      assert.ok(Date.now() - t < 60_000, 'the short turn ends');
      await new Promise((r) => setTimeout(r, 200));
    }
    const busy = await other.json(`/api/battles/${session.battle.battle_id}/turns`, { instruction: LONG_TASK, max_steps: 300, start: 'reset' });
    /** @type {string[]} */
    const sockets = [];
    page.on('websocket', (ws) => sockets.push(new URL(ws.url()).pathname));
    await page.click('[data-testid=start]');
    await page.waitForURL(/\/battles\/[^/]+\/turns\/0$/);
    const status = page.locator('[data-testid=status-left]');
    await status.filter({ hasText: /(queued · \d+ episodes? ahead|next in the queue) · about \d+ (s|min)$/ }).waitFor({ timeout: 30_000 });
    const queuedText = await status.textContent();
    await page.screenshot({ path: path.join(ARTIFACTS, '20-queued.png') });
    const theirs = await other.json(`/api/turns/${busy.turn_id}`);
    assert.ok(['queued', 'running'].includes(theirs.episodes.left.status) || ['queued', 'running'].includes(theirs.episodes.right.status),
      `the other voter's turn still holds the worker: ${JSON.stringify(theirs.episodes)}`);
    for (const side of /** @type {const} */ (['left', 'right'])) {
      assert.ok(levels(await pixels(page, side)) > 20, `view ${side} shows the starting scene while queued, not a blank panel`);
    }
    // then the frames arrive, and the label goes live
    await page.locator('[data-testid=label-left]', { hasText: 'live' }).waitFor({ timeout: 180_000 });
    assert.match(String(queuedText), /(queued · \d+ episodes? ahead|next in the queue) · about \d+ (s|min)$/);
    assert.match(String(await status.textContent()), /live · step \d+|replay · \d+ steps/);
    // the streams opened on submit (before the battle page) are the ones the views play: one per side
    assert.equal(sockets.filter((p) => p.endsWith('/stream')).length, 2, `stream sockets: ${sockets.join(', ')}`);
    await page.context().close();
  });

  test('a reload or a new tab mid-episode resumes at the live edge; the wrist camera follows each robot', { timeout: 240_000 }, async () => {
    const page = await (await browser.newContext({ viewport: { width: 1440, height: 900 } })).newPage();
    await fillSetup(page, LONG_TASK);
    await page.click('[data-testid=start]');
    await page.waitForURL(/\/battles\/[^/]+\/turns\/0$/);
    const url = page.url();
    const label = page.locator('[data-testid=label-left]');
    await label.filter({ hasText: 'live' }).waitFor({ timeout: 180_000 });
    await page.waitForFunction(() => Number(document.querySelector('[data-testid=label-left]')?.getAttribute('data-frame')) >= 150,
      null, { timeout: 30_000 });
    const before = await frameOf(page);

    await page.reload();
    assert.equal(page.url(), url);
    await label.filter({ hasText: 'live' }).waitFor({ timeout: 30_000 }).catch(async (e) => {
      await page.screenshot({ path: path.join(ARTIFACTS, '21-reload-failed.png') });
      throw new Error(`${e.message}; before ${before}; status ${await page.textContent('[data-testid=status-left]')}; label ${await label.textContent()}; hud ${await page.textContent('[data-testid=hud-left]')}`);
    });
    await page.waitForTimeout(1000); // past the jump to the live edge
    const hud = String(await page.textContent('[data-testid=hud-left]'));
    const [shown, received] = (/frame (\d+)\/(\d+)/.exec(hud) ?? []).slice(1).map(Number);
    assert.ok(String(await label.textContent()).includes('live'), `still streaming after the reload: ${hud}, ${await label.textContent()}, before ${before}`);
    assert.ok(shown >= before, `after the reload the view shows frame ${shown}, before it showed ${before}`);
    assert.ok(received - shown <= 100, `frame ${shown} is within 2 s of the live edge (${received} frames received)`);

    // the battle's link opened in a new tab (no memory of this tab's streams) also joins at the live edge
    const tab = await page.context().newPage();
    await tab.goto(url);
    const tabLabel = tab.locator('[data-testid=label-left]');
    await tabLabel.filter({ hasText: 'live' }).waitFor({ timeout: 30_000 });
    await tab.waitForTimeout(1000);
    const tabHud = String(await tab.textContent('[data-testid=hud-left]'));
    const [tabShown, tabReceived] = (/frame (\d+)\/(\d+)/.exec(tabHud) ?? []).slice(1).map(Number);
    assert.ok(String(await tabLabel.textContent()).includes('live'), `the new tab streams: ${tabHud}, ${await tabLabel.textContent()}`);
    assert.ok(tabShown >= shown, `the new tab shows frame ${tabShown}, the first tab already showed ${shown}`);
    assert.ok(tabReceived - tabShown <= 100, `the new tab's frame ${tabShown} is near the live edge (${tabReceived} received)`);
    await tab.close();

    // the wrist camera: each view looks through its own robot's camera, which moves with the hand
    const orbit = await pixels(page, 'left');
    await page.keyboard.press('w');
    assert.equal(await page.getAttribute('.views', 'data-camera'), 'wrist');
    await page.waitForTimeout(500);
    const wrist = { left: await pixels(page, 'left'), right: await pixels(page, 'right') };
    assert.ok(diff(orbit, wrist.left) > 5, 'the wrist view is not the shared orbit view');
    assert.ok(levels(wrist.left) > 20 && levels(wrist.right) > 20, 'the wrist views draw the scene');
    await page.screenshot({ path: path.join(ARTIFACTS, '21-wrist.png') });
    const box = /** @type {{x: number, y: number, width: number, height: number}} */ (await page.locator('[data-testid=canvas-left]').boundingBox());
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width / 2 + 40, box.y + box.height / 2, { steps: 4 });
    await page.mouse.up();
    assert.equal(await page.getAttribute('.views', 'data-camera'), 'orbit', 'dragging a view leaves the wrist cameras');
    await page.click('[data-testid=camera-wrist]');
    assert.equal(await page.getAttribute('.views', 'data-camera'), 'wrist');
    await page.click('[data-testid=camera-front]');
    assert.equal(await page.getAttribute('.views', 'data-camera'), 'front');
    await page.context().close();
  });
});
