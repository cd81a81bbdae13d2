"""Record builders and a thread helper shared by the Store contract suite (test_store_contract*.py)
and the adapter-specific store tests."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from typing import Any

from api.store import Store
from schemas.records import (
    BattleRecord,
    EpisodeRecord,
    EpisodeResult,
    SessionRecord,
    Side,
    TurnRecord,
    VoteChoice,
    VoteRecord,
)


def session(sid: str = "s1", *, voter: str | None = None, at: float = 100.0) -> SessionRecord:
    return SessionRecord(id=sid, robot_id="panda", scene_id="kitchen", created_at=at, voter_id=voter)


def battle(bid: str = "b1", *, sid: str = "s1", seq: int = 0) -> BattleRecord:
    return BattleRecord(
        id=bid,
        session_id=sid,
        seq=seq,
        robot_id="panda",
        scene_id="kitchen",
        left_policy="pi0",
        right_policy="octo",
        created_at=100.5 + seq,
    )


def turn(tid: str = "t1", *, bid: str = "b1", seq: int = 0) -> TurnRecord:
    return TurnRecord(
        id=tid,
        battle_id=bid,
        seq=seq,
        instruction="put the red block in the bowl",
        seed=2**40 + seq,
        max_steps=300,
        created_at=101.25,
    )


def episode(eid: str, side: Side, *, tid: str = "t1", bid: str = "b1") -> EpisodeRecord:
    policy = "pi0" if side is Side.LEFT else "octo"
    return EpisodeRecord(id=eid, turn_id=tid, battle_id=bid, side=side, policy=policy, created_at=101.5)


def result_for(data: bytes, *, success: bool | None = True, progress: float | None = 0.75) -> EpisodeResult:
    return EpisodeResult(
        success=success,
        progress=progress,
        steps=120,
        n_frames=121,
        terminated="success",
        wall_time_s=3.0625,
        trajectory_sha256=hashlib.sha256(data).hexdigest(),
        trajectory_bytes=len(data),
    )


def vote(
    vid: str,
    *,
    bid: str = "b1",
    robot: str = "panda",
    at: float = 200.0,
    choice: VoteChoice = VoteChoice.LEFT,
) -> VoteRecord:
    return VoteRecord(
        id=vid,
        battle_id=bid,
        session_id="s1",
        robot_id=robot,
        scene_id="kitchen",
        left_policy="pi0",
        right_policy="octo",
        choice=choice,
        created_at=at,
    )


def seed_turn(store: Store) -> None:
    """A session, its battle, and one turn with a left and a right episode."""
    store.create_session(session(), battle())
    store.create_turn(turn(), [episode("e-l", Side.LEFT), episode("e-r", Side.RIGHT)])


def run_threads(n: int, work: Callable[[int], Any]) -> list[Any]:
    """Run work(i) on n threads released together; return each result or the exception raised."""
    barrier = threading.Barrier(n)
    outcomes: list[Any] = [None] * n

    def body(i: int) -> None:
        barrier.wait()
        try:
            outcomes[i] = work(i)
        except Exception as exc:  # collected for the test to inspect
            outcomes[i] = exc

    threads = [threading.Thread(target=body, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes
