"""The LiveBus contract, for every adapter: MemoryLiveBus and RedisLiveBus (a real redis-server).

A subscriber gets every message from the first, in order and byte for byte, then follows live ones
and ends after the final message, whether it came before, during or after the episode. Then what Redis
adds: another process's bus sees the same log, a rerun of a job adds no duplicates, finished logs
expire, a subscriber rides out a Redis restart, and a Redis that is down is a `BusError`.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import redis

from api.live.port import LiveBus
from api.live.redis import RedisLiveBus
from schemas.errors import BusError

WAIT_S = 20.0
Connect = Callable[..., redis.Redis]


def messages(n: int) -> list[bytes]:
    """Binary messages of varying size, with NULs and every byte value."""
    return [bytes([i % 256]) * (i % 7) + os.urandom(16) + b"\x00" + bytes(range(256)) for i in range(n)]


def collect(bus: LiveBus, episode_id: str) -> list[bytes]:
    async def run() -> list[bytes]:
        return [m async for m in bus.subscribe(episode_id)]

    return asyncio.run(asyncio.wait_for(run(), WAIT_S))


def test_a_late_subscriber_gets_everything(bus: LiveBus) -> None:
    sent = messages(50)
    bus.open("ep")
    for m in sent[:-1]:
        bus.publish("ep", m)
    bus.publish("ep", sent[-1], final=True)
    assert collect(bus, "ep") == sent
    assert collect(bus, "ep") == sent  # and again


def test_an_early_subscriber_follows_live_to_the_final_message(bus: LiveBus) -> None:
    sent = messages(300)
    bus.open("ep")

    def publish() -> None:
        time.sleep(0.1)
        for i, m in enumerate(sent):
            bus.publish("ep", m, final=i == len(sent) - 1)
            if i % 50 == 0:
                time.sleep(0.02)

    worker = threading.Thread(target=publish)
    worker.start()
    got = collect(bus, "ep")
    worker.join()
    assert got == sent


def test_a_subscriber_midway_gets_the_start_then_the_rest(bus: LiveBus) -> None:
    sent = messages(20)
    bus.open("ep")
    for m in sent[:10]:
        bus.publish("ep", m)
    publisher = threading.Timer(0.2, lambda: [bus.publish("ep", m, final=m is sent[-1]) for m in sent[10:]])
    publisher.start()
    assert collect(bus, "ep") == sent
    publisher.join()


def test_has_and_unknown_episodes(bus: LiveBus) -> None:
    assert not bus.has("ep")
    assert collect(bus, "ep") == []  # nothing to follow: ends at once
    bus.open("ep")
    assert bus.has("ep")
    assert not bus.has("other")


def test_logs_are_separate_and_closed_logs_refuse_messages(bus: LiveBus) -> None:
    bus.open("a")
    bus.open("b")
    bus.publish("a", b"a1")
    bus.publish("b", b"b1", final=True)
    bus.publish("a", b"a2", final=True)
    assert (collect(bus, "a"), collect(bus, "b")) == ([b"a1", b"a2"], [b"b1"])
    with pytest.raises(RuntimeError, match="closed"):
        bus.publish("b", b"late")
    assert collect(bus, "b") == [b"b1"]


def test_batches_append_in_order_and_the_last_one_can_close(bus: LiveBus) -> None:
    sent = messages(100)
    bus.open("ep")
    bus.publish_many("ep", [])  # nothing: the log stays open and empty
    bus.publish("ep", sent[0])
    bus.publish_many("ep", sent[1:64])
    bus.publish_many("ep", sent[64:65])
    publisher = threading.Timer(0.2, lambda: bus.publish_many("ep", sent[65:], final=True))
    publisher.start()
    assert collect(bus, "ep") == sent  # a subscriber that came before the last batch
    publisher.join()
    assert collect(bus, "ep") == sent
    with pytest.raises(RuntimeError, match="closed"):
        bus.publish_many("ep", [b"late", b"later"])
    assert collect(bus, "ep") == sent


def test_many_subscribers_at_once(bus: LiveBus) -> None:
    sent = messages(40)
    bus.open("ep")

    async def run() -> list[list[bytes]]:
        async def one() -> list[bytes]:
            return [m async for m in bus.subscribe("ep")]

        tasks = [asyncio.create_task(one()) for _ in range(20)]
        await asyncio.sleep(0.1)
        await asyncio.to_thread(lambda: [bus.publish("ep", m, final=m is sent[-1]) for m in sent])
        return await asyncio.gather(*tasks)

    assert asyncio.run(asyncio.wait_for(run(), WAIT_S)) == [sent] * 20


# ---- RedisLiveBus only -----------------------------------------------------------------------------------


def test_another_process_sees_the_same_log(redis_client: redis.Redis, redis_server, redis_prefix: str,
                                           connect_redis: Connect) -> None:
    worker_side = RedisLiveBus(connect_redis(redis_server.url), prefix=redis_prefix)
    api_side = RedisLiveBus(redis_client, prefix=redis_prefix, block_ms=100)
    worker_side.open("ep")
    assert api_side.has("ep")
    sent = [b"1", b"2", b"3"]
    publisher = threading.Timer(0.2, lambda: [worker_side.publish("ep", m, final=m is sent[-1]) for m in sent])
    publisher.start()
    assert collect(api_side, "ep") == sent
    publisher.join()


def test_a_rerun_adds_no_duplicates(redis_client: redis.Redis, redis_prefix: str) -> None:
    first = RedisLiveBus(redis_client, prefix=redis_prefix)
    first.open("ep")
    first.begin("ep")
    for m in (b"header", b"f0", b"f1"):
        first.publish("ep", m)  # ...and its worker dies
    second = RedisLiveBus(redis_client, prefix=redis_prefix, block_ms=100)  # another worker runs it again
    second.begin("ep")
    for m in (b"header", b"f0", b"f1", b"f2"):
        second.publish("ep", m)
    second.publish("ep", b"end", final=True)
    assert collect(second, "ep") == [b"header", b"f0", b"f1", b"f2", b"end"]
    third = RedisLiveBus(redis_client, prefix=redis_prefix)  # a stale rerun after the end: no effect
    third.begin("ep")
    for m in (b"header", b"f0", b"f1", b"f2", b"end", b"extra"):
        third.publish("ep", m)
    assert collect(second, "ep") == [b"header", b"f0", b"f1", b"f2", b"end"]


def test_a_rerun_in_batches_adds_no_duplicates(redis_client: redis.Redis, redis_prefix: str) -> None:
    first = RedisLiveBus(redis_client, prefix=redis_prefix)
    first.open("ep")
    first.begin("ep")
    first.publish("ep", b"header")
    first.publish_many("ep", [b"f0", b"f1", b"f2"])  # ...and its worker dies
    second = RedisLiveBus(redis_client, prefix=redis_prefix, block_ms=100)
    second.begin("ep")
    second.publish("ep", b"header")
    second.publish_many("ep", [b"f0", b"f1"])  # batched differently this time
    second.publish_many("ep", [b"f2", b"f3", b"f4"])
    second.publish_many("ep", [b"f5", b"end"], final=True)
    assert collect(second, "ep") == [b"header", b"f0", b"f1", b"f2", b"f3", b"f4", b"f5", b"end"]


def test_finished_logs_expire(redis_client: redis.Redis, redis_prefix: str) -> None:
    bus = RedisLiveBus(redis_client, prefix=redis_prefix, finished_ttl_s=1, live_ttl_s=3600)
    bus.open("ep")
    bus.publish("ep", b"1")
    assert redis_client.ttl(f"{redis_prefix}live:ep") > 60
    bus.publish("ep", b"2", final=True)
    assert 0 < redis_client.ttl(f"{redis_prefix}live:ep") <= 1
    time.sleep(1.2)
    assert not bus.has("ep")
    assert collect(bus, "ep") == []


def test_a_subscriber_rides_out_a_redis_restart(make_redis_server: type, tmp_path: Path,
                                                 connect_redis: Connect) -> None:
    server = make_redis_server(tmp_path / "r").start()
    publisher = RedisLiveBus(connect_redis(server.url, ride_out_s=10.0))
    reader = RedisLiveBus(connect_redis(server.url), block_ms=100)
    publisher.open("ep")
    publisher.publish("ep", b"before")

    def restart_then_finish() -> None:
        time.sleep(0.3)
        server.stop()
        time.sleep(1.0)
        server.start()
        publisher.publish("ep", b"after")
        publisher.publish("ep", b"end", final=True)

    thread = threading.Thread(target=restart_then_finish)
    thread.start()
    got = collect(reader, "ep")
    thread.join()
    assert got == [b"before", b"after", b"end"]


def test_redis_down_is_a_bus_error_not_a_hang(make_redis_server: type, tmp_path: Path,
                                              connect_redis: Connect) -> None:
    server = make_redis_server(tmp_path / "r").start()
    bus = RedisLiveBus(connect_redis(server.url), reconnect_s=1.0, block_ms=100)
    bus.open("ep")
    bus.publish("ep", b"1")
    server.stop()
    t0 = time.monotonic()
    assert not bus.has("ep")  # viewers fall back to the store (api.routes.episodes)...
    with pytest.raises(BusError, match="unavailable"):
        bus.ping()  # ...and /api/health says why
    with pytest.raises(BusError, match="unavailable"):
        bus.publish("ep", b"2")
    with pytest.raises(BusError, match="unavailable"):
        collect(bus, "ep")
    assert time.monotonic() - t0 < 10
