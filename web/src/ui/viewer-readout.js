// @ts-check
/**
 * The viewer's per-step comparison tables. Before the vote they compare only what both sides share:
 * step and time, the end effector's position, speed and distance to the object, the finger opening
 * (all from the recorded states), the distance between the two end effectors, and the commanded
 * actuator targets (`ctrl`, the same actuators on both sides). After the vote (`revealed`), each
 * side's action in its own space and the task progress are added.
 */

import { actionAt, actionLabels, fmt, gripperCommand, gripperWord, progressAt } from '../lib/compare.js';
import { distance3 } from '../lib/compare.js';
import { h } from './dom.js';
import { eeSpeed } from './viewer-series.js';

/** @typedef {'left' | 'right'} SideName */
/** @type {SideName[]} */
const SIDES = ['left', 'right'];
const cls = (/** @type {SideName} */ s) => (s === 'left' ? 'l' : 'r');

/**
 * What one side shows at its current frame.
 * @param {import('./viewer.js').SideState} s
 * @param {number} f frame
 * @param {boolean} revealed
 */
export function sideValues(s, f, revealed) {
  const tl = s.timeline;
  const step = tl.stepAt(f);
  const aStep = tl.actionStepAt(f);
  const ep = s.episode;
  const nu = ep.header.nu;
  const action = revealed ? actionAt(ep, aStep) : null;
  return {
    f, step, nSteps: tl.nSteps, time: tl.timeAt(f), aStep,
    ee: s.series.n > f ? Array.from(s.series.ee.subarray(3 * f, 3 * f + 3)) : null,
    speed: eeSpeed(s.series, f, ep.frames.time),
    opening: s.series.grip[f], dist: s.series.dist[f],
    ctrl: nu > 0 ? ep.frames.ctrl.subarray(f * nu, (f + 1) * nu) : new Float64Array(0),
    actuators: /** @type {string[]} */ (ep.header.actuators.map((/** @type {any} */ a) => a.name)),
    action, grip: gripperCommand(action),
    progress: revealed ? progressAt(ep, step - 1) : null,
    space: revealed ? ep.header.action_space : null,
  };
}

/** @typedef {ReturnType<typeof sideValues>} SideValues */

/**
 * @param {SideName} side @param {string} key @param {string} text @param {number | null | undefined} raw
 */
const cell = (side, key, text, raw) =>
  h(`td.${cls(side)}`, { 'data-testid': `${key}-${side}`, 'data-value': raw === undefined || raw === null ? '' : String(raw) }, text);

/**
 * The "at this step" rows.
 * @param {Record<SideName, SideValues | null>} v
 * @param {boolean} revealed
 */
export function stepRows(v, revealed) {
  const row = (/** @type {string} */ label, /** @type {string} */ key, /** @type {(x: SideValues) => [string, number | null | undefined]} */ get) =>
    h('tr', null, h('th', null, label), ...SIDES.map((side) => {
      const x = v[side];
      if (!x) return cell(side, key, '—', null);
      const [text, raw] = get(x);
      return cell(side, key, text, raw);
    }));
  const cm = (/** @type {number} */ m) => (Number.isFinite(m) ? `${(m * 100).toFixed(1)} cm` : '—');
  const rows = [
    row('control step', 'step', (x) => [`${x.step}/${x.nSteps}`, x.step]),
    row('sim time', 'time', (x) => [`${x.time.toFixed(3)} s`, x.time]),
    row('end effector x, y, z', 'ee', (x) => [x.ee ? x.ee.map((c) => (c * 100).toFixed(1)).join(', ') + ' cm' : '—', x.ee ? x.ee[2] : null]),
    row('end-effector speed', 'speed', (x) => [Number.isFinite(x.speed) ? `${(x.speed * 100).toFixed(1)} cm/s` : '—', Number.isFinite(x.speed) ? x.speed : null]),
    row('gripper → object', 'dist', (x) => [cm(x.dist), Number.isFinite(x.dist) ? x.dist : null]),
    row('finger opening', 'opening', (x) => [Number.isFinite(x.opening) ? `${x.opening.toFixed(1)} mm` : '—', x.opening]),
  ];
  const a = v.left?.ee;
  const b = v.right?.ee;
  const gap = a && b ? distance3(a, 0, b, 0) : NaN;
  rows.push(h('tr.diff', null, h('th', null, 'A ↔ B end effectors'),
    h('td', { colspan: 2, 'data-testid': 'gap', 'data-value': Number.isFinite(gap) ? String(gap) : '' }, cm(gap))));
  if (revealed) {
    rows.push(row('gripper command', 'grip', (x) => [`${gripperWord(x.grip)} ${x.grip === null ? '' : `(${x.grip.toFixed(2)})`}`, x.grip]));
    rows.push(row('progress', 'progress', (x) => [x.progress === null ? '—' : `${(x.progress * 100).toFixed(0)}%`, x.progress]));
  }
  return rows;
}

/**
 * Commanded actuator targets (ctrl), one row per actuator: the same actuators on both sides.
 * @param {Record<SideName, SideValues | null>} v
 */
export function ctrlRows(v) {
  const names = v.left?.actuators ?? v.right?.actuators ?? [];
  const rows = names.map((name, i) => h('tr', null, h('th', null, name), ...SIDES.map((s) => {
    const c = v[s]?.ctrl;
    const x = c && i < c.length ? c[i] : null;
    return h(`td.${cls(s)}`, { 'data-testid': `ctrl-${s}-${i}`, 'data-value': x === null ? '' : String(x) }, x === null ? '—' : fmt(x, 3));
  })));
  if (!rows.length) rows.push(h('tr', null, h('td.muted', { colspan: 3 }, 'no actuators')));
  return rows;
}

/**
 * Each side's action in its own space (after the vote only).
 * @param {Record<SideName, SideValues | null>} v
 */
export function actionRows(v) {
  const dims = Math.max(0, ...SIDES.map((s) => v[s]?.action?.length ?? 0));
  /** @type {Record<SideName, string[]>} */
  const labels = { left: [], right: [] };
  for (const s of SIDES) labels[s] = v[s] ? actionLabels(v[s]?.space ?? '', v[s]?.action?.length ?? 0) : [];
  const head = h('tr', null, ...SIDES.flatMap((s) => {
    const x = v[s];
    return [h('th', null, s === 'left' ? 'A' : 'B'),
      h(`td.${cls(s)}`, { 'data-testid': `action-space-${s}` }, x ? `${x.space} · step ${x.aStep < 0 ? '—' : x.aStep}` : '—')];
  }));
  const rows = [head];
  for (let i = 0; i < dims; i++) {
    rows.push(h('tr', null, ...SIDES.flatMap((s) => {
      const a = v[s]?.action;
      const x = a && i < a.length ? a[i] : null;
      return [h('th', null, labels[s][i] ?? ''),
        h(`td.${cls(s)}`, { 'data-testid': `action-${s}-${i}`, 'data-value': x === null ? '' : String(x) }, x === null ? '' : fmt(x, 3))];
    })));
  }
  if (dims === 0) rows.push(h('tr', null, h('td.muted', { colspan: 4 }, 'no action at this step')));
  return rows;
}
