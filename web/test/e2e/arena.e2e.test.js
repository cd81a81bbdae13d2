// @ts-check
/**
 * End to end, in headless Chromium against the real server: a whole battle through the page, blind
 * until the vote. create -> instruct -> watch the live stream -> scrub and check the step label and
 * comparison panel against the trajectory file -> a second turn that continues from where each robot
 * ended -> scan the page and every byte it received for anything naming a policy, its kind, action
 * space or failure type -> vote with the keyboard only -> the reveal (actions, outcome, names), with
 * the same scan as a positive control -> leaderboard -> history. Also: a corrupt trajectory shows a
 * clear message. Screenshots go to test-artifacts/e2e/.
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
import { Received, asVoter, findTerms, spoilerTerms, startBattle, waitVoteOpen } from '../support/arena-page.mjs';
import { launchChromium } from '../support/browser.mjs';
import { repoRoot } from '../support/python.mjs';
import { startServer } from '../support/server.mjs';

const ARTIFACTS = path.join(repoRoot, 'test-artifacts', 'e2e');
const SIDES = /** @type {const} */ (['left', 'right']);

/** @type {Awaited<ReturnType<typeof startServer>>} */
let server;
/** @type {import('playwright-core').Browser} */
let browser;
/** @type {import('playwright-core').BrowserContext} one voter (one cookie) for every test here */
let voter;
/** @type {Record<string, string[]>} */
let terms;

before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  terms = spoilerTerms();
  // Paced streams (half real time) make the live phase long enough to watch: a 40-step episode
  // streams for up to 8 s.
  server = await startServer({ env: { ARENA_STREAM_PACE: '0.5', ARENA_MAX_STEPS: '40' } });
  browser = await launchChromium();
  voter = await browser.newContext({ viewport: { width: 1440, height: 900 } });
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** @param {import('playwright-core').Page} page @param {string} name */
const shot = (page, name) => page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });

/** @param {import('playwright-core').Page} page @param {string} testid */
const dataValue = (page, testid) => page.getAttribute(`[data-testid="${testid}"]`, 'data-value');

/** @param {import('playwright-core').Page} page @param {string} url */
const replayOf = async (page, url) => decodeReplay(new Uint8Array(await (await asVoter(page, `${server.url}${url}`)).body()));

/** @param {import('playwright-core').Page} page @param {string} id */
const battleOf = async (page, id) => (await asVoter(page, `${server.url}/api/battles/${id}`)).json();

