// @ts-check
/**
 * The viewer's page elements: the two views (A and B: side by side on wide screens, stacked on
 * phones), the transport bar, camera presets, the comparison panels and the plot. Wiring only: every
 * handler calls back into the viewer.
 */

import { SPEEDS } from '../lib/timeline.js';
import { h } from './dom.js';
import { QUANTITIES } from './viewer-series.js';

/** @typedef {'left' | 'right'} SideName */

/**
 * @typedef {{views: HTMLElement, side: Record<SideName, HTMLElement>, canvas: Record<SideName, HTMLCanvasElement>,
 *   controls: HTMLElement, play: HTMLElement, scrub: HTMLInputElement, speed: HTMLSelectElement,
 *   lock: HTMLInputElement, trails: HTMLInputElement, ghost: HTMLInputElement, readout: HTMLElement, ctrl: HTMLElement,
 *   actions: HTMLElement, actionsPanel: HTMLElement, plotCanvas: HTMLCanvasElement, qSelect: HTMLSelectElement,
 *   legend: HTMLElement}} ViewerElements
 */

/** Display letter of a side: A is the left view (top on a phone), B the right (bottom). @param {SideName} side */
export const letter = (side) => (side === 'left' ? 'A' : 'B');

/**
 * Build the viewer's DOM into `root`, around the two views' canvases.
 * @param {HTMLElement} root
 * @param {import('./viewer.js').DualViewer} v
 * @param {Record<SideName, HTMLCanvasElement>} canvases
 * @returns {ViewerElements}
 */
