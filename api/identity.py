"""Voter identities issued by the server: a random id in a signed, http-only cookie.

There are no accounts. The first API request without a valid cookie gets a fresh id (`new_voter`), sent
back as `arena_voter=<id>.<signature>`; the signature (HMAC-SHA256 under the server's secret) means a
client cannot pick or forge an id, so "only the voter who started a battle can see or vote on it" holds.
Every API process of one deployment must share the secret (`ARENA_SECRET`); the embedded default keeps
a random one in `<data_dir>/secret.key`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from pathlib import Path

COOKIE = "arena_voter"
MAX_AGE_S = 400 * 86400  # browsers cap cookie lifetimes at 400 days
_ID_BYTES = 16


def new_voter() -> str:
    return secrets.token_urlsafe(_ID_BYTES)


def _mac(secret: bytes, voter_id: str) -> str:
    digest = hmac.new(secret, b"voter:" + voter_id.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode()


def sign(secret: bytes, voter_id: str) -> str:
    """The cookie value for `voter_id`."""
    return f"{voter_id}.{_mac(secret, voter_id)}"


def verify(secret: bytes, value: str) -> str | None:
    """The voter id in a cookie value, or None when it is malformed or its signature is wrong."""
    voter_id, dot, mac = value.partition(".")
    if not dot or not voter_id or len(voter_id) > 64:
        return None
    return voter_id if hmac.compare_digest(mac, _mac(secret, voter_id)) else None


def cookie_header(secret: bytes, voter_id: str, *, secure: bool) -> str:
    """A Set-Cookie value: http-only (scripts never see it), SameSite=Lax (no cross-site POSTs)."""
    attrs = f"{COOKIE}={sign(secret, voter_id)}; Path=/; Max-Age={MAX_AGE_S}; HttpOnly; SameSite=Lax"
    return attrs + ("; Secure" if secure else "")


def load_secret(explicit: str, data_dir: str | Path) -> bytes:
    """`explicit` (ARENA_SECRET) when set, else a random secret kept in `<data_dir>/secret.key` (created
    with mode 0600 on first use, so identities survive restarts)."""
    if explicit:
        if len(explicit) < 16:
            raise SystemExit("ARENA_SECRET must be at least 16 characters")
        return explicit.encode()
    path = Path(data_dir) / "secret.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process created it first: read theirs
        else:
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_hex(32))
    return path.read_text().strip().encode()
