"""The Litestar API, its services, store/queue/live-bus ports and adapters, and the `arena` CLI."""

import os

os.environ.setdefault("MUJOCO_GL", "osmesa")  # before anything imports mujoco (see sim_engine/__init__.py)
