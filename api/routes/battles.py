"""Sessions, battles, turns, votes."""

from __future__ import annotations

from litestar import get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_202_ACCEPTED

from api.service import ArenaService
from api.views import (
    BattleView,
    Reveal,
    SessionCreate,
    SessionCreated,
    SessionView,
    TurnCreate,
    TurnCreated,
    TurnView,
    VoteCreate,
)


@post("/api/sessions", status_code=HTTP_201_CREATED, sync_to_thread=True)
def create_session(service: NamedDependency[ArenaService], data: JSONBody[SessionCreate]) -> SessionCreated:
    """Start a session and its first battle: two random policies, hidden, sides randomised."""
    return service.create_session(data.robot_id, data.scene_id, data.voter_id)


@get("/api/sessions/{session_id:str}", sync_to_thread=True)
def get_session(service: NamedDependency[ArenaService], session_id: FromPath[str]) -> SessionView:
    return service.session(session_id)


@get("/api/voters/{voter_id:str}/battles", sync_to_thread=True)
def voter_battles(
    service: NamedDependency[ArenaService], voter_id: FromPath[str], limit: FromQuery[int] = 50
) -> list[BattleView]:
    """The voter's battles, newest first (history). `voter_id` is the random id the browser keeps and
    sends when it creates sessions; an unvoted battle shows no identities, exactly as GET /api/battles."""
    return service.voter_battles(voter_id, limit)


@post("/api/sessions/{session_id:str}/battles", status_code=HTTP_201_CREATED, sync_to_thread=True)
def new_battle(service: NamedDependency[ArenaService], session_id: FromPath[str]) -> BattleView:
    """A fresh battle (a new random pair) in the same session."""
    return service.new_battle(session_id)


@get("/api/battles/{battle_id:str}", sync_to_thread=True)
def get_battle(service: NamedDependency[ArenaService], battle_id: FromPath[str]) -> BattleView:
    return service.battle(battle_id)


@post("/api/battles/{battle_id:str}/turns", status_code=HTTP_202_ACCEPTED, sync_to_thread=True)
def create_turn(
    service: NamedDependency[ArenaService], battle_id: FromPath[str], data: JSONBody[TurnCreate]
) -> TurnCreated:
    """Run the instruction with both policies, at the same time, on the same seed."""
    return service.create_turn(battle_id, data.instruction, data.max_steps)


@get("/api/turns/{turn_id:str}", sync_to_thread=True)
def get_turn(service: NamedDependency[ArenaService], turn_id: FromPath[str]) -> TurnView:
    return service.turn(turn_id)


@post("/api/battles/{battle_id:str}/vote", status_code=HTTP_200_OK, sync_to_thread=True)
def vote(service: NamedDependency[ArenaService], battle_id: FromPath[str], data: JSONBody[VoteCreate]) -> Reveal:
    """Record the vote (exactly once) and reveal both identities."""
    return service.vote(battle_id, data.choice)
