"""bench/lean_http.py, the read-route benchmark's load generator, against a real socket server that frames
answers the three ways HTTP/1.1 allows for these routes: Content-Length, chunked, and Connection: close."""

from __future__ import annotations

import asyncio

import pytest

from bench.lean_http import LeanConnection

ANSWERS = {
    b"/length": b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"a\": [1]} ",
    b"/chunked": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                 b"4\r\n{\"b\"\r\n3\r\n: 2\r\n1;x=y\r\n}\r\n0\r\n\r\n",
    b"/close": b"HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\nConnection: close\r\n\r\nno",
    b"/bare": b"HTTP/1.1 200 OK\r\n\r\nbody until close",
}


async def _serve(seen: list[bytes]) -> asyncio.Server:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append(b"connect")
        while not reader.at_eof():
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError:
                break
            path = head.split(b" ")[1]
            seen.append(head)
            writer.write(ANSWERS[path])
            await writer.drain()
            if path in (b"/close", b"/bare"):
                break
        writer.close()

    return await asyncio.start_server(handle, "127.0.0.1", 0)


def test_answers_framed_every_way_on_one_kept_alive_connection() -> None:
    async def run() -> None:
        seen: list[bytes] = []
        server = await _serve(seen)
        port = server.sockets[0].getsockname()[1]
        conn = await LeanConnection.open(f"http://127.0.0.1:{port}", "arena_voter=abc")
        assert await conn.get("/length") == (200, b'{"a": [1]} ')
        assert await conn.get("/chunked") == (200, b'{"b": 2}')
        assert await conn.get("/close") == (404, b"no")  # the server hangs up: the next GET reconnects
        assert await conn.get("/length") == (200, b'{"a": [1]} ')
        with pytest.raises(ValueError, match="neither Content-Length nor chunked"):
            await conn.get("/bare")
        await conn.close()
        server.close()
        await server.wait_closed()
        assert seen.count(b"connect") == 2
        first = seen[1].decode()
        assert first.startswith("GET /length HTTP/1.1\r\n")
        assert f"Host: 127.0.0.1:{port}\r\n" in first
        assert "Cookie: arena_voter=abc\r\n" in first

    asyncio.run(run())


def test_only_plain_http_bases() -> None:
    with pytest.raises(ValueError, match="only http"):
        asyncio.run(LeanConnection.open("https://example.org"))
