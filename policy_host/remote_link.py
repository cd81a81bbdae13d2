"""One websocket connection to a policy server (either dialect), with every network failure translated
into RemotePolicyError saying what happened: refused, host not found, timed out, handshake rejected,
disconnected (with the close code), or a reply that is not msgpack."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from typing import Any

from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI
from websockets.sync.client import ClientConnection, connect

from policy_host.wire import pack, unpack
from schemas.errors import RemotePolicyError


@contextmanager
def _translated(url: str, timeout_s: float, doing: str) -> Iterator[None]:
    """Turn a websocket/network failure into RemotePolicyError saying what happened."""
    try:
        yield
    except TimeoutError as exc:
        raise RemotePolicyError(url, f"timed out after {timeout_s:g} s {doing}") from exc
    except ConnectionRefusedError as exc:
        raise RemotePolicyError(url, "connection refused") from exc
    except socket.gaierror as exc:
        raise RemotePolicyError(url, "host not found") from exc
    except InvalidStatus as exc:
        code = exc.response.status_code
        hint = " (check the API key)" if code in (401, 403) else ""
        raise RemotePolicyError(url, f"refused the websocket handshake with HTTP {code}{hint}") from exc
    except ConnectionClosed as exc:
        how = f"close code {exc.rcvd.code}" if exc.rcvd else "connection lost without a close frame"
        reason = exc.rcvd.reason if exc.rcvd else ""
        raise RemotePolicyError(url, f"disconnected {doing} ({how})", detail=reason or None) from exc
    except (InvalidHandshake, InvalidURI) as exc:
        raise RemotePolicyError(url, "websocket handshake failed", detail=str(exc)) from exc
    except OSError as exc:
        raise RemotePolicyError(url, f"network error {doing}: {exc.strerror or type(exc).__name__}") from exc


class Link:
    """One open websocket to a policy server, past its handshake (`handshake` is the server's first map)."""

    def __init__(self, url: str, api_key: str | None, timeout_s: float) -> None:
        self.url, self.timeout_s = url, timeout_s
        headers = {"Authorization": f"Api-Key {api_key}"} if api_key else None
        self._stack = ExitStack()  # websockets wants connect() used as a context manager
        with _translated(url, timeout_s, "connecting"):
            self.ws: ClientConnection = self._stack.enter_context(
                connect(url, compression=None, max_size=None, additional_headers=headers, open_timeout=timeout_s,
                        ping_interval=None, close_timeout=2))
        try:
            handshake = self.decode(self.receive("waiting for its metadata"), "metadata")
            if not isinstance(handshake, dict):
                raise RemotePolicyError(url, f"sent metadata that is not a map but {type(handshake).__name__}")
        except BaseException:
            self.close()
            raise
        self.handshake: dict[str, Any] = handshake

    def request(self, message: dict[str, Any], doing: str) -> bytes | str:
        with _translated(self.url, self.timeout_s, doing):
            self.ws.send(pack(message))
        return self.receive(doing)

    def receive(self, doing: str) -> bytes | str:
        with _translated(self.url, self.timeout_s, doing):
            return self.ws.recv(timeout=self.timeout_s)

    def decode(self, frame: bytes | str, what: str) -> Any:
        """Unpack a binary frame; a text frame is the server reporting an error (a traceback)."""
        if isinstance(frame, str):
            raise RemotePolicyError(self.url, f"reported an error instead of {what}", detail=frame)
        try:
            return unpack(frame)
        except Exception as exc:  # msgpack raises several unrelated types for bad bytes
            raise RemotePolicyError(self.url, f"sent {what} that is not msgpack ({type(exc).__name__})") from exc

    def close(self) -> None:
        with suppress(Exception):  # closing a broken connection must not hide the error that broke it
            self._stack.close()
