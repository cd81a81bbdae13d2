"""LiveBus: ordered per-episode message logs that workers append to and WebSocket clients follow.

A subscriber always starts at the first message, so a client that connects late first gets everything
so far, then follows live until the final message.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Protocol, runtime_checkable


@runtime_checkable
class LiveBus(Protocol):
    def open(self, episode_id: str) -> None:
        """Create the episode's log (before its job is queued, so early subscribers wait on it)."""
        ...

    def publish(self, episode_id: str, message: bytes, *, final: bool = False) -> None:
        """Append a message; `final` closes the log. Safe to call from any thread."""
        ...

    def publish_many(self, episode_id: str, messages: Sequence[bytes], *, final: bool = False) -> None:
        """Append messages in order, as one operation (a worker batches the frames of fast steps);
        `final` closes the log after the last one. Nothing is appended for an empty batch."""
        ...

    def has(self, episode_id: str) -> bool:
        """Whether the bus still holds this episode's log (live, or recently finished)."""
        ...

    def subscribe(self, episode_id: str) -> AsyncIterator[bytes]:
        """Every message from the first, then live ones, ending after the final message."""
        ...
