"""The blinded view: the one place that decides what a voter may receive before the vote.

Before a battle is voted on, a voter gets only what both sides share and what their own eyes would see:
the simulated states (time, qpos, qvel), the commanded actuator targets (ctrl), step numbers, the
instruction and its interpretation. Nothing derived from a policy's identity, kind, action space, action
chunking, or the automatic metric (success, progress, how the episode terminated), and no failure text.

The stored `.vlar` file stays complete (the full record for operators and researchers). Before the vote
the trajectory endpoint serves `blind_replay(stored)`, a valid `.vlar` with the same frames, no
per-step streams (`action`, `progress`, ...), `action_space = "hidden"`, `action_dim = 0` and only the
metadata keys in `SHARED_METADATA`. Live streams are always blinded (they are for watching); after the
vote the full file and the turn view carry everything.
"""

from __future__ import annotations

from collections import OrderedDict
from threading import Lock

import msgspec
import numpy as np

from replay_format import ReplayHeader, decode_replay, encode_replay

HIDDEN_ACTION_SPACE = "hidden"
#: Header metadata a voter may see before the vote: none of it depends on the policy.
SHARED_METADATA = frozenset({"instruction", "seed", "max_steps", "task", "initial_state", "understanding",
                             "previous_instructions"})


def failure_notice(side: str | None = None) -> str:
    """What a voter reads when a side failed, before the vote: that it failed and what to do, nothing
    about why (a reason, or even its exception type, can tell which kind of policy is behind it)."""
    who = f"the policy on the {side}" if side else "this policy"
    return f"{who} could not produce an action; try another instruction or start a new battle"


def blind_header(header: ReplayHeader) -> ReplayHeader:
    meta = {k: v for k, v in header.metadata.items() if k in SHARED_METADATA}
    return msgspec.structs.replace(header, action_space=HIDDEN_ACTION_SPACE, action_dim=0,
                                   metadata={**meta, "blinded": True})


def blind_replay_uncached(data: bytes) -> bytes:
    replay = decode_replay(data)
    steps = {"action": np.empty((len(replay.header.step_frames), 0))}
    return encode_replay(blind_header(replay.header), replay.frames, steps)


class BlindCache:
    """Blinded projections of stored trajectories, keyed by the stored file's sha256 (it never changes).
    Re-encoding costs ~10 ms of CPU per episode; a replayed battle asks for each file once per viewer."""

    def __init__(self, capacity: int = 256) -> None:
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._lock = Lock()
        self.capacity = capacity

    def get(self, sha256: str, data: bytes) -> bytes:
        with self._lock:
            if (hit := self._items.get(sha256)) is not None:
                self._items.move_to_end(sha256)
                return hit
        blinded = blind_replay_uncached(data)
        with self._lock:
            self._items[sha256] = blinded
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)
        return blinded
