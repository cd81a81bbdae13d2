"""Runs one episode job: simulate, stream live, store the trajectory, then announce the end.

The end message is published only after the store commit, so a client that sees "end" can always
download the trajectory. Failures are stored with the full reason (for operators) and streamed with
policy names redacted (for voters, who must not learn identities before voting).
"""

from __future__ import annotations

import hashlib
import logging
import re
import time

from api.jobs.port import EpisodeJob
from api.live.port import LiveBus
from api.store.port import Store
from api.streaming import EndMessage, HeaderMessage, encode, end_message, frames_message
from policy_host.registry import Registry
from replay_format import ReplayHeader
from schemas.errors import SERVER_SAID, ArenaError
from schemas.records import EpisodeResult
from sim_engine.episode import EpisodeOutcome, EpisodeSpec, StepFrames, run_episode

log = logging.getLogger("arena.worker")


def _subclasses(cls: type) -> set[type]:
    found: set[type] = {cls}
    subs: list[type] = cls.__subclasses__()
    for sub in subs:
        found |= _subclasses(sub)
    return found


_OWN_ERRORS = {c.__name__ for c in _subclasses(ArenaError)}
_URL = re.compile(r"\b[a-z][a-z0-9+.-]*://\S+?(?=:\s|[\s,;'\"()]|$)", re.IGNORECASE)


def redact(text: str, names: list[str]) -> str:
    """Replace every policy name (longest first, any letter case) in `text`."""
    for name in sorted(names, key=len, reverse=True):
        text = re.sub(re.escape(name), "<policy>", text, flags=re.IGNORECASE)
    return text


def public_error(reason: str, names: list[str]) -> str:
    """What a voter may see of a stored failure reason ("ExcType: message"). The arena's own errors
    keep their message (redacted); anything else raised inside a policy shows only its type, since its
    text may name the policy's class or code. URLs (a remote policy's server) become "<remote>" and a
    server's own words (after SERVER_SAID) are dropped: either may identify the policy."""
    kind, _, _ = reason.partition(": ")
    text = reason.partition(SERVER_SAID)[0] if kind in _OWN_ERRORS else f"{kind}: the policy raised an error"
    return redact(_URL.sub("<remote>", text), names)


class _BusSink:
    """Publishes an episode's stream messages. With `pace` > 0 each step is held back until
    `sim_time / pace` wall seconds after the start (1.0: real time, as a physical robot would move);
    0 publishes as fast as the simulation runs."""

    def __init__(self, bus: LiveBus, episode_id: str, pace: float = 0.0) -> None:
        self.bus, self.episode_id, self.pace = bus, episode_id, pace
        self.t0 = time.monotonic()

    def on_header(self, header: ReplayHeader) -> None:
        self.t0 = time.monotonic()
        self.bus.publish(self.episode_id, encode(HeaderMessage(episode_id=self.episode_id, header=header)))

    def on_step(self, frames: StepFrames) -> None:
        if self.pace > 0 and len(frames.time):
            delay = self.t0 + float(frames.time[-1]) / self.pace - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        self.bus.publish(self.episode_id, encode(frames_message(frames)))

    def on_end(self, outcome: EpisodeOutcome) -> None:
        return None  # published by the worker once the trajectory is stored


class EpisodeWorker:
    def __init__(self, store: Store, bus: LiveBus, registry: Registry, *, stream_pace: float = 0.0) -> None:
        self.store, self.bus, self.registry = store, bus, registry
        if not stream_pace >= 0:
            raise ValueError(f"stream_pace must be >= 0, got {stream_pace}")
        self.stream_pace = stream_pace

    def __call__(self, job: EpisodeJob) -> None:
        self.store.mark_episode_running(job.episode_id, time.time())
        if not self.bus.has(job.episode_id):
            self.bus.open(job.episode_id)
        try:
            self._run(job)
        except Exception as exc:
            log.exception("episode %s failed", job.episode_id)
            reason = f"{type(exc).__name__}: {exc}"
            self.store.fail_episode(job.episode_id, reason, time.time())
            public = public_error(reason, list(self.registry.entries))
            self.bus.publish(job.episode_id, encode(EndMessage(status="failed", error=public)), final=True)

    def _run(self, job: EpisodeJob) -> None:
        spec = EpisodeSpec(robot_id=job.robot_id, scene_id=job.scene_id, instruction=job.instruction,
                           seed=job.seed, max_steps=job.max_steps)
        with self.registry.open(job.policy) as policy:
            out = run_episode(spec, policy, _BusSink(self.bus, job.episode_id, self.stream_pace))
        result = EpisodeResult(
            success=out.outcome.success, progress=out.outcome.progress, steps=out.outcome.steps,
            n_frames=out.outcome.n_frames, terminated=out.outcome.terminated, wall_time_s=out.wall_time_s,
            trajectory_sha256=hashlib.sha256(out.replay).hexdigest(), trajectory_bytes=len(out.replay))
        self.store.finish_episode(job.episode_id, result, out.replay, time.time())
        self.bus.publish(job.episode_id, encode(end_message(out.outcome)), final=True)
