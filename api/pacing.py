"""Fair timing: both sides of a turn reach the voter on one clock.

Workers publish frames as fast as their policy and the simulation allow, so unpaced arrival times would
name the kind of policy (a learned VLA's frames come every ~40 ms, a scripted one's every ~5 ms). The
API therefore sends frames on the turn's clock instead: once every episode of the turn has started, the
clock starts at `anchor` (the later start, plus a small lead), and a frame recorded at simulated time
`t` is sent at `anchor + t / pace`; the header and the initial state (t = 0) go out at `anchor`, so both
sides appear together. An episode "starts" when its worker publishes its header (api.worker), after the
scene is loaded and the policy built, so neither load time shows. A client that connects late gets
everything up to now at once, then follows at the live edge. A side that is slower than real time is the
only thing that still shows, and only when it is slower than `pace` allows.
"""

from __future__ import annotations

import asyncio
import struct
import time
from collections.abc import AsyncIterator, Awaitable, Callable

from api.streaming import EndMessage, FramesMessage, WaitingMessage, decode, encode

# Time for both sides' first messages to reach the API before the clock starts: a worker publishes its
# header right after recording `started_at` (one store write, then a bus publish that batching may hold for
# up to 20 ms, `api.live.batching`). Every 50 ms here is 50 ms more before a voter's first frame.
LEAD_S = 0.1


def anchor_time(started_at: list[float | None], now: float | None = None) -> float:
    """The turn clock's zero: the latest start among its episodes (an episode that never started counts
    as starting now), plus `LEAD_S`."""
    now = time.time() if now is None else now
    return max((s if s is not None else now) for s in started_at) + LEAD_S if started_at else now


def sim_time(message: FramesMessage) -> float:
    """Simulated time of the last frame in a frames message."""
    return struct.unpack_from("<d", message.time, len(message.time) - 8)[0] if message.n else 0.0


async def paced(messages: AsyncIterator[bytes], anchor: float, pace: float, *,
                sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                clock: Callable[[], float] = time.time) -> AsyncIterator[bytes]:
    """`messages` with each one held until its time on the turn clock (pace 0: as they come): the header
    and the initial state until `anchor`, each control step's frames until `anchor + t / pace`; the end
    message follows the last frames at once."""
    async for raw in messages:
        if pace > 0:
            message = decode(raw)
            due = anchor + sim_time(message) / pace if isinstance(message, FramesMessage) else anchor
            if not isinstance(message, EndMessage) and (delay := due - clock()) > 0:
                await sleep(delay)
        yield raw


def waiting(ahead: int | None, eta_s: int | None = None) -> bytes:
    return encode(WaitingMessage(ahead=ahead, eta_s=eta_s))
