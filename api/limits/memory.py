"""In-process `RateLimiter`: fixed-window counters in a dict, guarded by a lock."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable


class MemoryRateLimiter:
    """Counts for one process (the embedded default). Old windows are dropped as new ones start."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._counts: dict[tuple[str, float], tuple[int, int]] = {}  # (key, window_s) -> (window index, count)
        self._lock = threading.Lock()

    def hit(self, key: str, *, limit: int, window_s: float) -> float:
        if limit < 1 or not window_s > 0:
            raise ValueError("limit must be >= 1 and window_s > 0")
        now = self._clock()
        index = math.floor(now / window_s)
        with self._lock:
            seen_index, count = self._counts.get((key, window_s), (index, 0))
            if seen_index != index:
                count = 0
            if count >= limit:
                return max((index + 1) * window_s - now, 1e-3)
            self._counts[(key, window_s)] = (index, count + 1)
            if len(self._counts) > 100_000:
                self._prune(now)
        return 0.0

    def _prune(self, now: float) -> None:
        self._counts = {k: v for k, v in self._counts.items() if v[0] == math.floor(now / k[1])}

    def close(self) -> None:
        return None
