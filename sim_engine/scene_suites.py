"""`arena eval` suites for the scene tasks, and which of them a scene offers (only where it has the fixture).

Each suite maps an episode index to an instruction, as `sim_engine.evaluate.SUITES` does for the cube tasks;
the colours (and the kettle's direction) rotate with the index.
"""

from __future__ import annotations

from collections.abc import Callable

from sim_engine.scene import SceneSpec

COLOURS = ("red", "green", "blue")
KETTLE_WAYS = ("to the left", "to the right", "away from you", "towards you")
SCENE_SUITES: dict[str, Callable[[int], str]] = {
    "bin": lambda i: f"put the {COLOURS[i % 3]} cube in the bin",
    "shelf": lambda i: f"put the {COLOURS[i % 3]} cube on the shelf",
    "microwave": lambda i: f"put the {COLOURS[i % 3]} cube in the microwave",
    "open-microwave": lambda i: "open the microwave",
    "open-cabinet": lambda i: "open the cabinet",
    "open-drawer": lambda i: "open the drawer",
    "kettle": lambda i: f"move the kettle {KETTLE_WAYS[i % 4]}",
    "kettle-burner": lambda i: ("move the kettle to the left burner", "put the kettle on the right burner")[i % 2],
}
FIXTURE_OF = {"bin": "bin", "shelf": "shelf", "microwave": "microwave", "open-microwave": "microwave",
              "open-cabinet": "cabinet", "open-drawer": "drawer", "kettle": "kettle",
              "kettle-burner": "stove"}


def scene_families(scene: SceneSpec) -> list[str]:
    """The scene-task suites `scene` offers, in SCENE_SUITES order."""
    return [f for f in SCENE_SUITES if FIXTURE_OF[f] in scene.fixtures]
