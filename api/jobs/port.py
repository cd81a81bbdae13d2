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


JobHandler = Callable[[EpisodeJob], None]


@runtime_checkable
class JobQueue(Protocol):
    def submit(self, job: EpisodeJob) -> None:
        """Enqueue a job; raises QueueError if it cannot be taken."""
        ...

    def close(self) -> None:
        """Stop taking jobs and wait for the ones running."""
        ...
