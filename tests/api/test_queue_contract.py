"""The JobQueue contract, for every adapter: ThreadQueue (in-process) and RedisQueue (a real redis-server).

Every submitted job runs, once; jobs start round-robin between voters (issue 10, item 14: one voter's
backlog of long turns must not starve another voter's short one); `position` says how many jobs are
ahead; `close` waits for running jobs. The Redis-only behaviour (a job left by a dead worker is run
again, a job that keeps failing is dead-lettered, a long job is kept alive by its heartbeat) follows.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest
import redis

from api.jobs import redis_scripts
from api.jobs.local import ThreadQueue
from api.jobs.port import EpisodeJob, JobHandler, JobQueue
from api.jobs.redis import GROUP, RedisQueue
from schemas.errors import QueueError

MakeQueue = Callable[..., JobQueue]
WAIT_S = 20.0


def job(episode_id: str, voter: str = "") -> EpisodeJob:
    return EpisodeJob(episode_id=episode_id, robot_id="franka", scene_id="table", policy="scripted",
                      instruction="pick up the red cube", seed=7, max_steps=5, voter=voter)


class Recorder:
    """A handler that records the order jobs start in; jobs named `gate*` wait for `release`."""

    def __init__(self) -> None:
        self.started: list[str] = []
        self.finished: list[str] = []
        self.release = threading.Event()
        self.cond = threading.Condition()

    def __call__(self, j: EpisodeJob) -> None:
        with self.cond:
            self.started.append(j.episode_id)
            self.cond.notify_all()
        if j.episode_id.startswith("gate"):
            assert self.release.wait(WAIT_S)
        with self.cond:
            self.finished.append(j.episode_id)
            self.cond.notify_all()

    def wait_for(self, what: Callable[[], bool]) -> None:
        with self.cond:
            assert self.cond.wait_for(what, timeout=WAIT_S), (self.started, self.finished)


@pytest.fixture(params=["thread", "redis"])
def make_queue(request: pytest.FixtureRequest) -> Iterator[MakeQueue]:
    """`make_queue(handler, workers=1)`: a started queue of the parametrized adapter, closed afterwards."""
    made: list[JobQueue] = []
    client: redis.Redis | None = None
    if request.param == "redis":
        client = request.getfixturevalue("redis_client")
        prefix = request.getfixturevalue("redis_prefix")

    def make(handler: JobHandler, workers: int = 1, **kw: object) -> JobQueue:
        if client is None:
            queue: JobQueue = ThreadQueue(handler, workers=workers)
        else:
            queue = RedisQueue(client, handler, prefix=prefix, concurrency=workers, **kw)  # type: ignore[arg-type]
        made.append(queue)
        return queue

    yield make
    for queue in made:
        queue.close()


def test_every_job_runs_once_with_its_fields(make_queue: MakeQueue) -> None:
    seen: list[EpisodeJob] = []
    lock = threading.Lock()

    def handler(j: EpisodeJob) -> None:
        with lock:
            seen.append(j)

    queue = make_queue(handler, workers=2)
    jobs = [job(f"e{i}", voter=f"v{i % 3}") for i in range(12)]
    for j in jobs:
        queue.submit(j)
    deadline = time.monotonic() + WAIT_S
    while len(seen) < len(jobs) and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.2)  # nothing runs twice
    assert sorted(seen, key=lambda j: j.episode_id) == sorted(jobs, key=lambda j: j.episode_id)


def test_submitting_a_queued_or_running_job_again_is_a_no_op(make_queue: MakeQueue) -> None:
    rec = Recorder()
    queue = make_queue(rec)
    queue.submit(job("gate"))
    rec.wait_for(lambda: rec.started == ["gate"])
    for _ in range(3):
        queue.submit(job("gate"))  # running
        queue.submit(job("e1", "a"))  # queued
    rec.release.set()
    rec.wait_for(lambda: len(rec.finished) == 2)
    time.sleep(0.3)
    assert rec.started == ["gate", "e1"]


def test_voters_take_turns_so_a_backlog_does_not_starve_others(make_queue: MakeQueue) -> None:
    rec = Recorder()
    queue = make_queue(rec)
    queue.submit(job("gate", "g"))
    rec.wait_for(lambda: rec.started == ["gate"])
    for i in range(12):  # one voter's twelve long turns...
        queue.submit(job(f"a{i}", "alice"))
    queue.submit(job("b0", "bob"))  # ...then another voter's short one
    queue.submit(job("b1", "bob"))
    rec.release.set()
    rec.wait_for(lambda: len(rec.finished) == 15)
    assert rec.started[:6] == ["gate", "a0", "b0", "a1", "b1", "a2"]
    assert rec.started[6:] == [f"a{i}" for i in range(3, 12)]


def test_position_counts_the_jobs_that_start_first(make_queue: MakeQueue) -> None:
    rec = Recorder()
    queue = make_queue(rec)
    queue.submit(job("gate", "g"))
    rec.wait_for(lambda: rec.started == ["gate"])
    for eid, voter in [("a0", "alice"), ("a1", "alice"), ("a2", "alice"), ("b0", "bob"), ("c0", "carol")]:
        queue.submit(job(eid, voter))
    positions = {eid: queue.position(eid) for eid in ["a0", "b0", "c0", "a1", "a2", "gate", "nope"]}
    assert positions == {"a0": 0, "b0": 1, "c0": 2, "a1": 3, "a2": 4, "gate": None, "nope": None}
    rec.release.set()
    rec.wait_for(lambda: len(rec.finished) == 6)
    assert rec.started[1:] == ["a0", "b0", "c0", "a1", "a2"]  # the order position promised
    assert queue.position("a2") is None


def test_a_failing_job_does_not_stop_the_queue(make_queue: MakeQueue) -> None:
    rec = Recorder()

    def handler(j: EpisodeJob) -> None:
        if j.episode_id == "bad":
            raise RuntimeError("boom")
        rec(j)

    queue = make_queue(handler, visibility_s=60.0)
    queue.submit(job("bad"))
    queue.submit(job("good"))
    rec.wait_for(lambda: rec.finished == ["good"])


def test_close_waits_for_running_jobs_then_refuses_new_ones(make_queue: MakeQueue) -> None:
    rec = Recorder()
    queue = make_queue(rec)
    queue.submit(job("gate"))
    rec.wait_for(lambda: rec.started == ["gate"])
    releaser = threading.Timer(0.3, rec.release.set)
    releaser.start()
    queue.close()
    releaser.join()
    assert rec.finished == ["gate"]
    with pytest.raises(QueueError, match="closed"):
        queue.submit(job("late"))


def test_workers_counts_live_workers(make_queue: MakeQueue) -> None:
    queue = make_queue(Recorder(), workers=2, heartbeat_s=0.05)
    deadline = time.monotonic() + WAIT_S
    while queue.workers() < 1 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert queue.workers() in (1, 2)  # threads in-process; one worker process with Redis


# ---- RedisQueue only: what a shared queue adds ---------------------------------------------------------


def _take_as_dead_worker(client: redis.Redis, prefix: str) -> None:
    """Take the next job exactly as a worker does, then never touch it again (as if SIGKILLed)."""
    p = f"{prefix}q:"
    take = client.register_script(redis_scripts.TAKE)
    assert take(keys=[p + "ring", p + "stream", p + "jobs", p + "tries"], args=[p + "v:", GROUP, "dead-worker"])


def test_a_job_left_by_a_dead_worker_runs_again(redis_client: redis.Redis, redis_prefix: str) -> None:
    producer = RedisQueue(redis_client, prefix=redis_prefix)
    RedisQueue(redis_client, Recorder(), prefix=redis_prefix, concurrency=1).close()  # creates the group
    producer.submit(job("orphan", "alice"))
    _take_as_dead_worker(redis_client, redis_prefix)
    assert producer.position("orphan") is None  # in flight: not queued...
    assert producer.knows("orphan")  # ...but known
    rec = Recorder()
    worker = RedisQueue(redis_client, rec, prefix=redis_prefix, visibility_s=0.5)
    try:
        rec.wait_for(lambda: rec.finished == ["orphan"])
        deadline = time.monotonic() + WAIT_S
        while producer.knows("orphan") and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not producer.knows("orphan")  # acknowledged and forgotten
    finally:
        worker.close()


def test_a_job_that_keeps_failing_is_dead_lettered(redis_client: redis.Redis, redis_prefix: str) -> None:
    tries: list[str] = []
    dead: list[tuple[str, str]] = []

    def handler(j: EpisodeJob) -> None:
        tries.append(j.episode_id)
        raise RuntimeError("the simulation crashed")

    worker = RedisQueue(redis_client, handler, prefix=redis_prefix, visibility_s=0.3, max_deliveries=2,
                        on_dead=lambda j, reason: dead.append((j.episode_id, reason)))
    try:
        worker.submit(job("cursed", "alice"))
        deadline = time.monotonic() + WAIT_S
        while not dead and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        worker.close()
    assert tries == ["cursed", "cursed"]
    assert dead == [("cursed", "gave up after 2 attempts: the worker running this episode stopped or failed "
                               "each time")]
    assert [(d["id"], d["reason"]) for d in worker.dead_letters()] == dead
    assert not worker.knows("cursed")


def test_a_long_job_is_kept_alive_by_its_heartbeat(redis_client: redis.Redis, redis_prefix: str) -> None:
    runs: list[str] = []

    def slow(j: EpisodeJob) -> None:
        runs.append(j.episode_id)
        time.sleep(1.5)  # five visibility timeouts

    first = RedisQueue(redis_client, slow, prefix=redis_prefix, visibility_s=0.3, heartbeat_s=0.05)
    first.submit(job("long"))
    time.sleep(0.2)
    second = RedisQueue(redis_client, slow, prefix=redis_prefix, visibility_s=0.3, heartbeat_s=0.05)
    try:
        time.sleep(2.0)
    finally:
        first.close()
        second.close()
    assert runs == ["long"]


def test_close_gives_unfinished_jobs_back(redis_client: redis.Redis, redis_prefix: str) -> None:
    stuck = Recorder()
    first = RedisQueue(redis_client, stuck, prefix=redis_prefix)
    first.submit(job("gate-held", "alice"))
    stuck.wait_for(lambda: stuck.started == ["gate-held"])
    first.close(grace_s=0.1)  # the job does not finish in time: it goes back to the queue
    assert first.position("gate-held") == 0
    rec = Recorder()
    rec.release.set()
    second = RedisQueue(redis_client, rec, prefix=redis_prefix)
    try:
        rec.wait_for(lambda: rec.finished == ["gate-held"])
    finally:
        stuck.release.set()
        second.close()


def test_redis_down_is_a_queue_error_not_a_hang(make_redis_server: type, tmp_path,
                                                connect_redis: Callable[..., redis.Redis]) -> None:
    server = make_redis_server(tmp_path / "r").start()
    queue = RedisQueue(connect_redis(server.url), prefix="x:")
    queue.submit(job("before"))
    server.stop()
    t0 = time.monotonic()
    with pytest.raises(QueueError, match="unavailable"):
        queue.submit(job("during"))
    assert queue.position("before") is None  # shown to viewers only: unknown rather than an error
    with pytest.raises(QueueError):
        queue.workers()
    assert time.monotonic() - t0 < 10
    server.start()  # appendonly: the queued job survived the restart
    assert queue.position("before") == 0
