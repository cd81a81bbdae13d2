"""`Batcher` (a worker's frames sent in batches) over both buses: every message arrives once and in order,
a message that waits is sent by the background thread without any further call, and a failed send is
raised in the episode's thread."""

from __future__ import annotations

import asyncio

import pytest

from api.live.batching import Batcher
from api.live.memory import MemoryLiveBus
from api.live.port import LiveBus

WAIT_S = 20.0


def read(bus: LiveBus, episode_id: str, count: int) -> list[bytes]:
    """The first `count` messages of the log, waiting for them (a subscriber, as the API has)."""
    async def run() -> list[bytes]:
        got: list[bytes] = []
        async for m in bus.subscribe(episode_id):
            got.append(m)
            if len(got) == count:
                break
        return got

    return asyncio.run(asyncio.wait_for(run(), WAIT_S))


def test_every_message_once_and_in_order_across_batches(bus: LiveBus) -> None:
    bus.open("ep")
    batcher = Batcher(bus, "ep", max_delay_s=0.005, max_batch=7)
    sent = [f"m{i}".encode() * (i % 5 + 1) for i in range(500)]
    for m in sent:
        batcher.add(m)
    batcher.close()
    batcher.close()  # idempotent
    bus.publish("ep", b"end", final=True)
    assert read(bus, "ep", len(sent) + 1) == [*sent, b"end"]


def test_a_waiting_message_is_sent_without_another_call(bus: LiveBus) -> None:
    bus.open("ep")
    batcher = Batcher(bus, "ep", max_delay_s=0.05, max_batch=1000)
    batcher.add(b"first")
    batcher.add(b"second")  # no flush, no close: the background thread sends both
    try:
        assert read(bus, "ep", 2) == [b"first", b"second"]
    finally:
        batcher.close()


def test_a_full_batch_is_sent_by_the_caller_at_once(bus: LiveBus) -> None:
    bus.open("ep")
    batcher = Batcher(bus, "ep", max_delay_s=3600.0, max_batch=3)  # the timer would wait an hour
    for m in (b"a", b"b", b"c"):
        batcher.add(m)
    try:
        assert read(bus, "ep", 3) == [b"a", b"b", b"c"]
    finally:
        batcher.close()


def test_a_failed_background_send_is_raised_in_the_episode_thread() -> None:
    bus = MemoryLiveBus()
    bus.open("ep")
    bus.publish("ep", b"end", final=True)  # the log is closed: every send fails
    batcher = Batcher(bus, "ep", max_delay_s=0.01, max_batch=1000)
    batcher.add(b"late")
    assert batcher._thread is not None
    batcher._thread.join(WAIT_S)  # the background thread tries, fails and stops
    assert not batcher._thread.is_alive()
    with pytest.raises(RuntimeError, match="closed"):
        batcher.add(b"later")
    batcher.close()  # nothing left to raise
