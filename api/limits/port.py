"""The `RateLimiter` port: counts events per key in fixed windows.

Keys are built by the caller (e.g. ``"turns:voter:<id>"``, ``"sessions:ip:<addr>"``); an adapter only
counts. The embedded default keeps counts in memory (one process); the scaled-out deployment keeps them
in Redis so that every API process sees the same counts.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable


@runtime_checkable
class RateLimiter(Protocol):
    def hit(self, key: str, *, limit: int, window_s: float) -> float:
        """Count one event for `key`.

        Returns 0.0 when the event is allowed, else the seconds until the next one would be (the
        Retry-After). Windows are fixed: at most `limit` events per `window_s`-second window, aligned to
        multiples of `window_s` since the epoch, shared by every process on the same backend. A refused
        event is not counted. Raises `LimiterError` when the backend fails.
        """
        ...

    def close(self) -> None:
        """Release the backend; idempotent."""
        ...
