// @ts-check
/**
 * End to end, in headless Chromium against the real server: a whole battle through the page.
 * create -> instruct -> watch the live stream -> scrub and check the step label and comparison
 * panel against the trajectory file -> vote -> reveal -> leaderboard -> history. Also: a corrupt
 * trajectory shows a clear message. Screenshots go to test-artifacts/e2e/.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { decode } from '@msgpack/msgpack';

import { actionAt, distance3, gripperOpening } from '../../src/lib/compare.js';
import { Timeline } from '../../src/lib/timeline.js';
import { decodeReplay } from '../../src/lib/vlar.js';
import { OBJ, SceneModel } from '../../src/mujoco/engine.js';
import { launchChromium } from '../support/browser.mjs';
import { repoRoot } from '../support/python.mjs';
import { startServer } from '../support/server.mjs';

const ARTIFACTS = path.join(repoRoot, 'test-artifacts', 'e2e');
const SCRUB_STEP = 7;

/** @type {Awaited<ReturnType<typeof startServer>>} */
let server;
/** @type {import('playwright-core').Browser} */
let browser;

before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  // Paced streams (half real time) make the live phase long enough to watch: a 40-step episode
  // streams for up to 8 s.
  server = await startServer({ env: { ARENA_STREAM_PACE: '0.5', ARENA_MAX_STEPS: '40' } });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** @param {import('playwright-core').Page} page @param {string} name */
const shot = (page, name) => page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });

/** @param {import('playwright-core').Page} page @param {string} testid */
const dataValue = (page, testid) => page.getAttribute(`[data-testid="${testid}"]`, 'data-value');

