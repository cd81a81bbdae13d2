"""Round-robin between voters: the order in which queued jobs start.

Each voter has a FIFO of jobs; voters with jobs wait in a ring. Taking a job serves the voter at the
front of the ring and, if they have more, sends them to the back. One voter's backlog of twelve long
turns therefore delays another voter's new turn by at most one job per worker, not by the whole backlog.
`RedisQueue` keeps the same structure in Redis (lists and a ring), with the same `jobs_ahead` rule.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Mapping, Sequence

from api.jobs.port import EpisodeJob


def jobs_ahead(index: int, voter: str, ring: Sequence[str], lengths: Mapping[str, int]) -> int:
    """How many jobs start before the `index`-th (0-based) queued job of `voter`, if nothing else arrives.

    `ring` lists the voters with queued jobs, the next one to be served first; `lengths` their queue
    lengths. In each round every voter with jobs left starts one, in ring order."""
    ahead = index  # the voter's own earlier jobs
    for other in ring:
        if other == voter:
            continue
        n = lengths.get(other, 0)
        ahead += min(n, index)  # one per earlier round
        if n > index and ring.index(other) < ring.index(voter):
            ahead += 1  # and one in this job's round, before this voter's turn comes
    return ahead


class FairBacklog:
    """Queued jobs per voter, served round-robin. Not thread-safe: the owner holds a lock."""

    def __init__(self) -> None:
        self._queues: OrderedDict[str, deque[EpisodeJob]] = OrderedDict()  # ring order: next voter first

    def __len__(self) -> int:
        return sum(len(q) for q in self._queues.values())

    def push(self, job: EpisodeJob) -> None:
        self._queues.setdefault(job.voter, deque()).append(job)

    def pop(self) -> EpisodeJob | None:
        """The next job in fair order, or None when nothing is queued."""
        if not self._queues:
            return None
        voter, queue = next(iter(self._queues.items()))
        job = queue.popleft()
        if queue:
            self._queues.move_to_end(voter)
        else:
            del self._queues[voter]
        return job

    def drain(self) -> list[EpisodeJob]:
        jobs = [job for q in self._queues.values() for job in q]
        self._queues.clear()
        return jobs

    def position(self, episode_id: str) -> int | None:
        """Jobs that start before this one (0: it is next), or None if it is not queued here."""
        for voter, queue in self._queues.items():
            for index, job in enumerate(queue):
                if job.episode_id == episode_id:
                    lengths = {v: len(q) for v, q in self._queues.items()}
                    return jobs_ahead(index, voter, list(self._queues), lengths)
        return None
