"""A lean HTTP/1.1 GET client for load generators: one keep-alive connection per (client, server), requests
written and answers parsed on asyncio streams with no per-request objects beyond the bytes.

The read-route benchmarks run the load generator on the same 2 cores as the servers it measures. httpx
spends 3-7 ms of CPU per request there (more than the API process it measures), so the generator itself
took a third to a half of a core at 250 requests/s and its event loop's lag counted as server latency.
This client costs a small fraction of that. It speaks only what the arena's read routes answer: a status
line, headers, and a body framed by Content-Length or chunked transfer encoding; anything else raises.
"""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import urlsplit


class LeanConnection:
    """`await LeanConnection.open(base, cookie)`, then `await conn.get(path) -> (status, body)`."""

    def __init__(self, host: str, port: int, cookie: str | None) -> None:
        self.host, self.port = host, port
        self._head = f"Host: {host}:{port}\r\nAccept: application/json\r\n"
        if cookie:
            self._head += f"Cookie: {cookie}\r\n"
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    @classmethod
    async def open(cls, base: str, cookie: str | None = None) -> LeanConnection:
        url = urlsplit(base)
        if url.scheme != "http" or url.hostname is None:
            raise ValueError(f"only http://host:port bases: {base!r}")
        conn = cls(url.hostname, url.port or 80, cookie)
        await conn._connect()
        return conn

    async def _connect(self) -> None:
        self._reader, self._writer = await asyncio.open_connection(self.host, self.port)

    async def get(self, path: str) -> tuple[int, bytes]:
        """One GET on the kept-alive connection (reconnecting once if the server closed it while idle)."""
        try:
            return await self._get(path)
        except (ConnectionError, asyncio.IncompleteReadError):
            await self.close()
            await self._connect()
            return await self._get(path)

    async def _get(self, path: str) -> tuple[int, bytes]:
        assert self._reader is not None
        assert self._writer is not None
        self._writer.write(f"GET {path} HTTP/1.1\r\n{self._head}\r\n".encode())
        await self._writer.drain()
        head = await self._reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
        if "content-length" in headers:
            body = await self._reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            body = await self._chunked()
        else:
            raise ValueError(f"GET {path}: an answer with neither Content-Length nor chunked encoding")
        if headers.get("connection", "").lower() == "close":
            await self.close()
            await self._connect()
        return status, body

    async def _chunked(self) -> bytes:
        assert self._reader is not None
        parts = []
        while True:
            size = int((await self._reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await self._reader.readuntil(b"\r\n")  # no trailers from these routes
                return b"".join(parts)
            parts.append(await self._reader.readexactly(size))
            await self._reader.readexactly(2)

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(ConnectionError):
                await self._writer.wait_closed()
            self._writer = self._reader = None
