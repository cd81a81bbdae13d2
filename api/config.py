"""Settings from ARENA_* environment variables (the embedded default needs none of them)."""

from __future__ import annotations

import os
from pathlib import Path

import msgspec

from policy_host.registry import DEFAULT_PATH as DEFAULT_MODELS

WEB_DIR = Path(__file__).resolve().parent.parent / "web"


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: str = "data"
    store_url: str = ""  # default: sqlite:///<data_dir>/arena.db
    # Scale-out (docs/deploy.md): with a Redis URL, jobs, live streams and rate limits live in Redis.
    redis_url: str = ""  # e.g. redis://127.0.0.1:6379/0; empty: the embedded default (all in this process)
    queue_visibility_s: float = 60.0  # a job nobody heartbeats for this long is run by another worker
    queue_max_deliveries: int = 3  # after this many deliveries a job is dead-lettered, its turn failed
    models: str = str(DEFAULT_MODELS)
    workers: int = 2  # in-process episode threads; 2 runs both sides of a turn at once
    max_steps: int = 50  # default episode length in control steps (a turn may ask for up to 300)
    instruction_max_chars: int = 300
    leaderboard_rounds: int = 200  # bootstrap rounds for the 95% CIs
    # Live streams reach voters on one clock for both sides: simulated seconds per wall second (1 = real
    # time). 0 sends frames as soon as they are computed, which lets arrival times tell policies apart:
    # for tests and benchmarks only.
    stream_pace: float = 1.0
    secret: str = ""  # signs voter cookies; every API process of a deployment needs the same one
    trust_proxy: bool = False  # take the client address and host from X-Forwarded-* (behind a proxy)
    allowed_origins: str = ""  # comma-separated extra origins allowed to POST (the page's own is always)
    max_body_bytes: int = 65536
    # Rate limits, "N/S": at most N per S seconds, per voter; per client address N * limit_address_factor.
    limit_sessions: str = "30/600"
    limit_turns: str = "60/600"
    limit_votes: str = "60/600"
    limit_votes_daily: str = "500/86400"  # a voter's daily cap on votes (the ranking's abuse resistance)
    limit_address_factor: int = 4
    max_running_turns: int = 2  # a voter's turns queued or running at once; more wait for a 429's Retry-After
    web_dir: str = str(WEB_DIR)  # the browser front end (index.html, src/, node_modules/ from `npm ci`)

    @property
    def store(self) -> str:
        return self.store_url or f"sqlite:///{Path(self.data_dir).resolve()}/arena.db"


def load_settings(env: dict[str, str] | None = None) -> Settings:
    """Read ARENA_HOST, ARENA_PORT, ARENA_DATA_DIR, ARENA_STORE_URL, ARENA_MODELS, ARENA_WORKERS,
    ARENA_MAX_STEPS, ARENA_INSTRUCTION_MAX_CHARS, ARENA_LEADERBOARD_ROUNDS, ARENA_STREAM_PACE,
    ARENA_WEB_DIR, ARENA_SECRET, ARENA_TRUST_PROXY, ARENA_ALLOWED_ORIGINS, ARENA_MAX_BODY_BYTES,
    ARENA_LIMIT_SESSIONS, ARENA_LIMIT_TURNS, ARENA_LIMIT_VOTES, ARENA_LIMIT_VOTES_DAILY,
    ARENA_LIMIT_ADDRESS_FACTOR, ARENA_MAX_RUNNING_TURNS (and every other field of `Settings`)."""
    env = dict(os.environ) if env is None else env
    raw = {f.lower(): env[f"ARENA_{f.upper()}"] for f in Settings.__struct_fields__ if f"ARENA_{f.upper()}" in env}
    try:
        return msgspec.convert(raw, Settings, strict=False)
    except msgspec.ValidationError as exc:
        raise SystemExit(f"invalid ARENA_* setting: {exc}") from exc
