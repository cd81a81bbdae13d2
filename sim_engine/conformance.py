"""check_policy(): does a policy keep the arena's Policy contract? (as Gymnasium's check_env does for envs)

A policy author runs it (or `arena check-policy NAME`) before adding a registry entry. It runs the policy
in a real, short episode and checks: its metadata; that reset works, twice; each chunk's type, shape
(chunk_length x the action space's dim), dtype (float64), finiteness and range; the wall time per infer
against a budget; and, where the policy claims determinism, that the same seed and the same observations
give bit-identical chunks. A failing policy is reported, never raised: every check gets a status and a
message saying what was seen.
"""

from __future__ import annotations

import copy
import enum
import statistics
import time
from collections.abc import Callable
from typing import Any

import msgspec
import numpy as np

from schemas.policy import ActionSpace, Observation, Policy, PolicyMetadata, implements_policy
from sim_engine.actions import MAX_JOINT_VELOCITY, MAX_ROTATION, MAX_TRANSLATION
from sim_engine.episode import MAX_STEPS_LIMIT, EpisodeSpec, run_episode
from sim_engine.observe import CAMERA_NAMES
from sim_engine.world import load_world


class Status(enum.StrEnum):
    PASS = "pass"
    WARN = "warn"  # legal but probably not meant: e.g. steps larger than the arena's per-step limits (clipped)
    FAIL = "fail"
    SKIP = "skip"  # could not run (an earlier check failed) or not applicable


