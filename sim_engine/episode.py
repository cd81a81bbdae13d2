"""The episode loop: 10 Hz control, physics at the model timestep in between, frames at a fixed rate.

Latency simulation (seed 000): when a policy is asked for a new chunk at simulated time t, its actions
only take effect at t + latency; until then the previous command is held. Nothing sleeps: latency
costs simulated time only, so every policy is compared on the same clock.
"""

from __future__ import annotations

import dataclasses
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Protocol

import msgspec
import mujoco
import numpy as np

from replay_format import ReplayHeader, encode_replay
from schemas.errors import ValidationError
from schemas.policy import Policy
from schemas.task import TaskSpec, Understanding
from sim_engine.actions import ActionAdapter
from sim_engine.observe import Observer
from sim_engine.recorder import Recorder, make_header
from sim_engine.state import RESET, InitialState, restore
from sim_engine.tasks import SequenceEvaluator, TaskStatus
from sim_engine.understanding import parse
from sim_engine.world import World, load_world

MAX_STEPS_LIMIT = 300


@dataclass(frozen=True)
class EpisodeSpec:
    robot_id: str
    scene_id: str
    instruction: str
    seed: int
    max_steps: int = 50
    control_rate: float = 10.0
    frame_rate: float = 50.0
    previous_instructions: tuple[str, ...] = ()  # the earlier turns it continues, oldest first: what "it" means

    def __post_init__(self) -> None:
        if not 1 <= self.max_steps <= MAX_STEPS_LIMIT:
            raise ValidationError("max_steps", f"must be between 1 and {MAX_STEPS_LIMIT}")


@dataclass(frozen=True)
class StepFrames:
    """Frames recorded during one control step, for live streaming."""

    step: int
    start_frame: int
    time: np.ndarray
    qpos: np.ndarray
    qvel: np.ndarray
    ctrl: np.ndarray
    action: np.ndarray | None
    progress: float | None


@dataclass(frozen=True)
class EpisodeOutcome:
    success: bool | None
    progress: float | None
    steps: int
    n_frames: int
    terminated: str  # "success" | "max_steps"


@dataclass
class EpisodeOutput:
    header: ReplayHeader
    frames: dict[str, np.ndarray] = field(repr=False)
    steps: dict[str, np.ndarray] = field(repr=False)
    outcome: EpisodeOutcome
    task: TaskSpec  # the first scored part (what `interpret` returns)
    replay: bytes = field(repr=False)
    wall_time_s: float
    infer_time_s: float
    understanding: Understanding | None = None


class EpisodeSink(Protocol):
    """Receives an episode as it runs (the live stream). Called from the episode's thread."""

    def on_header(self, header: ReplayHeader) -> None: ...
    def on_step(self, frames: StepFrames) -> None: ...
    def on_end(self, outcome: EpisodeOutcome) -> None: ...


