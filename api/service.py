"""The arena's use cases, independent of HTTP: sessions, turns, votes, leaderboards.

Stateless: everything lives in the Store, the JobQueue and the LiveBus, so any API process can serve
any request.
"""

from __future__ import annotations

import secrets
import time
from typing import Literal

import msgspec

from api import ratings
from api.jobs.port import EpisodeJob, JobQueue
from api.live.port import LiveBus
from api.store.port import Store
from api.views import (
    BattleView,
    EpisodeView,
    LeaderboardView,
    ModelView,
    RatingRow,
    Reveal,
    RobotView,
    SceneView,
    SessionCreated,
    SessionView,
    Sides,
    TurnCreated,
    TurnView,
    VoteExport,
)
from api.worker import public_error
from policy_host.registry import ModelEntry, Registry
from schemas.errors import NotReadyError, ValidationError
from schemas.records import (
    BattleRecord,
    EpisodeRecord,
    EpisodeStatus,
    SessionRecord,
    Side,
    TurnRecord,
    VoteChoice,
    VoteRecord,
)
from sim_engine.episode import MAX_STEPS_LIMIT
from sim_engine.instructions import interpret
from sim_engine.robots import ROBOTS
from sim_engine.scene import SCENES, build_bundle, get_robot, get_scene

_rng = secrets.SystemRandom()


def new_id() -> str:
    """Opaque, unguessable, URL-safe; carries nothing about the policies."""
    return secrets.token_urlsafe(12)


