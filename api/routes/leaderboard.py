"""Ratings and vote data."""

from __future__ import annotations

from litestar import get
from litestar.di import NamedDependency
from litestar.params import FromQuery

from api.service import ArenaService
from api.views import LeaderboardView, VoteExport


@get("/api/leaderboard", sync_to_thread=True)
def leaderboard(service: NamedDependency[ArenaService], robot_id: FromQuery[str | None] = None) -> LeaderboardView:
    """Bradley-Terry ratings with 95% bootstrap CIs: per robot, or global without robot_id."""
    return service.leaderboard(robot_id)


@get("/api/votes", sync_to_thread=True)
def votes(service: NamedDependency[ArenaService], robot_id: FromQuery[str | None] = None) -> list[VoteExport]:
    """Every recorded vote with both (revealed) identities, for research."""
    return service.export_votes(robot_id)
