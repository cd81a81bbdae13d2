"""Documents, indexes, client settings and driver errors for `MongoStore` (design in `api.store.mongo`).

A record becomes a document field for field (`to_builtins`: enums as their values, `EpisodeResult` as
a sub-document), with `id` renamed `_id` and an `_ord` ObjectId added at insert: insertion order for
tie-breaks, and the insert time that `MongoStore.repair` reads. Fields a record does not declare
(`_ord`, `trajectory_sha256`) are dropped on the way back.

Portability: the tests run on nx-27017 (MongoDB's wire protocol over SQLite) unless a real MongoDB
is given, so the adapter keeps to what both do alike: collection names of letters and underscores;
index names left to the server and never read; unique indexes only on fields every document sets;
no upserts (nx-27017's `find_one_and_update` leaves `$setOnInsert` and `$addToSet` out of the
document an upsert inserts, and one that clashed with a partial unique index on a nested field was
skipped without an error), and no `$ne` against an array (nx-27017 matches arrays holding the value).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any, TypeVar

import msgspec
from bson import ObjectId
from bson.errors import BSONError
from pymongo import ASCENDING, DESCENDING, MongoClient, uri_parser
from pymongo.database import Database
from pymongo.errors import ConnectionFailure, DuplicateKeyError, PyMongoError
from pymongo.write_concern import WriteConcern

from schemas.errors import ConflictError, StoreError

R = TypeVar("R", bound=msgspec.Struct)
Doc = dict[str, Any]

ORD = "_ord"
# Every write the client is told succeeded is on a majority of the replica set and in its journal.
DURABLE = WriteConcern(w="majority", j=True)
# Applied unless the URL sets them: a MongoDB that is down fails fast (StoreError -> HTTP 503).
_CLIENT_DEFAULTS: dict[str, Any] = {
    "serverSelectionTimeoutMS": 5000,
    "connectTimeoutMS": 5000,
    "socketTimeoutMS": 30000,
}
_WRITE_CONCERN_OPTIONS = {"w", "journal", "wtimeoutms"}

# collection -> (keys, unique) for every index; names are left to the server (nx-27017 renames them).
INDEXES: dict[str, list[tuple[list[tuple[str, int]], bool]]] = {
    "sessions": [([("voter_id", ASCENDING), ("created_at", DESCENDING)], False)],
    "battles": [([("session_id", ASCENDING), ("seq", ASCENDING)], True),
                ([("created_at", ASCENDING)], False)],  # nx-27017 cannot index _id in a compound key
    "turns": [([("battle_id", ASCENDING)], False), ([("seq", ASCENDING)], False)],
    "episodes": [
        ([("turn_id", ASCENDING)], False),
        ([("battle_id", ASCENDING)], False),
        ([("status", ASCENDING), ("created_at", ASCENDING)], False),
        ([("voter_id", ASCENDING), ("status", ASCENDING)], False),
    ],
    "ballots": [
        ([("vote.created_at", ASCENDING)], False),
        ([("vote.robot_id", ASCENDING), ("vote.created_at", ASCENDING)], False),
        ([("vote.id", ASCENDING)], False),
    ],
}

_FIELDS: dict[type, frozenset[str]] = {}
CHUNK_BYTES = 8 << 20  # a blob's bytes per document, well under MongoDB's 16 MiB limit


def battles_page(db: Database[Doc], robot_id: str | None, after: tuple[float, str] | None, limit: int) -> list[Doc]:
    """`Store.list_all_battles`' documents: by (created_at, _id), keys after `after`, at most `limit`."""
    if limit <= 0:
        return []  # MongoDB reads limit(0) as "no limit"
    query: Doc = {} if robot_id is None else {"robot_id": robot_id}
    if after is not None:
        query["$or"] = [{"created_at": {"$gt": after[0]}}, {"created_at": after[0], "_id": {"$gt": after[1]}}]
    return list(db.battles.find(query).sort([("created_at", ASCENDING), ("_id", ASCENDING)]).limit(limit))


def ensure_indexes(db: Database[Doc]) -> None:
    """Create every index (idempotent); unique indexes cover fields that every document sets."""
    for collection, indexes in INDEXES.items():
        for keys, unique in indexes:
            db[collection].create_index(keys, unique=unique)


