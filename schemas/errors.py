"""The project's exception hierarchy, one tree for every package.

    ArenaError
    ├── NotFoundError              an id that names nothing (HTTP 404)
    ├── ConflictError              the request clashes with stored state (HTTP 409)
    │   ├── AlreadyVotedError      a battle takes exactly one vote
    │   └── NotReadyError          e.g. voting while a turn still runs
    ├── ValidationError            bad input, names the offending field (HTTP 400/422)
    ├── StoreError                 a storage driver failed (HTTP 503)
    ├── QueueError                 the job queue could not take a job (HTTP 503)
    ├── LimiterError               the rate limiter's backend failed (HTTP 503)
    ├── BusError                   the live bus's backend failed (HTTP 503)
    ├── RateLimitedError           too many requests from one voter or address (HTTP 429)
    ├── ForbiddenError             a cross-site request (HTTP 403)
    ├── UnsupportedMediaError      a JSON body sent as another content type (HTTP 415)
    ├── ReplayFormatError          a trajectory file could not be read
    │   ├── UnsupportedVersionError
    │   └── CorruptReplayError     bad magic, truncated file, checksum mismatch
    ├── PolicyError
    │   ├── UnknownPolicyError     no such registry entry
    │   ├── MissingDependencyError an optional extra is not installed (names the pip command)
    │   ├── PolicyOutputError      a policy returned an action of the wrong shape/dtype/range
    │   └── RemotePolicyError      a policy server was unreachable, timed out, disconnected or failed
    └── SimulationError            MuJoCo or scene composition failed

Adapters translate driver errors (sqlite3, pymongo, redis) into these, so callers
never import a driver to handle a failure.
"""

from __future__ import annotations


class ArenaError(Exception):
    """Root of every error the arena raises on purpose."""


class NotFoundError(ArenaError):
    def __init__(self, kind: str, ident: str) -> None:
        super().__init__(f"{kind} {ident!r} not found")
        self.kind = kind
        self.ident = ident


class ConflictError(ArenaError):
    pass


class AlreadyVotedError(ConflictError):
    def __init__(self, battle_id: str) -> None:
        super().__init__(f"battle {battle_id!r} already has a vote")
        self.battle_id = battle_id


class NotReadyError(ConflictError):
    pass


class ValidationError(ArenaError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class StoreError(ArenaError):
    pass


class QueueError(ArenaError):
    pass


class LimiterError(ArenaError):
    pass


class BusError(ArenaError):
    """The live bus's backend (Redis) failed or is unreachable."""


class RateLimitedError(ArenaError):
    """Too many events for one key; `retry_after` is in seconds."""

    def __init__(self, what: str, retry_after: float) -> None:
        super().__init__(f"too many {what}: try again in {max(1, round(retry_after))} s")
        self.what = what
        self.retry_after = retry_after


class ForbiddenError(ArenaError):
    pass


class UnsupportedMediaError(ArenaError):
    pass


class ReplayFormatError(ArenaError):
    pass


class UnsupportedVersionError(ReplayFormatError):
    pass


class CorruptReplayError(ReplayFormatError):
    pass


class PolicyError(ArenaError):
    pass


class UnknownPolicyError(PolicyError):
    def __init__(self, name: str) -> None:
        super().__init__(f"unknown policy {name!r}")
        self.name = name


class MissingDependencyError(PolicyError):
    def __init__(self, package: str, install: str) -> None:
        super().__init__(f"{package} is not installed; install it with: {install}")
        self.package = package
        self.install = install


class PolicyOutputError(PolicyError):
    pass


SERVER_SAID = " -- server said: "
"""Separates a remote failure from the server's own words (a traceback) in an error message. What
follows it is for operators (and for the voter after the vote); before the vote a voter sees only that
the side failed (api.blind.failure_notice)."""


class RemotePolicyError(PolicyError):
    """A remote policy server failed: "remote policy at ws://host:port: connection refused".

    The message names the URL, which operators need; before the vote a voter sees none of it
    (api.blind.failure_notice), since any of it may identify the policy."""

    def __init__(self, url: str, problem: str, detail: str | None = None) -> None:
        text = f"remote policy at {url}: {problem}"
        super().__init__(text + (f"{SERVER_SAID}{detail.strip()}" if detail else ""))
        self.url = url
        self.problem = problem
        self.detail = detail


class SimulationError(ArenaError):
    pass
