"""`RedisQueue`: the job queue on Redis, shared by every API process (producers) and every worker
process (consumers), on any machine that reaches the Redis server.

Queued jobs wait in per-voter lists and start round-robin between voters (as in `api.jobs.fair`).
A worker that has a free thread moves the next job into a stream and reads it through a consumer
group (`XREADGROUP`), so the job stays pending until the worker acknowledges it (`XACK`) after the
episode is stored. A running job is touched every `heartbeat_s` (`XCLAIM ... JUSTID`); one that nobody
touched for `visibility_s` (its worker died or hangs) is claimed by another worker (`XAUTOCLAIM`) and
run again. After `max_deliveries` deliveries the job goes to the dead-letter stream and `on_dead`
marks its episode failed. Submitting is idempotent per episode id, so resubmitting every unfinished
episode (recovery) never duplicates a job. Driver errors become `QueueError`.

Guarantees: a job acknowledged by `submit` is in Redis (durable as far as Redis's own persistence:
appendonly with fsync every second loses at most about a second of writes on a power cut); a job runs
at least once while Redis keeps it, and its handler must be idempotent (`api.deploy.EpisodeRunner`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import socket
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import msgspec
import redis

from api.jobs import redis_scripts as lua
from api.jobs.fair import jobs_ahead
from api.jobs.port import EpisodeJob, JobHandler
from schemas.errors import QueueError

log = logging.getLogger("arena.jobs")

GROUP = "workers"
DeadHandler = Callable[[EpisodeJob, str], None]
_encode, _decode = msgspec.msgpack.encode, msgspec.msgpack.Decoder(EpisodeJob).decode


@contextlib.contextmanager
def _errors(doing: str) -> Iterator[None]:
    try:
        yield
    except redis.RedisError as exc:
        raise QueueError(f"job queue (Redis) unavailable while {doing}: {exc}") from exc


class _Taken(msgspec.Struct, frozen=True):
    entry: str
    episode_id: str
    job: EpisodeJob | None
    deliveries: int


class RedisQueue:
    """A producer (`handler=None`, the API processes) or also a consumer running `handler` on
    `concurrency` threads (`arena worker`). `workers()` counts live consumer processes."""

    def __init__(self, client: redis.Redis, handler: JobHandler | None = None, *, prefix: str = "arena:",
                 concurrency: int = 1, visibility_s: float = 60.0, heartbeat_s: float | None = None,
                 max_deliveries: int = 3, on_dead: DeadHandler | None = None, alive_s: float = 10.0) -> None:
        self.client: Any = client  # redis-py's reply types are unions of every RESP shape
        self.handler, self.on_dead = handler, on_dead
        self.p = f"{prefix}q:"
        self.concurrency, self.visibility_s, self.max_deliveries = max(1, concurrency), visibility_s, max_deliveries
        self.heartbeat_s = heartbeat_s or max(0.2, visibility_s / 4)
        self.alive_s = alive_s
        self.consumer = f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"
        self._scripts = {name: client.register_script(getattr(lua, name))
                         for name in ("SUBMIT", "TAKE", "RECLAIM", "FINISH", "RELEASE", "WORKERS")}
        self._inflight: dict[str, _Taken] = {}  # episode id -> job this process runs
        self._released: set[str] = set()  # given back to the queue by close(): never acknowledged here
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._pool: ThreadPoolExecutor | None = None
        self._slots = threading.Semaphore(self.concurrency)
        if handler is not None:
            self.start()

    # ---- producer side ------------------------------------------------------------------------------

    def submit(self, job: EpisodeJob) -> None:
        """Queue the job unless this episode's job is already known (queued or running)."""
        if self._stop.is_set():
            raise QueueError("job queue is closed: this process is shutting down")
        voter = job.voter or "-"
        with _errors("queueing a job"):
            self._scripts["SUBMIT"](keys=[self.p + "jobs", self.p + "ring", self.p + "v:" + voter, self.p + "wake"],
                                    args=[job.episode_id, _encode(job), voter])

    def knows(self, episode_id: str) -> bool:
        """Whether the job is queued or in flight (false once it is finished or dead-lettered)."""
        with _errors("looking up a job"):
            return bool(self.client.hexists(self.p + "jobs", episode_id))

    def position(self, episode_id: str) -> int | None:
        try:
            return self._position(episode_id)
        except QueueError as exc:  # only shown to a waiting viewer: not worth failing their stream for
            log.warning("%s", exc)
            return None

    def _position(self, episode_id: str) -> int | None:
        with _errors("computing a queue position"):
            raw = self.client.hget(self.p + "jobs", episode_id)
            if raw is None:
                return None
            voter = _decode(raw).voter or "-"
            index = self.client.lpos(self.p + "v:" + voter, episode_id)
            if index is None:
                return None  # running
            ring = [v.decode() for v in self.client.lrange(self.p + "ring", 0, -1)]
            pipe = self.client.pipeline(transaction=False)
            for v in ring:
                pipe.llen(self.p + "v:" + v)
            lengths = dict(zip(ring, pipe.execute(), strict=True))
        return jobs_ahead(int(index), voter, ring, lengths)

    def workers(self) -> int:
        with _errors("counting workers"):
            return int(self._scripts["WORKERS"](keys=[self.p + "workers"], args=["", self.alive_s]))

    def dead_letters(self, count: int = 100) -> list[dict[str, str]]:
        """The most recent dead-lettered jobs (newest first): episode id, job, reason."""
        with _errors("reading dead letters"):
            rows = self.client.xrevrange(self.p + "dead", count=count)
        return [{k.decode(): v.decode(errors="replace") for k, v in fields.items()} for _, fields in rows]

    # ---- consumer side ------------------------------------------------------------------------------

    def start(self) -> None:
        with _errors("creating the consumer group"), contextlib.suppress(redis.ResponseError):  # BUSYGROUP
            self.client.xgroup_create(self.p + "stream", GROUP, id="0", mkstream=True)
        with _errors("registering the worker"):
            self._scripts["WORKERS"](keys=[self.p + "workers"], args=[self.consumer, self.alive_s])
        self._pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="episode")
        for target, name in ((self._loop, "queue-take"), (self._heartbeat, "queue-heartbeat")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def _loop(self) -> None:
        while not self._stop.is_set():
            if not self._slots.acquire(timeout=0.5):
                continue
            try:
                taken = self._next()
            except Exception as exc:  # Redis away, a garbled job: keep the worker alive and retry
                log.warning("taking a job failed (%s); retrying", exc)
                taken = None
                self._stop.wait(1.0)
            if taken is None or self._stop.is_set():
                self._slots.release()
                if taken is not None:
                    self._release(taken)
                continue
            with self._lock:
                self._inflight[taken.episode_id] = taken
            assert self._pool is not None
            self._pool.submit(self._run, taken)

    def _next(self) -> _Taken | None:
        """A job to run: first one that a dead worker left behind, else the next queued one."""
        with _errors("taking a job"):
            reply = self._scripts["RECLAIM"](keys=[self.p + "stream", self.p + "jobs", self.p + "tries"],
                                             args=[GROUP, self.consumer, int(self.visibility_s * 1000)])
            reply = reply or self._scripts["TAKE"](
                keys=[self.p + "ring", self.p + "stream", self.p + "jobs", self.p + "tries"],
                args=[self.p + "v:", GROUP, self.consumer])
            if reply is None:
                self.client.blpop([self.p + "wake"], timeout=1)
                return None
        entry, episode_id, raw, deliveries = reply
        taken = _Taken(entry.decode(), episode_id.decode(), _decode(raw) if raw else None, int(deliveries))
        if taken.job is None or taken.deliveries > self.max_deliveries:
            self._dead_letter(taken)
            return None
        return taken

    def _run(self, taken: _Taken) -> None:
        assert self.handler is not None
        assert taken.job is not None
        try:
            self.handler(taken.job)
        except Exception:  # left pending: another worker (or this one) runs it again after visibility_s
            log.exception("episode %s: job failed (delivery %d of %d); it will be retried",
                          taken.episode_id, taken.deliveries, self.max_deliveries)
        else:
            if taken.episode_id not in self._released:  # given back at close: it is queued again
                self._finish(taken)
        finally:
            with self._lock:
                self._inflight.pop(taken.episode_id, None)
            self._slots.release()

    def _finish(self, taken: _Taken) -> None:
        for attempt in range(30):  # a brief Redis outage must not turn a finished job into a rerun
            try:
                self._scripts["FINISH"](keys=[self.p + "stream", self.p + "jobs", self.p + "tries"],
                                        args=[GROUP, taken.entry, taken.episode_id])
                return
            except redis.RedisError as exc:
                log.warning("episode %s: could not acknowledge its job (%s), try %d", taken.episode_id, exc, attempt)
                self._stop.wait(0.5)

    def _release(self, taken: _Taken) -> None:
        voter = (taken.job.voter if taken.job else "") or "-"
        with contextlib.suppress(redis.RedisError):
            self._scripts["RELEASE"](
                keys=[self.p + "stream", self.p + "ring", self.p + "v:" + voter, self.p + "tries", self.p + "wake"],
                args=[GROUP, taken.entry, taken.episode_id, voter])

    def _dead_letter(self, taken: _Taken) -> None:
        tries = taken.deliveries - 1
        reason = (f"gave up after {tries} attempts: the worker running this episode stopped or failed each time"
                  if taken.job else "the job's description was lost")
        log.error("episode %s: %s (dead-lettered)", taken.episode_id, reason)
        with _errors("dead-lettering a job"):
            self.client.xadd(self.p + "dead", {"id": taken.episode_id, "reason": reason,
                                               "job": _encode(taken.job) if taken.job else b""},
                             maxlen=10_000, approximate=True)
            self._scripts["FINISH"](keys=[self.p + "stream", self.p + "jobs", self.p + "tries"],
                                    args=[GROUP, taken.entry, taken.episode_id])
        if taken.job is not None and self.on_dead is not None:
            try:
                self.on_dead(taken.job, reason)
            except Exception:
                log.exception("episode %s: could not record its failure", taken.episode_id)

    def _heartbeat(self) -> None:
        """Touch the jobs this process runs (so no one reclaims them) and say the worker is alive."""
        while not self._stop.wait(min(self.heartbeat_s, self.alive_s / 4)):
            with self._lock:
                entries = [t.entry for t in self._inflight.values()]
            try:
                if entries:
                    self.client.xclaim(self.p + "stream", GROUP, self.consumer, 0, entries, justid=True)
                self._scripts["WORKERS"](keys=[self.p + "workers"], args=[self.consumer, self.alive_s])
            except redis.RedisError as exc:
                log.warning("queue heartbeat failed: %s", exc)

    def close(self, grace_s: float = 600.0) -> None:
        """Stop taking jobs; wait up to `grace_s` for the running ones, then give back to the queue any
        that have not finished (another worker runs them). Idempotent."""
        if self._stop.is_set():
            return
        self._stop.set()
        for thread in self._threads:
            thread.join()
        if self._pool is not None:
            pool, done = self._pool, threading.Event()

            def drain() -> None:
                pool.shutdown(wait=True)
                done.set()

            threading.Thread(target=drain, name="queue-drain", daemon=True).start()
            if not done.wait(grace_s):
                with self._lock:
                    left = list(self._inflight.values())
                log.warning("returning %d unfinished jobs to the queue", len(left))
                for taken in left:
                    self._released.add(taken.episode_id)
                    self._release(taken)
            with contextlib.suppress(redis.RedisError):
                self.client.zrem(self.p + "workers", self.consumer)
