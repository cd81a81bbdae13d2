"""MuJoCo side of the arena: scene composition, tasks, action spaces and the episode loop."""

import os

# MuJoCo picks its GL backend when first imported: default to OSMesa (headless CPU rendering), which needs
# no display or GPU. Set MUJOCO_GL=egl (GPU) or glfw (desktop) to override.
os.environ.setdefault("MUJOCO_GL", "osmesa")
