"""Trajectory downloads and live episode streams."""

from __future__ import annotations

import asyncio

from anyio import to_thread
from litestar import Request, Response, WebSocket, get, websocket
from litestar.di import NamedDependency
from litestar.params import FromPath

from api.routes.web import if_none_match
from api.service import ArenaService
from api.streaming import EndMessage, encode, replay_messages
from api.worker import public_error
from replay_format import FILE_EXTENSION, MEDIA_TYPE, decode_replay
from schemas.errors import NotFoundError
from schemas.records import EpisodeRecord, EpisodeStatus

POLL_S = 0.25


@get("/api/episodes/{episode_id:str}/trajectory", sync_to_thread=True)
def trajectory(request: Request, service: NamedDependency[ArenaService], episode_id: FromPath[str]) -> Response[bytes]:
    """The episode's replay file (docs/replay-format.md). A stored trajectory never changes: its ETag is
    its sha256, it may be cached for good, and a matching If-None-Match gets a 304 without the body."""
    episode = service.store.get_episode(episode_id)
    digest = episode.result.trajectory_sha256 if episode.status is EpisodeStatus.DONE and episode.result else None
    headers = {"Content-Disposition": f'attachment; filename="{episode_id}{FILE_EXTENSION}"'}
    if digest:
        headers |= {"ETag": f'"{digest}"', "Cache-Control": "private, max-age=31536000, immutable"}
        if f'"{digest}"' in if_none_match(request):
            return Response(b"", status_code=304, headers=headers)
    data = service.store.get_trajectory(episode_id)
    return Response(data, media_type=MEDIA_TYPE, headers=headers)


@websocket("/api/episodes/{episode_id:str}/stream")
async def stream(socket: WebSocket, episode_id: FromPath[str], service: NamedDependency[ArenaService]) -> None:
    """Binary msgpack messages: header, frames per control step, end. Late clients get everything."""
    await socket.accept()
    try:
        episode = await to_thread.run_sync(service.store.get_episode, episode_id)
    except NotFoundError as exc:
        await socket.close(code=4404, reason=str(exc))
        return
    if service.bus.has(episode_id):
        async for message in service.bus.subscribe(episode_id):
            await socket.send_bytes(message)
    else:
        for message in await _from_store(service, episode):
            await socket.send_bytes(message)
    await socket.close()


async def _from_store(service: ArenaService, episode: EpisodeRecord) -> list[bytes]:
    """For episodes the bus no longer (or never) held: wait until stored, then rebuild the stream."""
    while episode.status in (EpisodeStatus.QUEUED, EpisodeStatus.RUNNING):
        await asyncio.sleep(POLL_S)
        episode = await to_thread.run_sync(service.store.get_episode, episode.id)
    if episode.status is EpisodeStatus.FAILED:
        error = public_error(episode.error or "failed", list(service.registry.entries))
        return [encode(EndMessage(status="failed", error=error))]
    data = await to_thread.run_sync(service.store.get_trajectory, episode.id)
    return replay_messages(episode.id, decode_replay(data))