describe('arena in a real browser', () => {
  /** @type {string} */
  let battleId;

  test('a whole battle: create, instruct, watch live, scrub, vote, reveal, leaderboard, history', { timeout: 240_000 }, async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    /** @type {string[]} */
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const models = await (await fetch(`${server.url}/api/models`)).json();
    const names = models.map((/** @type {any} */ m) => m.name);

    // 1. create  2. instruct
    await page.goto(`${server.url}/`);
    await page.selectOption('[data-testid=robot]', 'franka');
    await page.selectOption('[data-testid=scene]', 'table');
    await page.fill('[data-testid=instruction]', 'pick up the red cube');
    await shot(page, '01-setup');
    await page.click('[data-testid=start]');
    await page.waitForURL(/\/battles\/[^/]+\/turns\/0$/);
    battleId = /** @type {string} */ (page.url().split('/battles/')[1]?.split('/')[0]);

    // 3. the live stream: the label says live and the frame count grows while the episode runs
    const left = page.locator('[data-testid=label-left]');
    await left.filter({ hasText: 'live' }).waitFor({ timeout: 60_000 });
    const firstFrame = Number(await left.getAttribute('data-frame'));
    await page.waitForFunction(
      (f) => Number(document.querySelector('[data-testid=label-left]')?.getAttribute('data-frame')) > f + 5,
      firstFrame, { timeout: 30_000 });
    await shot(page, '02-live');
    const voteLeft = page.locator('[data-testid=vote-left]');
    // One atomic look at the page: while a side is live, voting is closed.
    const snapshot = await page.evaluate(() => ({
      live: Boolean(document.querySelector('[data-testid=label-left]')?.textContent?.includes('live')),
      disabled: /** @type {HTMLButtonElement} */ (document.querySelector('[data-testid=vote-left]')).disabled,
    }));
    if (snapshot.live) assert.equal(snapshot.disabled, true, 'voting must wait until the episodes end');
    for (const name of names) {
      assert.ok(!(await page.content()).includes(name), `model name ${name} visible before the vote`);
    }

    // both episodes end; the vote opens
    await page.waitForFunction(() => !(/** @type {HTMLButtonElement} */ (document.querySelector('[data-testid=vote-left]'))).disabled,
      null, { timeout: 90_000 });
    await page.waitForFunction(() => !document.querySelector('[data-testid=label-left]')?.textContent?.includes('live'));

    // 4. scrub: keyboard to a control step, then check every readout against the stored file
    const turn = await (await fetch(`${server.url}/api/battles/${battleId}`)).json().then((b) => b.turns[0]);
    const replays = {
      left: decodeReplay(new Uint8Array(await (await fetch(`${server.url}${turn.episodes.left.trajectory_url}`)).arrayBuffer())),
      right: decodeReplay(new Uint8Array(await (await fetch(`${server.url}${turn.episodes.right.trajectory_url}`)).arrayBuffer())),
    };
    await page.locator('[data-testid=view-left] canvas').click({ position: { x: 5, y: 5 } });
    await page.keyboard.press('Home');
    for (let i = 0; i < SCRUB_STEP; i++) await page.keyboard.press('ArrowRight');
    await checkReadouts(page, replays, SCRUB_STEP);
    await shot(page, '03-scrubbed');

    // the scrub bar: drag to a frame between steps, labels follow
    const frame = Math.min(replays.left.nFrames, replays.right.nFrames) - 3;
    await page.$eval('[data-testid=scrub]', (el, f) => {
      const input = /** @type {HTMLInputElement} */ (el);
      input.value = String(f);
      input.dispatchEvent(new Event('input', { bubbles: true }));
    }, frame);
    for (const side of /** @type {const} */ (['left', 'right'])) {
      const r = replays[side];
      const tl = new Timeline(r.header.step_frames, r.nFrames, r.frames.time);
      await page.waitForFunction(([s, f]) => document.querySelector(`[data-testid=label-${s}]`)?.getAttribute('data-frame') === String(f), [side, frame]);
      assert.match(/** @type {string} */ (await page.textContent(`[data-testid=label-${side}]`)),
        new RegExp(`step ${tl.stepAt(frame)}/${tl.nSteps} · ${tl.timeAt(frame).toFixed(3)} s`));
    }

    // Shift+→ moves ten control steps
    await page.keyboard.press('Home');
    await page.keyboard.press('Shift+ArrowRight');
    await checkReadouts(page, replays, 10);

    // unlocked, the keys move only the side last clicked; locking again snaps the other side to it
    await page.keyboard.press('l');
    assert.equal(await page.isChecked('[data-testid=lock]'), false);
    await page.locator('[data-testid=view-right] canvas').click({ position: { x: 5, y: 5 } });
    await page.keyboard.press('Home');
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowRight');
    const leftFrame = new Timeline(replays.left.header.step_frames, replays.left.nFrames).frameOfStep(10);
    const rightFrame = new Timeline(replays.right.header.step_frames, replays.right.nFrames).frameOfStep(2);
    await page.waitForFunction(([l, r]) =>
      document.querySelector('[data-testid=label-left]')?.getAttribute('data-frame') === String(l)
      && document.querySelector('[data-testid=label-right]')?.getAttribute('data-frame') === String(r), [leftFrame, rightFrame]);
    await shot(page, '03b-unlocked');
    await page.keyboard.press('l');
    await page.waitForFunction((r) => document.querySelector('[data-testid=label-left]')?.getAttribute('data-frame') === String(r), rightFrame);

    // another instruction adds a turn; the voter can switch between turns
    await page.fill('[data-testid=next-instruction]', 'push the blue cube to the left');
    await page.click('[data-testid=send-turn]');
    await page.waitForURL(new RegExp(`/battles/${battleId}/turns/1$`));
    await page.locator('[data-testid=turn-tab-1].active').waitFor();
    assert.equal(await page.locator('[data-testid=vote-left]').isDisabled(), true, 'a running turn closes the vote');
    await page.waitForFunction(() => !(/** @type {HTMLButtonElement} */ (document.querySelector('[data-testid=vote-left]'))).disabled,
      null, { timeout: 90_000 });
    await shot(page, '03c-second-turn');
    await page.click('[data-testid=turn-tab-0]');
    await page.waitForURL(new RegExp(`/battles/${battleId}/turns/0$`));
    for (const side of ['left', 'right']) await page.locator(`[data-testid=status-${side}]`, { hasText: 'replay ·' }).waitFor();
    await page.keyboard.press('End');
    await checkReadouts(page, replays, Infinity);

    // 5. vote  6. reveal
    await voteLeft.click();
    await page.locator('[data-testid=reveal-left]').waitFor();
    const battle = await (await fetch(`${server.url}/api/battles/${battleId}`)).json();
    assert.equal(battle.vote.choice, 'left');
    for (const side of /** @type {const} */ (['left', 'right'])) {
      const text = /** @type {string} */ (await page.textContent(`[data-testid=reveal-${side}]`));
      assert.ok(text.includes(battle.vote[side].name), `${side} reveal shows ${battle.vote[side].name}: ${text}`);
      const ep = battle.turns[0].episodes[side];
      assert.ok(text.includes(`progress ${Math.round((ep.progress ?? 0) * 100)}%`), `${side} reveal shows progress: ${text}`);
      assert.ok(text.includes(ep.success ? 'success' : 'no success'), `${side} reveal shows success: ${text}`);
    }
    assert.ok(await page.locator('[data-testid=vote-left]').count() === 0 || await voteLeft.isDisabled());
    await shot(page, '04-revealed');

    // 7. the leaderboard counts the vote
    await page.click('a[data-page=leaderboard]');
    await page.locator('[data-testid=leaderboard]').waitFor();
    assert.match(/** @type {string} */ (await page.textContent('[data-testid=lb-total]')), /^1 vote /);
    for (const side of /** @type {const} */ (['left', 'right'])) {
      assert.equal(await page.getAttribute(`[data-testid="row-${battle.vote[side].name}"]`, 'data-votes'), '1');
    }
    await page.click('[data-testid=lb-robot-franka]');
    await page.locator('[data-testid=lb-total]', { hasText: 'on franka' }).waitFor();
    await shot(page, '05-leaderboard');

    // history lists the battle, which opens at its stable URL
    await page.click('a[data-page=history]');
    await page.locator(`[data-testid="history-${battleId}"]`).waitFor();
    await shot(page, '06-history');
    await page.click(`[data-testid="history-${battleId}"]`);
    await page.waitForURL(new RegExp(`/battles/${battleId}/turns/1$`)); // a battle opens at its latest turn
    await page.locator('[data-testid=reveal-right]').waitFor();
    assert.deepEqual(errors, [], `page errors: ${errors.join('; ')}`);
    await page.close();
  });

  test('a corrupt trajectory shows a clear message in the page', { timeout: 120_000 }, async () => {
    assert.ok(battleId, 'needs the battle from the first test');
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    await page.route('**/api/episodes/*/trajectory', async (route) => {
      const response = await route.fetch();
      const body = Buffer.from(await response.body());
      body[body.length - 40] ^= 0xff; // inside the last chunk's payload
      await route.fulfill({ response, body });
    });
    await page.goto(`${server.url}/battles/${battleId}/turns/0`);
    const failure = page.locator('[data-testid=failure-left]');
    await failure.waitFor({ timeout: 60_000 });
    assert.match(/** @type {string} */ (await failure.textContent()), /Cannot show this replay: corrupt replay/i);
    await shot(page, '07-corrupt');
    await page.close();
  });
});

