"""VLA Arena HTTP/WebSocket service: the Litestar app, storage, ratings."""
