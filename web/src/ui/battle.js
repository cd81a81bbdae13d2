// @ts-check
/**
 * A battle page: turn tabs and how the instruction was understood, the dual viewer for the selected
 * turn, a box for the next instruction (continuing from where each robot ended, or from a fresh
 * scene), and the vote bar docked at the bottom. After the vote: the reveal, per turn.
 *
 * URLs: `/battles/{id}` (its latest turn), `/battles/{id}/turns/{seq}[?t={control step}]`.
 */

import { api, ApiError } from '../api.js';
import { takeCreated } from './created.js';
import { h, setText, toast } from './dom.js';
import { SIDES, startDownloads, TurnPlayer } from './episodes.js';
import { loadScene } from './scenes.js';
import { instructionInput } from './setup.js';
import { DualViewer } from './viewer.js';
import { choiceLabel, VoteBar } from './vote.js';

/** How an instruction was understood, in words. @param {any} task */
export function taskSummary(task) {
  if (!task || task.family === 'none') return 'no automatic metric for this instruction';
  const verb = { pick: 'pick up', push: 'push', place: 'put' }[/** @type {string} */ (task.family)] ?? task.family;
  const object = task.object && ['red', 'green', 'blue'].includes(task.object) ? `${task.object} cube` : task.object;
  const parts = [verb, object || null, task.direction ? `to the ${task.direction}` : null,
    task.target ? `on/in ${task.target}` : null];
  return parts.filter(Boolean).join(' · ');
}

/** The page for a battle id the server does not know (or that belongs to someone else). @param {HTMLElement} main @param {string} id */
export function unknownBattle(main, id) {
  main.replaceChildren(h('div.not-found', { 'data-testid': 'not-found' },
    h('h1', null, 'No such battle'),
    h('p', null, `There is no battle “${id}” that you can open. Battles are visible only to the browser that started them.`),
    h('p', null, h('a.button.primary', { href: '/', 'data-nav': true, 'data-testid': 'back-home' }, 'Start a new battle'), ' ',
      h('a', { href: '/history', 'data-nav': true }, 'Your battles'))));
  return () => {};
}

/**
 * @param {HTMLElement} main
 * @param {string} battleId
 * @param {number | null} seq turn to show (null: the latest)
 * @param {(path: string, replace?: boolean) => void} navigate
 * @param {number | null} [atStep] control step to open at (`?t=`)
 * @returns {Promise<() => void>} cleanup
 */
