"""Which actions are limited, how much, and for whom: per voter and per client address.

A rule is written "N/S": at most N events per S-second window (`ARENA_LIMIT_TURNS=60/600`). Every rule
applies twice: to the voter (their cookie) and, multiplied by `address_factor`, to the client address
(a client that drops its cookie to get a fresh identity is still one address; several voters behind
one NAT share it, hence the factor).
"""

from __future__ import annotations

from typing import NamedTuple

from api.limits.port import RateLimiter
from schemas.errors import RateLimitedError, ValidationError


class Rule(NamedTuple):
    limit: int
    window_s: float


def parse_rule(text: str, field: str) -> Rule:
    count, slash, window = text.partition("/")
    try:
        rule = Rule(int(count), float(window))
    except ValueError:
        rule = Rule(0, 0.0)
    if not slash or rule.limit < 1 or not rule.window_s > 0:
        raise ValidationError(field, f"must look like 60/600 (events per seconds), got {text!r}")
    return rule


class RateRules:
    """Applies the configured rules for an action ("sessions", "turns", "votes") to a caller."""

    def __init__(self, limiter: RateLimiter, rules: dict[str, list[Rule]], address_factor: int = 4) -> None:
        self.limiter, self.rules, self.address_factor = limiter, rules, max(1, address_factor)

    def check(self, action: str, voter_id: str, client: str) -> None:
        """Count one `action` for the caller; raises `RateLimitedError` (with Retry-After) when over."""
        for rule in self.rules.get(action, []):
            for key, limit in ((f"voter:{voter_id}", rule.limit), (f"addr:{client}", rule.limit * self.address_factor)):
                wait = self.limiter.hit(f"{action}:{rule.window_s:g}:{key}", limit=limit, window_s=rule.window_s)
                if wait > 0:  # refused: later keys are not counted for an event that did not happen
                    raise RateLimitedError(action, wait)