class Check(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    status: Status
    message: str


class Latency(msgspec.Struct, frozen=True, kw_only=True):
    """Measured wall time of infer() (network included for remote policies), in seconds."""

    calls: int
    first_s: float
    median_s: float
    max_s: float
    budget_s: float


class PolicyReport(msgspec.Struct, frozen=True, kw_only=True):
    policy: str
    passed: bool  # no check failed (warnings and skips allowed)
    checks: list[Check]
    latency: Latency | None = None


class _Recording:
    """Wraps a policy in the episode loop, keeping each observation, raw output and wall time."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.calls: list[tuple[Observation, Any, float]] = []

    @property
    def metadata(self) -> PolicyMetadata:
        return self.policy.metadata

    def reset(self, seed: int = 0) -> None:
        self.policy.reset(seed)

    def infer(self, obs: Observation) -> Any:
        kept = copy.deepcopy(obs)  # the policy may change what it is given
        t0 = time.perf_counter()
        out = self.policy.infer(obs)
        self.calls.append((kept, copy.deepcopy(out), time.perf_counter() - t0))
        return out


def check_policy(policy: Policy, *, name: str = "policy", seed: int = 0, calls: int = 4,
                 latency_budget_s: float = 1.0, deterministic: bool | None = None, robot_id: str = "franka",
                 scene_id: str = "table", instruction: str = "pick up the red cube") -> PolicyReport:
    """Check `policy` against the arena's protocol over `calls` inferences of a real episode (seeded).

    `deterministic`: None trusts the policy's metadata claim; True or False overrides it.
    """
    checks: list[Check] = []
    meta = _check_metadata(policy, checks)
    if meta is None or not _check_reset(policy, seed, checks):
        return _report(name, checks, None)
    rec = _Recording(policy)
    spec = EpisodeSpec(robot_id=robot_id, scene_id=scene_id, instruction=instruction, seed=seed,
                       max_steps=min(MAX_STEPS_LIMIT, calls * meta.horizon))
    try:
        run_episode(spec, rec)
        checks.append(Check(name="episode", status=Status.PASS,
                            message=f"{spec.max_steps} control steps, {len(rec.calls)} inferences"))
    except Exception as exc:
        checks.append(Check(name="episode", status=Status.FAIL, message=f"{type(exc).__name__}: {exc}"))
    outputs = [out for _, out, _ in rec.calls]
    checks += _check_outputs(outputs, meta, robot_id, scene_id)
    latency = _latency([dt for _, _, dt in rec.calls], latency_budget_s)
    checks.append(_latency_check(latency, meta))
    claimed = meta.deterministic if deterministic is None else deterministic
    checks.append(_check_determinism(policy, rec, seed, claimed, deterministic))
    return _report(name, checks, latency)


def _report(name: str, checks: list[Check], latency: Latency | None) -> PolicyReport:
    passed = all(c.status is not Status.FAIL for c in checks)
    return PolicyReport(policy=name, passed=passed, checks=checks, latency=latency)


def _attempt(checks: list[Check], name: str, fn: Callable[[], Any]) -> tuple[bool, Any]:
    try:
        return True, fn()
    except Exception as exc:
        checks.append(Check(name=name, status=Status.FAIL, message=f"raised {type(exc).__name__}: {exc}"))
        return False, None


# ---- metadata and reset ------------------------------------------------------------------------------

def _check_metadata(policy: Policy, checks: list[Check]) -> PolicyMetadata | None:
    if not implements_policy(policy):
        checks.append(Check(name="metadata", status=Status.FAIL, message="does not implement the Policy protocol "
                                                                          "(metadata, reset, infer)"))
        return None
    ok, meta = _attempt(checks, "metadata", lambda: policy.metadata)
    if not ok:
        return None
    problems = _metadata_problems(meta)
    status = Status.FAIL if problems else Status.PASS
    message = "; ".join(problems) or (f"{meta.action_space.value} ({meta.action_space.dim}), chunk "
                                      f"{meta.chunk_length}, horizon {meta.horizon}, {len(meta.cameras)} cameras")
    checks.append(Check(name="metadata", status=status, message=message))
    return None if problems else meta


def _metadata_problems(meta: object) -> list[str]:
    if not isinstance(meta, PolicyMetadata):
        return [f"metadata is {type(meta).__name__}, not PolicyMetadata"]
    problems = []
    if meta.chunk_length < 1:
        problems.append(f"chunk_length {meta.chunk_length} < 1")
    elif not 1 <= meta.horizon <= meta.chunk_length:
        problems.append(f"action_horizon {meta.action_horizon} outside 1..chunk_length {meta.chunk_length}")
    if not meta.latency_s >= 0:
        problems.append(f"latency_s {meta.latency_s} < 0")
    for cam in meta.cameras:
        if cam.key not in CAMERA_NAMES:
            problems.append(f"unknown camera {cam.key!r}; known: {sorted(CAMERA_NAMES)}")
        if cam.width < 1 or cam.height < 1:
            problems.append(f"camera {cam.key} is {cam.width}x{cam.height}")
    return problems


def _check_reset(policy: Policy, seed: int, checks: list[Check]) -> bool:
    def twice() -> None:
        policy.reset(seed)
        policy.reset(seed)

    ok, _ = _attempt(checks, "reset", twice)
    if ok:
        checks.append(Check(name="reset", status=Status.PASS, message=f"reset({seed}) twice"))
    return ok


# ---- outputs -----------------------------------------------------------------------------------------

def _check_outputs(outputs: list[Any], meta: PolicyMetadata, robot_id: str, scene_id: str) -> list[Check]:
    if not outputs:
        return [Check(name=n, status=Status.SKIP, message="no output to check")
                for n in ("shape", "dtype", "finite", "bounds")]
    dim = meta.action_space.dim
    expected = (meta.chunk_length, dim)
    bad_shape = next((o for o in outputs if not (isinstance(o, np.ndarray) and o.shape == expected)), None)
    bad_dtype = next((o for o in outputs if getattr(o, "dtype", None) != np.float64), None)
    checks = [
        _verdict("shape", bad_shape is None, f"every chunk is an ndarray of shape {expected}",
                 f"got {_describe(bad_shape)}; expected ndarray {expected} (chunk_length x {meta.action_space.value})"),
        _verdict("dtype", bad_dtype is None, "float64", f"got {_describe(bad_dtype)}; expected float64"),
    ]
    arrays = [a for a in (_numeric(o, dim) for o in outputs) if a is not None]
    if len(arrays) < len(outputs):
        return [*checks, *(Check(name=n, status=Status.SKIP, message="outputs are not (n, dim) numeric arrays")
                           for n in ("finite", "bounds"))]
    finite = all(np.all(np.isfinite(a)) for a in arrays)
    checks.append(_verdict("finite", finite, "no NaN or inf", "contains NaN or inf"))
    checks.append(_bounds(np.concatenate(arrays), meta.action_space, robot_id, scene_id) if finite else
                  Check(name="bounds", status=Status.SKIP, message="not finite"))
    return checks


def _verdict(name: str, ok: bool, good: str, bad: str) -> Check:
    return Check(name=name, status=Status.PASS if ok else Status.FAIL, message=good if ok else bad)


def _describe(out: object) -> str:
    if isinstance(out, np.ndarray):
        return f"ndarray {out.shape} {out.dtype}"
    return type(out).__name__


def _numeric(out: object, dim: int) -> np.ndarray | None:
    try:
        arr = np.asarray(out, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    return arr if arr.ndim == 2 and arr.shape[1] == dim else None


def _bounds(actions: np.ndarray, space: ActionSpace, robot_id: str, scene_id: str) -> Check:
    """Hard ranges fail (a gripper outside [0, 1], joint targets outside the joints' range); steps above
    the arena's per-step limits only warn, since the arena clips them (sim_engine.actions)."""
    hard, soft = [], []
    grip = actions[:, -1]
    if np.any((grip < 0) | (grip > 1)):
        hard.append(f"gripper values in [{grip.min():.3g}, {grip.max():.3g}], outside [0, 1]")
    if space is ActionSpace.JOINT_POSITION:
        world = load_world(robot_id, scene_id)
        low, high = world.model.actuator_ctrlrange[world.arm_act].T
        n = len(world.arm_act)  # a 6-joint arm ignores the 7th value (sim_engine.actions)
        if np.any((actions[:, :n] < low - 1e-9) | (actions[:, :n] > high + 1e-9)):
            hard.append("joint targets outside the joints' range")
    elif space is ActionSpace.JOINT_VELOCITY:
        if (top := float(np.abs(actions[:, :7]).max())) > MAX_JOINT_VELOCITY:
            soft.append(f"joint velocity up to {top:.3g} rad/s (clipped to {MAX_JOINT_VELOCITY})")
    else:
        if (move := float(np.linalg.norm(actions[:, :3], axis=1).max())) > MAX_TRANSLATION:
            soft.append(f"steps up to {move:.3g} m (clipped to {MAX_TRANSLATION})")
        if (turn := float(np.linalg.norm(actions[:, 3:6], axis=1).max())) > MAX_ROTATION:
            soft.append(f"rotations up to {turn:.3g} rad (clipped to {MAX_ROTATION})")
    status = Status.FAIL if hard else Status.WARN if soft else Status.PASS
    return Check(name="bounds", status=status, message="; ".join(hard + soft) or f"within {space.value} limits")


# ---- latency and determinism -------------------------------------------------------------------------

def _latency(times: list[float], budget_s: float) -> Latency | None:
    if not times:
        return None
    return Latency(calls=len(times), first_s=times[0], median_s=statistics.median(times), max_s=max(times),
                   budget_s=budget_s)


def _latency_check(lat: Latency | None, meta: PolicyMetadata) -> Check:
    if lat is None:
        return Check(name="latency", status=Status.SKIP, message="no inference ran")
    text = (f"median {lat.median_s * 1000:.1f} ms, max {lat.max_s * 1000:.1f} ms over {lat.calls} calls "
            f"(budget {lat.budget_s * 1000:.0f} ms; simulated latency {meta.latency_s * 1000:.0f} ms)")
    return Check(name="latency", status=Status.PASS if lat.median_s <= lat.budget_s else Status.FAIL, message=text)


def _check_determinism(policy: Policy, rec: _Recording, seed: int, claimed: bool, forced: bool | None) -> Check:
    if not claimed:
        return Check(name="determinism", status=Status.SKIP,
                     message="not claimed (PolicyMetadata.deterministic is false)" if forced is None else "not asked")
    arrays = [out for _, out, _ in rec.calls if isinstance(out, np.ndarray)]
    if not rec.calls or len(arrays) < len(rec.calls):
        return Check(name="determinism", status=Status.SKIP, message="no array outputs to compare")
    try:
        policy.reset(seed)
        again = [np.asarray(policy.infer(copy.deepcopy(obs))) for obs, _, _ in rec.calls]
    except Exception as exc:
        return Check(name="determinism", status=Status.FAIL, message=f"replay raised {type(exc).__name__}: {exc}")
    for k, (first, second) in enumerate(zip(arrays, again, strict=True)):
        if first.shape != second.shape or first.dtype != second.dtype or first.tobytes() != second.tobytes():
            return Check(name="determinism", status=Status.FAIL,
                         message=f"after reset({seed}), call {k} with the same observation gave a different chunk")
    return Check(name="determinism", status=Status.PASS,
                 message=f"reset({seed}) and the same {len(arrays)} observations gave bit-identical chunks")