export function buildViewer(root, v, canvases) {
  /** @param {SideName} side */
  const sideBox = (side) => h('div.side', { dataset: { side }, 'data-testid': `view-${side}` },
    canvases[side],
    h('div.hud', null,
      h('span.name', { 'data-testid': `name-${side}` }, `Model ${letter(side)}`),
      h('span.frame', { 'data-testid': `hud-${side}` }, '')),
    h('div.status', { 'data-testid': `status-${side}` }, 'waiting…'));
  const side = { left: sideBox('left'), right: sideBox('right') };
  const canvas = canvases;
  const views = h('div.views', null, side.left, side.right);

  const btn = (/** @type {string} */ label, /** @type {string} */ title, /** @type {() => void} */ fn, /** @type {string} */ id) =>
    h('button', { type: 'button', title, 'aria-label': title, onclick: fn, 'data-testid': id }, label);
  const play = btn('▶', 'Play / pause (Space)', () => v.togglePlay(), 'play');
  const scrub = /** @type {HTMLInputElement} */ (h('input', { type: 'range', min: '0', max: '0', step: '1', value: '0', 'data-testid': 'scrub', 'aria-label': 'Scrub' }));
  scrub.addEventListener('input', () => v.seek(Number(scrub.value)));
  const speed = /** @type {HTMLSelectElement} */ (h('select', { 'data-testid': 'speed', 'aria-label': 'Playback speed' },
    ...SPEEDS.map((s) => h('option', { value: String(s), selected: s === 1 }, `${s}x`))));
  speed.addEventListener('change', () => { v.clock.speed = Number(speed.value); });
  const lock = /** @type {HTMLInputElement} */ (h('input', { type: 'checkbox', checked: true, 'data-testid': 'lock' }));
  lock.addEventListener('change', () => v.setLocked(lock.checked));
  const trails = /** @type {HTMLInputElement} */ (h('input', { type: 'checkbox', checked: true, 'data-testid': 'trails' }));
  trails.addEventListener('change', () => v.setTrails(trails.checked));
  const ghost = /** @type {HTMLInputElement} */ (h('input', { type: 'checkbox', 'data-testid': 'ghost' }));
  ghost.addEventListener('change', () => v.setGhost(ghost.checked));
  const preset = (/** @type {string} */ name, /** @type {string} */ key) =>
    btn(name, `${name} view (${key})`, () => v.cameraPreset(name), `camera-${name}`);
  const controls = h('div.controls', { dataset: { locked: 'true' } },
    h('div.buttons', null,
      btn('|◀', 'First frame (Home)', () => v.seek(0), 'first'),
      btn('−10', 'Back ten control steps (Shift+←)', () => v.stepBy(-10), 'back10'),
      btn('−1', 'Back one control step (←)', () => v.stepBy(-1), 'back1'),
      play,
      btn('+1', 'Forward one control step (→)', () => v.stepBy(1), 'fwd1'),
      btn('+10', 'Forward ten control steps (Shift+→)', () => v.stepBy(10), 'fwd10'),
      btn('▶|', 'Last frame (End)', () => v.seek(Infinity), 'last')),
    h('div.scrub', null, scrub,
      h('div.labels', null,
        h('span.l', { 'data-testid': 'label-left' }, ''),
        h('span.focus-note.muted', { 'data-testid': 'focus-note' }, ''),
        h('span.r', { 'data-testid': 'label-right' }, ''))),
    h('div.right', null,
      h('label', null, 'speed', speed),
      h('label', { title: 'Keep A and B on the same step (L)' }, lock, 'lock'),
      h('label', { title: 'End-effector trails (T)' }, trails, 'trails'),
      h('label', { title: 'The other side, translucent, in each view (G)' }, ghost, 'ghost'),
      h('span.presets', { role: 'group', 'aria-label': 'Camera' },
        preset('front', 'F'), preset('side', 'S'), preset('top', 'V'), preset('wrist', 'W'),
        btn('⟲', 'Reset camera (C)', () => v.cameraPreset('reset'), 'camera-reset')),
      btn('link', 'Copy a link to this step', () => v.copyFrameLink(), 'frame-link')));

  const readout = h('table.readout', { 'data-testid': 'compare' });
  const ctrl = h('table.readout', { 'data-testid': 'ctrl' });
  const actions = h('table.readout', { 'data-testid': 'actions' });
  const actionsPanel = h('div.panel', { hidden: true, 'data-testid': 'actions-panel' },
    h('h2', null, 'Action, in each policy’s own space'), actions);
  const qSelect = /** @type {HTMLSelectElement} */ (h('select', { 'data-testid': 'plot-quantity', 'aria-label': 'Plotted quantity' }));
  qSelect.addEventListener('change', () => v.setQuantity(qSelect.value));
  const plotCanvas = /** @type {HTMLCanvasElement} */ (h('canvas', { 'data-testid': 'plot' }));
  plotCanvas.addEventListener('pointerdown', (e) => v.plotSeek(e));
  plotCanvas.addEventListener('pointermove', (e) => { if (e.buttons & 1) v.plotSeek(e); });
  const legend = h('span.legend', { 'data-testid': 'plot-legend' });
  const compare = h('div.compare', null,
    h('div.panel', null, h('h2', null, 'At this step'), readout),
    h('div.panel', null, h('h2', null, 'Commanded joint targets (ctrl)'), ctrl),
    actionsPanel);
  const plot = h('div.panel.plot-panel', null, h('header', null, h('h2', null, 'Over time'), qSelect, legend,
    h('span.muted', null, 'click to seek')), plotCanvas);
  root.append(views, controls, compare, plot);
  return { views, side, canvas, controls, play, scrub, speed, lock, trails, ghost, readout, ctrl, actions, actionsPanel, plotCanvas, qSelect, legend };
}

/**
 * Fill the plot's quantity menu: the automatic metric only once revealed.
 * @param {HTMLSelectElement} select @param {boolean} revealed @param {string} current
 */
export function fillQuantities(select, revealed, current) {
  select.replaceChildren(...Object.entries(QUANTITIES).filter(([, q]) => revealed || !q.revealed)
    .map(([k, q]) => h('option', { value: k, selected: k === current }, `${q.label} (${q.unit})`)));
}

/**
 * Call `redraw` when `el` really changes size. Not on the observer's first call (at observe): that
 * would cost a second full frame before the first state, and on a software renderer stream messages
 * wait behind each frame.
 * @param {HTMLElement} el @param {() => void} redraw
 */
export function onResize(el, redraw) {
  let size = '';
  const observer = new ResizeObserver(([e]) => {
    const now = `${e.contentRect.width}x${e.contentRect.height}`;
    if (size && now !== size) redraw();
    size = now;
  });
  observer.observe(el);
  return observer;
}
