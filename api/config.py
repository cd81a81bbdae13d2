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
    models: str = str(DEFAULT_MODELS)
    workers: int = 2  # in-process episode threads; 2 runs both sides of a turn at once
    max_steps: int = 50  # default episode length in control steps (a turn may ask for up to 300)
    instruction_max_chars: int = 300
    leaderboard_rounds: int = 200  # bootstrap rounds for the 95% CIs
    stream_pace: float = 0.0  # live streams: simulated seconds per wall second (1 = real time, 0 = unpaced)
    web_dir: str = str(WEB_DIR)  # the browser front end (index.html, src/, node_modules/ from `npm ci`)

    @property
    def store(self) -> str:
        return self.store_url or f"sqlite:///{Path(self.data_dir).resolve()}/arena.db"


def load_settings(env: dict[str, str] | None = None) -> Settings:
    """Read ARENA_HOST, ARENA_PORT, ARENA_DATA_DIR, ARENA_STORE_URL, ARENA_MODELS, ARENA_WORKERS,
    ARENA_MAX_STEPS, ARENA_INSTRUCTION_MAX_CHARS, ARENA_LEADERBOARD_ROUNDS, ARENA_STREAM_PACE,
    ARENA_WEB_DIR."""
    env = dict(os.environ) if env is None else env
    raw = {f.lower(): env[f"ARENA_{f.upper()}"] for f in Settings.__struct_fields__ if f"ARENA_{f.upper()}" in env}
    try:
        return msgspec.convert(raw, Settings, strict=False)
    except msgspec.ValidationError as exc:
        raise SystemExit(f"invalid ARENA_* setting: {exc}") from exc
