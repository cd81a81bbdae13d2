import os

os.environ.setdefault("MUJOCO_GL", "osmesa")  # must precede the first `import mujoco` in the test run
