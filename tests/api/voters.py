"""Voter identities in tests: a client is a voter through the signed cookie the server issues."""

from __future__ import annotations

from pathlib import Path

from litestar.testing import TestClient

from api.identity import COOKIE, load_secret, sign


def sign_in(client: TestClient, data_dir: Path, voter_id: str) -> None:
    """Give `client` the signed cookie of `voter_id` (the app's secret lives in its data dir)."""
    secret = load_secret("", data_dir)
    client.cookies.set(COOKIE, sign(secret, voter_id), domain="testserver.local")


def voter_of(client: TestClient) -> str:
    """The voter id the server issued to `client` (asks for one if it has none yet)."""
    if COOKIE not in client.cookies:
        client.get("/api/health")
    return client.cookies[COOKIE].partition(".")[0]