export async function battlePage(main, battleId, seq, navigate, atStep = null) {
  performance.mark('arena:battle-start');
  const fresh = takeCreated(battleId, seq); // a turn just started here: no need to wait for the server's view
  let battle = fresh;
  try {
    battle ??= await api.battle(battleId);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return unknownBattle(main, battleId);
    throw err;
  }
  if (seq === null && battle.turns.length) {
    navigate(`/battles/${battleId}/turns/${battle.turns[battle.turns.length - 1].seq}`, true);
    return () => {};
  }
  const turn = battle.turns.find((/** @type {any} */ t) => t.seq === seq) ?? null;
  if (seq !== null && !turn) throw new ApiError(`battle ${battleId} has no turn ${seq}`, 404);

  const bar = h('div.battle-bar');
  const viewerRoot = h('div', { 'data-testid': 'viewer' });
  const below = h('div.below');
  const loading = h('p.loading', { 'data-testid': 'scene-loading' }, 'Loading the scene…');
  const vote = new VoteBar((choice) => castVote(choice));
  main.replaceChildren(bar, viewerRoot, below, vote.el);
  viewerRoot.append(loading);
  const downloads = startDownloads(turn); // finished files download while the scene compiles
  const loaded = await loadScene(battle.robot_id, battle.scene_id, (msg) => setText(loading, msg));
  const { scene, bundleBytes } = loaded;
  loading.remove();

  performance.mark('arena:scene-ready');
  const viewer = new DualViewer(viewerRoot, loaded);
  performance.mark('arena:viewer-ready');
  const state = { battle, turn, voted: battle.status === 'voted', revealedSeq: /** @type {number | null} */ (null) };
  const player = turn ? new TurnPlayer(viewer, turn, scene.bundle.hash, (side) => sideEnded(side)) : null;
  /** @type {any} */ (globalThis).__arena = { viewer, battle, turn, bundleBytes, episodes: player?.stats ?? {} };
  /** @type {Record<string, boolean>} */
  const ended = { left: false, right: false };
  let firstFrame = true;
  viewer.afterDraw = () => {
    if (firstFrame && (viewer.sides.left || viewer.sides.right)) {
      firstFrame = false;
      performance.mark('arena:first-frame');
    }
  };
  viewer.onFrameLink = (frame) => {
    const step = viewer._longestTimeline()?.stepAt(frame) ?? 0;
    const url = `${location.origin}/battles/${battleId}/turns/${seq}?t=${step}`;
    history.replaceState(null, '', url);
    navigator.clipboard?.writeText(url).catch(() => {});
    toast(`Link to step ${step} copied (only you can open it)`);
  };

  const renderBar = () => {
    const b = state.battle;
    bar.replaceChildren(
      h('div.turn-tabs', { 'data-testid': 'turn-tabs' }, ...b.turns.map((/** @type {any} */ t) =>
        h('a', {
          href: `/battles/${b.battle_id}/turns/${t.seq}`, 'data-nav': true, class: t.seq === seq ? 'active' : '',
          dataset: { status: t.status }, title: t.instruction, 'data-testid': `turn-tab-${t.seq}`,
        }, h('span.dot'), `${t.seq + 1}. ${t.instruction}`))),
      ...(state.turn?.task !== undefined ? [h('span.understood', { 'data-testid': 'understood' },
        `${state.turn.understanding?.summary ?? taskSummary(state.turn.task)}${state.turn.start === 'continue' ? ' · continued from the last turn' : ''}`)] : []),
      h('span.meta', null, `${b.robot_id} · ${b.scene_id}${state.turn?.seed != null ? ` · seed ${state.turn.seed}` : ''}`),
      h('button', { type: 'button', onclick: newBattle, 'data-testid': 'new-battle' }, 'New battle'));
  };

  async function newBattle() {
    try {
      const nb = await api.newBattle(state.battle.session_id);
      navigate(`/battles/${nb.battle_id}`);
    } catch (err) {
      toast(/** @type {Error} */ (err).message);
    }
  }

  const { input: turnInput, counter } = instructionInput({ placeholder: 'Another instruction in this battle…', 'data-testid': 'next-instruction' });
  const reset = /** @type {HTMLInputElement} */ (h('input', { type: 'checkbox', 'data-testid': 'reset-scene' }));
  const send = /** @type {HTMLButtonElement} */ (h('button', { type: 'submit', 'data-testid': 'send-turn' }, 'Run'));
  const understood = h('div.understanding', { 'data-testid': 'understanding', 'aria-live': 'polite' });
  const turnForm = h('form.turn-input', null, turnInput, counter,
    h('label.reset', { title: 'Unchecked: each robot continues from where it ended the last turn' }, reset, 'reset the scene'), send,
    understood);
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let asking;
  const ask = () => {
    clearTimeout(asking);
    const text = turnInput.value.trim();
    if (!text) return setText(understood, '');
    asking = setTimeout(async () => {
      try {
        const u = await api.understand(battleId, text, reset.checked ? 'reset' : 'continue');
        if (turnInput.value.trim() !== text) return;
        understood.classList.remove('refused');
        setText(understood, `understood as: ${u.summary}${u.partial ? ` (not scored: ${u.unscored.join(', ')})` : ''}`);
      } catch (err) {
        if (turnInput.value.trim() !== text) return;
        understood.classList.add('refused');
        setText(understood, /** @type {Error} */ (err).message);
      }
    }, 300);
  };
  turnInput.addEventListener('input', ask);
  reset.addEventListener('change', ask);
  turnForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!turnInput.value.trim()) return toast('Type an instruction first.');
    send.disabled = true;
    try {
      const t = await api.createTurn(battleId, turnInput.value.trim(), reset.checked ? 'reset' : 'continue');
      navigate(`/battles/${battleId}/turns/${t.seq}`);
    } catch (err) {
      send.disabled = false;
      toast(/** @type {Error} */ (err).message);
    }
  });

  const renderBelow = () => {
    const ts = state.battle.turns;
    const running = ts.some((/** @type {any} */ t) => t.status === 'running');
    if (state.voted) {
      const v = state.battle.vote;
      vote.set(false, '');
      vote.el.hidden = true;
      below.replaceChildren(h('div.voted-banner', { 'data-testid': 'voted' },
        h('span', null, `You voted: ${choiceLabel(v.choice)}. `,
          h('b', { style: 'color: var(--left)' }, `A · ${v.left.name}`), ' vs ', h('b', { style: 'color: var(--right)' }, `B · ${v.right.name}`)),
        h('span', null, h('a', { href: '/leaderboard', 'data-nav': true }, 'Leaderboard'), ' · ',
          h('button.primary', { type: 'button', onclick: newBattle }, 'Next battle'))));
      return;
    }
    const ok = ts.length > 0 && !running && ts.some((/** @type {any} */ t) => t.status === 'done');
    vote.set(ok, ok ? 'Vote on the whole battle (every turn): keys 1-4. You can add another instruction first.'
      : running ? 'Voting opens when every turn has finished.' : 'Run an instruction first.');
    send.disabled = running;
    if (!below.contains(turnForm)) below.replaceChildren(turnForm);
  };

  const refresh = async () => {
    try {
      state.battle = await api.battle(battleId);
      state.voted = state.battle.status === 'voted';
      state.turn = state.battle.turns.find((/** @type {any} */ t) => t.seq === seq) ?? state.turn;
      Object.assign(/** @type {any} */ (globalThis).__arena, { battle: state.battle, turn: state.turn });
      renderBar();
      renderBelow();
      if (state.voted && player && state.turn && state.revealedSeq !== seq) {
        state.revealedSeq = seq;
        await player.reveal(state.turn, state.battle.vote);
        document.body.dataset.revealed = 'true';
      }
    } catch (err) {
      toast(/** @type {Error} */ (err).message);
    }
  };

  /** @param {string} choice */
  async function castVote(choice) {
    vote.set(false, 'Recording your vote…');
    try {
      await api.vote(battleId, choice);
      await refresh();
    } catch (err) {
      toast(/** @type {Error} */ (err).message);
      renderBelow();
    }
  }

  /** @param {string} side */
  const sideEnded = (side) => {
    ended[side] = true;
    if (ended.left && ended.right) {
      if (atStep !== null) viewer.seek((viewer._longestTimeline()?.frameOfStep(atStep)) ?? 0);
      refresh();
    }
  };

  renderBar();
  renderBelow();
  if (!turn || !player) {
    viewerRoot.prepend(h('p.muted', null, 'No instruction yet: type one below.'));
    return () => { vote.dispose(); viewer.dispose(); };
  }
  player.start(downloads);
  if (fresh) refresh(); // the server's view: how the instruction was understood, the seed
  for (const side of SIDES) if (turn.episodes[side].status === 'failed') turnInput.value = turn.instruction;
  return () => {
    player.dispose();
    vote.dispose();
    viewer.dispose();
  };
}
