"""In-process adapter: a thread pool. MuJoCo releases the GIL while stepping, so two threads run
both sides of a turn in parallel on two cores."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

from api.jobs.port import EpisodeJob, JobHandler
from schemas.errors import QueueError

log = logging.getLogger("arena.jobs")


class ThreadQueue:
    def __init__(self, handler: JobHandler, workers: int = 2) -> None:
        self._handler = handler
        self._pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="episode")

    def submit(self, job: EpisodeJob) -> None:
        try:
            self._pool.submit(self._run, job)
        except RuntimeError as exc:  # the pool is shut down
            raise QueueError(f"job queue is closed: {exc}") from exc

    def _run(self, job: EpisodeJob) -> None:
        try:
            self._handler(job)
        except Exception:  # the handler records failures itself; this only guards the pool
            log.exception("episode %s crashed its worker", job.episode_id)

    def close(self) -> None:
        """Finish the episodes that are running; drop the queued ones, which stay QUEUED in the store and
        are rerun by ArenaService.recover() at the next start."""
        self._pool.shutdown(wait=True, cancel_futures=True)
