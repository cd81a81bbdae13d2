"""Runs one episode job: simulate, stream live, store the trajectory, then announce the end.

The end message is published only after the store commit, so a client that sees "end" can always
download the trajectory. A failure is stored with its full reason (for operators, and for the voter
after the vote) and streamed as a notice that says nothing about why (`api.blind.failure_notice`): a
reason, even an exception's type, can tell which kind of policy failed.

Workers publish as fast as the simulation runs; the API paces what it sends to voters on one clock for
both sides of a turn (`api.pacing`), so arrival times say nothing about how fast a policy thinks.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import time

from api.jobs.port import EpisodeJob
from api.live.batching import Batcher
from api.live.port import LiveBus
from api.store.port import Store
from api.streaming import encode, end_message, failed_message, frames_message, header_message
from policy_host.registry import Registry
from replay_format import ReplayHeader
from schemas.records import EpisodeResult
from sim_engine.episode import EpisodeOutcome, EpisodeSpec, StepFrames, run_episode
from sim_engine.state import InitialState, final_state

log = logging.getLogger("arena.worker")


class _BusSink:
    """Publishes an episode's stream messages (always the blinded view) as the episode runs: the header at
    once, the frames in batches of at most `api.live.batching.MAX_DELAY_S` (`close()` sends the rest).
    With a store, the episode is marked RUNNING when its header is published: `started_at` is then the
    moment the stream can start, which is what the turn clock (`api.pacing`) waits for on both sides."""

    def __init__(self, bus: LiveBus, episode_id: str, store: Store | None = None) -> None:
        self.bus, self.episode_id, self.store = bus, episode_id, store
        self.frames = Batcher(bus, episode_id)

    def on_header(self, header: ReplayHeader) -> None:
        if self.store is not None:
            self.store.mark_episode_running(self.episode_id, time.time())
        self.bus.publish(self.episode_id, encode(header_message(self.episode_id, header)))

    def on_step(self, frames: StepFrames) -> None:
        self.frames.add(encode(frames_message(frames)))

    def on_end(self, outcome: EpisodeOutcome) -> None:
        return None  # published by the worker once the trajectory is stored


class EpisodeWorker:
    def __init__(self, store: Store, bus: LiveBus, registry: Registry) -> None:
        self.store, self.bus, self.registry = store, bus, registry

    def __call__(self, job: EpisodeJob) -> EpisodeResult | None:
        """Runs the job; returns the stored result, or None when the episode failed (stored as failed)."""
        if not self.bus.has(job.episode_id):
            self.bus.open(job.episode_id)
        sink = _BusSink(self.bus, job.episode_id, self.store)
        try:
            return self._run(job, sink)
        except Exception as exc:
            log.exception("episode %s failed", job.episode_id)
            with contextlib.suppress(Exception):  # whatever frames got out stay; the stream ends as failed
                sink.frames.close()
            self.store.fail_episode(job.episode_id, f"{type(exc).__name__}: {exc}", time.time())
            self.bus.publish(job.episode_id, encode(failed_message()), final=True)
            return None

    def _initial_state(self, job: EpisodeJob) -> InitialState | None:
        """For a continued turn: the final state of the same side's previous episode, from its complete
        stored file (the header records which file and frame, so the replay stays exact)."""
        if job.start_from is None:
            return None
        previous = self.store.get_episode(job.start_from)
        digest = previous.result.trajectory_sha256 if previous.result else None
        return final_state(self.store.get_trajectory(job.start_from), trajectory_sha256=digest,
                           episode_id=job.start_from)

    def _run(self, job: EpisodeJob, sink: _BusSink) -> EpisodeResult:
        spec = EpisodeSpec(robot_id=job.robot_id, scene_id=job.scene_id, instruction=job.instruction,
                           seed=job.seed, max_steps=job.max_steps,
                           previous_instructions=tuple(job.previous_instructions))
        start = self._initial_state(job)
        with self.registry.open(job.policy) as policy:
            out = run_episode(spec, policy, sink, initial_state=start)
        sink.frames.close()  # every frame is in the stream before the trajectory is stored
        result = EpisodeResult(
            success=out.outcome.success, progress=out.outcome.progress, steps=out.outcome.steps,
            n_frames=out.outcome.n_frames, terminated=out.outcome.terminated, wall_time_s=out.wall_time_s,
            trajectory_sha256=hashlib.sha256(out.replay).hexdigest(), trajectory_bytes=len(out.replay))
        self.store.finish_episode(job.episode_id, result, out.replay, time.time())
        self.bus.publish(job.episode_id, encode(end_message(out.outcome)), final=True)
        log.info("episode %s done: %d steps in %.2f s", job.episode_id, out.outcome.steps, out.wall_time_s)
        return result
