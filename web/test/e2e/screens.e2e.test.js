// @ts-check
/**
 * End to end, in headless Chromium against the real server: the arena on a phone (390x844: A above
 * B, no horizontal scroll, every control on screen, a vote with the shortcut keys), links to a step
 * (`?t=`), an unknown (or someone else's) battle URL, and the instruction box (counter, whitespace).
 * Screenshots go to test-artifacts/e2e/.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { startBattle, waitVoteOpen } from '../support/arena-page.mjs';
import { launchChromium } from '../support/browser.mjs';
import { repoRoot } from '../support/python.mjs';
import { startServer } from '../support/server.mjs';

const ARTIFACTS = path.join(repoRoot, 'test-artifacts', 'e2e');
const PHONE = { width: 390, height: 844 };

/** @type {Awaited<ReturnType<typeof startServer>>} */
let server;
/** @type {import('playwright-core').Browser} */
let browser;
/** @type {import('playwright-core').BrowserContext} */
let phone;

before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  server = await startServer({ env: { ARENA_STREAM_PACE: '2', ARENA_MAX_STEPS: '25' } });
  browser = await launchChromium();
  phone = await browser.newContext({ viewport: PHONE, deviceScaleFactor: 1, hasTouch: true });
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** @param {import('playwright-core').Page} page @param {string} name */
const shot = (page, name) => page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });

/** Page width and every visible control's horizontal extent. @param {import('playwright-core').Page} page */
const layout = (page) => page.evaluate(() => ({
  scrollWidth: document.documentElement.scrollWidth,
  offscreen: [...document.querySelectorAll('button, select, input, a')].filter((el) => {
    const r = el.getBoundingClientRect();
    return r.width > 0 && (r.left < -1 || r.right > window.innerWidth + 1);
  }).map((el) => el.getAttribute('data-testid') ?? el.textContent?.slice(0, 20)),
  ...(document.documentElement.scrollWidth > window.innerWidth ? {
    wide: [...document.querySelectorAll('body *')].filter((el) => el.getBoundingClientRect().right > window.innerWidth + 1)
      .slice(0, 8).map((el) => `${el.tagName}.${el.className}[${el.getAttribute('data-testid') ?? ''}] ${Math.round(el.getBoundingClientRect().right)}`),
  } : {}),
}));

describe('screens, links and odd URLs', () => {
  /** @type {string} */
  let battleId;

  test('a phone: A above B, no horizontal scroll, every control on screen, vote with key 4', { timeout: 180_000 }, async () => {
    const page = await phone.newPage();
    /** @type {string[]} */
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${server.url}/`);
    await page.locator('[data-testid=instruction]').waitFor();
    assert.deepEqual(await layout(page), { scrollWidth: PHONE.width, offscreen: [] }, 'setup page');
    battleId = await startBattle(page, server.url, 'pick up the green cube');
    await page.locator('[data-testid=canvas-left]').waitFor();
    const [a, b] = await Promise.all(['left', 'right'].map((s) => page.locator(`[data-testid=view-${s}]`).boundingBox()));
    assert.ok(a && b && b.y >= a.y + a.height - 1, `B is below A: ${JSON.stringify({ a, b })}`);
    assert.match(/** @type {string} */ (await page.textContent('[data-testid=name-left]')), /A/);
    assert.match(/** @type {string} */ (await page.textContent('[data-testid=name-right]')), /B/);
    await waitVoteOpen(page);
    assert.deepEqual(await layout(page), { scrollWidth: PHONE.width, offscreen: [] }, 'battle page');
    const dock = await page.locator('[data-testid=vote-dock]').boundingBox();
    assert.ok(dock && dock.y + dock.height <= PHONE.height + 1 && dock.y > PHONE.height / 2, `vote bar docked at the bottom: ${JSON.stringify(dock)}`);
    await shot(page, '10-phone');
    await page.locator('[data-testid=plot]').click({ position: { x: 200, y: 60 } }); // focus leaves any field
    await page.keyboard.press('4');
    await page.locator('[data-testid=reveal-right]').waitFor();
    const battle = await (await page.context().request.get(`${server.url}/api/battles/${battleId}`)).json();
    assert.equal(battle.vote.choice, 'right');
    assert.deepEqual(await layout(page), { scrollWidth: PHONE.width, offscreen: [] }, 'after the reveal');
    await shot(page, '11-phone-revealed');
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('a link to a step opens the battle at that step', { timeout: 120_000 }, async () => {
    assert.ok(battleId, 'needs the battle from the first test');
    const page = await phone.newPage();
    await page.goto(`${server.url}/battles/${battleId}/turns/0?t=5`);
    await page.waitForFunction(() => document.querySelector('[data-testid=label-left]')?.getAttribute('data-step') === '5',
      null, { timeout: 60_000 });
    await page.locator('[data-testid=fwd1]').click();
    await page.locator('[data-testid=frame-link]').click();
    await page.waitForURL(/\?t=6$/);
    await page.reload();
    await page.waitForFunction(() => document.querySelector('[data-testid=label-left]')?.getAttribute('data-step') === '6',
      null, { timeout: 60_000 });
    await page.close();
  });

  test('an unknown battle, or another voter\'s, shows a page with a way back', { timeout: 60_000 }, async () => {
    const stranger = await browser.newContext({ viewport: PHONE });
    const page = await stranger.newPage();
    for (const id of ['no-such-battle', battleId]) {
      await page.goto(`${server.url}/battles/${id}`);
      await page.locator('[data-testid=not-found]').waitFor();
      assert.deepEqual(await layout(page), { scrollWidth: PHONE.width, offscreen: [] });
    }
    await shot(page, '12-not-found');
    await page.click('[data-testid=back-home]');
    await page.locator('[data-testid=instruction]').waitFor();
    // the counter shows the limit; an instruction of only spaces starts nothing
    await page.fill('[data-testid=instruction]', '   ');
    assert.equal(await page.textContent('[data-testid=instruction-count]'), '3/300');
    await page.click('[data-testid=start]');
    await page.locator('.error-box').waitFor();
    assert.equal(new URL(page.url()).pathname, '/');
    const mine = await (await stranger.request.get(`${server.url}/api/me/battles`)).json();
    assert.deepEqual(mine, [], 'no empty battle left in history');
    await stranger.close();
  });
});
