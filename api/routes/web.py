"""The browser front end: `web/` served as static ES modules, plus the few vendored packages the
import map names (MuJoCo WASM, three.js, fzstd, msgpack) straight from `web/node_modules`.

Assets are read once, gzip-compressed once (when that saves bytes), and revalidated by ETag, so a
reload costs a 304 per module. Page routes (`/`, `/battles/...`, `/leaderboard`, `/history`) all
answer with `index.html`; the page's router picks the view, so every battle and turn has a stable URL.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
import threading
from dataclasses import dataclass
from pathlib import Path

from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath

from schemas.errors import NotFoundError

# Package folder in node_modules -> URL prefix under /vendor/. Only what the import map uses is served.
VENDOR = {
    "mujoco": "@mujoco/mujoco",
    "three": "three",
    "fzstd": "fzstd",
    "msgpack": "@msgpack/msgpack",
}
COMPRESSIBLE = {"text/javascript", "text/css", "text/html", "application/json", "application/wasm",
                "image/svg+xml", "application/msgpack"}
mimetypes.add_type("text/javascript", ".mjs")
mimetypes.add_type("text/javascript", ".js")
mimetypes.add_type("application/wasm", ".wasm")
mimetypes.add_type("text/css", ".css")


@dataclass(frozen=True)
class Asset:
    body: bytes
    gz: bytes | None
    media_type: str
    etag: str
    mtime_ns: int


class WebAssets:
    """Static files of the front end with an in-memory cache of raw and gzip bodies."""

    def __init__(self, web_dir: Path) -> None:
        self.web_dir = web_dir.resolve()
        self.roots = {"src": self.web_dir / "src", "assets": self.web_dir / "assets"}
        for prefix, package in VENDOR.items():
            self.roots[f"vendor/{prefix}"] = self.web_dir / "node_modules" / package
        self._cache: dict[Path, Asset] = {}
        self._lock = threading.Lock()

    def missing_vendor(self) -> list[str]:
        return [VENDOR[k.split("/", 1)[1]] for k, p in self.roots.items() if k.startswith("vendor/") and not p.is_dir()]

    def resolve(self, root: str, rel: str) -> Path:
        base = self.roots.get(root)
        if base is None:
            raise NotFoundError("asset", f"/{root}/{rel}")
        path = (base / rel).resolve()
        if not path.is_relative_to(base.resolve()) or not path.is_file():
            raise NotFoundError("asset", f"/{root}/{rel}")
        return path

    def load(self, path: Path) -> Asset:
        mtime = path.stat().st_mtime_ns
        with self._lock:
            cached = self._cache.get(path)
        if cached is not None and cached.mtime_ns == mtime:
            return cached
        body = path.read_bytes()
        media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        asset = make_asset(body, media_type, f'"{hashlib.sha256(body).hexdigest()[:32]}"', mtime)
        with self._lock:
            self._cache[path] = asset
        return asset

    def index(self) -> Asset:
        path = self.web_dir / "index.html"
        if not path.is_file():
            raise NotFoundError("asset", "/index.html")
        return self.load(path)


def asset_response(request: Request, asset: Asset, cache_control: str = "no-cache") -> Response[bytes]:
    """`asset` with its ETag (a matching If-None-Match gets a 304) and gzip when the client takes it."""
    headers = {"ETag": asset.etag, "Vary": "Accept-Encoding", "Cache-Control": cache_control}
    if asset.etag in if_none_match(request):
        return Response(b"", status_code=304, headers=headers)
    if asset.gz is not None and "gzip" in request.headers.get("accept-encoding", ""):
        headers["Content-Encoding"] = "gzip"
        return Response(asset.gz, media_type=asset.media_type, headers=headers)
    return Response(asset.body, media_type=asset.media_type, headers=headers)


def make_asset(body: bytes, media_type: str, etag: str, mtime_ns: int = 0) -> Asset:
    gz = None
    if media_type in COMPRESSIBLE and len(body) > 1024:
        packed = gzip.compress(body, compresslevel=6, mtime=0)
        gz = packed if len(packed) < 0.9 * len(body) else None
    return Asset(body, gz, media_type, etag, mtime_ns)


def if_none_match(request: Request) -> set[str]:
    raw = request.headers.get("if-none-match", "")
    return {t.strip().removeprefix("W/") for t in raw.split(",") if t.strip()}


VENDOR_CACHE = "public, max-age=86400"  # versions are pinned by web/package-lock.json
PAGES = ["/", "/leaderboard", "/history", "/battles/{battle_id:str}", "/battles/{battle_id:str}/turns/{seq:int}"]


@get(PAGES, include_in_schema=False, sync_to_thread=False)
def page(request: Request, assets: NamedDependency[WebAssets]) -> Response[bytes]:
    """Every page route answers with the single-page shell; its router picks the view."""
    return asset_response(request, assets.index())


@get(["/src/{path:path}", "/assets/{path:path}"], include_in_schema=False, sync_to_thread=False)
def app_file(request: Request, assets: NamedDependency[WebAssets], path: FromPath[str]) -> Response[bytes]:
    root = request.url.path.split("/", 2)[1]
    return asset_response(request, assets.load(assets.resolve(root, path.lstrip("/"))))


@get("/vendor/{package:str}/{path:path}", include_in_schema=False, sync_to_thread=False)
def vendor_file(request: Request, assets: NamedDependency[WebAssets], package: FromPath[str],
                path: FromPath[str]) -> Response[bytes]:
    """Pinned third-party packages (versions fixed by web/package-lock.json)."""
    return asset_response(request, assets.load(assets.resolve(f"vendor/{package}", path.lstrip("/"))),
                          VENDOR_CACHE)
