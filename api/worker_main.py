"""`arena worker` (a scaled-out episode worker) and the scale-out flags of `arena serve`.

    arena serve  --store mongodb://db:27017/arena --redis redis://cache:6379/0 --workers 0 --port 8001
    arena worker --store mongodb://db:27017/arena --redis redis://cache:6379/0 --concurrency 2

A worker takes jobs from the Redis queue, runs each episode (`EpisodeWorker` through `EpisodeRunner`),
streams it to the Redis live bus and stores it; it logs one line per episode. Every `--reconcile`
seconds it requeues unfinished episodes the queue does not hold (a turn stored while Redis was away;
submitting is idempotent, so this never duplicates a job). SIGTERM or SIGINT: stop taking jobs, finish
the running ones (at most `--grace` seconds, then give them back to the queue), exit 0.
Flags override the environment (ARENA_STORE_URL, ARENA_REDIS_URL, ARENA_WORKERS, ...).
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    pass

log = logging.getLogger("arena.process")

_FLAGS = {"store": "ARENA_STORE_URL", "redis": "ARENA_REDIS_URL", "workers": "ARENA_WORKERS",
          "concurrency": "ARENA_WORKERS", "host": "ARENA_HOST", "port": "ARENA_PORT",
          "data_dir": "ARENA_DATA_DIR", "visibility": "ARENA_QUEUE_VISIBILITY_S",
          "max_deliveries": "ARENA_QUEUE_MAX_DELIVERIES"}


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--store", metavar="URL", help="store URL (ARENA_STORE_URL): sqlite:///PATH or mongodb://...")
    p.add_argument("--redis", metavar="URL", help="Redis URL (ARENA_REDIS_URL): jobs, live streams, rate limits")
    p.add_argument("--data-dir", help="data directory (ARENA_DATA_DIR)")


def add_serve_flags(s: argparse.ArgumentParser) -> None:
    _common(s)
    s.add_argument("--workers", type=int, help="episode threads in this process (ARENA_WORKERS); 0 with --redis: "
                                               "an API process that runs no episodes")
    s.add_argument("--host", help="interface (ARENA_HOST)")
    s.add_argument("--port", type=int, help="port (ARENA_PORT)")


def add_worker_command(sub: argparse._SubParsersAction) -> None:
    w = sub.add_parser("worker", help="run episodes from the Redis job queue (scale-out, docs/deploy.md)")
    _common(w)
    w.add_argument("--concurrency", type=int, help="episodes at once, one thread each (ARENA_WORKERS, default 2)")
    w.add_argument("--visibility", type=float, help="seconds without a heartbeat before another worker reruns a "
                                                    "job (ARENA_QUEUE_VISIBILITY_S, default 60)")
    w.add_argument("--max-deliveries", type=int, help="deliveries before a job is dead-lettered and its turn "
                                                      "failed (ARENA_QUEUE_MAX_DELIVERIES, default 3)")
    w.add_argument("--reconcile", type=float, default=30.0, help="seconds between requeues of lost jobs")
    w.add_argument("--grace", type=float, default=300.0, help="seconds to finish running episodes on SIGTERM")
    w.set_defaults(func=cmd_worker)


def apply_flags(args: argparse.Namespace) -> None:
    """Flags given on the command line become the ARENA_* variables `load_settings` reads (and that a
    granian child process inherits)."""
    for name, var in _FLAGS.items():
        value = getattr(args, name, None)
        if value is not None:
            os.environ[var] = str(value)


def cmd_worker(args: argparse.Namespace) -> int:
    from api.threads import configure

    apply_flags(args)
    configure()
    return run_worker(reconcile_s=args.reconcile, grace_s=args.grace)


def run_worker(*, reconcile_s: float = 30.0, grace_s: float = 300.0, stop: threading.Event | None = None) -> int:
    from api.config import load_settings
    from api.deploy import open_adapters, preload_policies
    from api.limits.rules import RateRules
    from api.service import ArenaService
    from schemas.errors import ArenaError, ValidationError

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("arena.worker").setLevel(logging.WARNING)  # one line per episode: EpisodeRunner's
    settings = load_settings()
    if not settings.redis_url:
        raise ValidationError("--redis", "a worker takes its jobs from Redis: give --redis or ARENA_REDIS_URL")
    stop = stop or _stop_on_signals()
    a = open_adapters(settings, ride_out_s=15.0)  # rides out a Redis restart mid-episode
    service = ArenaService(a.store, a.queue, a.bus, a.registry, limits=RateRules(a.limiter, {}))
    threading.Thread(target=preload_policies, args=(a.registry,), name="preload", daemon=True).start()
    log.info("worker %s ready: %d episode threads, store %s://, redis %s://", getattr(a.queue, "consumer", "?"),
             settings.workers, settings.store.partition(":")[0], settings.redis_url.partition(":")[0])
    from api.jobs.redis import RedisQueue

    queue = a.queue
    assert isinstance(queue, RedisQueue)
    while True:
        try:
            lost = [e.id for e in a.store.list_unfinished_episodes() if not queue.knows(e.id)]
            if lost:
                service.recover()  # idempotent: only the jobs the queue does not hold are added
                log.warning("reconcile: requeued %d episodes whose jobs were lost: %s", len(lost), lost[:10])
        except ArenaError as exc:
            log.warning("reconcile failed: %s", exc)
        if stop.wait(reconcile_s):
            break
    log.info("stopping: finishing the running episodes (at most %.0f s)", grace_s)
    queue.close(grace_s=grace_s)
    a.store.close()
    log.info("stopped")
    return 0


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    return stop
