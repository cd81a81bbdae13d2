// @ts-check
/**
 * Helpers for the arena's end-to-end tests: the words that would unblind a battle, a recorder of
 * every byte the page receives from the API (HTTP bodies and WebSocket messages), and steps a voter
 * takes (start a battle, wait for the vote to open).
 */
import assert from 'node:assert/strict';

import { decode } from '@msgpack/msgpack';

import { decodeReplay } from '../../src/lib/vlar.js';
import { runPython } from './python.mjs';

/** @typedef {import('playwright-core').Page} Page */

/** The site's own name, which is also the organisation of the built-in policies: not a spoiler. */
const BRAND = 'VLA Arena';

/**
 * Everything that names a policy or its kind, action space or failure type, from the registry and
 * the schemas (not hard-coded, so a new policy is covered): {names, organisations, kinds,
 * actionSpaces, errorTypes}.
 * @returns {Record<string, string[]>}
 */
export function spoilerTerms() {
  const script = `
import inspect, json
import schemas.errors as errors
from policy_host.registry import KINDS, Registry
from schemas.policy import ActionSpace
items = list(Registry.from_file().entries.values())
policy_errors = [n for n, c in vars(errors).items() if inspect.isclass(c) and issubclass(c, Exception)
                 and ('Policy' in n or n == 'SimulationError')]
print(json.dumps({
  'names': sorted({e.name for e in items}),
  'organisations': sorted({e.organisation for e in items}),
  'kinds': sorted(KINDS),
  'actionSpaces': sorted(a.value for a in ActionSpace),
  'errorTypes': sorted(policy_errors),
}))`;
  const terms = JSON.parse(runPython(['-c', script]).toString());
  assert.ok(terms.names.length >= 4, `registry names: ${terms.names}`);
  terms.organisations = terms.organisations.filter((/** @type {string} */ o) => o !== BRAND);
  return terms;
}

/**
 * Find whole-word occurrences of any term in `text`; returns "kind: term" strings.
 * @param {string} text @param {Record<string, string[]>} terms
 */
export function findTerms(text, terms) {
  const hits = [];
  for (const [kind, list] of Object.entries(terms)) {
    for (const term of list) {
      const re = new RegExp(`(^|[^A-Za-z0-9_-])${term.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}($|[^A-Za-z0-9_-])`);
      if (re.test(text)) hits.push(`${kind}: ${term}`);
    }
  }
  return hits;
}

/**
 * Records what the page receives from the API: HTTP bodies under /api/ (JSON as text, trajectory
 * files decoded so the header and stream names are searchable) and every WebSocket message (msgpack,
 * decoded to JSON). Static files (the app's own code) are not data about a battle and are skipped.
 */
export class Received {
  /** @param {Page} page */
  constructor(page) {
    /** @type {{url: string, text: string, at: number}[]} */
    this.items = [];
    /** @type {Promise<void>[]} */
    this.pending = [];
    page.on('response', (r) => {
      const url = r.url();
      if (!new URL(url).pathname.startsWith('/api/') || url.includes('/bundle')) return;
      const at = Date.now();
      this.pending.push(r.body().then((body) => this.add(url, body, at)).catch(() => {}));
    });
    page.on('websocket', (ws) => {
      ws.on('framereceived', ({ payload }) => {
        this.add(ws.url(), typeof payload === 'string' ? Buffer.from(payload) : payload, Date.now());
      });
    });
  }

  /** @param {string} url @param {Buffer} body @param {number} at */
  add(url, body, at) {
    let text = body.toString('latin1'); // raw bytes: msgpack and JSON strings are found as they are
    if (url.includes('/trajectory') && body.length) {
      try {
        const r = decodeReplay(new Uint8Array(body));
        text += JSON.stringify({ header: r.header, steps: Object.keys(r.steps), actionDim: r.header.action_dim });
      } catch { /* a corrupt file: its raw bytes are still searched */ }
    } else if (url.startsWith('ws')) {
      try {
        text += JSON.stringify(decode(body), (_k, v) => (v instanceof Uint8Array ? `<${v.length} bytes>` : v));
      } catch { /* raw bytes searched */ }
    }
    this.items.push({ url, text, at });
  }

  /** Wait for bodies still being read. */
  async settle() {
    await Promise.all(this.pending);
  }

  /** @param {number} [since] only items received after this time */
  texts(since = 0) {
    return this.items.filter((i) => i.at >= since);
  }
}

/**
 * Start a battle from the setup page and wait for its battle page.
 * @param {Page} page @param {string} base @param {string} instruction
 * @returns {Promise<string>} the battle id
 */
export async function startBattle(page, base, instruction) {
  await page.goto(`${base}/`);
  await page.selectOption('[data-testid=robot]', 'franka');
  await page.selectOption('[data-testid=scene]', 'table');
  await page.fill('[data-testid=instruction]', instruction);
  await page.click('[data-testid=start]');
  await page.waitForURL(/\/battles\/[^/]+\/turns\/0$/);
  return /** @type {string} */ (page.url().split('/battles/')[1]?.split('/')[0]);
}

/** @param {Page} page */
export async function waitVoteOpen(page) {
  await page.waitForFunction(() => !(/** @type {HTMLButtonElement} */ (document.querySelector('[data-testid=vote-left]'))).disabled,
    null, { timeout: 120_000 });
}

/**
 * GET with the page's cookies (the voter's identity), as JSON or bytes.
 * @param {Page} page @param {string} url
 */
export async function asVoter(page, url) {
  const r = await page.context().request.get(url);
  assert.equal(r.status(), 200, `${url}: ${r.status()}`);
  return r;
}
