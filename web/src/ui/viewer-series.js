// @ts-check
/**
 * Per-frame quantities the viewer plots and reads out, computed once per frame as episodes grow:
 * the end-effector position (forward kinematics on a scratch MjData), its height and distance to the
 * task's object, and the finger opening. All come from the recorded states, which both sides share in
 * kind: nothing here depends on a policy's action space or on the automatic metric, so all of it may
 * be shown before the vote. Task progress (the automatic metric) is added only once the full record is
 * revealed after the vote.
 */

import { distance3, gripperOpening, progressAt } from '../lib/compare.js';

/** @typedef {import('../mujoco/engine.js').SceneModel} SceneModel */
/** @typedef {import('../lib/timeline.js').Timeline} Timeline */

/**
 * Plot quantities; `scale` converts the stored SI value to the plotted unit. `revealed`: only after
 * the vote (the automatic metric). `pair`: one line for the pair (the distance between the two end
 * effectors at the same frame).
 * @type {Record<string, {label: string, unit: string, scale: number, floor: number | null, revealed?: boolean, pair?: boolean}>}
 */
export const QUANTITIES = {
  dist: { label: 'gripper → object distance', unit: 'cm', scale: 100, floor: 0 },
  gap: { label: 'A ↔ B end-effector distance', unit: 'cm', scale: 100, floor: 0, pair: true },
  height: { label: 'end-effector height', unit: 'cm', scale: 100, floor: null },
  grip: { label: 'finger opening', unit: 'mm', scale: 1, floor: 0 },
  progress: { label: 'task progress (revealed)', unit: '%', scale: 100, floor: 0, revealed: true },
};

/**
 * @typedef {{dist: Float64Array, grip: Float64Array, height: Float64Array, progress: Float64Array,
 *   ee: Float64Array, n: number}} Series
 * `ee` holds x, y, z per frame; dist and height are metres, grip millimetres, progress 0..1.
 */

/** @returns {Series} */
export function emptySeries() {
  const z = new Float64Array(0);
  return { dist: z, grip: z, height: z, progress: z, ee: z, n: 0 };
}

/**
 * Extend `series` to every frame of `episode` not yet computed.
 * @param {Series} series
 * @param {{scene: SceneModel, scratch: any, eeSite: number, target: number, fingers: number[],
 *   episode: any, timeline: Timeline, revealed: boolean}} ctx
 */
export function extendSeries(series, ctx) {
  const { scene, scratch: d, eeSite, target, fingers, episode: ep } = ctx;
  const n = ep.nFrames;
  if (series.dist.length < n) {
    const cap = Math.max(n, 2 * series.dist.length, 64);
    for (const k of /** @type {const} */ (['dist', 'grip', 'height', 'progress'])) {
      const grown = new Float64Array(cap).fill(NaN);
      grown.set(series[k].subarray(0, series.n));
      series[k] = grown;
    }
    const ee = new Float64Array(3 * cap).fill(NaN);
    ee.set(series.ee.subarray(0, 3 * series.n));
    series.ee = ee;
  }
  const e = eeSite >= 0 ? 3 * eeSite : -1;
  for (let f = series.n; f < n; f++) {
    scene.pose(d, ep.frames.qpos, f);
    if (e >= 0) series.ee.set(d.site_xpos.subarray(e, e + 3), 3 * f);
    series.height[f] = e >= 0 ? d.site_xpos[e + 2] : NaN;
    series.dist[f] = e >= 0 && target >= 0 ? distance3(d.site_xpos, e, d.xpos, 3 * target) : NaN;
    const open = gripperOpening(ep, f, fingers);
    series.grip[f] = open === null ? NaN : open * 1000;
  }
  series.n = n;
  if (ctx.revealed) fillProgress(series, ep, ctx.timeline);
}

/**
 * Progress after step k, drawn from the frame where step k ends (after the vote only).
 * @param {Series} series @param {any} ep @param {Timeline} tl
 */
function fillProgress(series, ep, tl) {
  const n = series.n;
  series.progress.fill(NaN, 0, n);
  for (let k = 0; k < ep.nSteps; k++) {
    const p = progressAt(ep, k);
    const a = tl.frameOfStep(k + 1);
    const b = k + 2 <= ep.nSteps ? tl.frameOfStep(k + 2) : n;
    for (let f = a; f < Math.min(b, n); f++) series.progress[f] = p === null ? NaN : p;
  }
}

/**
 * Distance (m) between the two sides' end effectors, frame by frame, over the frames both have.
 * @param {Series} a @param {Series} b
 */
export function gapSeries(a, b) {
  const n = Math.min(a.n, b.n);
  const out = new Float64Array(n);
  for (let f = 0; f < n; f++) out[f] = distance3(a.ee, 3 * f, b.ee, 3 * f);
  return out;
}

/**
 * End-effector speed (m/s) at frame f, from the recorded states (backward difference).
 * @param {Series} s @param {number} f @param {ArrayLike<number>} time
 */
export function eeSpeed(s, f, time) {
  if (f <= 0 || f >= s.n) return NaN;
  const dt = time[f] - time[f - 1];
  return dt > 0 ? distance3(s.ee, 3 * f, s.ee, 3 * (f - 1)) / dt : NaN;
}
