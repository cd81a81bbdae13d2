// @ts-check
/**
 * The inverse transforms of the `.vlar` chunk codecs (docs/replay-format.md sections 6 and 7), on the
 * 32-bit halves of each float64's bit pattern so that every value comes back bit for bit.
 *
 * `predict-shuffle-zstd` predicts each value from values already decoded, in float64 arithmetic
 * (which JavaScript and NumPy round identically), and stores zigzag(bits(x) - bits(prediction)).
 * Predictors per column: 0 delta (x[r-1]), 1 linear (2 x[r-1] - x[r-2]), 2 velocity
 * (x[r-1] + (a w[r-1] + b w[r]), w = the joint's qvel column). Row 0 predicts the bit pattern 0; a
 * prediction that is not finite falls back to x[r-1]. Python twin: replay_format/predict.py.
 */

export const DELTA = 0;
export const LINEAR = 1;
export const VELOCITY = 2;
export const PREDICTORS = Object.freeze([DELTA, LINEAR, VELOCITY]);
/** @type {Record<string, number>} qpos columns that integrate a qvel column 1:1, per joint type */
const VELOCITY_WIDTH = { hinge: 1, slide: 1, free: 3 };

/**
 * For each qpos column, the qvel column it integrates, or -1 (spec section 7): hinge and slide map
 * qpos_adr -> dof_adr, a free joint its 3 position columns; joints in table order, the first mapping
 * of a column wins, and a joint whose columns leave [0, nq) or [0, nv) maps nothing.
 * @param {{type: string, qpos_adr: number, dof_adr: number}[]} joints @param {number} nq @param {number} nv
 * @returns {number[]}
 */
export function velocityColumns(joints, nq, nv) {
  const out = new Array(nq).fill(-1);
  for (const { type, qpos_adr: q, dof_adr: v } of joints) {
    const width = VELOCITY_WIDTH[type] ?? 0;
    if (!width || q < 0 || q + width > nq || v < 0 || v + width > nv) continue;
    for (let i = 0; i < width; i++) if (out[q + i] < 0) out[q + i] = v + i;
  }
  return out;
}

const scratch = new Float64Array(1);
const scratch32 = new Uint32Array(scratch.buffer);

/**
 * Undo `predict-shuffle-zstd` for a chunk of R rows x C columns into rows rowStart.. of `out`.
 * @param {Uint8Array} raw the R*C*8 shuffled residual bytes @param {number} R @param {number} C
 * @param {Float64Array} out row-major output, C columns @param {number} rowStart
 * @param {number[]} predictors one id per column
 * @param {{w: Float64Array, nv: number, map: number[], a: number, b: number} | null} velocity
 *   the decoded qvel (nv columns), the qpos -> qvel column map and the coefficients, for predictor 2
 */
export function unpredictInto(raw, R, C, out, rowStart, predictors, velocity) {
  const out32 = new Uint32Array(out.buffer, out.byteOffset, out.length * 2);
  const N = R * C;
  for (let c = 0; c < C; c++) {
    const mode = predictors[c];
    if (mode === DELTA) {
      unzigzagSum(raw, N, c * R, R, out32, (rowStart * C + c) * 2, 2 * C);
      continue;
    }
    const vcol = mode === VELOCITY && velocity ? velocity.map[c] : -1;
    let o = (rowStart * C + c) * 2;
    let plo = 0;
    let phi = 0;
    for (let r = 0, i = c * R; r < R; r++, i++, o += 2 * C) {
      const elo = (raw[i] | (raw[i + N] << 8) | (raw[i + 2 * N] << 16) | (raw[i + 3 * N] << 24)) >>> 0;
      const ehi = (raw[i + 4 * N] | (raw[i + 5 * N] << 8) | (raw[i + 6 * N] << 16) | (raw[i + 7 * N] << 24)) >>> 0;
      const mask = -(elo & 1);
      const dlo = (((elo >>> 1) | (ehi << 31)) ^ mask) >>> 0;
      const dhi = ((ehi >>> 1) ^ mask) >>> 0;
      if (r > 0) {
        // default: the previous value's bits (delta, row 1 of linear, and every fallback)
        plo = out32[o - 2 * C];
        phi = out32[o - 2 * C + 1];
        let p = NaN;
        const x1 = out[(rowStart + r - 1) * C + c];
        if (mode === LINEAR && r >= 2) p = 2 * x1 - out[(rowStart + r - 2) * C + c];
        else if (vcol >= 0 && velocity) {
          const row = rowStart + r;
          p = x1 + (velocity.a * velocity.w[(row - 1) * velocity.nv + vcol] + velocity.b * velocity.w[row * velocity.nv + vcol]);
        }
        if (Number.isFinite(p)) {
          scratch[0] = p;
          plo = scratch32[0];
          phi = scratch32[1];
        }
      }
      const sum = plo + dlo; // exact in a double: < 2^33
      out32[o] = sum >>> 0;
      out32[o + 1] = (phi + dhi + (sum > 0xffffffff ? 1 : 0)) >>> 0;
    }
  }
}

