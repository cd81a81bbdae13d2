"""The request guard: an ASGI middleware in front of every route, for what must hold before any handler
runs.

- **Identity.** Reads the signed `arena_voter` cookie (`api.identity`); a request without a valid one gets
  a fresh voter id, set as a cookie on the response. Handlers read the id from `scope["arena_voter"]`
  (and the client address, for per-address limits, from `scope["arena_client"]`).
- **No cross-site requests.** State-changing requests (POST, PUT, PATCH, DELETE) and WebSocket upgrades
  whose `Origin` names another host, or that a browser marks `Sec-Fetch-Site: cross-site`, get 403.
- **JSON only, small and shallow.** A body must be `application/json` (415 otherwise: an HTML form on
  another site cannot post one), at most `max_body` bytes (413) and nested at most `max_depth` levels
  (400), checked before anything parses it.
- **Paths.** A NUL byte in a path is a 404, never a lookup.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import msgspec

from api import identity

Scope = dict[str, Any]
_STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
_NO_COOKIE_PREFIXES = ("/src/", "/vendor/", "/assets/")
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(rb"[\[\]{}]")


def json_depth(body: bytes) -> int:
    """The deepest nesting of arrays/objects in a JSON text (strings skipped), without parsing it.
    Unbalanced input still gets a depth; the parser rejects it afterwards."""
    depth = deepest = 0
    for m in _BRACKETS.finditer(_STRING.sub(b'""', body)):
        if m.group() in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth = max(0, depth - 1)
    return deepest


class RequestGuard:
    def __init__(self, app: Any, *, secret: bytes, max_body: int = 65536, max_depth: int = 32,
                 trust_proxy: bool = False, allowed_origins: tuple[str, ...] = ()) -> None:
        self.app, self.secret = app, secret
        self.max_body, self.max_depth = max_body, max_depth
        self.trust_proxy, self.allowed_origins = trust_proxy, {o.lower() for o in allowed_origins}

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        if "\x00" in scope.get("path", ""):
            await self._refuse(scope, send, 404, "NotFoundError", "not found")
            return
        method = scope.get("method", "GET")
        if (scope["type"] == "websocket" or method in _STATE_CHANGING) and not self._same_site(headers):
            await self._refuse(scope, send, 403, "ForbiddenError", "cross-site request refused")
            return
        voter, fresh = self._voter(headers)
        scope["arena_voter"], scope["arena_client"] = voter, self._client(scope, headers)
        if scope["type"] == "http" and method in _STATE_CHANGING:
            problem, body = await self._read_body(headers, receive)
            if problem is not None:
                await self._refuse(scope, send, *problem)
                return
            receive = _replay(body, receive)
        if fresh and scope["type"] == "http" and not scope.get("path", "").startswith(_NO_COOKIE_PREFIXES):
            send = self._with_cookie(send, voter, scope.get("scheme") == "https" or self._forwarded_https(headers))
        await self.app(scope, receive, send)

    def _same_site(self, headers: dict[str, str]) -> bool:
        if headers.get("sec-fetch-site") == "cross-site":
            return False
        origin = headers.get("origin")
        if origin is None:
            return True  # not a browser's cross-origin request (curl, scripts, same-origin GET forms)
        if origin.lower() in self.allowed_origins:
            return True
        host = headers.get("x-forwarded-host") if self.trust_proxy else None
        return urlsplit(origin).netloc.lower() == (host or headers.get("host", "")).lower() != ""

    def _voter(self, headers: dict[str, str]) -> tuple[str, bool]:
        for part in headers.get("cookie", "").split(";"):
            name, _, value = part.strip().partition("=")
            if name == identity.COOKIE and (voter := identity.verify(self.secret, value)):
                return voter, False
        return identity.new_voter(), True

    def _client(self, scope: Scope, headers: dict[str, str]) -> str:
        if self.trust_proxy and (forwarded := headers.get("x-forwarded-for")):
            return forwarded.split(",")[0].strip()
        client = scope.get("client")
        return str(client[0]) if client else "unknown"

    async def _read_body(self, headers: dict[str, str], receive: Any) -> tuple[tuple | None, bytes]:
        declared = headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body:
            return (413, "ValidationError", f"body: at most {self.max_body} bytes", "body"), b""
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                return (413, "ValidationError", f"body: at most {self.max_body} bytes", "body"), b""
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if body.strip():
            media = headers.get("content-type", "").split(";")[0].strip().lower()
            if media != "application/json":
                return (415, "UnsupportedMediaError", "body: send JSON with Content-Type: application/json",
                        "body"), b""
            if json_depth(body) > self.max_depth:
                return (400, "ValidationError", f"body: JSON nested deeper than {self.max_depth} levels",
                        "body"), b""
        return None, body

    def _forwarded_https(self, headers: dict[str, str]) -> bool:
        return self.trust_proxy and headers.get("x-forwarded-proto", "") == "https"

    def _with_cookie(self, send: Any, voter: str, secure: bool) -> Any:
        """`send` with the new voter's cookie added to the response (Secure when served over HTTPS)."""
        cookie = identity.cookie_header(self.secret, voter, secure=secure).encode("latin-1")

        async def wrapped(message: dict) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), (b"set-cookie", cookie)]}
            await send(message)
        return wrapped

    async def _refuse(self, scope: Scope, send: Any, status: int, error: str, detail: str,
                      field: str | None = None) -> None:
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 4403 if status == 403 else 4404})
            return
        body: dict[str, Any] = {"status_code": status, "detail": detail, "error": error}
        if field is not None:
            body["field"] = field
        payload = msgspec.json.encode(body)
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(payload)).encode())]})
        await send({"type": "http.response.body", "body": payload})


def _replay(body: bytes, receive: Any) -> Any:
    """A `receive` that hands the already-read body to the app once, then defers to the real one."""
    pending = True

    async def replayed() -> dict:
        nonlocal pending
        if pending:
            pending = False
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()
    return replayed
