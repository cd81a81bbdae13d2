"""Live episode streams: the LiveBus port and its in-memory adapter (Redis streams for scale-out)."""

from api.live.memory import MemoryLiveBus
from api.live.port import LiveBus

__all__ = ["LiveBus", "MemoryLiveBus"]
