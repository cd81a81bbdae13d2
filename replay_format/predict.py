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
    """(R, C) uint64 residuals -> (R, C) float64 values (one chunk; see `inverse_many`)."""
    return inverse_many([(e, modes, None if w is None else velocity_increments(w, coef))])[0]


def velocity_increments(w: np.ndarray, coef: tuple[float, float]) -> np.ndarray:
    """s[r] = a * w[r-1] + b * w[r] for r >= 1 (row 0 unused): the velocity predictor is x[r-1] + s[r]."""
    a, b = coef
    s = np.zeros(w.shape, dtype=np.float64)
    with np.errstate(all="ignore"):
        s[1:] = a * w[:-1] + b * w[1:]
    return s


Job = tuple[np.ndarray, np.ndarray, "np.ndarray | None"]  # residuals (R, C), modes (C,), increments (R, C)


def inverse_many(jobs: list[Job]) -> list[np.ndarray]:
    """Undo the residuals of several chunks at once; returns each chunk's (R, C) float64 values.

    Delta columns are a wrapping running sum. The linear and velocity columns of every chunk need the
    value decoded just before, so they are rebuilt together in one row-by-row pass, vectorised over
    all of them (the pass costs per row, not per column).
    """
    outs, pending = [], []
    for e, modes, increments in jobs:
        d = unzigzag(e)
        out = np.cumsum(d, axis=0, dtype=np.uint64)  # exact for DELTA columns (row 0 predicts 0 everywhere)
        outs.append(out)
        cols = np.flatnonzero(modes != DELTA)
        if len(e) > 1 and cols.size:
            inc = None if increments is None else increments[:, cols]
            pending.append((out, d[:, cols], cols, modes[cols] == LINEAR, inc))
    if pending:
        _rebuild(pending)
    return [out.view(np.float64) for out in outs]


def _rebuild(pending: list) -> None:
    rows, width = max(len(p[1]) for p in pending), sum(p[2].size for p in pending)
    delta = np.zeros((rows, width), dtype=np.uint64)
    inc = np.zeros((rows, width), dtype=np.float64)
    linear = np.zeros(width, dtype=bool)
    at = 0
    for _, d, cols, lin, increments in pending:  # pack the columns side by side; shorter chunks pad
        delta[: len(d), at : at + cols.size] = d
        linear[at : at + cols.size] = lin
        if increments is not None:
            inc[: len(d), at : at + cols.size] = increments
        at += cols.size
    bits = np.empty((rows, width), dtype=np.uint64)
    bits[0] = delta[0]
    values = bits.view(np.float64)
    with np.errstate(all="ignore"):
        for r in range(1, rows):
            prev = values[r - 1]
            pred = np.where(linear, 2.0 * prev - values[r - 2] if r >= 2 else prev, prev + inc[r])
            bits[r] = np.where(np.isfinite(pred), pred, prev).view(np.uint64) + delta[r]
    at = 0
    for out, d, cols, _, _ in pending:
        out[:, cols] = bits[: len(d), at : at + cols.size]
        at += cols.size


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
    """For each qpos column, the qvel column it integrates, or -1 (spec section 7).

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
