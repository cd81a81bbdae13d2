"""Rate limits: the `RateLimiter` port and its adapters (memory here; Redis in `api.limits.redis`)."""

from api.limits.memory import MemoryRateLimiter
from api.limits.port import RateLimiter

__all__ = ["MemoryRateLimiter", "RateLimiter"]
