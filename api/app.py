"""The Litestar application: wiring of adapters (embedded default) and error mapping.

Serve with granian:  granian --interface asgi --factory api.app:create_app   (or `arena serve`).
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from litestar import Litestar
from litestar.datastructures import State
from litestar.di import Provide
from litestar.exceptions import ValidationException
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from api import ratings
from api.config import Settings, load_settings
from api.deploy import open_adapters, preload_policies
from api.guard import RequestGuard
from api.http_errors import arena_error, invalid_request, unexpected_error
from api.identity import load_secret
from api.limits.port import RateLimiter
from api.limits.rules import RateRules, parse_rule
from api.routes import archive, battles, catalogue, episodes, leaderboard, web
from api.routes.openapi_specs import API_DESCRIPTION, StrictStructSchemaPlugin
from api.service import ArenaService
from schemas.errors import ArenaError
from sim_engine.scene import SCENES
from sim_engine.world import load_world

log = logging.getLogger("arena")


def rate_rules(settings: Settings, limiter: RateLimiter) -> RateRules:
    rules = {
        "sessions": [parse_rule(settings.limit_sessions, "ARENA_LIMIT_SESSIONS")],
        "turns": [parse_rule(settings.limit_turns, "ARENA_LIMIT_TURNS")],
        "votes": [parse_rule(settings.limit_votes, "ARENA_LIMIT_VOTES"),
                  parse_rule(settings.limit_votes_daily, "ARENA_LIMIT_VOTES_DAILY")],
    }
    return RateRules(limiter, rules, settings.limit_address_factor)


def build_service(settings: Settings) -> ArenaService:
    Path(settings.data_dir).mkdir(parents=True, exist_ok=True)
    a = open_adapters(settings)  # embedded default, or Redis queue/bus/limits with ARENA_REDIS_URL (api.deploy)
    return ArenaService(a.store, a.queue, a.bus, a.registry, limits=rate_rules(settings, a.limiter),
                        default_max_steps=settings.max_steps, instruction_max_chars=settings.instruction_max_chars,
                        leaderboard_rounds=settings.leaderboard_rounds, max_running_turns=settings.max_running_turns,
                        stream_pace=settings.stream_pace)


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
        n = 0 if settings.redis_url else service.recover()  # scaled out, workers requeue lost jobs (api.worker_main)
        if n:
            log.warning("requeued %d unfinished episodes", n)
        if not (settings.redis_url and settings.workers == 0):  # an API-only process runs no policy
            threading.Thread(target=preload_policies, args=(service.registry,), name="preload", daemon=True).start()
        ratings.cache_for(service.store).start()  # leaderboards are fitted in the background, never per request

    def shut_down() -> None:
        service.queue.close()
        service.limits.limiter.close()
        ratings.close_cache(service.store)
        service.store.close()

    guard = DefineMiddleware(RequestGuard, secret=load_secret(settings.secret, settings.data_dir),
                             max_body=settings.max_body_bytes, trust_proxy=settings.trust_proxy,
                             allowed_origins=tuple(o.strip() for o in settings.allowed_origins.split(",") if o.strip()))

    return Litestar(
        route_handlers=[web.page, web.app_file, web.vendor_file,
                        catalogue.health, catalogue.robots, catalogue.scenes, catalogue.models, catalogue.scene_bundle,
                        battles.create_session, battles.get_session, battles.my_battles, battles.new_battle,
                        battles.get_battle, battles.create_turn, battles.understand, battles.get_turn, battles.vote,
                        episodes.trajectory, episodes.stream, leaderboard.leaderboard, leaderboard.votes,
                        archive.archive],
        dependencies={"service": Provide(lambda: service, use_cache=True, sync_to_thread=False),
                      "assets": Provide(lambda: assets, use_cache=True, sync_to_thread=False),
                      "caller": Provide(battles.caller_of, sync_to_thread=False)},
        middleware=[guard],
        plugins=[StrictStructSchemaPlugin()],  # request bodies say `additionalProperties: false`
        exception_handlers={ArenaError: arena_error, ValidationException: invalid_request,
                            HTTP_500_INTERNAL_SERVER_ERROR: unexpected_error},
        on_startup=[warm_up],
        on_shutdown=[shut_down],
        openapi_config=OpenAPIConfig(title="VLA Arena", version="0.1.0", description=API_DESCRIPTION),
        state=State({"service": service, "settings": settings}),
    )
