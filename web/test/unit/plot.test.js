// @ts-check
/**
 * StepPlot's coordinate maths (web/src/render/plot.js) without a DOM: a stub canvas whose 2D
 * context records path calls. Click-to-seek (timeAt) must invert the x the cursor is drawn at.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { StepPlot } from '../../src/render/plot.js';

/** @typedef {{op: string, args: unknown[], dashed: boolean, stroke: unknown}} Call */

/**
 * A canvas of `width` x `height` CSS px whose context records moveTo/lineTo/arc and ignores the rest.
 * @param {number} width @param {number} height
 */
function stubCanvas(width, height) {
  /** @type {Call[]} */
  const calls = [];
  let dashed = false;
  /** @type {Record<string, unknown>} */
  const state = {};
  const ctx = new Proxy(state, {
    get(target, key) {
      if (key === 'measureText') return () => ({ width: 0 });
      if (key === 'setLineDash') return (/** @type {number[]} */ d) => { dashed = d.length > 0; };
      if (key === 'moveTo' || key === 'lineTo' || key === 'arc') {
        return (/** @type {unknown[]} */ ...args) => calls.push({ op: String(key), args, dashed, stroke: target.strokeStyle });
      }
      if (typeof key === 'string' && key in target) return target[key];
      return () => {};
    },
    set(target, key, value) {
      target[/** @type {string} */ (key)] = value;
      return true;
    },
  });
  const canvas = { clientWidth: width, clientHeight: height, width: 0, height: 0, getContext: () => ctx };
  return { canvas: /** @type {HTMLCanvasElement} */ (/** @type {unknown} */ (canvas)), calls };
}

/** A side's series: 0.02 s per frame, y = f, cursor at `cursor`. @param {string} color @param {number} n @param {number | null} cursor */
function series(color, n, cursor) {
  return {
    label: color, color, n, cursor,
    t: Float64Array.from({ length: n }, (_, f) => f * 0.02),
    y: Float64Array.from({ length: n }, (_, f) => (f === 3 ? NaN : f)),
  };
}

describe('StepPlot.timeAt', () => {
  test('before the first draw, x maps 0..1 to 0..1 s', () => {
    const { canvas } = stubCanvas(400, 120);
    const plot = new StepPlot(canvas);
    assert.equal(plot.timeAt(0), 0);
    assert.equal(plot.timeAt(0.5), 0.5);
  });

  test('after a draw, the plot area spans 0 s to the longest series end', () => {
    const { canvas } = stubCanvas(456, 120); // plot area x 46..446
    const plot = new StepPlot(canvas);
    plot.set([series('#f00', 51, null), series('#00f', 26, null)], 'mm');
    plot.draw();
    assert.equal(plot.timeAt(46), 0);
    assert.equal(plot.timeAt(446), 1);
    assert.equal(plot.timeAt(246), 0.5);
    assert.equal(plot.timeAt(0) < 0, true, 'left of the axis is before 0 s (callers clamp)');
  });

  test('clicking where a cursor is drawn seeks to that cursor time', () => {
    const { canvas, calls } = stubCanvas(500, 140);
    const plot = new StepPlot(canvas);
    plot.set([series('#f00', 41, 17), series('#00f', 21, 20)], 'm', null);
    plot.draw();
    const cursorXs = calls.filter((c) => c.dashed && c.op === 'moveTo').map((c) => /** @type {number} */ (c.args[0]));
    assert.equal(cursorXs.length, 2);
    assert.ok(Math.abs(plot.timeAt(cursorXs[0]) - 17 * 0.02) < 1e-12);
    assert.ok(Math.abs(plot.timeAt(cursorXs[1]) - 20 * 0.02) < 1e-12);
  });

  test('a NaN sample breaks the line instead of drawing through it', () => {
    const { canvas, calls } = stubCanvas(300, 100);
    const plot = new StepPlot(canvas);
    plot.set([series('#0f0', 6, null)], '');
    plot.draw();
    const line = calls.filter((c) => c.stroke === '#0f0' && !c.dashed && (c.op === 'moveTo' || c.op === 'lineTo'));
    assert.deepEqual(line.map((c) => c.op), ['moveTo', 'lineTo', 'lineTo', 'moveTo', 'lineTo']);
  });

  test('sets the backing store to CSS size x devicePixelRatio', () => {
    const { canvas } = stubCanvas(300, 100);
    const plot = new StepPlot(canvas);
    plot.draw();
    const dpr = globalThis.devicePixelRatio || 1;
    assert.deepEqual([canvas.width, canvas.height], [Math.round(300 * dpr), Math.round(100 * dpr)]);
  });
});
