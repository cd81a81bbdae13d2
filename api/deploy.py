"""Which adapters a process runs with, from its settings.

Embedded default (no `redis_url`): the store from `store_url` (SQLite by default), an in-memory live bus,
in-process worker threads and in-memory rate limits: one process does everything.

Scaled out (`ARENA_REDIS_URL` / `--redis`): the job queue, the live streams and the rate limits live in
Redis, the store is whatever `ARENA_STORE_URL` / `--store` names (MongoDB for several machines), and any
number of API processes (`arena serve --workers 0`) and worker processes (`arena worker`) share them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from api.config import Settings
from api.jobs.local import ThreadQueue
from api.jobs.port import EpisodeJob, JobQueue
from api.limits.memory import MemoryRateLimiter
from api.limits.port import RateLimiter
from api.live.memory import MemoryLiveBus
from api.live.port import LiveBus
from api.store import open_store
from api.store.cached import CachedReads
from api.store.port import Store
from api.streaming import encode, failed_message
from api.worker import EpisodeWorker
from policy_host.registry import Registry
from schemas.errors import ArenaError, NotFoundError
from schemas.records import EpisodeStatus

if TYPE_CHECKING:
    import redis

log = logging.getLogger("arena.deploy")


def redis_client(url: str, *, ride_out_s: float = 1.0) -> redis.Redis:
    """A client that fails fast (socket timeouts: never a hang) and retries a lost connection for about
    `ride_out_s` seconds: short in API processes (the caller gets a 503 soon), longer in workers (an
    episode rides out a Redis restart)."""
    try:
        import redis
        from redis.backoff import ExponentialBackoff
        from redis.retry import Retry
    except ModuleNotFoundError as exc:
        from schemas.errors import MissingDependencyError

        raise MissingDependencyError("redis", "pip install -e .[scale]") from exc
    retries = max(0, round(ride_out_s / 0.25))
    return redis.Redis.from_url(
        url, socket_timeout=5.0, socket_connect_timeout=2.0, health_check_interval=15,
        retry=Retry(ExponentialBackoff(cap=0.25, base=0.02), retries),
        retry_on_error=[redis.ConnectionError, redis.TimeoutError])


class EpisodeRunner:
    """The job handler of a scaled-out worker: `EpisodeWorker`, made safe to run a job twice.

    A job whose episode is already DONE (its first worker stored it, then died before acknowledging)
    is skipped; a rerun of an unfinished one numbers its live messages from the start (`begin`) so
    viewers get no duplicates. One log line per episode."""

    def __init__(self, store: Store, bus: LiveBus, worker: EpisodeWorker) -> None:
        self.store, self.bus, self.worker = store, bus, worker

    def __call__(self, job: EpisodeJob) -> None:
        try:
            status = self.store.get_episode(job.episode_id).status
        except NotFoundError:
            log.warning("episode %s: not in the store; job dropped", job.episode_id)
            return
        if status is EpisodeStatus.DONE:
            log.info("episode %s: already done; job acknowledged", job.episode_id)
            return
        begin = getattr(self.bus, "begin", None)
        if callable(begin):
            begin(job.episode_id)
        t0 = time.monotonic()
        result = self.worker(job)
        log.info("episode %s %s: %s, %d steps, %.2f s", job.episode_id, job.policy,
                 "done" if result else "failed", result.steps if result else 0, time.monotonic() - t0)

    def dead(self, job: EpisodeJob, reason: str) -> None:
        """The queue gave up on the job: the episode fails with the reason, its stream ends."""
        self.store.fail_episode(job.episode_id, reason, time.time())
        self.bus.publish(job.episode_id, encode(failed_message()), final=True)


@dataclass
class Adapters:
    store: Store
    bus: LiveBus
    queue: JobQueue
    limiter: RateLimiter
    registry: Registry
    client: Any = None  # the redis.Redis client, when scaled out


def open_adapters(settings: Settings, *, workers: int | None = None, ride_out_s: float = 1.0) -> Adapters:
    """The adapters for `settings`; `workers` episode threads in this process (default
    `settings.workers`; 0 in a scaled-out API process runs none)."""
    n = settings.workers if workers is None else workers
    store, registry = CachedReads(open_store(settings.store)), Registry.from_file(settings.models)
    if not settings.redis_url:
        bus = MemoryLiveBus()
        return Adapters(store, bus, ThreadQueue(EpisodeWorker(store, bus, registry), workers=n),
                        MemoryRateLimiter(), registry)
    client = redis_client(settings.redis_url, ride_out_s=ride_out_s)  # MissingDependencyError without `redis`
    from api.jobs.redis import RedisQueue
    from api.limits.redis import RedisRateLimiter
    from api.live.redis import RedisLiveBus

    rbus = RedisLiveBus(client)
    runner = EpisodeRunner(store, rbus, EpisodeWorker(store, rbus, registry))
    queue = RedisQueue(client, runner if n > 0 else None, concurrency=max(1, n), on_dead=runner.dead,
                       visibility_s=settings.queue_visibility_s, max_deliveries=settings.queue_max_deliveries)
    return Adapters(store, rbus, queue, RedisRateLimiter(client), registry, client)


def dependency_health(store: Store, queue: JobQueue, bus: LiveBus) -> tuple[bool, dict[str, Any]]:
    """Each dependency's state ("ok" or what failed) and the live workers; False if any failed."""
    ping = getattr(bus, "ping", None)
    probes: dict[str, Callable[[], object]] = {
        "store": store.count_votes, "bus": ping if callable(ping) else lambda: None, "queue": queue.workers}
    checks: dict[str, str] = {}
    results: dict[str, object] = {}
    for name, probe in probes.items():
        try:
            results[name] = probe()
            checks[name] = "ok"
        except ArenaError as exc:
            checks[name] = f"unavailable: {exc}"
    workers = results.get("queue")
    return all(v == "ok" for v in checks.values()), {"dependencies": checks,
                                                     "workers": workers if isinstance(workers, int) else None}


def preload_policies(registry: Registry) -> None:
    """Load the heavy shared parts of learned policies (encoders, weights) once, in the background, so the
    first episode that draws one does not wait for them. A failure here only costs that episode time."""
    for entry in registry.entries.values():
        if entry.kind == "learned":
            try:
                registry.build(entry.name)
            except Exception:
                log.exception("could not preload %s (it will load on first use)", entry.name)