def to_doc(record: msgspec.Struct, **extra: Any) -> Doc:
    doc: Doc = msgspec.to_builtins(record)
    doc["_id"] = doc.pop("id")
    doc[ORD] = ObjectId()
    return doc | extra


def from_doc(cls: type[R], doc: Doc, **overrides: Any) -> R:
    fields = _FIELDS.get(cls)
    if fields is None:
        fields = _FIELDS[cls] = frozenset(f.name for f in msgspec.structs.fields(cls))
    data = {k: v for k, v in doc.items() if k in fields}
    if "_id" in doc:
        data["id"] = doc["_id"]
    return msgspec.convert(data | overrides, cls)


def sub_doc(record: msgspec.Struct) -> Doc:
    """A record stored inside another document (a vote in its ballot): keeps `id`, adds `_ord`."""
    doc: Doc = msgspec.to_builtins(record)
    doc[ORD] = ObjectId()
    return doc


@contextlib.contextmanager
def driver_errors() -> Iterator[None]:
    """Re-raise driver errors as ConflictError (duplicate key) or StoreError (anything else)."""
    try:
        yield
    except DuplicateKeyError as exc:
        raise ConflictError(f"mongodb: duplicate key: {exc.details or exc}") from exc
    except ConnectionFailure as exc:  # its text describes the whole topology: keep the first clause
        raise StoreError(f"mongodb: the database server is unreachable ({str(exc).split(' (')[0]})") from exc
    except (PyMongoError, BSONError, OverflowError) as exc:
        raise StoreError(f"mongodb: {exc}") from exc
    except msgspec.ValidationError as exc:
        raise StoreError(f"mongodb: a stored document does not match its record: {exc}") from exc


def client_from_url(url: str) -> tuple[MongoClient[Doc], str, WriteConcern]:
    """`mongodb://[user:pass@]host[:port]/DATABASE[?options]` -> (client, database, write concern).

    The write concern is `DURABLE` (w=majority, j=true) unless the URL sets `w`, `journal` or
    `wtimeoutMS`, in which case the URL's own is used. `ValueError` for a
    URL that does not parse or names no database; the URL itself is never echoed (credentials).
    """
    try:
        parsed = uri_parser.parse_uri(url)
    except (PyMongoError, ValueError) as exc:
        shown = "" if "@" in url else f": {exc}"
        raise ValueError(f"invalid mongodb:// store URL{shown}") from None
    if not parsed["database"]:
        raise ValueError("a MongoDB store URL names its database: mongodb://host:27017/arena")
    given = {key.lower() for key in parsed["options"]}
    kwargs = {k: v for k, v in _CLIENT_DEFAULTS.items() if k.lower() not in given}
    client: MongoClient[Doc] = MongoClient(url, **kwargs)
    concern = client.write_concern if given & _WRITE_CONCERN_OPTIONS else DURABLE
    return client, parsed["database"], concern


def put_blob(db: Database[Doc], sha: str, data: bytes) -> None:
    """Store `data` under its sha256 once: chunks first, then the head document that makes it visible.
    A small blob is one insert (a duplicate key means it is already there: same sha, same bytes)."""
    head: Doc = {"_id": sha, "size": len(data)}
    if len(data) <= CHUNK_BYTES:
        head["data"] = data
    elif db.blobs.find_one({"_id": sha}, {"_id": 1}) is not None:
        return
    else:
        chunks = [data[i : i + CHUNK_BYTES] for i in range(0, len(data), CHUNK_BYTES)]
        for i, chunk in enumerate(chunks):
            with contextlib.suppress(DuplicateKeyError):  # same sha, same bytes
                db.blob_chunks.insert_one({"_id": f"{sha}_{i}", "data": chunk})
        head["chunks"] = len(chunks)
    with contextlib.suppress(DuplicateKeyError):
        db.blobs.insert_one(head)


def read_blob(db: Database[Doc], sha: str) -> bytes | None:
    """The bytes stored under `sha`, or None if there is no such blob."""
    head = db.blobs.find_one({"_id": sha})
    if head is None:
        return None
    if "data" in head:
        return bytes(head["data"])
    parts = [db.blob_chunks.find_one({"_id": f"{sha}_{i}"}) for i in range(head["chunks"])]
    if any(part is None for part in parts):
        raise StoreError(f"blob {sha} is missing chunks")
    return b"".join(bytes(part["data"]) for part in parts if part is not None)
