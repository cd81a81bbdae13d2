"""The RateLimiter contract, for every adapter: MemoryRateLimiter and RedisRateLimiter (a real redis-server).

Fixed windows: at most `limit` events per window, refused events not counted, the Retry-After until
the window ends, keys and window sizes counted apart. Redis adds: every process on the same server
shares the counts, and a Redis that is down is a `LimiterError` (HTTP 503), not a hang.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis

from api.limits.memory import MemoryRateLimiter
from api.limits.port import RateLimiter
from api.limits.redis import RedisRateLimiter
from schemas.errors import LimiterError

HOUR = 3600.0
Connect = Callable[..., redis.Redis]


@pytest.fixture(params=["memory", "redis"])
def limiter(request: pytest.FixtureRequest) -> Iterator[RateLimiter]:
    if request.param == "memory":
        made: RateLimiter = MemoryRateLimiter()
    else:
        made = RedisRateLimiter(request.getfixturevalue("redis_client"), prefix=request.getfixturevalue("redis_prefix"))
    yield made
    made.close()


def test_at_most_limit_events_per_window(limiter: RateLimiter) -> None:
    assert [limiter.hit("k", limit=3, window_s=HOUR) for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = limiter.hit("k", limit=3, window_s=HOUR)
    assert 0 < wait <= HOUR
    assert 0 < limiter.hit("k", limit=3, window_s=HOUR) <= wait  # still refused, and not counted


def test_keys_and_window_sizes_are_counted_apart(limiter: RateLimiter) -> None:
    assert limiter.hit("a", limit=1, window_s=HOUR) == 0.0
    assert limiter.hit("a", limit=1, window_s=HOUR) > 0
    assert limiter.hit("b", limit=1, window_s=HOUR) == 0.0
    assert limiter.hit("a", limit=1, window_s=2 * HOUR) == 0.0


def test_a_new_window_allows_again(limiter: RateLimiter) -> None:
    while limiter.hit("k", limit=2, window_s=1.0) == 0.0:
        pass
    wait = limiter.hit("k", limit=2, window_s=1.0)
    assert 0 < wait <= 1.0
    time.sleep(wait + 0.01)
    assert limiter.hit("k", limit=2, window_s=1.0) == 0.0


def test_concurrent_hits_never_exceed_the_limit(limiter: RateLimiter) -> None:
    allowed: list[bool] = []
    lock = threading.Lock()

    def hammer() -> None:
        for _ in range(25):
            ok = limiter.hit("k", limit=30, window_s=HOUR) == 0.0
            with lock:
                allowed.append(ok)

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(allowed) == 200
    assert sum(allowed) == 30


def test_bad_rules_are_refused(limiter: RateLimiter) -> None:
    with pytest.raises(ValueError, match="limit"):
        limiter.hit("k", limit=0, window_s=HOUR)
    with pytest.raises(ValueError, match="window_s"):
        limiter.hit("k", limit=1, window_s=0)


# ---- RedisRateLimiter only -----------------------------------------------------------------------------


def test_api_processes_share_the_counts(redis_server, redis_prefix: str, connect_redis: Connect) -> None:
    one, two = (RedisRateLimiter(connect_redis(redis_server.url), prefix=redis_prefix) for _ in range(2))
    assert one.hit("voter:v1", limit=2, window_s=HOUR) == 0.0
    assert two.hit("voter:v1", limit=2, window_s=HOUR) == 0.0
    assert one.hit("voter:v1", limit=2, window_s=HOUR) > 0
    assert two.hit("voter:v1", limit=2, window_s=HOUR) > 0


def test_redis_down_is_a_limiter_error_not_a_hang(make_redis_server: type, tmp_path: Path,
                                                   connect_redis: Connect) -> None:
    server = make_redis_server(tmp_path / "r").start()
    limiter = RedisRateLimiter(connect_redis(server.url))
    assert limiter.hit("k", limit=5, window_s=HOUR) == 0.0
    server.stop()
    t0 = time.monotonic()
    with pytest.raises(LimiterError, match="unavailable"):
        limiter.hit("k", limit=5, window_s=HOUR)
    assert time.monotonic() - t0 < 5
    server.start()
    assert limiter.hit("k", limit=5, window_s=HOUR) == 0.0  # back, and the script reloaded


def test_redis_client_is_configured_with_timeouts(redis_server, connect_redis: Connect) -> None:
    client: redis.Redis = connect_redis(redis_server.url)
    kw = client.connection_pool.connection_kwargs
    assert kw["socket_timeout"]
    assert kw["socket_connect_timeout"]