/**
 * A delta column of `predict-shuffle-zstd`: each value is the previous one's bits plus the unzigzagged
 * residual (row 0: plus 0), a running sum like `delta-shuffle-zstd` without the per-value branches.
 * @param {Uint8Array} raw @param {number} N values in the chunk @param {number} first index of the column's
 * first value @param {number} R rows @param {Uint32Array} out32 @param {number} o first output slot
 * @param {number} stride output slots per row
 */
function unzigzagSum(raw, N, first, R, out32, o, stride) {
  let lo = 0;
  let hi = 0;
  for (let i = first, last = first + R; i < last; i++, o += stride) {
    const elo = (raw[i] | (raw[i + N] << 8) | (raw[i + 2 * N] << 16) | (raw[i + 3 * N] << 24)) >>> 0;
    const ehi = (raw[i + 4 * N] | (raw[i + 5 * N] << 8) | (raw[i + 6 * N] << 16) | (raw[i + 7 * N] << 24)) >>> 0;
    const mask = -(elo & 1);
    const sum = lo + ((((elo >>> 1) | (ehi << 31)) ^ mask) >>> 0);
    lo = sum >>> 0;
    hi = (hi + (((ehi >>> 1) ^ mask) >>> 0) + (sum > 0xffffffff ? 1 : 0)) >>> 0;
    out32[o] = lo;
    out32[o + 1] = hi;
  }
}

/**
 * Undo `delta-shuffle-zstd` (spec section 6): byte shuffle, column-major order and wrapping delta,
 * for a chunk of R rows x C columns, into rows rowStart.. of `out`.
 * @param {Uint8Array} raw the R*C*8 transformed bytes @param {number} R @param {number} C
 * @param {Float64Array} out row-major output, C columns @param {number} rowStart
 */
export function undeltaInto(raw, R, C, out, rowStart) {
  const out32 = new Uint32Array(out.buffer, out.byteOffset, out.length * 2);
  const N = R * C;
  const n2 = 2 * N, n3 = 3 * N, n4 = 4 * N, n5 = 5 * N, n6 = 6 * N, n7 = 7 * N;
  const stride = 2 * C;
  for (let c = 0; c < C; c++) {
    let lo = 0;
    let hi = 0;
    let o = 2 * (rowStart * C + c);
    for (let i = c * R, last = i + R; i < last; i++, o += stride) {
      const dlo = (raw[i] | (raw[i + N] << 8) | (raw[i + n2] << 16) | (raw[i + n3] << 24)) >>> 0;
      const dhi = (raw[i + n4] | (raw[i + n5] << 8) | (raw[i + n6] << 16) | (raw[i + n7] << 24)) >>> 0;
      const sum = lo + dlo; // exact in a double: < 2^33
      lo = sum >>> 0;
      hi = (hi + dhi + (sum > 0xffffffff ? 1 : 0)) >>> 0;
      out32[o] = lo;
      out32[o + 1] = hi;
    }
  }
}