describe('arena in a real browser', () => {
  /** @type {string} */
  let battleId;

  test('a whole battle, blind until the vote, voted with the keyboard', { timeout: 240_000 }, async () => {
    const page = await voter.newPage();
    /** @type {string[]} */
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const received = new Received(page);
    battleId = await startBattle(page, server.url, 'pick up the red cube');

    // the live stream: the label says live and the frame count grows while the episode runs
    const left = page.locator('[data-testid=label-left]');
    await left.filter({ hasText: 'live' }).waitFor({ timeout: 60_000 });
    const firstFrame = Number(await left.getAttribute('data-frame'));
    await page.waitForFunction(
      (f) => Number(document.querySelector('[data-testid=label-left]')?.getAttribute('data-frame')) > f + 5,
      firstFrame, { timeout: 30_000 });
    await shot(page, '02-live');
    const snapshot = await page.evaluate(() => ({
      live: Boolean(document.querySelector('[data-testid=label-left]')?.textContent?.includes('live')),
      disabled: /** @type {HTMLButtonElement} */ (document.querySelector('[data-testid=vote-left]')).disabled,
    }));
    if (snapshot.live) assert.equal(snapshot.disabled, true, 'voting must wait until the episodes end');
    await waitVoteOpen(page);
    await page.waitForFunction(() => !document.querySelector('[data-testid=label-left]')?.textContent?.includes('live'));
    for (const side of SIDES) assert.match(/** @type {string} */ (await page.textContent(`[data-testid=status-${side}]`)), /^replay · \d+ steps$/);

    // scrub: keyboard to a control step, then check every readout against the (blinded) stored file
    const turn0 = (await battleOf(page, battleId)).turns[0];
    const blind = { left: await replayOf(page, turn0.episodes.left.trajectory_url), right: await replayOf(page, turn0.episodes.right.trajectory_url) };
    for (const side of SIDES) {
      assert.equal(blind[side].header.action_space, 'hidden');
      assert.equal(blind[side].header.action_dim, 0);
      assert.deepEqual(Object.keys(blind[side].steps), ['action']);
    }
    await page.locator('[data-testid=view-left] canvas').click({ position: { x: 5, y: 5 } });
    await page.keyboard.press('Home');
    for (let i = 0; i < 7; i++) await page.keyboard.press('ArrowRight');
    await checkReadouts(page, blind, 7, false);
    await page.keyboard.press('Home');
    await page.keyboard.press('Shift+ArrowRight');
    await checkReadouts(page, blind, 10, false);
    await shot(page, '03-scrubbed');
    await page.keyboard.press('g'); // the other side as a ghost in each view, and the camera presets
    assert.equal(await page.isChecked('[data-testid=ghost]'), true);
    await page.click('[data-testid=camera-top]');
    await shot(page, '03a-ghost-top');
    await page.keyboard.press('g');
    await page.keyboard.press('c');

    // unlocked, the keys move only the side last clicked; locking again snaps the other side to it
    await page.keyboard.press('l');
    assert.equal(await page.isChecked('[data-testid=lock]'), false);
    await page.locator('[data-testid=view-right] canvas').click({ position: { x: 5, y: 5 } });
    await page.keyboard.press('Home');
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowRight');
    const leftFrame = new Timeline(blind.left.header.step_frames, blind.left.nFrames).frameOfStep(10);
    const rightFrame = new Timeline(blind.right.header.step_frames, blind.right.nFrames).frameOfStep(2);
    await page.waitForFunction(([l, r]) =>
      document.querySelector('[data-testid=label-left]')?.getAttribute('data-frame') === String(l)
      && document.querySelector('[data-testid=label-right]')?.getAttribute('data-frame') === String(r), [leftFrame, rightFrame]);
    await page.keyboard.press('l');
    await page.waitForFunction((r) => document.querySelector('[data-testid=label-left]')?.getAttribute('data-frame') === String(r), rightFrame);

    // a second turn continues from where each robot ended (the default), understood before it runs
    await page.fill('[data-testid=next-instruction]', 'pick up the purple cube'); // understood (or refused) before it runs
    await page.locator('[data-testid=understanding].refused', { hasText: 'has no purple cube' }).waitFor();
    await page.fill('[data-testid=next-instruction]', 'push the blue cube to the left');
    await page.locator('[data-testid=understanding]', { hasText: 'understood as: push · blue cube · to the left' }).waitFor();
    await page.click('[data-testid=send-turn]');
    await page.waitForURL(new RegExp(`/battles/${battleId}/turns/1$`));
    await page.locator('[data-testid=turn-tab-1].active').waitFor();
    assert.match(/** @type {string} */ (await page.textContent('[data-testid=understood]')), /push · blue cube · to the left · continued/);
    await waitVoteOpen(page);
    await page.click('[data-testid=turn-tab-0]');
    await page.waitForURL(new RegExp(`/battles/${battleId}/turns/0$`));
    for (const side of SIDES) await page.locator(`[data-testid=status-${side}]`, { hasText: 'replay ·' }).waitFor();
    await page.keyboard.press('End');
    await checkReadouts(page, blind, Infinity, false);

    // before the vote: nothing on the page or in any byte received names a policy, kind, action space
    // or failure type, and nothing shows the automatic metric
    await received.settle();
    const html = await page.content();
    const text = await page.evaluate(() => document.body.innerText);
    assert.deepEqual(findTerms(html, terms), [], 'page DOM before the vote');
    assert.doesNotMatch(text, /success|progress/i, 'no automatic metric before the vote');
    assert.equal(await page.locator('[data-testid=actions-panel]').isHidden(), true);
    assert.ok(received.items.length > 10, `API responses and stream messages recorded: ${received.items.length}`);
    // Everything is scanned, the catalogue (robots, scenes) included.
    const leaks = received.items.flatMap((i) => findTerms(i.text, terms).map((hit) => `${i.url}: ${hit}`));
    assert.deepEqual(leaks, [], 'bytes received before the vote');
    assert.ok(received.items.some((i) => i.url.startsWith('ws')), 'stream messages were recorded');
    await shot(page, '04-before-vote');

    // keyboard only: Tab leaves the viewer (no trap) and reaches the vote bar; Space presses the button
    const votedAt = Date.now();
    let reached = false;
    for (let i = 0; i < 80 && !reached; i++) {
      await page.keyboard.press('Tab');
      reached = await page.evaluate(() => document.activeElement?.getAttribute('data-testid') === 'vote-left');
    }
    assert.ok(reached, 'Tab reaches the vote bar');
    await page.keyboard.press('Space');
    await page.locator('[data-testid=reveal-left]').waitFor();
    await page.waitForFunction(() => document.body.dataset.revealed === 'true');
    const battle = await battleOf(page, battleId);
    assert.equal(battle.vote.choice, 'left');

    // after the vote, per turn: names, outcome, failure details, actions in each policy's own space
    const full = { left: await replayOf(page, battle.turns[0].episodes.left.trajectory_url), right: await replayOf(page, battle.turns[0].episodes.right.trajectory_url) };
    for (const side of SIDES) {
      const reveal = /** @type {string} */ (await page.textContent(`[data-testid=reveal-${side}]`));
      assert.ok(reveal.includes(battle.vote[side].name), `${side} reveal shows ${battle.vote[side].name}: ${reveal}`);
      const ep = battle.turns[0].episodes[side];
      assert.ok(reveal.includes(`progress ${Math.round((ep.progress ?? 0) * 100)}%`), `${side} reveal shows progress: ${reveal}`);
      assert.ok(full[side].header.action_dim > 0 && full[side].header.action_space !== 'hidden');
      assert.equal(await page.textContent(`[data-testid=action-space-${side}]`).then((t) => t?.startsWith(full[side].header.action_space)), true);
    }
    await checkReadouts(page, full, Infinity, true);
    await received.settle();
    const afterText = received.texts(votedAt).map((i) => i.text).join('\n') + (await page.content());
    for (const side of SIDES) {
      assert.ok(findTerms(afterText, terms).includes(`actionSpaces: ${full[side].header.action_space}`), 'positive control: action space after the vote');
      assert.ok((await page.content()).includes(battle.vote[side].name), 'positive control: names after the vote');
    }
    assert.match(await page.evaluate(() => document.body.innerText), /success/);
    await shot(page, '05-revealed');

    // the second turn continued exactly from each side's last state of the first
    if (battle.turns[1].start === 'continue') {
      for (const side of SIDES) {
        const next = await replayOf(page, battle.turns[1].episodes[side].trajectory_url);
        const nq = full[side].header.nq;
        assert.deepEqual(next.frames.qpos.subarray(0, nq), full[side].frames.qpos.subarray((full[side].nFrames - 1) * nq), `${side} continues`);
      }
    }

    // the leaderboard counts the vote; history lists the battle, which opens at its latest turn
    await page.click('a[data-page=leaderboard]');
    await page.locator('[data-testid=leaderboard]').waitFor();
    await page.click('a[data-page=history]');
    await page.locator(`[data-testid="history-${battleId}"]`).click();
    await page.waitForURL(new RegExp(`/battles/${battleId}/turns/1$`));
    await page.locator('[data-testid=reveal-right]').waitFor();
    assert.deepEqual(errors, [], `page errors: ${errors.join('; ')}`);
    await page.close();
  });

  test('a corrupt trajectory shows a clear message in the page', { timeout: 120_000 }, async () => {
    assert.ok(battleId, 'needs the battle from the first test');
    const page = await voter.newPage();
    await page.route('**/api/episodes/*/trajectory', async (route) => {
      const response = await route.fetch();
      const body = Buffer.from(await response.body());
      body[body.length - 40] ^= 0xff; // inside the last chunk's payload
      await route.fulfill({ response, body });
    });
    await page.goto(`${server.url}/battles/${battleId}/turns/0`);
    const failure = page.locator('[data-testid=failure-left]');
    await failure.waitFor({ timeout: 60_000 });
    assert.match(/** @type {string} */ (await failure.textContent()), /Cannot show (this|the complete) replay: corrupt replay/i);
    await shot(page, '07-corrupt');
    await page.close();
  });
});

