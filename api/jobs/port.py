"""JobQueue: where the API drops episodes to run. Workers take them off and report through the Store
and the live bus, so the API process keeps no state of its own about running work."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

import msgspec


class EpisodeJob(msgspec.Struct, frozen=True, kw_only=True):
    episode_id: str
    robot_id: str
    scene_id: str
    policy: str
    instruction: str
    seed: int
    max_steps: int
    voter: str = ""  # whose turn this is: queues share workers fairly between voters
    start_from: str | None = None  # an episode whose final state this one starts from (a continued turn)
    previous_instructions: list[str] = []  # the turns it continues, oldest first ("now put it in the bowl")


JobHandler = Callable[[EpisodeJob], object]  # what it returns is ignored


@runtime_checkable
class JobQueue(Protocol):
    def submit(self, job: EpisodeJob) -> None:
        """Enqueue a job; raises QueueError if it cannot be taken. Jobs start round-robin between voters
        (`EpisodeJob.voter`), first come first served within one voter's jobs."""
        ...

    def position(self, episode_id: str) -> int | None:
        """How many queued jobs start before this one (0: it is next); None once it runs, when the queue
        does not know the job, or when its backend cannot be reached (it is only shown to viewers)."""
        ...

    def workers(self) -> int:
        """Live workers taking jobs (threads in-process; worker processes with Redis). Raises QueueError
        when the backend fails."""
        ...

    def close(self) -> None:
        """Stop taking jobs and wait for the ones running."""
        ...
