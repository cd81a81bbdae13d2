// @ts-check
/**
 * End to end, in headless Chromium against the real server, once per robot beyond the Franka (which
 * arena.e2e.test.js covers): the setup page offers exactly the robot + scene pairs the server has; a battle
 * is created through the page in a cell of that robot, runs an instruction to the end, and the page's
 * replay is checked against the server: at a chosen step, every body position the WASM viewer computed
 * and every geom pose it drew equal native MuJoCo's `mj_kinematics` on the stored trajectory (≤ 1e-9).
 * Before the vote nothing the page shows or receives names a policy. Cheap policies (a light registry),
 * short episodes and an unpaced stream keep it fast. Screenshots go to test-artifacts/e2e/.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { Timeline } from '../../src/lib/timeline.js';
import { decodeReplay } from '../../src/lib/vlar.js';
import { Received, asVoter, findTerms, spoilerTerms, waitVoteOpen } from '../support/arena-page.mjs';
import { launchChromium } from '../support/browser.mjs';
import { repoRoot, runPython } from '../support/python.mjs';
import { everyRobotModels, startServer } from '../support/server.mjs';

const ARTIFACTS = path.join(repoRoot, 'test-artifacts', 'e2e');
const POSE_REFERENCE = path.join(repoRoot, 'web', 'test', 'support', 'pose_reference.py');
const SIDES = /** @type {const} */ (['left', 'right']);
const TOLERANCE = 1e-9;
const STEP = 6; // the control step compared (of ARENA_MAX_STEPS)
/** One cell per robot; the scenes differ so that kitchen and warehouse are drawn too. */
const CELLS = [{ robot: 'ur5e', scene: 'kitchen' }, { robot: 'widowx', scene: 'warehouse' }];
/** Two cheap policies that drive every robot (tests/support/light_models.py, with `robots`). */
const LIGHT = { names: ['e2e-still-arm', 'e2e-jitter-arm'], organisation: 'E2E Robot Lab' };
const MODELS = everyRobotModels(LIGHT.names, ['zero', 'random'], LIGHT.organisation);

/** @type {Awaited<ReturnType<typeof startServer>>} */
let server;
/** @type {import('playwright-core').Browser} */
let browser;
/** @type {Record<string, string[]>} */
let terms;
/** @type {string} */
let tmp;

before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  tmp = mkdtempSync(path.join(os.tmpdir(), 'arena-robots-e2e-'));
  const models = path.join(tmp, 'models.toml');
  writeFileSync(models, MODELS);
  terms = spoilerTerms();
  terms.names.push(...LIGHT.names);
  terms.organisations.push(LIGHT.organisation);
  server = await startServer({ env: { ARENA_MODELS: models, ARENA_STREAM_PACE: '0', ARENA_MAX_STEPS: '12' } });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** @param {string} url */
const getJson = async (url) => (await fetch(`${server.url}${url}`)).json();

test('the setup page offers exactly the robot + scene pairs the server has', { timeout: 120_000 }, async () => {
  const robots = await getJson('/api/robots');
  const scenes = await getJson('/api/scenes');
  const page = await browser.newPage();
  await page.goto(`${server.url}/`);
  await page.locator('[data-testid=scene] option').first().waitFor({ state: 'attached' }); // the form is filled
  const options = (/** @type {string} */ sel) => page.$$eval(`${sel} option`, (os) => os.map((o) => /** @type {HTMLOptionElement} */ (o).value));
  const robotIds = await options('[data-testid=robot]');
  assert.deepEqual(robotIds, robots.map((/** @type {any} */ r) => r.id));
  for (const id of ['franka', 'ur5e', 'widowx']) assert.ok(robotIds.includes(id), `robot ${id} is offered`);
  for (const robot of robotIds) {
    const valid = scenes.filter((/** @type {any} */ s) => s.robots.includes(robot)).map((/** @type {any} */ s) => s.id);
    assert.ok(valid.length >= 3, `${robot} has scenes: ${valid}`);
    assert.deepEqual(robots.find((/** @type {any} */ r) => r.id === robot).scenes, valid);
    await page.selectOption('[data-testid=robot]', robot);
    await page.waitForFunction(([want]) => Array.from(document.querySelectorAll('[data-testid=scene] option'),
      (o) => /** @type {HTMLOptionElement} */ (o).value).join() === want, [valid.join()]);
  }
  await page.close();
});

