"""In-process adapter: worker threads taking jobs from a fair backlog. MuJoCo releases the GIL while
stepping, so two threads run both sides of a turn in parallel on two cores.

Jobs start round-robin between voters (`api.jobs.fair`), so one voter's backlog does not starve the
others. The embedded default's queue is memory only: jobs queued when the process stops stay QUEUED
in the store and `ArenaService.recover()` requeues them at the next start.
"""

from __future__ import annotations

import logging
import threading

from api.jobs.fair import FairBacklog
from api.jobs.port import EpisodeJob, JobHandler
from schemas.errors import QueueError

log = logging.getLogger("arena.jobs")


class ThreadQueue:
    def __init__(self, handler: JobHandler, workers: int = 2) -> None:
        self._handler = handler
        self._backlog = FairBacklog()
        self._ready = threading.Condition()
        self._closed = False
        self._running: set[str] = set()
        self._threads = [threading.Thread(target=self._loop, name=f"episode-{i}", daemon=True)
                         for i in range(max(1, workers))]
        for thread in self._threads:
            thread.start()

    def submit(self, job: EpisodeJob) -> None:
        with self._ready:
            if self._closed:
                raise QueueError("job queue is closed: the server is shutting down")
            if job.episode_id in self._running or self._backlog.position(job.episode_id) is not None:
                return  # already queued or running: submitting is idempotent per episode
            self._backlog.push(job)
            self._ready.notify()

    def position(self, episode_id: str) -> int | None:
        """Jobs queued ahead of this one; None once it runs (or if this queue does not hold it)."""
        with self._ready:
            return self._backlog.position(episode_id)

    def workers(self) -> int:
        """Worker threads alive (the embedded default's "live workers")."""
        return sum(t.is_alive() for t in self._threads)

    def _take(self) -> EpisodeJob | None:
        with self._ready:
            while True:
                if self._closed:
                    return None
                job = self._backlog.pop()
                if job is not None:
                    self._running.add(job.episode_id)
                    return job
                self._ready.wait()

    def _loop(self) -> None:
        while (job := self._take()) is not None:
            try:
                self._handler(job)
            except Exception:  # the handler records failures itself; this only keeps the thread alive
                log.exception("episode %s crashed its worker", job.episode_id)
            finally:
                with self._ready:
                    self._running.discard(job.episode_id)

    def close(self) -> None:
        """Finish the episodes that are running; drop the queued ones, which stay QUEUED in the store and
        are rerun by ArenaService.recover() at the next start. Idempotent."""
        with self._ready:
            self._closed = True
            dropped = self._backlog.drain()
            self._ready.notify_all()
        if dropped:
            log.info("queue closed with %d jobs not started (they stay queued in the store)", len(dropped))
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join()
