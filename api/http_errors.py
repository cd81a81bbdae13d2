"""How errors become HTTP responses: the project's errors say what was wrong (4xx naming the field, or
503 when a backend is down); anything unexpected is logged with its traceback and answered with a
plain 500 that shows nothing of it."""

from __future__ import annotations

import logging

from litestar import MediaType, Request, Response
from litestar.exceptions import ValidationException

from schemas.errors import (
    ArenaError,
    BusError,
    ConflictError,
    ForbiddenError,
    LimiterError,
    NotFoundError,
    QueueError,
    RateLimitedError,
    StoreError,
    UnsupportedMediaError,
    ValidationError,
)

log = logging.getLogger("arena")

STATUS: list[tuple[type[ArenaError], int]] = [
    (NotFoundError, 404), (ConflictError, 409), (ValidationError, 400), (RateLimitedError, 429),
    (ForbiddenError, 403), (UnsupportedMediaError, 415), (StoreError, 503), (QueueError, 503),
    (LimiterError, 503), (BusError, 503),
]


def arena_error(request: Request, exc: ArenaError) -> Response:
    """Map the project's errors to HTTP: the message always says what was wrong."""
    code = next((c for cls, c in STATUS if isinstance(exc, cls)), 400)
    body: dict = {"status_code": code, "detail": str(exc), "error": type(exc).__name__}
    headers: dict[str, str] = {}
    if isinstance(exc, ValidationError):
        body["field"] = exc.field
    if isinstance(exc, RateLimitedError):
        headers["Retry-After"] = str(max(1, round(exc.retry_after + 0.5)))
    if code >= 500:
        log.error("%s %s: %s", request.method, request.url.path, exc)
    return Response(body, status_code=code, media_type=MediaType.JSON, headers=headers)


def invalid_request(request: Request, exc: ValidationException) -> Response:
    """Litestar's own validation (wrong types, unknown or missing fields, malformed JSON) in the arena's
    error shape: `field` names the first offending key, `extra` keeps every problem."""
    extra = exc.extra if isinstance(exc.extra, list) else []
    problems = [e for e in extra if isinstance(e, dict)]
    body: dict = {"status_code": 400, "detail": exc.detail, "error": "ValidationError", "extra": extra}
    if problems and problems[0].get("key"):
        body["field"] = str(problems[0]["key"])
        body["detail"] = f"{exc.detail}: {body['field']}: {problems[0].get('message', 'invalid')}"
    return Response(body, status_code=400, media_type=MediaType.JSON)


def unexpected_error(request: Request, exc: Exception) -> Response:
    """A bug or an unforeseen failure: the traceback goes to the log, never to the client."""
    log.error("unhandled error in %s %s", request.method, request.url.path, exc_info=exc)
    return Response({"status_code": 500, "detail": "internal server error", "error": "InternalError"},
                    status_code=500, media_type=MediaType.JSON)
