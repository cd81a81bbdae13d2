"""The Litestar application: wiring of adapters (embedded default) and error mapping.

Serve with granian:  granian --interface asgi --factory api.app:create_app   (or `arena serve`).
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from litestar import Litestar, MediaType, Request, Response
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig

from api.config import Settings, load_settings
from api.jobs.local import ThreadQueue
from api.live.memory import MemoryLiveBus
from api.routes import battles, catalogue, episodes, leaderboard, web
from api.service import ArenaService
from api.store import open_store
from api.worker import EpisodeWorker
from policy_host.registry import Registry
from schemas.errors import ArenaError, ConflictError, NotFoundError, QueueError, StoreError, ValidationError
from sim_engine.scene import SCENES
from sim_engine.world import load_world

log = logging.getLogger("arena")

STATUS = [(NotFoundError, 404), (ConflictError, 409), (ValidationError, 400), (StoreError, 503), (QueueError, 503)]


def arena_error(request: Request, exc: ArenaError) -> Response:
    """Map the project's errors to HTTP: the message always says what was wrong."""
    code = next((c for cls, c in STATUS if isinstance(exc, cls)), 400)
    body: dict = {"status_code": code, "detail": str(exc), "error": type(exc).__name__}
    if isinstance(exc, ValidationError):
        body["field"] = exc.field
    return Response(body, status_code=code, media_type=MediaType.JSON)


def _preload_policies(registry: Registry) -> None:
    """Load the heavy shared parts of learned policies (encoders, weights) once, in the background, so the
    first battle that draws one does not wait for them. A failure here only costs that first battle time."""
    for entry in registry.entries.values():
        if entry.kind == "learned":
            try:
                registry.build(entry.name)
            except Exception:
                log.exception("could not preload %s (it will load on first use)", entry.name)


def build_service(settings: Settings) -> ArenaService:
    Path(settings.data_dir).mkdir(parents=True, exist_ok=True)
    store = open_store(settings.store)
    registry = Registry.from_file(settings.models)
    bus = MemoryLiveBus()
    queue = ThreadQueue(EpisodeWorker(store, bus, registry, stream_pace=settings.stream_pace), workers=settings.workers)
    return ArenaService(store, queue, bus, registry, default_max_steps=settings.max_steps,
                        instruction_max_chars=settings.instruction_max_chars,
                        leaderboard_rounds=settings.leaderboard_rounds)


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or load_settings()
    service = build_service(settings)
    assets = web.WebAssets(Path(settings.web_dir))
    if missing := assets.missing_vendor():
        log.error("web front end: %s missing from %s/node_modules; run `npm ci --prefix %s` "
                  "(scripts/dev serve does it)", ", ".join(missing), settings.web_dir, settings.web_dir)

    def warm_up() -> None:
        for scene in SCENES.values():  # compile models now, so /api/health means ready
            for robot_id in scene.robots:
                load_world(robot_id, scene.id)
        n = service.recover()
        if n:
            log.warning("requeued %d unfinished episodes", n)
        threading.Thread(target=_preload_policies, args=(service.registry,), name="preload", daemon=True).start()

    def shut_down() -> None:
        service.queue.close()
        service.store.close()

    return Litestar(
        route_handlers=[web.page, web.app_file, web.vendor_file,
                        catalogue.health, catalogue.robots, catalogue.scenes, catalogue.models, catalogue.scene_bundle,
                        battles.create_session, battles.get_session, battles.voter_battles, battles.new_battle,
                        battles.get_battle, battles.create_turn, battles.get_turn, battles.vote,
                        episodes.trajectory, episodes.stream, leaderboard.leaderboard, leaderboard.votes],
        dependencies={"service": Provide(lambda: service, use_cache=True, sync_to_thread=False),
                      "assets": Provide(lambda: assets, use_cache=True, sync_to_thread=False)},
        exception_handlers={ArenaError: arena_error},
        on_startup=[warm_up],
        on_shutdown=[shut_down],
        openapi_config=OpenAPIConfig(title="VLA Arena", version="0.1.0",
                                     description="Blind pairwise battles between robot policies in MuJoCo."),
        state=State({"service": service, "settings": settings}),
    )
