// @ts-check
/**
 * The arena page: pick a robot and scene, type an instruction, watch two anonymous episodes side by
 * side (live while they stream, then as exact replays), add turns, vote, see the reveal.
 *
 * URLs: `/` (new battle), `/battles/{id}` (its latest turn), `/battles/{id}/turns/{seq}`.
 */

import { api, ApiError, openStream, voterId } from '../api.js';
import { LiveEpisode, decodeStreamMessage } from '../lib/livestream.js';
import { decodeReplay } from '../lib/vlar.js';
import { h, errorBox, setText, toast } from './dom.js';
import { DualViewer } from './viewer.js';
import { loadScene } from './scenes.js';

/** @typedef {'left' | 'right'} SideName */
/** @type {SideName[]} */
const SIDES = ['left', 'right'];

const SUGGESTIONS = [
  'pick up the red cube', 'lift the green block', 'push the blue cube to the left',
  'put the red cube in the bowl', 'stack the green cube on the blue cube', 'slide the red cube forward',
];

const CHOICES = [
  { choice: 'left', label: '← Left is better' },
  { choice: 'tie', label: 'Tie' },
  { choice: 'both_bad', label: 'Both bad' },
  { choice: 'right', label: 'Right is better →' },
];

/**
 * The setup form: robot, scene, instruction. Creates a session, its first turn, and opens the battle.
 * @param {HTMLElement} main
 * @param {(path: string, replace?: boolean) => void} navigate
 */
export async function setupPage(main, navigate) {
  const robots = await api.robots();
  const robotSel = /** @type {HTMLSelectElement} */ (h('select', { name: 'robot', 'data-testid': 'robot' },
    ...robots.map((/** @type {any} */ r) => h('option', { value: r.id }, r.name))));
  const sceneSel = /** @type {HTMLSelectElement} */ (h('select', { name: 'scene', 'data-testid': 'scene' }));
  const fillScenes = async () => {
    const scenes = await api.scenes(robotSel.value);
    sceneSel.replaceChildren(...scenes.map((/** @type {any} */ s) => h('option', { value: s.id, title: s.description }, s.name)));
  };
  robotSel.addEventListener('change', fillScenes);
  await fillScenes();
  const input = /** @type {HTMLInputElement} */ (h('input', {
    type: 'text', name: 'instruction', placeholder: 'Tell the robots what to do, e.g. “pick up the red cube”',
    maxlength: '300', required: true, autocomplete: 'off', 'data-testid': 'instruction',
  }));
  const go = /** @type {HTMLButtonElement} */ (h('button.primary', { type: 'submit', 'data-testid': 'start' }, 'Start battle'));
  const status = h('div');
  const form = h('form.setup', null,
    h('label', null, 'Robot', robotSel), h('label', null, 'Scene', sceneSel),
    h('label', null, 'Instruction', input), go);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    go.disabled = true;
    status.replaceChildren(h('p.muted', null, 'Starting a battle…'));
    try {
      const session = await api.createSession(robotSel.value, sceneSel.value, voterId());
      const turn = await api.createTurn(session.battle.battle_id, input.value);
      navigate(`/battles/${session.battle.battle_id}/turns/${turn.seq}`);
    } catch (err) {
      go.disabled = false;
      status.replaceChildren(errorBox(err));
    }
  });
  main.replaceChildren(
    h('h1', null, 'Which robot policy is better?'),
    h('p.intro', null, 'Give an instruction. Two anonymous policies run it in the same MuJoCo scene from the same start; ',
      'you watch both, scrub through them step by step, and vote. Their names are revealed after your vote.'),
    form,
    h('div.suggestions', null, ...SUGGESTIONS.map((s) => h('button', { type: 'button', onclick: () => { input.value = s; input.focus(); } }, s))),
    status);
  input.focus();
}

/**
 * A battle: turn tabs, the dual viewer for the selected turn, a new-instruction box and the vote.
 * @param {HTMLElement} main
 * @param {string} battleId
 * @param {number | null} seq turn to show (null: the latest)
 * @param {(path: string, replace?: boolean) => void} navigate
 * @returns {Promise<() => void>} cleanup
 */
