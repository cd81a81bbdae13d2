"""`Batcher`: a worker's live messages for one episode, sent in batches (`LiveBus.publish_many`).

A fast policy steps hundreds of times a second. Sent one by one, every frames message costs a round trip
to the bus (Redis) and a wake-up of its server; on a busy machine each of those waits for a core, so the
worker sits idle while its episode could compute. The batcher keeps messages for at most `max_delay_s`
(or until it holds `max_batch`), then sends them in one call, in order. A slow policy (each step longer
than `max_delay_s`) still gets every message out on time: a background thread sends whatever has waited
`max_delay_s`, so batching never adds more than that to the live stream (and the turn clock's lead,
`api.pacing.LEAD_S`, is larger).

A send that fails is raised from the next `add` or `flush` in the episode's thread, so the episode fails
as it would have with unbatched sends. `flush()` sends everything now (before the trajectory is stored and
the final message goes out); `close()` flushes and stops the thread.
"""

from __future__ import annotations

import threading
import time

from api.live.port import LiveBus

MAX_DELAY_S = 0.02
MAX_BATCH = 64


class Batcher:
    def __init__(self, bus: LiveBus, episode_id: str, *, max_delay_s: float = MAX_DELAY_S,
                 max_batch: int = MAX_BATCH) -> None:
        self.bus, self.episode_id = bus, episode_id
        self.max_delay_s, self.max_batch = max_delay_s, max_batch
        self._pending: list[bytes] = []
        self._since = 0.0  # when the oldest pending message was added
        self._error: BaseException | None = None
        self._closed = False
        self._cond = threading.Condition()
        self._send_lock = threading.Lock()  # one send at a time, so batches arrive in order
        self._thread: threading.Thread | None = None

    def add(self, message: bytes) -> None:
        with self._cond:
            self._raise()
            if not self._pending:
                self._since = time.monotonic()
            self._pending.append(message)
            due = len(self._pending) >= self.max_batch or time.monotonic() - self._since >= self.max_delay_s
            if self._thread is None:
                self._thread = threading.Thread(target=self._timer, name=f"live-{self.episode_id[:8]}", daemon=True)
                self._thread.start()
            self._cond.notify()
        if due:
            self.flush()

    def flush(self) -> None:
        """Send everything pending now, in the caller's thread; raises what a background send raised."""
        with self._send_lock:
            with self._cond:
                batch, self._pending = self._pending, []
            if batch:
                self.bus.publish_many(self.episode_id, batch)
        with self._cond:
            self._raise()

    def close(self) -> None:
        """Flush, then stop the background thread. Idempotent."""
        try:
            self.flush()
        finally:
            with self._cond:
                self._closed = True
                self._cond.notify()
            if self._thread is not None:
                self._thread.join()

    def _raise(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def _timer(self) -> None:
        while True:
            with self._cond:
                while not self._closed and not self._pending:
                    self._cond.wait()
                if self._closed:
                    return
                wait = self._since + self.max_delay_s - time.monotonic()
                if wait > 0:
                    self._cond.wait(wait)
                    continue
            try:
                with self._send_lock:
                    with self._cond:
                        batch, self._pending = self._pending, []
                    if batch:
                        self.bus.publish_many(self.episode_id, batch)
            except Exception as exc:  # handed to the episode's thread, which fails the episode
                with self._cond:
                    self._error = exc
                    self._closed = True
                return
