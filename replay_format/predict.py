"""The predictive transform of codec `"predict-shuffle-zstd"` (format 1.1), spec section 7.

Every value of a chunk (R rows x C columns) is predicted from values already decoded, in float64
arithmetic that JavaScript reproduces bit for bit; the residual between the bit patterns of the
value and of its prediction is zigzag-coded, then column-major ordered and byte-shuffled exactly as
in `delta-shuffle-zstd`. Each column has its own predictor, chosen by the writer per chunk:

- 0 `delta`:    p[r] = x[r-1]
- 1 `linear`:   p[r] = 2 * x[r-1] - x[r-2]                      (rows r >= 2; row 1 uses delta)
- 2 `velocity`: p[r] = x[r-1] + (a * w[r-1] + b * w[r])       (qpos only; w = the joint's qvel column)

Row 0 of a chunk is predicted as the bit pattern 0 (chunks decode on their own). A float prediction
that is not finite is replaced by x[r-1], so NaN payloads never pass through arithmetic.
The residual is e = zigzag((bits(x) - bits(p)) mod 2**64), zigzag(d) = (d << 1) ^ (d >> 63) with an
arithmetic shift: small positive and negative differences both become small integers.
"""

from __future__ import annotations

import numpy as np

DELTA, LINEAR, VELOCITY = 0, 1, 2
PREDICTORS = (DELTA, LINEAR, VELOCITY)
_ONE, _SIXTY_THREE = np.uint64(1), np.uint64(63)


def _bits(values: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(values, dtype="<f8").view("<u8")


def zigzag(d: np.ndarray) -> np.ndarray:
    """uint64 (wrapping differences) -> uint64 zigzag codes."""
    return (d << _ONE) ^ (d.view(np.int64) >> 63).view(np.uint64)


def unzigzag(e: np.ndarray) -> np.ndarray:
    """Inverse of `zigzag`."""
    return (e >> _ONE) ^ (np.uint64(0) - (e & _ONE))


def _finite_or(pred: np.ndarray, previous: np.ndarray) -> np.ndarray:
    return np.where(np.isfinite(pred), pred, previous)


def predictions(x: np.ndarray, modes: np.ndarray, w: np.ndarray | None, coef: tuple[float, float]) -> np.ndarray:
    """Bit patterns of the predictions of every value of `x` (R, C) from the actual values.

    `w` (R, C) holds each column's velocity (only read where modes == VELOCITY).
    """
    pred = np.zeros(x.shape, dtype=np.uint64)
    if len(x) < 2:
        return pred
    prev = x[:-1]
    with np.errstate(all="ignore"):
        linear = prev.copy()
        linear[1:] = _finite_or(2.0 * x[1:-1] - x[:-2], x[1:-1])
        velocity = prev
        if w is not None:
            a, b = coef
            velocity = _finite_or(prev + (a * w[:-1] + b * w[1:]), prev)
    chosen = np.where(modes == LINEAR, linear, np.where(modes == VELOCITY, velocity, prev))
    pred[1:] = _bits(chosen)
    return pred


def forward_residuals(x: np.ndarray, modes: np.ndarray, w: np.ndarray | None, coef: tuple[float, float]) -> np.ndarray:
    """(R, C) float64 -> (R, C) uint64 zigzag residuals."""
    return zigzag(_bits(x) - predictions(x, modes, w, coef))


def inverse_residuals(
    e: np.ndarray, modes: np.ndarray, w: np.ndarray | None, coef: tuple[float, float]
) -> np.ndarray:
    """(R, C) uint64 residuals -> (R, C) float64 values.

    Delta columns are a wrapping running sum; the others are rebuilt row by row (each prediction
    needs the value decoded just before), vectorised over those columns.
    """
    d = unzigzag(e)
    out = np.cumsum(d, axis=0, dtype=np.uint64)  # exact for DELTA columns (row 0 predicts 0 everywhere)
    others = np.flatnonzero(modes != DELTA)
    if len(e) > 1 and others.size:
        _rebuild(out, d, others, modes[others] == LINEAR, None if w is None else w[:, others], coef)
    return out.view(np.float64)


def _rebuild(
    out: np.ndarray, d: np.ndarray, cols: np.ndarray, linear: np.ndarray, w: np.ndarray | None,
    coef: tuple[float, float],
) -> None:
    bits = out[:, cols]  # a copy: rows 0.. are filled in below
    values = bits.view(np.float64)
    delta = d[:, cols]
    a, b = coef
    with np.errstate(all="ignore"):
        for r in range(1, len(bits)):
            prev = values[r - 1]
            pred = np.where(linear, _finite_or(2.0 * prev - values[r - 2], prev), prev) if r >= 2 else prev
            if w is not None:
                pred = np.where(linear, pred, _finite_or(prev + (a * w[r - 1] + b * w[r]), prev))
            bits[r] = _bits(pred) + delta[r]
    out[:, cols] = bits


def bit_cost(residuals: np.ndarray) -> np.ndarray:
    """Per column, the summed bit lengths of the residuals: the writer's proxy for compressed size."""
    _, exponents = np.frexp(residuals.astype(np.float64))
    return exponents.sum(axis=0)


def choose_modes(
    x: np.ndarray, w: np.ndarray | None, mapped: np.ndarray, coef: tuple[float, float]
) -> np.ndarray:
    """Per column the predictor with the smallest residual bit cost (ties: the lower id).

    VELOCITY is a candidate only for the `mapped` columns (those with a velocity column in `w`).
    """
    candidates = [DELTA, LINEAR] + ([VELOCITY] if w is not None and mapped.any() else [])
    costs = []
    for mode in candidates:
        modes = np.full(x.shape[1], mode, dtype=np.int64)
        cost = bit_cost(forward_residuals(x, modes, w, coef)).astype(np.float64)
        costs.append(np.where(mapped, cost, np.inf) if mode == VELOCITY else cost)
    best = np.argmin(np.array(costs), axis=0)
    return np.array(candidates, dtype=np.int64)[best]


_VELOCITY_WIDTH = {"hinge": 1, "slide": 1, "free": 3}  # qpos columns that integrate a qvel column 1:1


def velocity_columns(joints: list, nq: int, nv: int) -> list[int]:
    """For each qpos column, the qvel column it integrates, or -1 (spec section 7.2).

    Hinge and slide joints map qpos_adr -> dof_adr; a free joint maps its 3 position columns
    qpos_adr + i -> dof_adr + i. Joints are taken in table order; a joint whose columns fall outside
    [0, nq) or [0, nv) maps nothing and a column keeps its first mapping. Ball joints and the
    quaternion columns of free joints map nothing.
    """
    out = [-1] * nq
    for joint in joints:
        width = _VELOCITY_WIDTH.get(joint.type, 0)
        q, v = joint.qpos_adr, joint.dof_adr
        if width and q >= 0 and q + width <= nq and v >= 0 and v + width <= nv:
            for i in range(width):
                if out[q + i] < 0:
                    out[q + i] = v + i
    return out