/**
 * The step label and comparison panel at control step `step` match the trajectory files: states,
 * ctrl and what forward kinematics derives from them; after the vote, each side's action too.
 * @param {import('playwright-core').Page} page
 * @param {Record<'left' | 'right', any>} replays
 * @param {number} step
 * @param {boolean} revealed
 */
async function checkReadouts(page, replays, step, revealed) {
  const bundle = await (await asVoter(page, `${server.url}/api/scenes/table/bundle?robot_id=franka`)).body();
  const scene = await SceneModel.fromBundle(/** @type {any} */ (decode(new Uint8Array(bundle))));
  const data = scene.newData();
  try {
    for (const side of SIDES) {
      const r = replays[side];
      const tl = new Timeline(r.header.step_frames, r.nFrames, r.frames.time);
      const k = Math.min(step, tl.nSteps);
      const frame = tl.frameOfStep(k);
      await page.waitForFunction(([s, f]) => document.querySelector(`[data-testid=label-${s}]`)?.getAttribute('data-frame') === String(f), [side, frame]);
      assert.match(/** @type {string} */ (await page.textContent(`[data-testid=label-${side}]`)), new RegExp(`step ${k}/${tl.nSteps} · ${r.frames.time[frame].toFixed(3)} s`));
      assert.equal(await dataValue(page, `step-${side}`), String(k));
      assert.equal(await dataValue(page, `time-${side}`), String(r.frames.time[frame]));
      for (let i = 0; i < r.header.nu; i++) {
        assert.equal(await dataValue(page, `ctrl-${side}-${i}`), String(r.frames.ctrl[frame * r.header.nu + i]), `${side} ctrl[${i}] at step ${k}`);
      }
      const action = actionAt(r, tl.actionStepAt(frame));
      if (revealed) {
        assert.ok(action, `${side} has an action at step ${k}`);
        for (let i = 0; i < action.length; i++) assert.equal(await dataValue(page, `action-${side}-${i}`), String(action[i]), `${side} action[${i}]`);
      } else {
        assert.equal(await page.locator(`[data-testid^=action-${side}-]`).count(), 0, 'no action before the vote');
      }
      const opening = /** @type {number} */ (gripperOpening(r, frame)) * 1000;
      assert.equal(await dataValue(page, `opening-${side}`), String(opening));
      scene.pose(data, r.frames.qpos, frame);
      const ee = scene.id(OBJ.SITE, 'end_effector');
      const dist = distance3(data.site_xpos, 3 * ee, data.xpos, 3 * scene.id(OBJ.BODY, 'cube_red'));
      assert.ok(Math.abs(Number(await dataValue(page, `dist-${side}`)) - dist) < 1e-12, `${side} distance at step ${k}`);
      assert.ok(Math.abs(Number(await dataValue(page, `ee-${side}`)) - data.site_xpos[3 * ee + 2]) < 1e-12, `${side} end-effector height`);
    }
  } finally {
    scene.dispose();
  }
}
