// @ts-check
/**
 * The setup form: robot, scene, instruction. While the voter types, the MuJoCo engine and the chosen
 * robot + scene bundle are downloaded and compiled (kept for the page's lifetime), so the battle page
 * shows the scene the moment the turn is created. Creates a session and its first turn, then opens
 * the battle.
 */

import { api, openStreamEarly } from '../api.js';
import { rememberCreated } from './created.js';
import { h, errorBox } from './dom.js';
import { loadScene, warmViews } from './scenes.js';

const SUGGESTIONS = [
  'pick up the red cube', 'lift the green block', 'push the blue cube to the left',
  'put the red cube in the bowl', 'stack the green cube on the blue cube', 'slide the red cube forward',
];
export const INSTRUCTION_MAX = 300;

/** Whether the page preloads the scene while the voter types (off only to measure the difference). */
export function preloadEnabled() {
  try {
    return localStorage.getItem('arena.preload') !== 'off';
  } catch {
    return true;
  }
}

/**
 * A text input for an instruction with a live character counter ("12/300").
 * @param {Record<string, any>} attrs
 * @returns {{input: HTMLInputElement, counter: HTMLElement}}
 */
export function instructionInput(attrs) {
  const input = /** @type {HTMLInputElement} */ (h('input', {
    type: 'text', maxlength: String(INSTRUCTION_MAX), autocomplete: 'off', ...attrs,
  }));
  const counter = h('span.counter', { 'data-testid': `${attrs['data-testid']}-count`, 'aria-live': 'polite' });
  const update = () => {
    counter.textContent = `${input.value.length}/${INSTRUCTION_MAX}`;
    counter.classList.toggle('full', input.value.length >= INSTRUCTION_MAX);
  };
  input.addEventListener('input', update);
  update();
  return { input, counter };
}

/**
 * @param {HTMLElement} main
 * @param {(path: string, replace?: boolean) => void} navigate
 */
export async function setupPage(main, navigate) {
  const robots = await api.robots();
  const robotSel = /** @type {HTMLSelectElement} */ (h('select', { name: 'robot', 'data-testid': 'robot' },
    ...robots.map((/** @type {any} */ r) => h('option', { value: r.id }, r.name))));
  const sceneSel = /** @type {HTMLSelectElement} */ (h('select', { name: 'scene', 'data-testid': 'scene' }));
  const preload = () => {
    if (!preloadEnabled() || !sceneSel.value) return;
    // the scene, then two views that have drawn it once (idle time: the voter is typing)
    loadScene(robotSel.value, sceneSel.value).then((loaded) => setTimeout(() => { if (main.contains(form)) warmViews(loaded); }, 50))
      .catch(() => {}); // shown if it fails again on the battle page
  };
  const fillScenes = async () => {
    const scenes = await api.scenes(robotSel.value);
    sceneSel.replaceChildren(...scenes.map((/** @type {any} */ s) => h('option', { value: s.id, title: s.description }, s.name)));
    preload();
  };
  robotSel.addEventListener('change', fillScenes);
  sceneSel.addEventListener('change', preload);
  await fillScenes();
  const { input, counter } = instructionInput({
    name: 'instruction', placeholder: 'Tell the robots what to do, e.g. “pick up the red cube”', required: true,
    'data-testid': 'instruction',
  });
  const go = /** @type {HTMLButtonElement} */ (h('button.primary', { type: 'submit', 'data-testid': 'start' }, 'Start battle'));
  const status = h('div');
  const form = h('form.setup', null,
    h('label', null, 'Robot', robotSel), h('label', null, 'Scene', sceneSel),
    h('label', null, h('span', null, 'Instruction ', counter), input), go);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!input.value.trim()) {
      status.replaceChildren(errorBox('Type an instruction first (it cannot be only spaces).'));
      input.focus();
      return;
    }
    go.disabled = true;
    performance.mark('arena:submit');
    status.replaceChildren(h('p.muted', null, 'Starting a battle…'));
    try {
      const session = await api.createSession(robotSel.value, sceneSel.value);
      const turn = await api.createTurn(session.battle.battle_id, input.value.trim(), 'reset');
      performance.mark('arena:turn-created');
      for (const id of Object.values(turn.episodes)) openStreamEarly(`/api/episodes/${id}/stream`);
      rememberCreated(session.battle, turn, input.value.trim());
      navigate(`/battles/${session.battle.battle_id}/turns/${turn.seq}`);
    } catch (err) {
      go.disabled = false;
      status.replaceChildren(errorBox(err));
    }
  });
  main.replaceChildren(
    h('h1', null, 'Which robot policy is better?'),
    h('p.intro', null, 'Give an instruction. Two anonymous policies, A and B, run it in the same MuJoCo scene from the same start; ',
      'you watch both, scrub through them step by step, and vote. Their names are revealed after your vote.'),
    form,
    h('div.suggestions', null, ...SUGGESTIONS.map((s) => h('button', {
      type: 'button', onclick: () => { input.value = s; input.dispatchEvent(new Event('input')); input.focus(); },
    }, s))),
    status);
  input.focus();
}
