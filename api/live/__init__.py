"""Live episode streams: the LiveBus port, its in-memory adapter, and Redis streams for scale-out
(`api.live.redis`, imported on demand: it needs the `scale` extra)."""

from api.live.memory import MemoryLiveBus
from api.live.port import LiveBus

__all__ = ["LiveBus", "MemoryLiveBus"]