export async function battlePage(main, battleId, seq, navigate) {
  performance.mark('arena:battle-start');
  const battle = await api.battle(battleId);
  if (seq === null && battle.turns.length) {
    navigate(`/battles/${battleId}/turns/${battle.turns[battle.turns.length - 1].seq}`, true);
    return () => {};
  }
  const turn = battle.turns.find((/** @type {any} */ t) => t.seq === seq) ?? null;
  if (seq !== null && !turn) throw new ApiError(`battle ${battleId} has no turn ${seq}`, 404);

  /** @type {(() => void)[]} */
  const cleanups = [];
  const bar = h('div.battle-bar');
  const viewerRoot = h('div', { 'data-testid': 'viewer' });
  const below = h('div');
  main.replaceChildren(bar, viewerRoot, below);

  const loading = h('p.loading', { 'data-testid': 'scene-loading' }, 'Loading the scene…');
  viewerRoot.append(loading);
  // Finished episodes' files download while the scene compiles: neither needs the other.
  /** @type {Partial<Record<SideName, Promise<{bytes: Uint8Array, fetchMs: number}>>>} */
  const downloads = {};
  for (const side of SIDES) {
    const ep = turn?.episodes[side];
    if (ep?.status === 'done' && ep.trajectory_url) {
      const t0 = performance.now();
      downloads[side] = api.trajectory(ep.trajectory_url).then((bytes) => ({ bytes, fetchMs: performance.now() - t0 }));
      downloads[side]?.catch(() => {}); // reported when the side is shown
    }
  }
  const { scene, assets, camera, bundleBytes } = await loadScene(battle.robot_id, battle.scene_id, (msg) => setText(loading, msg));
  loading.remove();

  const viewer = new DualViewer(viewerRoot, scene, assets, camera);
  cleanups.push(() => viewer.dispose());
  const state = { battle, turn, voted: battle.status === 'voted', closed: false };
  /** @type {Record<SideName, boolean>} */
  const ended = { left: false, right: false };
  /** @type {any} */ (globalThis).__arena = { viewer, battle, turn, bundleBytes, episodes: {} };

  let firstFrame = true;
  viewer.afterDraw = () => {
    if (firstFrame && (viewer.sides.left || viewer.sides.right)) {
      firstFrame = false;
      performance.mark('arena:first-frame');
    }
  };

  const renderBar = () => {
    const b = state.battle;
    bar.replaceChildren(
      h('div.turn-tabs', { 'data-testid': 'turn-tabs' }, ...b.turns.map((/** @type {any} */ t) =>
        h('a', {
          href: `/battles/${b.battle_id}/turns/${t.seq}`, 'data-nav': true, class: t.seq === seq ? 'active' : '',
          dataset: { status: t.status }, title: t.instruction, 'data-testid': `turn-tab-${t.seq}`,
        }, h('span.dot'), `${t.seq + 1}. ${t.instruction}`))),
      h('span.meta', null, `${b.robot_id} · ${b.scene_id}${turn ? ` · seed ${turn.seed}` : ''}`),
      h('button', { onclick: newBattle, 'data-testid': 'new-battle' }, 'New battle'));
  };

  /** A fresh battle (new random pair) in the same session. */
  async function newBattle() {
    try {
      const nb = await api.newBattle(state.battle.session_id);
      navigate(`/battles/${nb.battle_id}`);
    } catch (err) {
      toast(/** @type {Error} */ (err).message);
    }
  }

  const turnInput = /** @type {HTMLInputElement} */ (h('input', {
    type: 'text', placeholder: 'Another instruction in this battle…', maxlength: '300', 'data-testid': 'next-instruction',
  }));
  const send = /** @type {HTMLButtonElement} */ (h('button', { type: 'submit', 'data-testid': 'send-turn' }, 'Run'));
  const turnForm = h('form.turn-input', null, turnInput, send);
  turnForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    send.disabled = true;
    try {
      const t = await api.createTurn(battleId, turnInput.value);
      navigate(`/battles/${battleId}/turns/${t.seq}`);
    } catch (err) {
      send.disabled = false;
      toast(/** @type {Error} */ (err).message);
    }
  });
  const voteButtons = CHOICES.map(({ choice, label }) => /** @type {HTMLButtonElement} */ (
    h('button', { dataset: { choice }, 'data-testid': `vote-${choice}`, disabled: true, onclick: () => castVote(choice) }, label)));
  const voteHint = h('div.vote-hint', { 'data-testid': 'vote-hint' });
  const voteArea = h('div', null, h('div.vote-bar', null, ...voteButtons), voteHint);

  const canVote = () => {
    const ts = state.battle.turns;
    return !state.voted && ts.length > 0 && ts.every((/** @type {any} */ t) => t.status !== 'running')
      && ts.some((/** @type {any} */ t) => t.status === 'done');
  };
  const renderBelow = () => {
    if (state.voted) {
      const v = state.battle.vote;
      below.replaceChildren(h('div.voted-banner', { 'data-testid': 'voted' },
        h('span', null, `You voted: ${CHOICES.find((c) => c.choice === v.choice)?.label ?? v.choice}. `,
          h('b', { style: 'color: var(--left)' }, v.left.name), ' vs ', h('b', { style: 'color: var(--right)' }, v.right.name)),
        h('span', null, h('a', { href: '/leaderboard', 'data-nav': true }, 'Leaderboard'), ' · ',
          h('button.primary', { onclick: newBattle }, 'Next battle'))));
      return;
    }
    const ok = canVote();
    for (const b of voteButtons) b.disabled = !ok;
    const running = state.battle.turns.some((/** @type {any} */ t) => t.status === 'running');
    setText(voteHint, ok ? 'Vote on the whole battle (every turn). You can add another instruction first.'
      : running ? 'Voting opens when every turn has finished.' : 'Run an instruction first.');
    send.disabled = running;
    if (!below.contains(turnForm)) below.replaceChildren(turnForm, voteArea);
  };

  const revealAll = () => {
    const v = state.battle.vote;
    if (!v || !state.turn) return;
    for (const side of SIDES) {
      const e = state.turn.episodes[side];
      const metric = e.status === 'failed' ? 'failed' : state.turn.task.family === 'none' ? 'no automatic metric'
        : `${e.success ? '✓ success' : '✗ no success'} · progress ${Math.round((e.progress ?? 0) * 100)}%`;
      viewer.reveal(side, v[side], metric);
    }
  };

  const refresh = async () => {
    try {
      state.battle = await api.battle(battleId);
      state.turn = state.battle.turns.find((/** @type {any} */ t) => t.seq === seq) ?? state.turn;
      /** @type {any} */ (globalThis).__arena.battle = state.battle;
      /** @type {any} */ (globalThis).__arena.turn = state.turn;
      renderBar();
      renderBelow();
      if (state.voted) revealAll();
    } catch (err) {
      toast(/** @type {Error} */ (err).message);
    }
  };

  /** @param {string} choice */
  async function castVote(choice) {
    for (const b of voteButtons) b.disabled = true;
    try {
      await api.vote(battleId, choice);
      state.voted = true;
      await refresh();
    } catch (err) {
      toast(/** @type {Error} */ (err).message);
      renderBelow();
    }
  }

  renderBar();
  renderBelow();
  if (!turn) {
    viewerRoot.prepend(h('p.muted', null, 'No instruction yet: type one below.'));
    return () => cleanups.forEach((f) => f());
  }

  /** @param {SideName} side */
  const sideEnded = (side) => {
    ended[side] = true;
    if (ended.left && ended.right) refresh();
  };

  for (const side of SIDES) {
    const ep = turn.episodes[side];
    if (ep.status === 'failed') {
      viewer.setStatus(side, 'failed');
      viewer.showFailure(side, `This episode failed: ${ep.error ?? 'unknown error'}. Run the instruction again to retry.`);
      turnInput.value = turn.instruction;
      sideEnded(side);
    } else if (ep.status === 'done' && downloads[side]) {
      viewer.setStatus(side, 'loading replay…');
      loadReplay(side, /** @type {Promise<{bytes: Uint8Array, fetchMs: number}>} */ (downloads[side]));
    } else {
      streamLive(side, ep.stream_url);
    }
  }

  /** @param {SideName} side @param {Promise<{bytes: Uint8Array, fetchMs: number}>} download */
  async function loadReplay(side, download) {
    try {
      const { bytes, fetchMs } = await download;
      const t1 = performance.now();
      const replay = decodeReplay(bytes);
      const t2 = performance.now();
      /** @type {any} */ (globalThis).__arena.episodes[side] = { bytes: bytes.length, fetchMs, decodeMs: t2 - t1 };
      if (state.closed) return;
      if (replay.header.bundle_hash !== scene.bundle.hash) {
        viewer.showFailure(side, `This replay was recorded with scene bundle ${replay.header.bundle_hash.slice(0, 19)}…, `
          + `the server now serves ${scene.bundle.hash.slice(0, 19)}…: bodies are posed exactly, but the scene may look different.`);
      }
      viewer.setEpisode(side, replay, false);
      viewer.setStatus(side, `replay · ${replay.nSteps} steps · ${(bytes.length / 1024).toFixed(0)} KB`);
    } catch (err) {
      viewer.setStatus(side, 'error');
      viewer.showFailure(side, `Cannot show this replay: ${/** @type {Error} */ (err).message}`);
    }
    sideEnded(side);
  }

  /** @param {SideName} side @param {string} url */
  function streamLive(side, url) {
    const live = new LiveEpisode();
    let shown = false;
    viewer.setStatus(side, 'connecting…');
    const close = openStream(url, (bytes) => {
      let msg;
      try {
        msg = decodeStreamMessage(bytes);
        live.apply(msg);
      } catch (err) {
        viewer.showFailure(side, `Bad stream message: ${/** @type {Error} */ (err).message}`);
        return;
      }
      if (msg.type === 'header') return;
      if (!shown) {
        viewer.setEpisode(side, live, true);
        shown = true;
      } else {
        viewer.episodeUpdated(side, msg.type === 'end');
      }
      if (msg.type === 'frames') viewer.setStatus(side, `live · step ${live.nSteps}`);
      if (msg.type === 'end') {
        if (msg.status === 'failed') {
          viewer.setStatus(side, 'failed');
          viewer.showFailure(side, `This episode failed: ${msg.error ?? 'unknown error'}. Run the instruction again to retry.`);
          turnInput.value = turn.instruction;
        } else {
          viewer.setStatus(side, `replay · ${live.nSteps} steps${msg.success ? ' · success' : ''}`);
        }
        viewer.episodeUpdated(side, true);
        sideEnded(side);
      }
    }, (code, reason) => {
      if (!live.ended && !state.closed) {
        viewer.setStatus(side, 'disconnected');
        viewer.showFailure(side, `The live stream closed early (${code}${reason ? `: ${reason}` : ''}). Reload to see the replay.`);
        sideEnded(side);
      }
    });
    cleanups.push(close);
  }

  return () => {
    state.closed = true;
    cleanups.forEach((f) => f());
  };
}
