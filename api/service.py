"""The arena's use cases, independent of HTTP: sessions, turns, votes, leaderboards.

Stateless: everything lives in the Store, the JobQueue and the LiveBus, so any API process can serve
any request.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Literal

from api import ratings
from api.jobs.port import EpisodeJob, JobQueue
from api.limits.rules import RateRules
from api.live.port import LiveBus
from api.presenter import Presenter, continued_instructions, model_view
from api.rules import check_votable, checked_instruction, normalise_instruction, vote_flags
from api.store.port import Store
from api.views import (
    BattleView,
    LeaderboardView,
    ModelView,
    Reveal,
    RobotView,
    SceneView,
    SessionCreated,
    SessionView,
    TurnCreated,
    TurnView,
    VoteCreate,
    VoteExport,
)
from policy_host.registry import Registry
from schemas.errors import NotFoundError, NotReadyError, RateLimitedError, ValidationError
from schemas.records import (
    BattleRecord,
    EpisodeRecord,
    EpisodeStatus,
    SessionRecord,
    Side,
    TurnRecord,
    VoteRecord,
)
from schemas.task import Understanding
from sim_engine.episode import MAX_STEPS_LIMIT
from sim_engine.robots import ROBOTS
from sim_engine.scene import SCENES, build_bundle, get_robot, get_scene
from sim_engine.understanding import understand

_rng = secrets.SystemRandom()


def new_id() -> str:
    """Opaque, unguessable, URL-safe; carries nothing about the policies."""
    return secrets.token_urlsafe(12)


__all__ = ["ArenaService", "Caller", "new_id", "normalise_instruction"]


@dataclass(frozen=True)
class Caller:
    """Who is asking: the server-issued voter id (`api.identity`) and the client address (for limits)."""

    voter_id: str
    client: str = "unknown"


class ArenaService:
    def __init__(self, store: Store, queue: JobQueue, bus: LiveBus, registry: Registry, *,
                 limits: RateRules, default_max_steps: int = 50, instruction_max_chars: int = 300,
                 leaderboard_rounds: int = 200, max_running_turns: int = 2, stream_pace: float = 1.0) -> None:
        self.store, self.queue, self.bus, self.registry = store, queue, bus, registry
        self.limits = limits
        self.present = Presenter(store, registry, stream_pace)
        self.default_max_steps = default_max_steps
        self.instruction_max_chars = instruction_max_chars
        self.leaderboard_rounds = leaderboard_rounds
        self.max_running_turns = max_running_turns
        self.stream_pace = stream_pace

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
        return [model_view(e) for e in sorted(self.registry.entries.values(), key=lambda e: e.name) if e.arena]

    def bundle(self, scene_id: str, robot_id: str) -> dict:
        get_scene(scene_id, robot_id)
        b = build_bundle(robot_id, scene_id)
        return {"robot_id": robot_id, "scene_id": scene_id, "entry": b.entry, "hash": b.content_hash,
                "files": b.files}

    # ---- sessions and battles (each visible only to the voter who started the session) ---------------

    def create_session(self, robot_id: str, scene_id: str, caller: Caller) -> SessionCreated:
        get_robot(robot_id)
        get_scene(scene_id, robot_id)
        self.limits.check("sessions", caller.voter_id, caller.client)
        session = SessionRecord(id=new_id(), robot_id=robot_id, scene_id=scene_id, created_at=time.time(),
                                voter_id=caller.voter_id)
        battle = self._new_battle(session, seq=0)
        self.store.create_session(session, battle)
        return SessionCreated(session_id=session.id, robot_id=robot_id, scene_id=scene_id,
                              battle=self.present.battle(battle))

    def new_battle(self, session_id: str, caller: Caller) -> BattleView:
        session = self._owned_session(session_id, caller)
        self.limits.check("sessions", caller.voter_id, caller.client)
        battle = self._new_battle(session, seq=len(self.store.list_battles(session_id)))
        stored = self.store.create_battle(battle)
        return self.present.battle(stored if isinstance(stored, BattleRecord) else battle)

    def _new_battle(self, session: SessionRecord, seq: int) -> BattleRecord:
        candidates = self.registry.arena_models(session.robot_id)
        if len(candidates) < 2:
            raise NotReadyError(f"robot {session.robot_id!r} has fewer than two arena policies")
        board, _ = ratings.cache_for(self.store).board(session.robot_id, None, wait=False)
        left, right = ratings.choose_pair([c.name for c in candidates], board.rows if board else [], _rng,
                                          avoid=ratings.last_pair(self.store, session))  # sides random
        return BattleRecord(id=new_id(), session_id=session.id, seq=seq, robot_id=session.robot_id,
                            scene_id=session.scene_id, left_policy=left, right_policy=right,
                            created_at=time.time())

    def session(self, session_id: str, caller: Caller) -> SessionView:
        s = self._owned_session(session_id, caller)
        return SessionView(session_id=s.id, robot_id=s.robot_id, scene_id=s.scene_id, created_at=s.created_at,
                           battles=[self.present.battle(b) for b in self.store.list_battles(session_id)])

    def battle(self, battle_id: str, caller: Caller) -> BattleView:
        return self.present.battle(self._owned_battle(battle_id, caller))

    def my_battles(self, caller: Caller, limit: int = 50) -> list[BattleView]:
        """The caller's battles across their sessions, newest first, at most `limit` (1..200)."""
        if not 1 <= limit <= 200:
            raise ValidationError("limit", "must be between 1 and 200")
        records = [b for s in self.store.list_sessions_by_voter(caller.voter_id, limit)
                   for b in self.store.list_battles(s.id)]
        records.sort(key=lambda b: (b.created_at, b.seq), reverse=True)
        return [self.present.battle(b) for b in records[:limit]]

    def _owned_session(self, session_id: str, caller: Caller) -> SessionRecord:
        """The session if the caller started it; anyone else gets the same 404 as for an unknown id, so
        ids are never confirmed."""
        session = self.store.get_session(session_id)
        if session.voter_id != caller.voter_id:
            raise NotFoundError("session", session_id)
        return session

    def _owned_battle(self, battle_id: str, caller: Caller) -> BattleRecord:
        battle = self.store.get_battle(battle_id)
        if self.store.get_session(battle.session_id).voter_id != caller.voter_id:
            raise NotFoundError("battle", battle_id)
        return battle

    def owned_episode(self, episode_id: str, caller: Caller) -> tuple[EpisodeRecord, bool]:
        """The episode if the caller owns its battle, and whether that battle has been voted on."""
        episode = self.store.get_episode(episode_id)
        battle = self.store.get_battle(episode.battle_id)
        if self.store.get_session(battle.session_id).voter_id != caller.voter_id:
            raise NotFoundError("episode", episode_id)
        return episode, self.store.get_vote(battle.id) is not None

    # ---- turns ---------------------------------------------------------------------------------------

    def create_turn(self, battle_id: str, instruction: str, max_steps: int | None, caller: Caller,
                    start: Literal["continue", "reset"] = "continue") -> TurnCreated:
        battle = self._owned_battle(battle_id, caller)
        text = checked_instruction(instruction, self.instruction_max_chars)
        previous = self.store.list_turns(battle_id)
        sources = self._continue_from(previous[-1]) if start == "continue" and previous else None
        chain = continued_instructions(previous) if sources else ()
        understand(text, battle.scene_id, previous=chain)  # refuses objects the scene does not have
        steps = self.default_max_steps if max_steps is None else max_steps
        if not 1 <= steps <= MAX_STEPS_LIMIT:
            raise ValidationError("max_steps", f"must be between 1 and {MAX_STEPS_LIMIT}")
        if self.store.get_vote(battle_id) is not None:
            raise NotReadyError("this battle has been voted on; start a new battle for more turns")
        self._check_running(caller)
        self.limits.check("turns", caller.voter_id, caller.client)
        now = time.time()
        turn = TurnRecord(id=new_id(), battle_id=battle_id, seq=len(previous), instruction=text,
                          seed=_rng.randrange(2**31), max_steps=steps, created_at=now,
                          start="continue" if sources else "reset")
        episodes = [
            EpisodeRecord(id=new_id(), turn_id=turn.id, battle_id=battle_id, side=side, policy=policy,
                          created_at=now, voter_id=caller.voter_id)
            for side, policy in ((Side.LEFT, battle.left_policy), (Side.RIGHT, battle.right_policy))
        ]
        stored = self.store.create_turn(turn, episodes)  # acknowledged from here: recover() reruns it after a crash
        turn = stored if isinstance(stored, TurnRecord) else turn
        for ep in episodes:
            self._enqueue(battle, turn, ep, caller.voter_id, (sources or {}).get(ep.side), chain)
        return TurnCreated(turn_id=turn.id, battle_id=battle_id, seq=turn.seq, start=turn.start,
                           episodes={ep.side.value: ep.id for ep in episodes})

    def _continue_from(self, previous: TurnRecord) -> dict[Side, str] | None:
        """Each side's episode of the previous turn, whose final state the new turn starts from; None (a
        fresh layout) unless both finished."""
        eps = self.store.list_episodes(previous.id)
        if len(eps) != 2 or any(e.status is not EpisodeStatus.DONE for e in eps):
            return None
        return {e.side: e.id for e in eps}

    def _check_running(self, caller: Caller) -> None:
        """At most `max_running_turns` of one voter's turns queued or running, so one voter's backlog
        cannot starve everyone else's (the queue is also fair between voters)."""
        running = self.store.count_unfinished_episodes(caller.voter_id)
        if running >= 2 * self.max_running_turns:
            raise RateLimitedError(f"turns at once (you have {running // 2} running)", 5.0)

    def _enqueue(self, battle: BattleRecord, turn: TurnRecord, ep: EpisodeRecord, voter: str,
                 start_from: str | None, chain: tuple[str, ...]) -> None:
        self.bus.open(ep.id)
        self.queue.submit(EpisodeJob(episode_id=ep.id, robot_id=battle.robot_id, scene_id=battle.scene_id,
                                     policy=ep.policy, instruction=turn.instruction, seed=turn.seed,
                                     max_steps=turn.max_steps, voter=voter, start_from=start_from,
                                     previous_instructions=list(chain)))

    def recover(self) -> int:
        """Requeue episodes that were acknowledged but never finished (the server died or stopped).

        For the embedded default, where this process is the only worker. A scaled-out deployment keeps
        jobs in its queue (Redis) instead, so its API processes do not call this."""
        pending = self.store.list_unfinished_episodes()
        for ep in pending:
            turn = self.store.get_turn(ep.turn_id)
            earlier = [t for t in self.store.list_turns(turn.battle_id) if t.seq < turn.seq]
            source = (self._continue_from(earlier[-1]) or {}).get(ep.side) if turn.start == "continue" else None
            self._enqueue(self.store.get_battle(ep.battle_id), turn, ep, ep.voter_id or "", source,
                          continued_instructions(earlier) if source else ())
        return len(pending)

    def understand(self, battle_id: str, instruction: str, start: Literal["continue", "reset"],
                   caller: Caller) -> Understanding:
        """How an instruction would be understood in this battle, before anything runs: a 400 naming
        `instruction` (with what the scene has) if it names an object the scene does not have."""
        battle = self._owned_battle(battle_id, caller)
        previous = self.store.list_turns(battle_id)
        chain = continued_instructions(previous) if start == "continue" and previous else ()
        return understand(checked_instruction(instruction, self.instruction_max_chars), battle.scene_id, previous=chain)

    def turn(self, turn_id: str, caller: Caller) -> TurnView:
        t = self.store.get_turn(turn_id)
        try:
            battle = self._owned_battle(t.battle_id, caller)
        except NotFoundError:
            raise NotFoundError("turn", turn_id) from None
        return self.present.turn(t, battle, revealed=self.store.get_vote(battle.id) is not None)

    # ---- votes and ratings ---------------------------------------------------------------------------

    def vote(self, battle_id: str, ballot: VoteCreate, caller: Caller) -> Reveal:
        battle = self._owned_battle(battle_id, caller)
        episodes = self.store.list_battle_episodes(battle_id)
        if self.store.get_vote(battle_id) is None:  # a second vote gets AlreadyVotedError below
            check_votable(episodes)
            self.limits.check("votes", caller.voter_id, caller.client)
        vote = VoteRecord(id=new_id(), battle_id=battle_id, session_id=battle.session_id, robot_id=battle.robot_id,
                          scene_id=battle.scene_id, left_policy=battle.left_policy,
                          right_policy=battle.right_policy, choice=ballot.choice, created_at=time.time(),
                          voter_id=caller.voter_id, left_progress=ballot.left_progress,
                          right_progress=ballot.right_progress, note=ballot.note,
                          flags=vote_flags(episodes, self.stream_pace))
        self.store.record_vote(vote)
        ratings.cache_for(self.store).note_vote()
        return self.present.reveal(battle, vote)

    def leaderboard(self, robot_id: str | None, scene_id: str | None = None) -> LeaderboardView:
        """The cached board (fitted in the background by `api.ratings.cache`): per robot, scene, or global."""
        if robot_id is not None:
            get_robot(robot_id)
        if scene_id is not None:
            get_scene(scene_id, robot_id)
        orgs = {n: e.organisation for n, e in self.registry.entries.items()}
        return ratings.leaderboard_view(ratings.cache_for(self.store), robot_id, scene_id, orgs)

    def export_votes(self, robot_id: str | None, salt: bytes = b"") -> list[VoteExport]:
        """Every vote in FastChat's battle format with its exclusion flags; `salt` keys the judge hash."""
        if robot_id is not None:
            get_robot(robot_id)
        return ratings.export_rows(ratings.cache_for(self.store), robot_id, salt)

