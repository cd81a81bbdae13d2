"""HTTP and WebSocket route handlers: thin, they parse, call ArenaService, and return views."""
