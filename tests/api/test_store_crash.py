"""Crash tests: a SQLite writer process, or the MongoDB server, is SIGKILLed; afterwards every write
that was acknowledged is still there, and the store opens cleanly and takes new writes.

SIGKILL gives no chance to flush or clean up, so this checks that a write is in the file (WAL)
once the call returns. Power loss (dropping the OS page cache) cannot be simulated here; that
part of durability rests on `synchronous=FULL` (tested in the contract suite's SQLite section).

For Mongo the server (nx-27017, or its own process) is killed while a writer thread records units,
then restarted on the same data dir. Against a real MongoDB the same guarantee rests on the write
concern (w="majority", j=true), which nx-27017 accepts but, as one process over SQLite, cannot test.
"""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path

import msgspec
import pytest

from api.store import SqliteStore, Store
from api.store.mongo import MongoStore
from schemas.errors import StoreError
from schemas.records import (
    EpisodeRecord,
    EpisodeResult,
    EpisodeStatus,
    Side,
    TurnRecord,
    VoteChoice,
    VoteRecord,
)
from tests.support.mongo_server import MongoServer, with_options

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX SIGKILL")

ROOT = Path(__file__).resolve().parents[2]

_PRELUDE = """
import hashlib, sys, time
from api.store import SqliteStore
from schemas.records import *

def vote(i):
    return VoteRecord(id=f"v{i}", battle_id=f"b{i}", session_id="s", robot_id="panda", scene_id="kitchen",
                      left_policy="pi0", right_policy="octo", choice=VoteChoice.TIE, created_at=float(i))

def ack(line):
    print(line, flush=True)

store = SqliteStore(sys.argv[1])
"""

_ONE_VOTE = """
store.record_vote(vote(0))
ack("ACK")
time.sleep(600)
"""

# Each unit: a turn with one episode, the episode finished with a 64 KiB trajectory, and a vote.
_MANY_WRITES = """
for i in range(100_000):
    store.create_turn(
        TurnRecord(id=f"t{i}", battle_id=f"b{i}", seq=0, instruction="go", seed=i, max_steps=10,
                   created_at=float(i)),
        [EpisodeRecord(id=f"e{i}", turn_id=f"t{i}", battle_id=f"b{i}", side=Side.LEFT, policy="pi0",
                       created_at=float(i))],
    )
    data = i.to_bytes(8, "little") * 8192
    result = EpisodeResult(success=True, progress=1.0, steps=10, n_frames=11, terminated="success",
                           wall_time_s=0.5, trajectory_sha256=hashlib.sha256(data).hexdigest(),
                           trajectory_bytes=len(data))
    store.finish_episode(f"e{i}", result, data, finished_at=float(i))
    store.record_vote(vote(i))
    ack(f"ACK {i}")
"""


