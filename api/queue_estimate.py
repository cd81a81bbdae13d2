"""How long a queued turn will wait, from measured episode durations (the "about 20 s" beside the queue
position in the stream's "waiting" messages).

The figure is global: the median wall time of the most recently finished episodes of every policy, times
the jobs that must finish before the turn's last episode starts, divided by the live workers. It never
uses an episode of the waiting voter or of the waiting battle (their durations would say how fast that
battle's policies compute), and it is rounded coarsely, so it says nothing about which policy is on which
side. Durations are what the store records: from the moment a worker published the header to the stored
result (`started_at`..`finished_at`); the policy build before the header is not in it.
"""

from __future__ import annotations

import math
import statistics
import threading
from collections import OrderedDict
from collections.abc import Iterable

from schemas.records import EpisodeRecord, EpisodeStatus

SAMPLES = 64  # recent episodes kept


class EpisodeTimes:
    """Recently finished episodes' durations, fed from the records the API reads anyway (turn views,
    streams). Thread-safe: views are built in worker threads."""

    def __init__(self, size: int = SAMPLES) -> None:
        self.size = size
        self._lock = threading.Lock()
        self._samples: OrderedDict[str, tuple[str, str | None, float]] = OrderedDict()

    def observe(self, episodes: Iterable[EpisodeRecord]) -> None:
        """Record every finished episode among `episodes` (once each)."""
        for e in episodes:
            if e.status is not EpisodeStatus.DONE or e.started_at is None or e.finished_at is None:
                continue
            with self._lock:
                if e.id in self._samples:
                    continue
                self._samples[e.id] = (e.battle_id, e.voter_id, max(0.0, e.finished_at - e.started_at))
                while len(self._samples) > self.size:
                    self._samples.popitem(last=False)

    def median(self, *, battle_id: str, voter_id: str | None) -> float | None:
        """The median duration over episodes of other battles and other voters (None: none known)."""
        with self._lock:
            times = [t for b, v, t in self._samples.values()
                     if b != battle_id and (voter_id is None or v != voter_id)]
        return statistics.median(times) if times else None


def wait_estimate(ahead: int | None, workers: int, per_episode: float | None) -> int | None:
    """Seconds until a turn whose last queued episode has `ahead` jobs before it starts, rounded for
    display (None when the queue or the durations are unknown). The `ahead` jobs and the one running on
    the worker it waits for must finish: (ahead + 1) episodes shared among the live workers."""
    if ahead is None or per_episode is None:
        return None
    return round_eta((ahead + 1) * per_episode / max(1, workers))


def round_eta(seconds: float) -> int:
    """Coarse steps, so the figure carries no detail: whole seconds up to 10 s, then 5 s up to a minute,
    then 15 s up to five minutes, then whole minutes."""
    step = 1 if seconds <= 10 else 5 if seconds <= 60 else 15 if seconds <= 300 else 60
    return max(1, int(math.ceil(seconds / step)) * step)
