# The project's entry points; each one sets up what it needs first (see scripts/dev).

# serve the arena on http://127.0.0.1:8000 (ARENA_HOST, ARENA_PORT, ARENA_DATA_DIR)
serve:
    ./scripts/dev serve

# run every test (unit, contract, API, real server process)
test *ARGS:
    ./scripts/dev test {{ARGS}}

# run the benchmarks in bench/ and print their tables
bench:
    ./scripts/dev bench

# ruff and mypy
lint:
    ./scripts/dev lint
