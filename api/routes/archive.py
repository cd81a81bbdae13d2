"""A voted battle's episodes, headers and vote as one zip, for the voter who owns the battle.

Before the vote there is nothing to download (404, the same answer as for an unknown battle): the files
name the policies. The record is built off the event loop (sync_to_thread); see api.lab.export_archive.
"""

from __future__ import annotations

from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath

from api.identity import load_secret
from api.lab.export_archive import ARCHIVE_MEDIA_TYPE, zip_battle
from api.routes.openapi_specs import ArenaOperation, download, errors
from api.service import ArenaService, Caller


@get("/api/battles/{battle_id:str}/archive", sync_to_thread=True, operation_class=ArenaOperation,
     responses={200: download(ARCHIVE_MEDIA_TYPE), **errors(404, 503)})
def archive(request: Request, service: NamedDependency[ArenaService], caller: NamedDependency[Caller],
            battle_id: FromPath[str]) -> Response[bytes]:
    """battle.json (battle, turns, outcomes, the vote with the voter as a salted hash) and, per episode,
    its `.vlar` file and header as JSON. Only after the vote, and only for the voter who owns the battle."""
    service.battle(battle_id, caller)  # 404 unless the caller started the battle's session
    settings = request.app.state["settings"]
    body = zip_battle(service.store, battle_id, load_secret(settings.secret, settings.data_dir))
    headers = {"Content-Disposition": f'attachment; filename="battle-{battle_id}.zip"',
               "Cache-Control": "private, no-cache", "Vary": "Cookie"}
    return Response(body, media_type=ARCHIVE_MEDIA_TYPE, headers=headers)