describe('a battle through the page, per robot', () => {
  for (const { robot, scene } of CELLS) {
    test(`${robot} in the ${scene}: the page's replay is the server's, blind until the vote`, { timeout: 180_000 }, async (t) => {
      const page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
      /** @type {string[]} */
      const errors = [];
      page.on('pageerror', (e) => errors.push(e.message));
      const received = new Received(page);
      await page.goto(`${server.url}/`);
      await page.selectOption('[data-testid=robot]', robot);
      await page.waitForFunction((s) => Boolean(document.querySelector(`[data-testid=scene] option[value="${s}"]`)), scene);
      await page.selectOption('[data-testid=scene]', scene);
      await page.fill('[data-testid=instruction]', 'pick up the red cube');
      await page.click('[data-testid=start]');
      await page.waitForURL(/\/battles\/[^/]+\/turns\/0$/);
      const battleId = /** @type {string} */ (page.url().split('/battles/')[1]?.split('/')[0]);
      await page.locator('[data-testid=vote-left]').waitFor({ timeout: 60_000 }); // the scene is compiled
      await waitVoteOpen(page);
      for (const side of SIDES) await page.locator(`[data-testid=status-${side}]`, { hasText: 'replay ·' }).waitFor();

      const battle = await (await asVoter(page, `${server.url}/api/battles/${battleId}`)).json();
      assert.equal(battle.robot_id, robot);
      assert.equal(battle.scene_id, scene);
      const turn = battle.turns[0];
      assert.equal(turn.status, 'done', JSON.stringify(turn));

      // the chosen step, by keyboard, on both sides (locked)
      await page.locator('[data-testid=view-left] canvas').click({ position: { x: 5, y: 5 } });
      await page.keyboard.press('Home');
      for (let i = 0; i < STEP; i++) await page.keyboard.press('ArrowRight');
      /** @type {Record<string, string>} */
      const files = {};
      /** @type {Record<string, number>} */
      const frames = {};
      for (const side of SIDES) {
        const bytes = await (await asVoter(page, `${server.url}${turn.episodes[side].trajectory_url}`)).body();
        const replay = decodeReplay(new Uint8Array(bytes));
        const tl = new Timeline(replay.header.step_frames, replay.nFrames, replay.frames.time);
        assert.ok(tl.nSteps >= STEP, `${side}: ${tl.nSteps} steps`);
        frames[side] = tl.frameOfStep(STEP);
        files[side] = path.join(tmp, `${battleId}-${side}.vlar`);
        writeFileSync(files[side], bytes);
        await page.waitForFunction(([s, f]) => document.querySelector(`[data-testid=label-${s}]`)?.getAttribute('data-frame') === String(f), [side, frames[side]]);
      }
      await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))); // drawn
      const shown = await page.evaluate(() => {
        const { viewer } = /** @type {any} */ (globalThis).__arena;
        const side = (/** @type {'left' | 'right'} */ s) => ({
          xpos: Array.from(viewer.sides[s].data.xpos),
          drawn: viewer.views[s].objects.map((/** @type {any} */ o) => ({ geom: o.geom, m: Array.from(o.object.matrix.elements) })),
        });
        const b = viewer.scene.bundle;
        return { bundle: { hash: b.hash, robot_id: b.robot_id, scene_id: b.scene_id }, left: side('left'), right: side('right') };
      });

      // the reference: native MuJoCo on the bundle and trajectories the server serves
      const bundlePath = path.join(tmp, `${battleId}.bundle`);
      writeFileSync(bundlePath, await (await asVoter(page, `${server.url}/api/scenes/${scene}/bundle?robot_id=${robot}`)).body());
      const ref = JSON.parse(runPython([POSE_REFERENCE, bundlePath, files.left, String(frames.left), files.right, String(frames.right)]).toString());
      assert.deepEqual(shown.bundle, { hash: ref.bundle_hash, robot_id: robot, scene_id: scene });
      SIDES.forEach((side, i) => {
        const want = ref.episodes[i];
        assert.equal(want.bundle_hash, ref.bundle_hash, `${side} ran on the served bundle`);
        const got = shown[side];
        assert.equal(got.xpos.length, want.xpos.length);
        assert.ok(maxAbsDiff(got.xpos, want.xpos) <= TOLERANCE, `${side} body positions differ by ${maxAbsDiff(got.xpos, want.xpos)}`);
        assert.ok(got.drawn.length > 10, `${side} draws the robot and the scene: ${got.drawn.length} meshes`);
        let worst = 0;
        for (const { geom: g, m } of got.drawn) { // three.js matrices are column-major: translation in 12..14
          worst = Math.max(worst, maxAbsDiff([m[12], m[13], m[14]], want.geom_xpos.slice(3 * g, 3 * g + 3)));
          const rot = [m[0], m[4], m[8], m[1], m[5], m[9], m[2], m[6], m[10]]; // row-major, as geom_xmat
          worst = Math.max(worst, maxAbsDiff(rot, want.geom_xmat.slice(9 * g, 9 * g + 9)));
        }
        assert.ok(worst <= TOLERANCE, `${side} drawn geom poses differ by ${worst}`);
        t.diagnostic(`${robot}/${scene} ${side}, step ${STEP} (frame ${frames[side]}): max |page - native| body xpos ` +
          `${maxAbsDiff(got.xpos, want.xpos).toExponential(1)}, ${got.drawn.length} drawn geoms ${worst.toExponential(1)}`);
      });
      // the two sides really moved differently, so the comparison is not of a resting scene
      assert.ok(maxAbsDiff(ref.episodes[0].xpos, ref.episodes[1].xpos) > 1e-3, 'the two policies left the robot in different poses');

      // before the vote: nothing names a policy, and no automatic metric
      await received.settle();
      assert.deepEqual(findTerms(await page.content(), terms), [], 'page DOM before the vote');
      assert.doesNotMatch(await page.evaluate(() => document.body.innerText), /success|progress/i);
      const leaks = received.items.flatMap((it) => findTerms(it.text, terms).map((hit) => `${it.url}: ${hit}`));
      assert.deepEqual(leaks, [], 'bytes received before the vote');
      assert.ok(received.items.length > 5, `recorded ${received.items.length} responses`);
      await page.screenshot({ path: path.join(ARTIFACTS, `robot-${robot}-${scene}.png`) });

      // the vote reveals the names (the positive control for the scan)
      await page.click('[data-testid=vote-left]');
      await page.locator('[data-testid=reveal-right]').waitFor();
      const revealed = `${await page.textContent('[data-testid=reveal-left]')} ${await page.textContent('[data-testid=reveal-right]')}`;
      assert.deepEqual(LIGHT.names.filter((n) => revealed.includes(n)).sort(), [...LIGHT.names].sort());
      assert.deepEqual(errors, [], `page errors: ${errors.join('; ')}`);
      await page.close();
    });
  }
});

/** Largest |a[i] - b[i]| (NaN propagates). @param {ArrayLike<number>} a @param {ArrayLike<number>} b */
function maxAbsDiff(a, b) {
  assert.equal(a.length, b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= max)) max = d;
  }
  return max;
}
