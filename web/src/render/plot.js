// @ts-check
/**
 * A small time-series plot on a 2D canvas: one line per side over simulated time, with a cursor per
 * side at the frame it shows. Redraws only when asked.
 */

/**
 * @typedef {{label: string, color: string, t: ArrayLike<number>, y: ArrayLike<number>, n: number, cursor: number | null}} Series
 */

export class StepPlot {
  /** @param {HTMLCanvasElement} canvas */
  constructor(canvas) {
    this.canvas = canvas;
    /** @type {Series[]} */
    this.series = [];
    this.unit = '';
    this.yFloor = /** @type {number | null} */ (0);
  }

  /**
   * @param {Series[]} series
   * @param {string} unit
   * @param {number | null} [yFloor] lower bound of the y range, or null to fit
   */
  set(series, unit, yFloor = 0) {
    this.series = series;
    this.unit = unit;
    this.yFloor = yFloor;
  }

  /** Simulated time under a canvas x coordinate (CSS px), for click-to-seek. @param {number} x */
  timeAt(x) {
    const { x0, x1, t0, t1 } = this._frame ?? { x0: 0, x1: 1, t0: 0, t1: 1 };
    return t0 + ((x - x0) / Math.max(1, x1 - x0)) * (t1 - t0);
  }

  draw() {
    const c = this.canvas;
    const dpr = globalThis.devicePixelRatio || 1;
    const w = c.clientWidth;
    const h = c.clientHeight;
    if (c.width !== Math.round(w * dpr) || c.height !== Math.round(h * dpr)) {
      c.width = Math.round(w * dpr);
      c.height = Math.round(h * dpr);
    }
    const g = /** @type {CanvasRenderingContext2D} */ (c.getContext('2d'));
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, w, h);
    let t1 = 0;
    let lo = Infinity;
    let hi = -Infinity;
    for (const s of this.series) {
      if (s.n > 0) t1 = Math.max(t1, s.t[s.n - 1]);
      for (let i = 0; i < s.n; i++) {
        const v = s.y[i];
        if (Number.isFinite(v)) {
          lo = Math.min(lo, v);
          hi = Math.max(hi, v);
        }
      }
    }
    if (!Number.isFinite(lo)) {
      lo = 0;
      hi = 1;
    }
    if (this.yFloor !== null) lo = Math.min(lo, this.yFloor);
    if (hi - lo < 1e-9) hi = lo + 1;
    const yStep = niceStep((hi - lo) / 4); // round tick values: 0, 5, 10 cm rather than 7.68, 15.36
    lo = Math.floor(lo / yStep + 1e-9) * yStep;
    hi = Math.ceil(hi / yStep - 1e-9) * yStep;
    const x0 = 46;
    const x1 = w - 10;
    const y0 = h - 20;
    const y1 = 16;
    const t0 = 0;
    t1 = Math.max(t1, 1e-3);
    this._frame = { x0, x1, t0, t1 };
    const X = (/** @type {number} */ t) => x0 + ((t - t0) / (t1 - t0)) * (x1 - x0);
    const Y = (/** @type {number} */ v) => y0 - ((v - lo) / (hi - lo)) * (y0 - y1);
    g.strokeStyle = '#2f3542';
    g.fillStyle = '#9aa3b2';
    g.font = '11px ui-monospace, monospace';
    g.lineWidth = 1;
    const digits = Math.max(0, -Math.floor(Math.log10(yStep) + 1e-9));
    for (let v = lo; v <= hi + yStep / 2; v += yStep) {
      const y = Y(v);
      g.beginPath();
      g.moveTo(x0, y);
      g.lineTo(x1, y);
      g.stroke();
      g.fillText(`${(Math.abs(v) < yStep / 2 ? 0 : v).toFixed(digits)}`, 2, y + 4);
    }
    const step = niceStep(t1 / 6);
    for (let t = 0; t <= t1 + 1e-9; t += step) {
      g.fillText(`${+t.toFixed(3)}s`, X(t) - 10, h - 4);
    }
    g.fillText(this.unit, x0 + 4, 10); // the y unit, right of the axis top
    for (const s of this.series) {
      g.strokeStyle = s.color;
      g.lineWidth = 1.6;
      g.beginPath();
      let pen = false;
      for (let i = 0; i < s.n; i++) {
        const v = s.y[i];
        if (!Number.isFinite(v)) {
          pen = false;
          continue;
        }
        const x = X(s.t[i]);
        const y = Y(v);
        if (pen) g.lineTo(x, y);
        else g.moveTo(x, y);
        pen = true;
      }
      g.stroke();
      if (s.cursor !== null && s.cursor < s.n) {
        const x = X(s.t[s.cursor]);
        g.strokeStyle = s.color;
        g.globalAlpha = 0.7;
        g.setLineDash([3, 3]);
        g.beginPath();
        g.moveTo(x, y1);
        g.lineTo(x, y0);
        g.stroke();
        g.setLineDash([]);
        g.globalAlpha = 1;
        const v = s.y[s.cursor];
        if (Number.isFinite(v)) {
          g.fillStyle = s.color;
          g.beginPath();
          g.arc(x, Y(v), 3.5, 0, 2 * Math.PI);
          g.fill();
        }
      }
    }
  }
}

/** @param {number} raw */
function niceStep(raw) {
  const p = 10 ** Math.floor(Math.log10(Math.max(raw, 1e-9)));
  for (const m of [1, 2, 5, 10]) if (raw <= m * p) return m * p;
  return 10 * p;
}
