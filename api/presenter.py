"""Views of stored records for the voter who owns them, blinded until the battle's vote (`api.blind`).

Before the vote an episode view carries its status, step count and stream/trajectory URLs; success,
progress, the trajectory's size and the failure reason are withheld (a failed side says only that it
failed). After the vote every turn shows everything, and the vote reveals both names.

Before the vote an episode also reads "running" until its stream has played to the end on the turn's
clock (`api.pacing`): a worker finishes as fast as its policy computes, so the moment a side turned "done"
would otherwise say which side thinks faster.
"""

from __future__ import annotations

import time
from typing import Literal

import msgspec

from api.blind import failure_notice
from api.pacing import anchor_time
from api.queue_estimate import EpisodeTimes
from api.store.port import Store
from api.views import BattleView, EpisodeView, ModelView, Reveal, Sides, TurnView
from policy_host.registry import ModelEntry, Registry
from schemas.records import BattleRecord, EpisodeRecord, EpisodeStatus, Side, TurnRecord, VoteRecord
from sim_engine.episode import EpisodeSpec
from sim_engine.scene import get_scene
from sim_engine.understanding import parse


class Presenter:
    def __init__(self, store: Store, registry: Registry, stream_pace: float = 0.0) -> None:
        self.store, self.registry, self.stream_pace = store, registry, stream_pace
        self.times = EpisodeTimes()  # recent episode durations, for the queue's wait estimate

    def battle(self, b: BattleRecord) -> BattleView:
        vote = self.store.get_vote(b.id)
        turns = self.store.list_turns(b.id)
        return BattleView(battle_id=b.id, session_id=b.session_id, seq=b.seq, robot_id=b.robot_id,
                          scene_id=b.scene_id, created_at=b.created_at, status="voted" if vote else "open",
                          turns=[self.turn(t, b, revealed=vote is not None, earlier=turns[:i])
                                 for i, t in enumerate(turns)],
                          vote=self.reveal(b, vote) if vote else None)

    def turn(self, t: TurnRecord, battle: BattleRecord, *, revealed: bool,
             earlier: list[TurnRecord] | None = None) -> TurnView:
        stored = self.store.list_episodes(t.id)
        self.times.observe(stored)
        eps = {e.side: e if revealed else self.on_clock(e, stored) for e in stored}
        if earlier is None:
            earlier = [p for p in self.store.list_turns(battle.id) if p.seq < t.seq]
        chain = continued_instructions(earlier) if t.start == "continue" else ()
        understood = parse(t.instruction, get_scene(battle.scene_id), previous=chain)
        return TurnView(turn_id=t.id, battle_id=t.battle_id, seq=t.seq, instruction=t.instruction, seed=t.seed,
                        max_steps=t.max_steps, start=t.start, status=turn_status(list(eps.values())),
                        task=understood.task, understanding=understood,
                        episodes=Sides(left=self.episode(eps[Side.LEFT], revealed=revealed),
                                       right=self.episode(eps[Side.RIGHT], revealed=revealed)))

    def on_clock(self, e: EpisodeRecord, turn: list[EpisodeRecord]) -> EpisodeRecord:
        """`e` as the voter may see it: still running (no result) until its stream ends on the turn clock."""
        if self.stream_pace <= 0 or e.status is not EpisodeStatus.DONE or e.result is None:
            return e
        now = time.time()
        ends = anchor_time([x.started_at for x in turn], now=now) + \
            e.result.steps / EpisodeSpec.control_rate / self.stream_pace
        return msgspec.structs.replace(e, status=EpisodeStatus.RUNNING, result=None) if now < ends else e

    def episode(self, e: EpisodeRecord, *, revealed: bool) -> EpisodeView:
        r = e.result
        done = e.status is EpisodeStatus.DONE
        failed = e.status is EpisodeStatus.FAILED
        error = (e.error or "failed") if revealed else failure_notice(e.side.value)
        return EpisodeView(
            episode_id=e.id, status=e.status,
            success=r.success if r and revealed else None,
            progress=r.progress if r and revealed else None,
            steps=r.steps if r else None,
            error=error if failed else None,
            stream_url=f"/api/episodes/{e.id}/stream",
            trajectory_url=f"/api/episodes/{e.id}/trajectory" if done else None,
            trajectory_bytes=r.trajectory_bytes if r and revealed else None)

    def reveal(self, battle: BattleRecord, vote: VoteRecord) -> Reveal:
        return Reveal(battle_id=battle.id, choice=vote.choice, left=self.model(battle.left_policy),
                      right=self.model(battle.right_policy))

    def model(self, name: str) -> ModelView:
        entry = self.registry.entries.get(name)
        if entry is None:  # removed from the registry since the battle: still reveal the name
            return ModelView(name=name, organisation="unknown", licence="unknown", description="")
        return model_view(entry)


def continued_instructions(turns: list[TurnRecord]) -> tuple[str, ...]:
    """The instructions a turn after `turns` continues: back to (and including) the last one that reset
    the scene, oldest first. "now put it in the bowl" refers to what they were about."""
    chain: list[str] = []
    for t in reversed(turns):
        chain.append(t.instruction)
        if t.start != "continue":
            break
    return tuple(reversed(chain))


def turn_status(episodes: list[EpisodeRecord]) -> Literal["running", "done", "failed"]:
    """running while any side is queued or running; failed if any side failed; done otherwise."""
    statuses = {e.status for e in episodes}
    if statuses & {EpisodeStatus.QUEUED, EpisodeStatus.RUNNING}:
        return "running"
    return "failed" if EpisodeStatus.FAILED in statuses else "done"


def model_view(e: ModelEntry) -> ModelView:
    return ModelView(name=e.name, organisation=e.organisation, licence=e.licence, description=e.description)
