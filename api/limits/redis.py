"""`RedisRateLimiter`: fixed-window counters in Redis, so every API process counts against the same limits.

One Lua script per hit (atomic): read the window's counter, refuse if it is full (a refused event is
not counted), else increment it and let the key expire with its window. Windows are aligned to
multiples of `window_s` on the Redis server's clock (`TIME`), so processes on machines whose clocks
differ still share one window. Driver errors become `LimiterError` (HTTP 503).
"""

from __future__ import annotations

import redis

from schemas.errors import LimiterError

# KEYS: counter key prefix. ARGV: limit, window seconds. Returns "0" or the seconds to wait.
_HIT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local window = tonumber(ARGV[2])
local index = math.floor(now / window)
local key = KEYS[1] .. ':' .. string.format('%d', index)
local count = tonumber(redis.call('GET', key) or '0')
if count >= tonumber(ARGV[1]) then
  return string.format('%.6f', math.max((index + 1) * window - now, 0.001))
end
redis.call('INCR', key)
if count == 0 then redis.call('PEXPIREAT', key, math.ceil((index + 1) * window * 1000) + 1000) end
return '0'
"""


class RedisRateLimiter:
    def __init__(self, client: redis.Redis, *, prefix: str = "arena:") -> None:
        self.client = client
        self.p = f"{prefix}rate:"
        self._hit = client.register_script(_HIT)

    def hit(self, key: str, *, limit: int, window_s: float) -> float:
        if limit < 1 or not window_s > 0:
            raise ValueError("limit must be >= 1 and window_s > 0")
        try:
            wait = self._hit(keys=[f"{self.p}{key}:{window_s:g}"], args=[limit, repr(float(window_s))])
        except redis.RedisError as exc:
            raise LimiterError(f"rate limiter (Redis) unavailable: {exc}") from exc
        return float(wait)

    def close(self) -> None:
        return None  # the client belongs to whoever made it (api.deploy closes it)
