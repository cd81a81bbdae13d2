"""`RedisLiveBus`: each episode's live messages in one Redis stream, readable from every API process.

Workers append (`XADD`); a subscriber reads the stream from its first entry and then blocks for new
ones (`XREAD BLOCK`), ending after the entry marked final, so a client that comes late, or through
another API process, still gets every message from the header on. Once the final message is in (the
worker publishes it after the trajectory is stored), the stream expires after `finished_ttl_s`; later
clients get the stored file rebuilt as a stream (`api.routes.episodes`).

A job that runs again (its first worker died) must not add a second copy of what viewers already saw.
`begin(episode_id)` before a run numbers that run's messages 0-1, 0-2, ...; Redis refuses an entry whose
number is already in the stream, so a rerun only appends what the first run did not get to (episodes
are deterministic: same job, same messages). Messages published without `begin` are appended.
Driver errors become `BusError`; a subscriber rides out a Redis restart of up to `reconnect_s`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import Any

import redis
import redis.asyncio as aredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from schemas.errors import BusError

log = logging.getLogger("arena.live")

# KEYS: stream, state. ARGV: final ('1'/'0'), ttl while live, ttl after, then (entry id or '*', message) pairs.
# Appends the messages in order; `final` closes the log after the last one. Returns how many were added
# (an entry id already in the stream is a rerun's message and is skipped), or -1 if the log was closed.
_PUBLISH = """
if redis.call('GET', KEYS[2]) == 'final' then return -1 end
local added = 0
for i = 4, #ARGV, 2 do
  local last = ARGV[1] == '1' and i + 1 == #ARGV
  local ok = redis.pcall('XADD', KEYS[1], ARGV[i], 'm', ARGV[i + 1], 'f', last and '1' or '0')
  if not (type(ok) == 'table' and ok.err) then added = added + 1 end
end
if ARGV[1] == '1' then
  redis.call('SET', KEYS[2], 'final', 'EX', ARGV[3])
  redis.call('EXPIRE', KEYS[1], ARGV[3])
else
  redis.call('EXPIRE', KEYS[1], ARGV[2])
end
return added
"""


@contextlib.contextmanager
def _errors(doing: str) -> Iterator[None]:
    try:
        yield
    except redis.RedisError as exc:
        raise BusError(f"live bus (Redis) unavailable while {doing}: {exc}") from exc


class RedisLiveBus:
    def __init__(self, client: redis.Redis, *, async_client: Callable[[], aredis.Redis] | None = None,
                 prefix: str = "arena:", live_ttl_s: int = 86_400, finished_ttl_s: int = 120,
                 block_ms: int = 1000, reconnect_s: float = 30.0) -> None:
        self.client: Any = client
        self._async_client = async_client or _async_like(client)
        self.p, self.live_ttl_s, self.finished_ttl_s = f"{prefix}live:", live_ttl_s, finished_ttl_s
        self.block_ms, self.reconnect_s = block_ms, reconnect_s
        self._publish = client.register_script(_PUBLISH)
        self._seq: dict[str, int] = {}  # episode id -> last message number of this process's run
        self._lock = threading.Lock()

    def _keys(self, episode_id: str) -> list[str]:
        return [f"{self.p}{episode_id}", f"{self.p}{episode_id}:state"]

    def open(self, episode_id: str) -> None:
        """Mark the episode as live (so `has` is true before its first message). Never resets a log."""
        with _errors("opening a live log"):
            self.client.set(self._keys(episode_id)[1], "open", ex=self.live_ttl_s, nx=True)

    def has(self, episode_id: str) -> bool:
        """False also when Redis cannot be reached: a viewer then gets the episode from the store once it
        is stored (`api.routes.episodes`) instead of an error; `ping` reports the outage."""
        try:
            return bool(self.client.exists(*self._keys(episode_id)))
        except redis.RedisError as exc:
            log.warning("live bus (Redis) unavailable, streams come from the store: %s", exc)
            return False

    def ping(self) -> None:
        """Raises `BusError` when Redis cannot be reached (for /api/health)."""
        with _errors("checking the connection"):
            self.client.ping()

    def begin(self, episode_id: str) -> None:
        """A run of the episode starts here: number its messages from 1 (see the module docstring)."""
        with self._lock:
            self._seq[episode_id] = 0

    def publish(self, episode_id: str, message: bytes, *, final: bool = False) -> None:
        self.publish_many(episode_id, [message], final=final)

    def publish_many(self, episode_id: str, messages: Sequence[bytes], *, final: bool = False) -> None:
        """One round trip (one script) for the whole batch, in order."""
        if not messages:
            return
        with self._lock:
            seq = self._seq.get(episode_id)
            if seq is not None:
                self._seq[episode_id] = seq + len(messages)
            if final:
                self._seq.pop(episode_id, None)
        entries = ["*"] * len(messages) if seq is None else [f"0-{seq + i + 1}" for i in range(len(messages))]
        args: list[Any] = ["1" if final else "0", self.live_ttl_s, self.finished_ttl_s]
        for entry, message in zip(entries, messages, strict=True):
            args += [entry, message]
        with _errors("publishing live messages"):
            added = self._publish(keys=self._keys(episode_id), args=args)
        if added == -1 and seq is None:
            raise RuntimeError(f"live log of episode {episode_id} is already closed")

    async def subscribe(self, episode_id: str) -> AsyncIterator[bytes]:
        stream, state = self._keys(episode_id)
        client: Any = self._async_client()
        try:
            last, down_since = "0-0", None
            while True:
                try:
                    if last == "0-0" and not await client.exists(stream, state):
                        return
                    reply = await client.xread({stream: last}, count=512, block=self.block_ms)
                    down_since = None
                except (redis.ConnectionError, redis.TimeoutError) as exc:
                    down_since = down_since or time.monotonic()
                    if time.monotonic() - down_since > self.reconnect_s:
                        raise BusError(f"live bus (Redis) unavailable for {self.reconnect_s:g} s: {exc}") from exc
                    await asyncio.sleep(0.2)
                    continue
                except redis.RedisError as exc:
                    raise BusError(f"live bus (Redis) failed while reading a stream: {exc}") from exc
                if not reply:
                    if not await client.exists(stream, state):
                        return  # expired without a final message (its episode never ran)
                    continue
                for entry, fields in reply[0][1]:
                    last = entry
                    yield fields[b"m"]
                    if fields.get(b"f") == b"1":
                        return
        finally:
            with contextlib.suppress(Exception):
                await client.aclose()

    def close(self) -> None:
        return None


def _async_like(client: redis.Redis) -> Callable[[], aredis.Redis]:
    """An asyncio client to the same server as `client` (one per subscriber: XREAD BLOCK holds it)."""
    kw = client.connection_pool.connection_kwargs
    keep = ("host", "port", "db", "username", "password", "socket_connect_timeout")
    settings = {k: kw[k] for k in keep if kw.get(k) is not None}
    timeout = max(float(kw.get("socket_timeout") or 5.0), 5.0)

    def make() -> aredis.Redis:
        return aredis.Redis(**settings, socket_timeout=timeout, retry=Retry(NoBackoff(), 0))  # subscribe retries

    return make
