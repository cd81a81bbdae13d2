"""What the OpenAPI document (`/schema/openapi.json`) says beyond the handlers' own types, so that it
describes what the server really answers (tests/api/test_openapi.py checks it with schemathesis).

- `errors(404, 503, ...)`: the `responses=` of a route decorator, one `ResponseSpec` per status code the
  route (or the request guard in front of it, `api.guard`) really answers, all with the `ErrorBody` shape.
- `StrictStructSchemaPlugin` (the app's `plugins=`): request bodies refuse unknown fields, and say so.
- `ArenaOperation` (every route's `operation_class`) adds what a `ResponseSpec` cannot say: the
  `Retry-After` header of a 429 and the voter cookie. `CachedOperation` adds ETags and If-None-Match for
  the routes that answer 304, `VoteExportOperation` the other formats of `GET /api/votes`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import msgspec
from litestar._openapi.schema_generation.plugins.struct import StructSchemaPlugin  # litestar<3, pinned
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import (
    OpenAPIHeader,
    OpenAPIMediaType,
    OpenAPIType,
    Operation,
    Parameter,
    Reference,
    Schema,
)

from api.identity import COOKIE

if TYPE_CHECKING:
    from litestar._openapi.schema_generation import SchemaCreator
    from litestar.typing import FieldDefinition


class ErrorBody(msgspec.Struct, frozen=True, kw_only=True):
    """Every error answer. `error` names the exception (e.g. "NotFoundError"), `field` the offending input
    of a 400 ("body" for the body as a whole). The framework's own answers (an unknown path, a query value
    of the wrong type, a body that does not decode) have no `error` and list what failed in `extra`."""

    status_code: int
    detail: str
    error: str | None = None
    field: str | None = None
    extra: list[dict[str, Any]] | dict[str, Any] | None = None


API_DESCRIPTION = (
    "Blind pairwise battles between robot policies in MuJoCo (docs/api.md). There are no accounts: the first "
    f"request without a valid `{COOKIE}` cookie gets a server-issued voter id in it, and a voter sees only the "
    "sessions, battles, turns and episodes they started (anyone else gets 404). Request bodies are JSON "
    "(`Content-Type: application/json`, else 415), at most 64 KiB (413) and 32 levels deep (400); a "
    "state-changing request from another site's `Origin` gets 403. Sessions, turns and votes are rate limited "
    "per voter and per address (429 with `Retry-After`). Errors are JSON: `{status_code, detail, error, field}`.")

WHY: dict[int, str] = {
    400: "Bad input: `field` (or `extra`) names what was wrong; `body` for a body that is not JSON or is "
         "nested deeper than 32 levels.",
    403: "A cross-site request: a state-changing request whose `Origin` is not this site (or that the "
         "browser marks `Sec-Fetch-Site: cross-site`).",
    404: "Nothing has that id, or it belongs to another voter (the same answer, so ids are never confirmed).",
    409: "The request clashes with the battle's state: already voted on, a turn still running, no finished "
         "turn to vote on, or the robot has fewer than two arena policies.",
    413: "The body is larger than the server takes (`ARENA_MAX_BODY_BYTES`, 64 KiB by default).",
    415: "A body sent without `Content-Type: application/json`.",
    429: "Too many requests from this voter or address, or too many of the voter's turns at once: "
         "`Retry-After` says how many seconds to wait.",
    503: "A backend (the store, the job queue, the rate limiter or the live bus) is down: retry later.",
}


def errors(*codes: int) -> dict[int, ResponseSpec]:
    """The `responses=` of a route decorator: an `ErrorBody` response for each status code."""
    return {code: ResponseSpec(data_container=ErrorBody, description=WHY[code], generate_examples=False)
            for code in codes}


def download(media_type: str) -> ResponseSpec:
    """The 200 of a binary download. (Not the decorator's `media_type=`: the framework's own 400s would
    carry that content type too.)"""
    return ResponseSpec(data_container=bytes, media_type=media_type, generate_examples=False,
                        description=f"The file (`{media_type}`).")


NOT_MODIFIED = ResponseSpec(data_container=None, description="Not modified: `If-None-Match` named the current ETag.")

_STRING = Schema(type=OpenAPIType.STRING)
_VOTER_COOKIE = OpenAPIHeader(
    schema=_STRING, required=False,
    description=f"`{COOKIE}=<voter>.<signature>`: the server-issued voter identity (http-only, SameSite=Lax), "
                "set on the first request without a valid one. A voter sees only their own sessions, battles, "
                "turns and episodes.")
_RETRY_AFTER = OpenAPIHeader(schema=Schema(type=OpenAPIType.INTEGER, minimum=1), required=True,
                             description="Seconds to wait before trying again.")


@dataclass
class ArenaOperation(Operation):
    """Adds `Retry-After` to a 429 and the voter cookie to every answer (the request guard may set it on
    any); a body that is not JSON is described as bytes of its media type."""

    def __post_init__(self) -> None:
        for code, response in (self.responses or {}).items():
            if isinstance(response, Reference):
                continue
            for media_type, media in (response.content or {}).items():
                if media_type != "application/json":
                    media.schema = Schema(type=OpenAPIType.STRING, content_media_type=media_type)
            response.headers = {**(response.headers or {}), "Set-Cookie": _VOTER_COOKIE,
                                **({"Retry-After": _RETRY_AFTER} if code == "429" else {})}


@dataclass
class CachedOperation(ArenaOperation):
    """A download revalidated by ETag: `If-None-Match` with the current one gets a 304 without a body."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.parameters = [*(self.parameters or []), Parameter(
            name="If-None-Match", param_in="header", required=False, schema=_STRING,
            description="ETags the client holds; the current one gets a 304.")]
        for code in ("200", "304"):
            response = (self.responses or {}).get(code)
            if response is not None and not isinstance(response, Reference):
                response.headers = {**(response.headers or {}),
                                    "ETag": OpenAPIHeader(schema=_STRING, required=True),
                                    "Cache-Control": OpenAPIHeader(schema=_STRING, required=True)}


@dataclass
class VoteExportOperation(ArenaOperation):
    """`GET /api/votes` answers JSON, JSON lines (format=jsonl) or Parquet (format=parquet)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        ok = (self.responses or {}).get("200")
        if ok is not None and not isinstance(ok, Reference):
            ok.content = {**(ok.content or {}), **{media_type: OpenAPIMediaType(
                schema=Schema(type=OpenAPIType.STRING, content_media_type=media_type))
                for media_type in ("application/x-ndjson", "application/vnd.apache.parquet")}}


class StrictStructSchemaPlugin(StructSchemaPlugin):
    """Structs that refuse unknown fields (`forbid_unknown_fields=True`, every request body) say so:
    `additionalProperties: false`, so that a client sending extra fields knows it gets a 400."""

    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator: SchemaCreator) -> Schema:
        schema = super().to_openapi_schema(field_definition, schema_creator)
        if field_definition.type_.__struct_config__.forbid_unknown_fields:
            registry = schema_creator.schema_registry
            (registry.from_reference(schema).schema if isinstance(schema, Reference) else schema
             ).additional_properties = False
        return schema