class _Loop:
    """One running episode. Split out of run_episode to keep each piece small."""

    def __init__(self, world: World, spec: EpisodeSpec, policy: Policy, initial: InitialState | None) -> None:
        self.world, self.spec, self.policy = world, spec, policy
        self.meta = policy.metadata
        m = world.model
        self.data = mujoco.MjData(m)
        if initial is None:
            world.reset(self.data, spec.seed)
        else:
            restore(world, self.data, initial)
        self.substeps = _ratio(1.0 / spec.control_rate, m.opt.timestep, "control_rate")
        self.frame_every = _ratio(1.0 / spec.frame_rate, m.opt.timestep, "frame_rate")
        if self.substeps % self.frame_every:
            raise ValidationError("frame_rate", "must be a multiple of control_rate")
        self.latency_steps = int(round(self.meta.latency_s / m.opt.timestep))
        self.understanding = parse(spec.instruction, world.scene, previous=spec.previous_instructions)
        self.task = self.understanding.task
        self.evaluate = SequenceEvaluator(world, self.understanding.parts, self.data)
        self.adapter = ActionAdapter(world, self.meta.action_space, self.data, 1.0 / spec.control_rate)
        self.observe = Observer(world, self.meta, spec.instruction, self.task)
        self.rec = Recorder(world, spec.max_steps, self.substeps // self.frame_every, self.meta.action_space.dim)
        self.queue: deque[np.ndarray] = deque()
        self.pending: tuple[int, np.ndarray] | None = None
        self.physics_step = 0
        self.current: np.ndarray | None = None
        self.infer_time = 0.0

    def request_chunk(self) -> None:
        self.observe.task = self.evaluate.task  # privileged policies see the part being scored now
        obs = self.observe(self.data, self.adapter)
        t0 = time.perf_counter()
        chunk = self.adapter.validate(self.policy.infer(obs))
        self.infer_time += time.perf_counter() - t0
        self.pending = (self.physics_step + self.latency_steps, chunk[: self.meta.horizon])

    def step(self, k: int, sink: EpisodeSink | None) -> TaskStatus:
        if not self.queue and self.pending is None:
            self.request_chunk()
        self.rec.begin_step()
        start = self.rec.n_frames
        end = self.physics_step + self.substeps
        first = True
        while self.physics_step < end:  # step in blocks between events: fewer Python calls, same physics
            self._maybe_switch_action(first_substep=first)
            first = False
            n = self._steps_to_next_event(end)
            mujoco.mj_step(self.world.model, self.data, nstep=n)
            self.physics_step += n
            if self.physics_step % self.frame_every == 0:
                self.rec.frame(self.data)
        status = self.evaluate(self.data)
        self.rec.end_step(k, self.current, status.progress)
        if sink is not None:
            sink.on_step(self._step_frames(k, start, status))
        return status

    def _steps_to_next_event(self, end: int) -> int:
        """Physics steps until the next frame, pending-action switch, or the end of the control step."""
        nxt = min(end, (self.physics_step // self.frame_every + 1) * self.frame_every)
        if self.pending is not None and self.pending[0] > self.physics_step:
            nxt = min(nxt, self.pending[0])
        return nxt - self.physics_step

    def _maybe_switch_action(self, *, first_substep: bool) -> None:
        if self.pending is not None and self.physics_step >= self.pending[0]:
            self.queue.extend(self.pending[1])
            self.pending = None
        elif not first_substep or not self.queue:
            return
        action = self.queue.popleft()
        self.adapter.apply(action, self.data)
        self.current = action

    def initial_frames(self) -> StepFrames:
        """Frame 0, the state before the first control step, as step -1."""
        return self._step_frames(-1, 0, TaskStatus(success=None, progress=None))

    def _step_frames(self, k: int, start: int, status: TaskStatus) -> StepFrames:
        end, r = (1 if k < 0 else self.rec.n_frames), self.rec
        return StepFrames(step=k, start_frame=start, time=r.time[start:end].copy(), qpos=r.qpos[start:end].copy(),
                          qvel=r.qvel[start:end].copy(), ctrl=r.ctrl[start:end].copy(),
                          action=None if self.current is None or k < 0 else self.current.copy(),
                          progress=status.progress)


def _ratio(period: float, timestep: float, name: str) -> int:
    n = int(round(period / timestep))
    if n < 1 or abs(n * timestep - period) > 1e-9:
        raise ValidationError(name, f"period {period} s is not a whole number of {timestep} s physics steps")
    return n


def run_episode(spec: EpisodeSpec, policy: Policy, sink: EpisodeSink | None = None, *,
                policy_name: str | None = None, initial_state: InitialState | None = None) -> EpisodeOutput:
    """Run one episode and encode its replay. `policy_name` is written into the file's metadata only
    when given (the arena never gives it: files must not reveal identities before the vote).

    `initial_state` (e.g. `state.final_state(previous_trajectory)`) starts the episode from that state,
    restored exactly, instead of the seed's layout (the seed still seeds the policy); the header's
    `metadata["initial_state"]` records its source. Same spec, policy and initial state: identical bytes."""
    t0 = time.perf_counter()
    world = load_world(spec.robot_id, spec.scene_id)
    policy.reset(seed=spec.seed)
    loop = _Loop(world, spec, policy, initial_state)
    loop.rec.frame(loop.data)
    meta = _metadata(spec, loop.understanding, policy_name)
    meta["initial_state"] = dict(initial_state.source) if initial_state is not None else dict(RESET)
    if sink is not None:
        sink.on_header(_header(loop, [], meta))
        sink.on_step(loop.initial_frames())
    status, steps = TaskStatus(success=None, progress=None), 0
    try:
        for k in range(spec.max_steps):
            status, steps = loop.step(k, sink), k + 1
            if status.success:
                break
    finally:
        loop.observe.close()
    outcome = EpisodeOutcome(success=status.success, progress=status.progress, steps=steps,
                             n_frames=loop.rec.n_frames, terminated="success" if status.success else "max_steps")
    meta["outcome"] = dataclasses.asdict(outcome)
    header = _header(loop, loop.rec.step_frames, meta)
    frames, steps_arrays = loop.rec.frames(), loop.rec.steps()
    replay = encode_replay(header, frames, steps_arrays)
    if sink is not None:
        sink.on_end(outcome)
    return EpisodeOutput(header=header, frames=frames, steps=steps_arrays, outcome=outcome, task=loop.task,
                         replay=replay, wall_time_s=time.perf_counter() - t0, infer_time_s=loop.infer_time,
                         understanding=loop.understanding)


def spec_of(header: ReplayHeader) -> EpisodeSpec:
    """The spec an episode ran with, read back from its replay header. With `state.initial_state_of` and the
    same policy this re-runs the episode to identical bytes."""
    m = header.metadata
    return EpisodeSpec(robot_id=header.robot_id, scene_id=header.scene_id, instruction=m["instruction"],
                       seed=m["seed"], max_steps=m["max_steps"], control_rate=header.control_rate,
                       frame_rate=header.frame_rate, previous_instructions=tuple(m.get("previous_instructions", ())))


def _metadata(spec: EpisodeSpec, understood: Understanding, policy_name: str | None) -> dict:
    """`task` is the first scored part; `understanding` is added only when that alone does not say how
    the episode is scored (a compound or partly scored instruction)."""
    meta: dict = {"instruction": spec.instruction, "seed": spec.seed, "max_steps": spec.max_steps,
                  "task": msgspec.to_builtins(understood.task)}
    if len(understood.parts) > 1 or understood.partial:
        meta["understanding"] = msgspec.to_builtins(understood)
    if spec.previous_instructions:
        meta["previous_instructions"] = list(spec.previous_instructions)
    if policy_name is not None:
        meta["policy"] = policy_name
    return meta


def _header(loop: _Loop, step_frames: list[int], meta: dict) -> ReplayHeader:
    return make_header(loop.world, frame_rate=loop.spec.frame_rate, control_rate=loop.spec.control_rate,
                       action_space=loop.meta.action_space.value, action_dim=loop.meta.action_space.dim,
                       step_frames=step_frames, metadata=meta)
