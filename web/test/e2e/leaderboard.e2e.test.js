// @ts-check
/**
 * End to end, in headless Chromium against the real server: on a fresh arena, one vote must not make a
 * confident leader. The page casts the vote through its own cookie-carrying context, then the leaderboard
 * must show both models as provisional, sharing Rank (UB) 1, with intervals that overlap and contain each
 * other's rating gap, and say what the ratings mean. Screenshot in test-artifacts/e2e/.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { launchChromium } from '../support/browser.mjs';
import { repoRoot } from '../support/python.mjs';
import { startServer } from '../support/server.mjs';

const ARTIFACTS = path.join(repoRoot, 'test-artifacts', 'e2e');

/** @type {Awaited<ReturnType<typeof startServer>>} */
let server;
/** @type {import('playwright-core').Browser} */
let browser;

before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  server = await startServer({ env: { ARENA_STREAM_PACE: '0', ARENA_MAX_STEPS: '10' } });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('one vote on a fresh arena shows two provisional models sharing rank 1', { timeout: 180_000 }, async () => {
  const page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
  /** @type {string[]} */
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${server.url}/leaderboard`);
  await page.locator('text=No votes yet').waitFor();

  const headers = { Origin: server.url };
  const created = await page.request.post(`${server.url}/api/sessions`, { headers, data: { robot_id: 'franka', scene_id: 'table' } });
  assert.equal(created.status(), 201, await created.text());
  const battleId = (await created.json()).battle.battle_id;
  const posted = await page.request.post(`${server.url}/api/battles/${battleId}/turns`, { headers, data: { instruction: 'pick up the red cube' } });
  assert.equal(posted.status(), 202, await posted.text());
  const turnId = (await posted.json()).turn_id;
  for (let i = 0; ; i++) {
    const turn = await (await page.request.get(`${server.url}/api/turns/${turnId}`)).json();
    if (turn.status !== 'running') { assert.equal(turn.status, 'done', JSON.stringify(turn)); break; }
    assert.ok(i < 600, 'the turn did not finish');
    await new Promise((r) => setTimeout(r, 200));
  }
  const voted = await page.request.post(`${server.url}/api/battles/${battleId}/vote`, { headers, data: { choice: 'left' } });
  assert.equal(voted.status(), 200, await voted.text());
  const reveal = await voted.json();
  const winner = reveal.left.name;
  const loser = reveal.right.name;

  await page.goto(`${server.url}/leaderboard`);
  await page.locator('[data-testid=leaderboard]').waitFor();
  assert.match(/** @type {string} */ (await page.textContent('[data-testid=lb-total]')), /^1 vote\b/);
  const method = /** @type {string} */ (await page.textContent('[data-testid=lb-method]'));
  assert.match(method, /Bradley-Terry-Davidson/);
  assert.match(/** @type {string} */ (await page.textContent('[data-testid=lb-scope]')), /provisional below \d+ votes/);
  assert.equal(await page.locator('[data-testid^="row-"]').count(), 2);
  const [w, l] = await Promise.all([winner, loser].map((m) => page.locator(`[data-testid="row-${m}"]`).evaluate((tr) => ({ ...(/** @type {HTMLElement} */ (tr)).dataset }))));
  for (const [name, r] of [[winner, w], [loser, l]]) {
    assert.equal(r.votes, '1');
    assert.equal(r.provisional, 'true', `${name} must be provisional after one vote`);
    assert.equal(r.rank, '1', `${name} must share Rank (UB) 1`);
    assert.ok(await page.locator(`[data-testid="provisional-${name}"]`).isVisible(), `${name} shows the provisional badge`);
  }
  assert.ok(Number(w.rating) > Number(l.rating), 'the winner is ahead on the point estimate');
  assert.ok(Number(w.ciLow) < Number(l.rating) && Number(l.ciHigh) > Number(w.rating), 'the intervals must overlap widely');
  assert.ok(Number(w.ciHigh) - Number(w.ciLow) > 200, 'one vote leaves a wide interval');
  assert.ok(Number(w.rating) - Number(l.rating) < 300, `one vote must not open a big gap: ${w.rating} vs ${l.rating}`);
  await page.screenshot({ path: path.join(ARTIFACTS, 'leaderboard-one-vote.png'), fullPage: true });
  assert.deepEqual(errors, [], `page errors: ${errors.join('; ')}`);
  await page.close();
});