/**
 * The step label and comparison panel at control step `step` match the trajectory files.
 * @param {import('playwright-core').Page} page
 * @param {Record<'left' | 'right', any>} replays
 * @param {number} step
 */
async function checkReadouts(page, replays, step) {
  const bundleBytes = new Uint8Array(await (await fetch(`${server.url}/api/scenes/table/bundle?robot_id=franka`)).arrayBuffer());
  const scene = await SceneModel.fromBundle(/** @type {any} */ (decode(bundleBytes)));
  const data = scene.newData();
  try {
    for (const side of /** @type {const} */ (['left', 'right'])) {
      const r = replays[side];
      const tl = new Timeline(r.header.step_frames, r.nFrames, r.frames.time);
      const k = Math.min(step, tl.nSteps);
      const frame = tl.frameOfStep(k);
      await page.waitForFunction(([s, f]) => document.querySelector(`[data-testid=label-${s}]`)?.getAttribute('data-frame') === String(f), [side, frame]);
      assert.match(/** @type {string} */ (await page.textContent(`[data-testid=label-${side}]`)), new RegExp(`step ${k}/${tl.nSteps} · ${r.frames.time[frame].toFixed(3)} s`));
      assert.equal(await dataValue(page, `step-${side}`), String(k));
      assert.equal(await dataValue(page, `time-${side}`), String(r.frames.time[frame]));
      const action = actionAt(r, tl.actionStepAt(frame));
      assert.ok(action, `${side} has an action at step ${k}`);
      for (let i = 0; i < action.length; i++) {
        assert.equal(await dataValue(page, `action-${side}-${i}`), String(action[i]), `${side} action[${i}] at step ${k}`);
      }
      const opening = /** @type {number} */ (gripperOpening(r, frame)) * 1000;
      assert.equal(await dataValue(page, `opening-${side}`), String(opening));
      scene.pose(data, r.frames.qpos, frame);
      const ee = scene.id(OBJ.SITE, 'end_effector');
      const cube = scene.id(OBJ.BODY, 'cube_red');
      const dist = distance3(data.site_xpos, 3 * ee, data.xpos, 3 * cube);
      assert.ok(Math.abs(Number(await dataValue(page, `dist-${side}`)) - dist) < 1e-12, `${side} distance at step ${k}`);
    }
  } finally {
    scene.dispose();
  }
}
