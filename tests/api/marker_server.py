"""A protocol-faithful openpi policy server (websocket; msgpack-numpy frames, metadata first, a text
frame for a server-side error, as openpi's `websocket_policy_server.py` does) whose every word carries
marker strings: the adversary of the identity-leak suite. A voter must never see any of it before the
vote, whatever the server says in its metadata, its replies or its errors."""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
from websockets.sync.server import ServerConnection, serve

from policy_host.wire import pack, unpack

ORG = "AcmeRobotics"
MARKERS = ["AcmeRobotics", "acme-pi0-secret", "/srv/AcmeRobotics/weights"]
SECRET_TEXT = "AcmeRobotics internal model acme-pi0-secret at /srv/AcmeRobotics/weights"
MODES = ("good", "bad-metadata", "traceback", "traceback-once")


class MarkerServer:
    """mode "good": valid joint-velocity actions, markers in the metadata; "bad-metadata": an action space
    made of the secret text; "traceback": every infer answered with a traceback full of markers;
    "traceback-once": only the first infer fails (so a battle with a failed turn can still be voted on)."""

    def __init__(self, mode: str) -> None:
        assert mode in MODES
        self.mode = mode
        self.failures_left = 1 if mode == "traceback-once" else (10**9 if mode == "traceback" else 0)
        self._server = serve(self._handle, "127.0.0.1", 0, compression=None, max_size=None)
        self.port = int(self._server.socket.getsockname()[1])
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def _metadata(self) -> dict[str, Any]:
        space = SECRET_TEXT if self.mode == "bad-metadata" else "joint_velocity"
        return {"action_space": space, "server": SECRET_TEXT, "organisation": ORG, "action_horizon": 1}

    def _handle(self, ws: ServerConnection) -> None:
        ws.send(pack(self._metadata()))
        for frame in ws:
            request = unpack(frame if isinstance(frame, bytes) else frame.encode())
            if self.failures_left > 0:
                self.failures_left -= 1
                ws.send(f"Traceback (most recent call last):\n  File \"/srv/{ORG}/serve.py\"\n"
                        f"RuntimeError: {SECRET_TEXT} ran out of memory")
                continue
            assert isinstance(request, dict)
            ws.send(pack({"actions": np.zeros((1, 8)), "server_timing": {"model": SECRET_TEXT}}))

    def close(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=5)
