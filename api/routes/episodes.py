"""Trajectory downloads and live episode streams, for the voter who owns the battle.

Before the vote the trajectory is the blinded projection (`api.blind`): a different file from the full
one served after the vote, so it is never marked immutable (its ETag says which one it is). Streams are
always blinded and paced on the turn's clock (`api.pacing`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

from anyio import to_thread
from litestar import Request, Response, WebSocket, get, websocket
from litestar.di import NamedDependency
from litestar.params import FromPath

from api.blind import BlindCache
from api.pacing import anchor_time, paced, waiting
from api.queue_estimate import wait_estimate
from api.routes.openapi_specs import NOT_MODIFIED, CachedOperation, download, errors
from api.routes.web import if_none_match
from api.service import ArenaService, Caller
from api.streaming import encode, failed_message, replay_messages
from replay_format import FILE_EXTENSION, MEDIA_TYPE, decode_replay
from schemas.errors import NotFoundError, QueueError
from schemas.records import EpisodeRecord, EpisodeStatus

POLL_S = 0.2
START_POLL_S = 0.05  # while a turn waits to start: its first frames are due the moment both sides start
WAITING_POLL_S = 0.25  # how often a waiting stream asks the queue for its position and live workers
WAITING_EVERY_S = 1.0
_blind = BlindCache()


@get("/api/episodes/{episode_id:str}/trajectory", sync_to_thread=True, operation_class=CachedOperation,
     responses={200: download(MEDIA_TYPE), 304: NOT_MODIFIED, **errors(404, 503)})
def trajectory(request: Request, service: NamedDependency[ArenaService], caller: NamedDependency[Caller],
               episode_id: FromPath[str]) -> Response[bytes]:
    """The episode's replay file (docs/replay-format.md): blinded before the vote, complete after it.
    The complete file never changes (ETag = its sha256, cacheable for good); the blinded one revalidates
    (ETag "blind-<sha256>"), so the same URL gives the complete file once the battle is voted on."""
    episode, revealed = service.owned_episode(episode_id, caller)
    if not revealed:  # not before its stream has ended on the turn clock, as the turn view says
        episode = service.present.on_clock(episode, service.store.list_episodes(episode.turn_id))
    if episode.status is not EpisodeStatus.DONE or episode.result is None:
        raise NotFoundError("trajectory", episode_id)
    digest = episode.result.trajectory_sha256
    etag = f'"{digest}"' if revealed else f'"blind-{digest}"'
    headers = {"Content-Disposition": f'attachment; filename="{episode_id}{FILE_EXTENSION}"', "ETag": etag,
               "Cache-Control": "private, max-age=31536000, immutable" if revealed else "private, no-cache",
               "Vary": "Cookie"}
    if etag in if_none_match(request):
        return Response(b"", status_code=304, headers=headers)
    data = service.store.get_trajectory(episode_id)
    return Response(data if revealed else _blind.get(digest, data), media_type=MEDIA_TYPE, headers=headers)


@websocket("/api/episodes/{episode_id:str}/stream")
async def stream(socket: WebSocket, episode_id: FromPath[str], service: NamedDependency[ArenaService]) -> None:
    """Binary msgpack messages: "waiting" while the turn waits for workers, then header, frames per
    control step, end, paced on the turn's clock. Late clients get everything up to now at once."""
    caller = Caller(voter_id=socket.scope["arena_voter"], client=socket.scope["arena_client"])  # type: ignore[typeddict-item]
    await socket.accept()
    try:
        episode, _ = await to_thread.run_sync(service.owned_episode, episode_id, caller)
    except NotFoundError as exc:
        await socket.close(code=4404, reason=str(exc))
        return
    siblings = await _wait_for_start(socket, service, episode)
    anchor = anchor_time([e.started_at for e in siblings])
    live = await to_thread.run_sync(service.bus.has, episode_id)  # a network call with Redis: off the loop
    source = service.bus.subscribe(episode_id) if live else _from_store(service, episode)
    async for message in paced(source, anchor, service.stream_pace):
        await socket.send_bytes(message)
    await socket.close()
    ended = await to_thread.run_sync(service.store.get_episode, episode_id)
    service.present.times.observe([ended])  # its duration, for other voters' wait estimates


async def _wait_for_start(socket: WebSocket, service: ArenaService, episode: EpisodeRecord) -> list[EpisodeRecord]:
    """The turn's episodes once none is still queued; meanwhile "waiting" messages say how many episodes
    are ahead in the queue (when the queue can tell) and about how long until the turn starts."""
    last_sent, last_said, last_asked = 0.0, b"", -WAITING_POLL_S
    while True:
        siblings = await to_thread.run_sync(service.store.list_episodes, episode.turn_id)
        queued = [e for e in siblings if e.status is EpisodeStatus.QUEUED]
        if not queued:
            return siblings
        if time.monotonic() - last_asked >= WAITING_POLL_S:  # the queue may be remote: ask it less often
            last_asked = time.monotonic()
            said = await to_thread.run_sync(_waiting, service, episode, queued)
            if said != last_said or last_asked - last_sent > WAITING_EVERY_S:
                await socket.send_bytes(said)
                last_sent, last_said = time.monotonic(), said
        await asyncio.sleep(START_POLL_S)


def _waiting(service: ArenaService, episode: EpisodeRecord, queued: list[EpisodeRecord]) -> bytes:
    """The "waiting" message: jobs ahead of the turn's last queued episode, and the wait that means at
    the recent global episode duration (never this voter's or this battle's own episodes)."""
    position, workers = getattr(service.queue, "position", None), getattr(service.queue, "workers", None)
    ahead = max((position(e.id) or 0) for e in queued) if callable(position) else None
    try:
        live = workers() if callable(workers) else 0
    except QueueError:  # only shown to a waiting viewer: not worth failing the stream for
        live = 0
    per_episode = service.present.times.median(battle_id=episode.battle_id, voter_id=episode.voter_id)
    return waiting(ahead, wait_estimate(ahead, live, per_episode) if live else None)


async def _from_store(service: ArenaService, episode: EpisodeRecord) -> AsyncIterator[bytes]:
    """For episodes the bus no longer (or never) held: wait until stored, then rebuild the stream."""
    while episode.status in (EpisodeStatus.QUEUED, EpisodeStatus.RUNNING):
        await asyncio.sleep(POLL_S)
        episode = await to_thread.run_sync(service.store.get_episode, episode.id)
    if episode.status is EpisodeStatus.FAILED:
        yield encode(failed_message())
        return
    data = await to_thread.run_sync(service.store.get_trajectory, episode.id)
    for message in await to_thread.run_sync(lambda: replay_messages(episode.id, decode_replay(data))):
        yield message
