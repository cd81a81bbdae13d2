"""`EpisodeRunner`, the scaled-out worker's job handler, with real parts: a real MuJoCo episode, SQLite, a
real redis-server behind `RedisLiveBus` and `RedisQueue`.

A job that runs twice stores one episode and its viewers get one stream: a rerun after the first run
finished is skipped; a rerun after the first worker died mid-episode adds only what the stream lacks.
A job the queue gives up on fails its episode with the reason, and its stream ends.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
import redis

from api.deploy import EpisodeRunner
from api.jobs.port import EpisodeJob
from api.jobs.redis import RedisQueue
from api.live.memory import MemoryLiveBus
from api.live.redis import RedisLiveBus
from api.store import SqliteStore
from api.streaming import EndMessage, decode
from api.worker import EpisodeWorker
from policy_host.registry import DEFAULT_PATH, Registry
from schemas.records import EpisodeStatus, Side
from tests.api.store_records import battle, episode, session, turn

JOB = EpisodeJob(episode_id="e-left", robot_id="franka", scene_id="table", policy="scripted-expert",
                 instruction="wave at the camera", seed=11, max_steps=6, voter="v1")


@pytest.fixture
def store(tmp_path: Path) -> SqliteStore:
    s = SqliteStore(tmp_path / "arena.db")
    s.create_session(session(voter="v1"), battle())
    s.create_turn(turn(), [episode("e-left", Side.LEFT), episode("e-right", Side.RIGHT)])
    return s


def _messages(bus: RedisLiveBus, episode_id: str) -> list[bytes]:
    async def read() -> list[bytes]:
        return [m async for m in bus.subscribe(episode_id)]

    return asyncio.run(asyncio.wait_for(read(), 30))


def _runner(store: SqliteStore, bus: RedisLiveBus | MemoryLiveBus) -> EpisodeRunner:
    registry = Registry.from_file(DEFAULT_PATH)
    return EpisodeRunner(store, bus, EpisodeWorker(store, bus, registry))


def test_a_job_run_twice_stores_one_episode_and_one_stream(store: SqliteStore, redis_client: redis.Redis,
                                                           redis_prefix: str) -> None:
    bus = RedisLiveBus(redis_client, prefix=redis_prefix, block_ms=100)
    runner = _runner(store, bus)
    runner(JOB)
    first = store.get_episode("e-left")
    stream = _messages(bus, "e-left")
    runner(JOB)  # redelivered after the first worker stored it but died before acknowledging
    assert store.get_episode("e-left") == first
    assert first.status is EpisodeStatus.DONE
    assert _messages(bus, "e-left") == stream
    assert isinstance(decode(stream[-1]), EndMessage)


def test_a_rerun_after_a_crash_mid_episode_completes_the_same_stream(store: SqliteStore, redis_client: redis.Redis,
                                                                     redis_prefix: str) -> None:
    reference = MemoryLiveBus()
    _runner(store, reference)(JOB)  # what one uninterrupted run streams
    expected = asyncio.run(_collect(reference, "e-left"))
    store.mark_episode_running("e-left", time.time())  # the crashed run: RUNNING, half its stream out
    bus = RedisLiveBus(redis_client, prefix=redis_prefix, block_ms=100)
    bus.open("e-left")
    bus.begin("e-left")
    for message in expected[: len(expected) // 2]:
        bus.publish("e-left", message)
    _runner(store, bus)(JOB)  # another worker runs the job again
    assert _messages(bus, "e-left") == expected
    assert store.get_episode("e-left").status is EpisodeStatus.DONE


async def _collect(bus: MemoryLiveBus, episode_id: str) -> list[bytes]:
    return [m async for m in bus.subscribe(episode_id)]


def test_a_dead_lettered_job_fails_its_episode_with_the_reason(store: SqliteStore, redis_client: redis.Redis,
                                                               redis_prefix: str) -> None:
    bus = RedisLiveBus(redis_client, prefix=redis_prefix, block_ms=100)
    runner = _runner(store, bus)
    bus.open("e-left")

    def crash(job: EpisodeJob) -> None:
        raise RuntimeError("worker lost")

    queue = RedisQueue(redis_client, crash, prefix=redis_prefix, visibility_s=0.2, max_deliveries=2,
                       on_dead=runner.dead)
    try:
        queue.submit(JOB)
        deadline = time.monotonic() + 20
        while store.get_episode("e-left").status is not EpisodeStatus.FAILED and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        queue.close()
    failed = store.get_episode("e-left")
    assert failed.status is EpisodeStatus.FAILED
    assert failed.error is not None
    assert "gave up after 2 attempts" in failed.error
    end = decode(_messages(bus, "e-left")[-1])
    assert isinstance(end, EndMessage)
    assert end.status == "failed"
