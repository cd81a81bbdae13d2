// @ts-check
/**
 * The viewer's plot over time: one line per side (A, B) of the chosen quantity, or one line for the
 * pair (the distance between the two end effectors, frame by frame), with each side's cursor and a
 * legend.
 */

import { letter } from './viewer-layout.js';
import { QUANTITIES, gapSeries } from './viewer-series.js';

/** @typedef {'left' | 'right'} SideName */
/** @type {SideName[]} */
const SIDES = ['left', 'right'];
const COLORS = { left: '#5aa9ff', right: '#f2894b' };

/** @param {import('./viewer.js').DualViewer} v */
export function drawPlot(v) {
  const q = QUANTITIES[v.quantity];
  /** @type {import('../render/plot.js').Series[]} */
  const series = [];
  const scale = (/** @type {Float64Array} */ y, /** @type {number} */ n) => y.subarray(0, n).map((x) => x * q.scale);
  if (q.pair) {
    const [a, b] = [v.sides.left, v.sides.right];
    if (a && b) {
      const y = scale(gapSeries(a.series, b.series), Math.min(a.series.n, b.series.n));
      series.push({ label: 'A ↔ B', color: '#e6e9ef', t: a.episode.frames.time, y, n: y.length, cursor: Math.min(v.cursor.shown('left', a.timeline), y.length - 1) });
    }
  } else {
    for (const side of SIDES) {
      const s = v.sides[side];
      if (!s) continue;
      const y = scale(/** @type {Float64Array} */ (s.series[/** @type {'dist'} */ (v.quantity)]), s.series.n);
      series.push({ label: letter(side), color: COLORS[side], t: s.episode.frames.time, y, n: s.series.n, cursor: v.cursor.shown(side, s.timeline) });
    }
  }
  v.plot.set(series, q.unit, q.floor);
  v.plot.draw();
  const legend = series.map((s) => `<span style="color:${s.color}">━ ${s.label}</span>`).join(' ');
  if (v.el.legend.innerHTML !== legend) v.el.legend.innerHTML = legend;
}
