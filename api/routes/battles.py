"""Sessions, battles, turns, votes. Every route acts for the caller (the voter in the `arena_voter`
cookie, see api.guard): a session, battle or turn that another voter started answers 404."""

from __future__ import annotations

from typing import Annotated, Literal

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_202_ACCEPTED

from api.routes.openapi_specs import ArenaOperation, errors
from api.service import ArenaService, Caller
from api.views import (
    INSTRUCTION_MAX_CHARS,
    INSTRUCTION_RULE,
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
from schemas.task import Understanding


def caller_of(request: Request) -> Caller:
    """The dependency every voter route takes: who is asking (set by api.guard.RequestGuard)."""
    return Caller(voter_id=request.scope["arena_voter"], client=request.scope["arena_client"])  # type: ignore[typeddict-item]


@post("/api/sessions", status_code=HTTP_201_CREATED, sync_to_thread=True,
      responses=errors(400, 403, 404, 409, 413, 415, 429, 503), operation_class=ArenaOperation)
def create_session(service: NamedDependency[ArenaService], caller: NamedDependency[Caller],
                   data: JSONBody[SessionCreate]) -> SessionCreated:
    """Start a session and its first battle: two random policies, hidden, sides randomised."""
    return service.create_session(data.robot_id, data.scene_id, caller)


@get("/api/sessions/{session_id:str}", sync_to_thread=True, responses=errors(404, 503), operation_class=ArenaOperation)
def get_session(service: NamedDependency[ArenaService], caller: NamedDependency[Caller],
                session_id: FromPath[str]) -> SessionView:
    return service.session(session_id, caller)


@get("/api/me/battles", sync_to_thread=True, responses=errors(400, 503), operation_class=ArenaOperation)
def my_battles(service: NamedDependency[ArenaService], caller: NamedDependency[Caller],
               limit: Annotated[int, QueryParameter(schema_extra={"minimum": 1, "maximum": 200})] = 50
               ) -> list[BattleView]:
    """The caller's own battles, newest first (history). An unvoted battle shows no identities."""
    return service.my_battles(caller, limit)


@post("/api/sessions/{session_id:str}/battles", status_code=HTTP_201_CREATED, sync_to_thread=True,
      responses=errors(400, 403, 404, 409, 413, 415, 429, 503), operation_class=ArenaOperation)
def new_battle(service: NamedDependency[ArenaService], caller: NamedDependency[Caller],
               session_id: FromPath[str]) -> BattleView:
    """A fresh battle (a new pair) in the same session."""
    return service.new_battle(session_id, caller)


@get("/api/battles/{battle_id:str}", sync_to_thread=True, responses=errors(404, 503), operation_class=ArenaOperation)
def get_battle(service: NamedDependency[ArenaService], caller: NamedDependency[Caller],
               battle_id: FromPath[str]) -> BattleView:
    return service.battle(battle_id, caller)


@post("/api/battles/{battle_id:str}/turns", status_code=HTTP_202_ACCEPTED, sync_to_thread=True,
      responses=errors(400, 403, 404, 409, 413, 415, 429, 503), operation_class=ArenaOperation)
def create_turn(service: NamedDependency[ArenaService], caller: NamedDependency[Caller],
                battle_id: FromPath[str], data: JSONBody[TurnCreate]) -> TurnCreated:
    """Run the instruction with both policies, at the same time: from the same seed (start "reset") or
    from where each side ended the previous turn (start "continue", the default)."""
    return service.create_turn(battle_id, data.instruction, data.max_steps, caller, data.start)


@get("/api/battles/{battle_id:str}/understand", sync_to_thread=True, responses=errors(400, 404, 503),
     operation_class=ArenaOperation)
def understand(service: NamedDependency[ArenaService], caller: NamedDependency[Caller], battle_id: FromPath[str],
               instruction: Annotated[str, QueryParameter(max_length=INSTRUCTION_MAX_CHARS,
                                                          schema_extra=INSTRUCTION_RULE)],
               start: FromQuery[Literal["continue", "reset"]] = "continue"
               ) -> Understanding:
    """How the instruction would be understood and scored in this battle, before it runs ("pick up · red
    cube", "no automatic metric for this instruction"); a 400 naming `instruction` lists what the scene has
    when it names an object the scene does not have."""
    return service.understand(battle_id, instruction, start, caller)


@get("/api/turns/{turn_id:str}", sync_to_thread=True, responses=errors(404, 503), operation_class=ArenaOperation)
def get_turn(service: NamedDependency[ArenaService], caller: NamedDependency[Caller],
             turn_id: FromPath[str]) -> TurnView:
    return service.turn(turn_id, caller)


@post("/api/battles/{battle_id:str}/vote", status_code=HTTP_200_OK, sync_to_thread=True,
      responses=errors(400, 403, 404, 409, 413, 415, 429, 503), operation_class=ArenaOperation)
def vote(service: NamedDependency[ArenaService], caller: NamedDependency[Caller], battle_id: FromPath[str],
         data: JSONBody[VoteCreate]) -> Reveal:
    """Record the vote (exactly once) and reveal both identities."""
    return service.vote(battle_id, data, caller)