def spawn_writer(db: Path, body: str) -> subprocess.Popen[str]:
    code = textwrap.dedent(_PRELUDE) + textwrap.dedent(body)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    return subprocess.Popen(
        [sys.executable, "-c", code, str(db)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=env,
    )


def read_ack(proc: subprocess.Popen[str]) -> str:
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        proc.wait(timeout=10)
        pytest.fail(f"writer exited before acknowledging: {proc.stderr.read() if proc.stderr else ''}")
    return line.strip()


def kill(proc: subprocess.Popen[str]) -> list[str]:
    """SIGKILL the writer; return the acknowledgements it printed that were not read yet."""
    proc.send_signal(signal.SIGKILL)
    rest, _ = proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    return [line for line in rest.splitlines() if line.startswith("ACK")]


def test_acknowledged_vote_survives_sigkill(tmp_path: Path) -> None:
    db = tmp_path / "arena.db"
    proc = spawn_writer(db, _ONE_VOTE)
    try:
        assert read_ack(proc) == "ACK"
    finally:
        kill(proc)
    with SqliteStore(db) as store:
        found = store.get_vote("b0")
    assert found is not None
    assert isinstance(found, VoteRecord)
    assert found.choice is VoteChoice.TIE


@pytest.mark.parametrize("acks_before_kill", [1, 25, 80])
def test_kill_mid_write_series_keeps_every_acknowledged_write(tmp_path: Path, acks_before_kill: int) -> None:
    db = tmp_path / "arena.db"
    proc = spawn_writer(db, _MANY_WRITES)
    try:
        acks = [read_ack(proc) for _ in range(acks_before_kill)]
    finally:
        acks += kill(proc)
    acked = [int(line.split()[1]) for line in acks]
    assert acked == list(range(len(acked)))

    raw = sqlite3.connect(db)
    try:
        assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        raw.close()
    with SqliteStore(db) as store:
        for i in acked:
            assert store.get_episode(f"e{i}").status is EpisodeStatus.DONE
            assert store.get_trajectory(f"e{i}") == i.to_bytes(8, "little") * 8192
        votes = store.list_votes()
        # Every acknowledged unit is there; at most the one in flight at the kill got further.
        assert [v.battle_id for v in votes[: len(acked)]] == [f"b{i}" for i in acked]
        assert len(votes) - len(acked) in (0, 1)
        after = msgspec.structs.replace(votes[0], id="after", battle_id="b-after")
        store.record_vote(after)  # and the file takes new writes
        assert store.get_vote("b-after") == after


# -- MongoStore: SIGKILL the server while a writer records units ----------------------------------


def _mongo_vote(i: int) -> VoteRecord:
    return VoteRecord(id=f"v{i}", battle_id=f"b{i}", session_id="s", robot_id="panda", scene_id="kitchen",
                      left_policy="pi0", right_policy="octo", choice=VoteChoice.TIE, created_at=float(i))


def _trajectory(i: int) -> bytes:
    return i.to_bytes(8, "little") * 8192


def _write_unit(store: Store, i: int) -> None:
    """The same unit as the SQLite test: a turn with one episode, finished with 64 KiB, then a vote."""
    store.create_turn(
        TurnRecord(id=f"t{i}", battle_id=f"b{i}", seq=0, instruction="go", seed=i, max_steps=10, created_at=float(i)),
        [EpisodeRecord(id=f"e{i}", turn_id=f"t{i}", battle_id=f"b{i}", side=Side.LEFT, policy="pi0",
                       created_at=float(i))],
    )
    data = _trajectory(i)
    result = EpisodeResult(success=True, progress=1.0, steps=10, n_frames=11, terminated="success",
                           wall_time_s=0.5, trajectory_sha256=hashlib.sha256(data).hexdigest(),
                           trajectory_bytes=len(data))
    store.finish_episode(f"e{i}", result, data, finished_at=float(i))
    store.record_vote(_mongo_vote(i))


def _write_until_failure(store: Store, acked: list[int], first_ack: threading.Event) -> None:
    for i in range(100_000):
        try:
            _write_unit(store, i)
        except StoreError:
            return  # the server is gone: this unit was never acknowledged
        acked.append(i)
        first_ack.set()


@pytest.mark.parametrize("acks_before_kill", [1, 40])
def test_mongo_server_sigkill_keeps_every_acknowledged_write(
    make_mongo_server: Callable[[], MongoServer], acks_before_kill: int
) -> None:
    server = make_mongo_server()
    url = with_options(server.url("arena"), "serverSelectionTimeoutMS=1500")
    acked: list[int] = []
    first_ack = threading.Event()
    with MongoStore.from_url(url) as store:
        writer = threading.Thread(target=_write_until_failure, args=(store, acked, first_ack))
        writer.start()
        assert first_ack.wait(timeout=60), "the writer never got a write acknowledged"
        while len(acked) < acks_before_kill and writer.is_alive():
            time.sleep(0.001)
        server.kill()
        writer.join(timeout=60)
        assert not writer.is_alive()
    assert len(acked) >= acks_before_kill
    assert acked == list(range(len(acked)))

    server.start()  # same port, same data dir
    with MongoStore.from_url(url) as store:
        for i in acked:
            assert [t.id for t in store.list_turns(f"b{i}")] == [f"t{i}"]
            assert store.get_episode(f"e{i}").status is EpisodeStatus.DONE
            assert store.get_trajectory(f"e{i}") == _trajectory(i)
            assert store.get_vote(f"b{i}") == _mongo_vote(i)
        votes = store.list_votes()
        # Every acknowledged unit is there; at most the one in flight at the kill got further.
        assert [v.battle_id for v in votes[: len(acked)]] == [f"b{i}" for i in acked]
        assert len(votes) - len(acked) in (0, 1)
        after = msgspec.structs.replace(votes[0], id="after", battle_id="b-after")
        store.record_vote(after)  # and the server takes new writes
        assert store.get_vote("b-after") == after
