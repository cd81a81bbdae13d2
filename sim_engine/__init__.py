"""MuJoCo side of the arena: scene composition, tasks, action spaces and the episode loop."""