class ArenaService:
    def __init__(self, store: Store, queue: JobQueue, bus: LiveBus, registry: Registry, *,
                 default_max_steps: int = 50, instruction_max_chars: int = 300,
                 leaderboard_rounds: int = 200) -> None:
        self.store, self.queue, self.bus, self.registry = store, queue, bus, registry
        self.default_max_steps = default_max_steps
        self.instruction_max_chars = instruction_max_chars
        self.leaderboard_rounds = leaderboard_rounds

    # ---- catalogue -----------------------------------------------------------------------------------

    def robots(self) -> list[RobotView]:
        return [RobotView(id=r.id, name=r.name, description=r.description,
                          scenes=[s.id for s in SCENES.values() if r.id in s.robots]) for r in ROBOTS.values()]

    def scenes(self, robot_id: str | None = None) -> list[SceneView]:
        if robot_id is not None:
            get_robot(robot_id)
        return [SceneView(id=s.id, name=s.name, description=s.description, robots=list(s.robots),
                          objects=[*s.cubes, *(["bowl"] if s.bowl else [])])
                for s in SCENES.values() if robot_id is None or robot_id in s.robots]

    def models(self) -> list[ModelView]:
        return [_model_view(e) for e in sorted(self.registry.entries.values(), key=lambda e: e.name) if e.arena]

    def bundle(self, scene_id: str, robot_id: str) -> dict:
        get_scene(scene_id, robot_id)
        b = build_bundle(robot_id, scene_id)
        return {"robot_id": robot_id, "scene_id": scene_id, "entry": b.entry, "hash": b.content_hash,
                "files": b.files}

    # ---- sessions and battles ------------------------------------------------------------------------

    def create_session(self, robot_id: str, scene_id: str, voter_id: str | None) -> SessionCreated:
        if voter_id is not None and not 1 <= len(voter_id) <= 128:
            raise ValidationError("voter_id", "must be 1 to 128 characters")
        get_robot(robot_id)
        get_scene(scene_id, robot_id)
        session = SessionRecord(id=new_id(), robot_id=robot_id, scene_id=scene_id, created_at=time.time(),
                                voter_id=voter_id)
        battle = self._new_battle(session, seq=0)
        self.store.create_session(session, battle)
        return SessionCreated(session_id=session.id, robot_id=robot_id, scene_id=scene_id,
                              battle=self.battle(battle.id))

    def new_battle(self, session_id: str) -> BattleView:
        session = self.store.get_session(session_id)
        battle = self._new_battle(session, seq=len(self.store.list_battles(session_id)))
        self.store.create_battle(battle)
        return self.battle(battle.id)

    def _new_battle(self, session: SessionRecord, seq: int) -> BattleRecord:
        candidates = self.registry.arena_models(session.robot_id)
        if len(candidates) < 2:
            raise NotReadyError(f"robot {session.robot_id!r} has fewer than two arena policies")
        left, right = _rng.sample(candidates, 2)  # random pair, random sides
        return BattleRecord(id=new_id(), session_id=session.id, seq=seq, robot_id=session.robot_id,
                            scene_id=session.scene_id, left_policy=left.name, right_policy=right.name,
                            created_at=time.time())

    def session(self, session_id: str) -> SessionView:
        s = self.store.get_session(session_id)
        return SessionView(session_id=s.id, robot_id=s.robot_id, scene_id=s.scene_id, created_at=s.created_at,
                           battles=[self.battle(b.id) for b in self.store.list_battles(session_id)])

    def battle(self, battle_id: str) -> BattleView:
        b = self.store.get_battle(battle_id)
        vote = self.store.get_vote(battle_id)
        return BattleView(battle_id=b.id, session_id=b.session_id, seq=b.seq, robot_id=b.robot_id,
                          scene_id=b.scene_id, created_at=b.created_at, status="voted" if vote else "open",
                          turns=[self.turn(t.id) for t in self.store.list_turns(battle_id)],
                          vote=self._reveal(b, vote) if vote else None)

    def voter_battles(self, voter_id: str, limit: int = 50) -> list[BattleView]:
        """The voter's battles across their sessions, newest first, at most `limit` (1..200)."""
        if not 1 <= limit <= 200:
            raise ValidationError("limit", "must be between 1 and 200")
        if not voter_id or len(voter_id) > 128:
            raise ValidationError("voter_id", "must be 1 to 128 characters")
        records = [b for s in self.store.list_sessions_by_voter(voter_id, limit)
                   for b in self.store.list_battles(s.id)]
        records.sort(key=lambda b: (b.created_at, b.seq), reverse=True)
        return [self.battle(b.id) for b in records[:limit]]

    # ---- turns ---------------------------------------------------------------------------------------

    def create_turn(self, battle_id: str, instruction: str, max_steps: int | None) -> TurnCreated:
        battle = self.store.get_battle(battle_id)
        text = self._check_instruction(instruction)
        steps = self.default_max_steps if max_steps is None else max_steps
        if not 1 <= steps <= MAX_STEPS_LIMIT:
            raise ValidationError("max_steps", f"must be between 1 and {MAX_STEPS_LIMIT}")
        if self.store.get_vote(battle_id) is not None:
            raise NotReadyError("this battle has been voted on; start a new battle for more turns")
        now = time.time()
        turn = TurnRecord(id=new_id(), battle_id=battle_id, seq=len(self.store.list_turns(battle_id)),
                          instruction=text, seed=_rng.randrange(2**31), max_steps=steps, created_at=now)
        episodes = [
            EpisodeRecord(id=new_id(), turn_id=turn.id, battle_id=battle_id, side=side, policy=policy,
                          created_at=now)
            for side, policy in ((Side.LEFT, battle.left_policy), (Side.RIGHT, battle.right_policy))
        ]
        self.store.create_turn(turn, episodes)  # acknowledged from here on: recover() reruns it after a crash
        for ep in episodes:
            self._enqueue(battle, turn, ep)
        return TurnCreated(turn_id=turn.id, battle_id=battle_id, seq=turn.seq,
                           episodes={ep.side.value: ep.id for ep in episodes})

    def _check_instruction(self, instruction: str) -> str:
        text = " ".join(instruction.split())
        if not text:
            raise ValidationError("instruction", "must not be empty")
        if len(text) > self.instruction_max_chars:
            raise ValidationError("instruction", f"must be at most {self.instruction_max_chars} characters")
        return text

    def _enqueue(self, battle: BattleRecord, turn: TurnRecord, ep: EpisodeRecord) -> None:
        self.bus.open(ep.id)
        self.queue.submit(EpisodeJob(episode_id=ep.id, robot_id=battle.robot_id, scene_id=battle.scene_id,
                                     policy=ep.policy, instruction=turn.instruction, seed=turn.seed,
                                     max_steps=turn.max_steps))

    def recover(self) -> int:
        """Requeue episodes that were acknowledged but never finished (the server died or stopped).

        For the embedded default, where this process is the only worker. A scaled-out deployment keeps
        jobs in its queue (Redis) instead, so its API processes do not call this."""
        pending = self.store.list_unfinished_episodes()
        for ep in pending:
            self._enqueue(self.store.get_battle(ep.battle_id), self.store.get_turn(ep.turn_id), ep)
        return len(pending)

    def turn(self, turn_id: str) -> TurnView:
        t = self.store.get_turn(turn_id)
        eps = {e.side: e for e in self.store.list_episodes(turn_id)}
        status = _turn_status(list(eps.values()))
        scene = get_scene(self.store.get_battle(t.battle_id).scene_id)
        return TurnView(turn_id=t.id, battle_id=t.battle_id, seq=t.seq, instruction=t.instruction, seed=t.seed,
                        max_steps=t.max_steps, status=status, task=interpret(t.instruction, bowl=scene.bowl),
                        episodes=Sides(left=self._episode_view(eps[Side.LEFT]),
                                       right=self._episode_view(eps[Side.RIGHT])))

    def _episode_view(self, e: EpisodeRecord) -> EpisodeView:
        r = e.result
        done = e.status is EpisodeStatus.DONE
        return EpisodeView(
            episode_id=e.id, status=e.status, success=r.success if r else None,
            progress=r.progress if r else None, steps=r.steps if r else None,
            error=public_error(e.error, list(self.registry.entries)) if e.error else None,
            stream_url=f"/api/episodes/{e.id}/stream",
            trajectory_url=f"/api/episodes/{e.id}/trajectory" if done else None,
            trajectory_bytes=r.trajectory_bytes if r else None)

    # ---- votes and ratings ---------------------------------------------------------------------------

    def vote(self, battle_id: str, choice: VoteChoice) -> Reveal:
        battle = self.store.get_battle(battle_id)
        by_turn: dict[str, list[EpisodeRecord]] = {}
        for ep in self.store.list_battle_episodes(battle_id):
            by_turn.setdefault(ep.turn_id, []).append(ep)
        statuses = [_turn_status(eps) for eps in by_turn.values()]
        if self.store.get_vote(battle_id) is None:  # a second vote gets AlreadyVotedError below
            if not statuses:
                raise NotReadyError("the battle has no turns yet: submit an instruction first")
            if "running" in statuses:
                raise NotReadyError("a turn is still running: vote once every episode has ended")
            if "done" not in statuses:
                raise NotReadyError("no turn finished successfully: retry the instruction before voting")
        session = self.store.get_session(battle.session_id)
        vote = VoteRecord(id=new_id(), battle_id=battle_id, session_id=session.id, robot_id=battle.robot_id,
                          scene_id=battle.scene_id, left_policy=battle.left_policy,
                          right_policy=battle.right_policy, choice=choice, created_at=time.time())
        self.store.record_vote(vote)
        return self._reveal(battle, vote)

    def _reveal(self, battle: BattleRecord, vote: VoteRecord) -> Reveal:
        return Reveal(battle_id=battle.id, choice=vote.choice, left=self._public_model(battle.left_policy),
                      right=self._public_model(battle.right_policy))

    def _public_model(self, name: str) -> ModelView:
        entry = self.registry.entries.get(name)
        if entry is None:  # removed from the registry since the battle: still reveal the name
            return ModelView(name=name, organisation="unknown", licence="unknown", description="")
        return _model_view(entry)

    def leaderboard(self, robot_id: str | None) -> LeaderboardView:
        if robot_id is not None:
            get_robot(robot_id)
        votes = self.store.list_votes(robot_id)
        rows = ratings.leaderboard(ratings.battles_from_votes(votes), rounds=self.leaderboard_rounds)
        orgs = {n: e.organisation for n, e in self.registry.entries.items()}
        return LeaderboardView(
            robot_id=robot_id, total_votes=len(votes),
            method="Bradley-Terry MLE (scale 400, base 10, mean 1000), 95% bootstrap CI; ties and both-bad are ties",
            models=[RatingRow(rank=i + 1, organisation=orgs.get(r.model, "unknown"), **msgspec.structs.asdict(r))
                    for i, r in enumerate(rows)])

    def export_votes(self, robot_id: str | None) -> list[VoteExport]:
        return [VoteExport(vote_id=v.id, battle_id=v.battle_id, robot_id=v.robot_id, scene_id=v.scene_id,
                           left_model=v.left_policy, right_model=v.right_policy, choice=v.choice,
                           created_at=v.created_at) for v in self.store.list_votes(robot_id)]


TurnStatus = Literal["running", "done", "failed"]


def _turn_status(episodes: list[EpisodeRecord]) -> TurnStatus:
    """running while any side is queued or running; failed if any side failed; done otherwise."""
    statuses = {e.status for e in episodes}
    if statuses & {EpisodeStatus.QUEUED, EpisodeStatus.RUNNING}:
        return "running"
    return "failed" if EpisodeStatus.FAILED in statuses else "done"


def _model_view(e: ModelEntry) -> ModelView:
    return ModelView(name=e.name, organisation=e.organisation, licence=e.licence, description=e.description)
