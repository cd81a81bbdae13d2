"""The streams of a replay: which arrays exist, their group, order and expected shape."""

from __future__ import annotations

from .header import ReplayHeader

FRAMES = "frames"
STEPS = "steps"
FLOAT64 = "float64"

# name -> ReplayHeader attribute giving the column count, or None for a 1-D stream. Insertion order is
# the order streams are written in; extra (caller-defined) streams follow, sorted by name.
KNOWN: dict[str, dict[str, str | None]] = {
    FRAMES: {"time": None, "qpos": "nq", "qvel": "nv", "ctrl": "nu"},
    STEPS: {"action": "action_dim", "progress": None},
}
REQUIRED: dict[str, tuple[str, ...]] = {FRAMES: ("time", "qpos", "qvel", "ctrl"), STEPS: ("action",)}


def ordered_names(group: str, names: list[str]) -> list[str]:
    """Known streams of `group` in their fixed order, then the others sorted by name."""
    known = [name for name in KNOWN[group] if name in names]
    return known + sorted(name for name in names if name not in KNOWN[group])


def expected_shape(group: str, name: str, header: ReplayHeader, n_rows: int) -> tuple[int, ...] | None:
    """The shape a known stream must have, or None for a caller-defined stream."""
    if name not in KNOWN[group]:
        return None
    width = KNOWN[group][name]
    return (n_rows,) if width is None else (n_rows, int(getattr(header, width)))


def describe(group: str, name: str) -> str:
    """How a stream is named in error messages, e.g. `frames['qpos']`."""
    return f"{group}[{name!r}]"
