"""Robots, scenes, scene bundles, models, health."""

from __future__ import annotations

from functools import cache
from typing import Any

import msgspec
import mujoco
from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, FromQuery

from api.deploy import dependency_health
from api.routes.openapi_specs import NOT_MODIFIED, ArenaOperation, CachedOperation, download, errors
from api.routes.web import Asset, asset_response, make_asset
from api.service import ArenaService
from api.views import ModelView, RobotView, SceneView


@get("/api/health", sync_to_thread=True, operation_class=ArenaOperation, responses={
    503: ResponseSpec(dict[str, Any], description="Degraded: the same body, saying which backend failed.")})
def health(service: NamedDependency[ArenaService]) -> Response[dict]:
    """"ok" (200) when the store, the job queue and the live bus answer, else "degraded" (503) saying
    which failed; `workers`: live episode workers (threads, or `arena worker` processes with Redis)."""
    ok, checks = dependency_health(service.store, service.queue, service.bus)
    body = {"status": "ok" if ok else "degraded", "mujoco": mujoco.__version__, "models": len(service.models()),
            **checks}
    return Response(body, status_code=200 if ok else 503)


@get("/api/robots", sync_to_thread=False, operation_class=ArenaOperation)
def robots(service: NamedDependency[ArenaService]) -> list[RobotView]:
    return service.robots()


@get("/api/scenes", sync_to_thread=False, responses=errors(400, 404), operation_class=ArenaOperation)
def scenes(service: NamedDependency[ArenaService], robot_id: FromQuery[str | None] = None) -> list[SceneView]:
    return service.scenes(robot_id)


@get("/api/models", sync_to_thread=False, operation_class=ArenaOperation)
def models(service: NamedDependency[ArenaService]) -> list[ModelView]:
    """Public names of the arena's policies. Says nothing about who is paired with whom."""
    return service.models()


@cache
def _bundle_asset(service: ArenaService, scene_id: str, robot_id: str) -> Asset:
    bundle = service.bundle(scene_id, robot_id)
    return make_asset(msgspec.msgpack.encode(bundle), "application/msgpack", f'"{bundle["hash"]}"')


@get("/api/scenes/{scene_id:str}/bundle", sync_to_thread=True, operation_class=CachedOperation,
     responses={200: download("application/msgpack"), 304: NOT_MODIFIED, **errors(400, 404)})
def scene_bundle(
    request: Request, service: NamedDependency[ArenaService], scene_id: FromPath[str], robot_id: FromQuery[str]
) -> Response[bytes]:
    """The scene MJCF and its assets, msgpack: {robot_id, scene_id, entry, hash, files: {path: bytes}}.
    Replay headers name `hash` as their bundle_hash. Gzip when accepted; If-None-Match gets a 304."""
    asset = _bundle_asset(service, scene_id, robot_id)
    response = asset_response(request, asset, "public, max-age=3600")
    response.headers["X-Bundle-Hash"] = asset.etag.strip('"')
    return response
