"""Ratings and the open vote data."""

from __future__ import annotations

from importlib.util import find_spec
from typing import Annotated, Literal

from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromQuery, QueryParameter

from api.identity import load_secret
from api.ratings.export import to_jsonl, to_parquet
from api.routes.openapi_specs import ArenaOperation, VoteExportOperation, errors
from api.service import ArenaService
from api.views import LeaderboardView, VoteExport

VoteFormat = Literal["json", "jsonl", "parquet"]
_MEDIA = {"json": "application/json", "jsonl": "application/x-ndjson", "parquet": "application/vnd.apache.parquet"}
# What this server can write (Parquet needs pyarrow): the OpenAPI document offers only these.
FORMATS = [f for f in _MEDIA if f != "parquet" or find_spec("pyarrow") is not None]


@get("/api/leaderboard", sync_to_thread=True, responses=errors(400, 404, 503), operation_class=ArenaOperation)
def leaderboard(service: NamedDependency[ArenaService], robot_id: FromQuery[str | None] = None,
                scene_id: FromQuery[str | None] = None) -> LeaderboardView:
    """Bayesian Bradley-Terry-Davidson ratings with 95% intervals, Rank (UB) and provisional flags: per robot,
    per scene, both, or global. Served from the background fit (docs/ratings.md); never fitted per request."""
    return service.leaderboard(robot_id, scene_id)


@get("/api/votes", sync_to_thread=True, operation_class=VoteExportOperation, responses={
    200: ResponseSpec(list[VoteExport], description="The votes: JSON (format=json), JSON lines or Parquet."),
    **errors(400, 404, 503)})
def votes(request: Request, service: NamedDependency[ArenaService], robot_id: FromQuery[str | None] = None,
          format: Annotated[VoteFormat, QueryParameter(schema_extra={"enum": FORMATS})] = "json") -> Response:
    """Every voted battle in FastChat's battle format (judge = salted voter hash), with exclusion flags:
    a JSON array, JSON lines (format=jsonl) or Parquet (format=parquet, when pyarrow is installed)."""
    settings = request.app.state["settings"]
    rows = service.export_votes(robot_id, load_secret(settings.secret, settings.data_dir))
    if format == "parquet":
        body = to_parquet(rows)
    elif format == "jsonl":
        body = b"".join(to_jsonl(rows))
    else:
        return Response(rows, media_type=_MEDIA["json"])
    disposition = f'attachment; filename="votes.{format}"'
    return Response(body, media_type=_MEDIA[format], headers={"Content-Disposition": disposition})
