"""In-process LiveBus for the embedded default. Workers publish from threads; subscribers are
asyncio tasks woken with call_soon_threadsafe. Finished logs are kept for the `retain` most recent
episodes; older ones are dropped and clients fall back to the stored trajectory."""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field


@dataclass
class _Log:
    messages: list[bytes] = field(default_factory=list)
    closed: bool = False
    waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = field(default_factory=set)


class MemoryLiveBus:
    def __init__(self, retain: int = 64) -> None:
        self._logs: OrderedDict[str, _Log] = OrderedDict()
        self._lock = threading.Lock()
        self._retain = retain

    def open(self, episode_id: str) -> None:
        with self._lock:
            self._logs[episode_id] = _Log()

    def has(self, episode_id: str) -> bool:
        with self._lock:
            return episode_id in self._logs

    def publish(self, episode_id: str, message: bytes, *, final: bool = False) -> None:
        self.publish_many(episode_id, [message], final=final)

    def publish_many(self, episode_id: str, messages: Sequence[bytes], *, final: bool = False) -> None:
        if not messages:
            return
        with self._lock:
            log = self._logs.setdefault(episode_id, _Log())
            if log.closed:
                raise RuntimeError(f"live log of episode {episode_id} is already closed")
            log.messages.extend(messages)
            log.closed = final
            waiters = list(log.waiters)
            if final:
                self._logs.move_to_end(episode_id)
                self._evict()
        for loop, event in waiters:
            loop.call_soon_threadsafe(event.set)

    def _evict(self) -> None:
        finished = [k for k, v in self._logs.items() if v.closed]
        for key in finished[: max(0, len(finished) - self._retain)]:
            del self._logs[key]

    async def subscribe(self, episode_id: str) -> AsyncIterator[bytes]:
        with self._lock:
            log = self._logs.get(episode_id)
        if log is None:
            return
        waiter = (asyncio.get_running_loop(), asyncio.Event())
        with self._lock:
            log.waiters.add(waiter)
        try:
            sent = 0
            while True:
                waiter[1].clear()
                with self._lock:
                    batch, closed = log.messages[sent:], log.closed
                for message in batch:
                    yield message
                sent += len(batch)
                if closed and not batch:
                    return
                if not batch:
                    await waiter[1].wait()
        finally:
            with self._lock:
                log.waiters.discard(waiter)
