import os

os.environ.setdefault("MUJOCO_GL", "osmesa")  # must precede the first `import mujoco` in the test run

pytest_plugins = [
    "tests.support.redis_server",  # real redis-server fixtures: redis_server, make_redis_server
    "tests.support.mongo_server",  # nx-27017 (or ARENA_TEST_MONGO_URL) fixtures: mongo_url, make_mongo_server
    "tests.support.granian_server",  # a real arena server process: start_server
]
