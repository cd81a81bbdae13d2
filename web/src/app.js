// @ts-check
/**
 * Page wiring: a small router over stable URLs, the help overlay, and error display.
 *   /                               new battle
 *   /battles/{id}[/turns/{seq}][?t=step]  a battle and one of its turns, opened at a control step
 *   /leaderboard[?robot=ID]         ratings
 *   /history                        this browser's battles
 */

import { mujoco } from './mujoco/engine.js';
import { battlePage } from './ui/battle.js';
import { errorBox } from './ui/dom.js';
import { historyPage } from './ui/history.js';
import { isTextEntry } from './ui/viewer-keys.js';
import { leaderboardPage } from './ui/leaderboard.js';
import { setupPage } from './ui/setup.js';

const main = /** @type {HTMLElement} */ (document.getElementById('main'));
/** @type {() => void} */
let cleanup = () => {};
let generation = 0;

mujoco().catch(() => {}); // start fetching and compiling the engine while the page loads

/**
 * @param {string} path
 * @param {boolean} [replace]
 */
function navigate(path, replace = false) {
  if (replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  route();
}

async function route() {
  const gen = ++generation;
  cleanup();
  cleanup = () => {};
  const url = new URL(location.href);
  const parts = url.pathname.split('/').filter(Boolean);
  const page = parts[0] ?? 'arena';
  for (const a of document.querySelectorAll('.topbar nav a')) {
    a.classList.toggle('active', /** @type {HTMLElement} */ (a).dataset.page === (page === 'battles' ? 'arena' : page));
  }
  try {
    if (page === 'battles' && parts[1]) {
      const seq = parts[2] === 'turns' && parts[3] !== undefined ? Number(parts[3]) : null;
      const t = url.searchParams.get('t');
      const atStep = t !== null && /^\d+$/.test(t) ? Number(t) : null;
      const done = await battlePage(main, decodeURIComponent(parts[1]), seq, navigate, atStep);
      if (gen === generation) cleanup = done;
      else done();
    } else if (page === 'leaderboard') {
      await leaderboardPage(main, url.searchParams.get('robot'), navigate);
    } else if (page === 'history') {
      await historyPage(main);
    } else {
      await setupPage(main, navigate);
    }
    document.title = `VLA Arena · ${page === 'battles' ? 'battle' : page}`;
  } catch (err) {
    if (gen === generation) main.replaceChildren(errorBox(err));
  }
}

document.addEventListener('click', (e) => {
  const a = /** @type {HTMLElement} */ (e.target)?.closest?.('a[data-nav]');
  if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey) return;
  e.preventDefault();
  navigate(/** @type {HTMLAnchorElement} */ (a).getAttribute('href') ?? '/');
});
window.addEventListener('popstate', () => route());

const help = /** @type {HTMLDialogElement} */ (document.getElementById('help'));
document.getElementById('help-button')?.addEventListener('click', () => help.showModal());
document.addEventListener('keydown', (e) => {
  if (isTextEntry(/** @type {HTMLElement} */ (e.target))) return;
  if (e.key === '?') {
    e.preventDefault();
    if (help.open) help.close();
    else help.showModal();
  }
});

route();
