"""Survivorship: choosing each golden attribute from the linked source records.

Each strategy is a small class with one method, ``choose``: given the non-empty candidate values of
one attribute (one per linked source record), return the one that survives. The rule rows in the
database (OwnershipRule) say which strategy each attribute uses; ``survive`` applies them, lets a
steward override win, and returns every value with its lineage.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

from golden_records.attributes import Reference
from golden_records.domains import DomainSpec


class Candidate(NamedTuple):
    """One source record's value for one attribute (a tuple: survivorship makes many)."""

    value: Any
    source_record_id: int
    system: str
    source_id: str
    at: dt.datetime

    def lineage(self, rule: str) -> dict[str, Any]:
        return {
            "source_record": self.source_record_id,
            "system": self.system,
            "source_id": self.source_id,
            "at": self.at.isoformat(),
            "rule": rule,
        }


class Strategy(Protocol):
    name: str

    def choose(self, candidates: Sequence[Candidate]) -> Candidate | None: ...


def _newest(candidates: Iterable[Candidate]) -> Candidate | None:
    # Ties on time go to the lower source record id: the choice must not depend on query order.
    return max(candidates, key=lambda c: (c.at, -c.source_record_id), default=None)


@dataclass(frozen=True)
class SourcePriority:
    systems: tuple[str, ...]
    fallback_to_any: bool = True
    name: str = "source_priority"

    def choose(self, candidates: Sequence[Candidate]) -> Candidate | None:
        for system in self.systems:
            found = _newest(c for c in candidates if c.system == system)
            if found is not None:
                return found
        return _newest(candidates) if self.fallback_to_any else None


@dataclass(frozen=True)
class MostRecent:
    name: str = "most_recent"

    def choose(self, candidates: Sequence[Candidate]) -> Candidate | None:
        return _newest(candidates)


def _value_key(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


@dataclass(frozen=True)
class MostFrequent:
    """The value most systems agree on; ties go to the most recent of the tied values."""

    name: str = "most_frequent"

    def choose(self, candidates: Sequence[Candidate]) -> Candidate | None:
        if not candidates:
            return None
        counts = Counter(_value_key(c.value) for c in candidates)
        top = max(counts.values())
        return _newest(c for c in candidates if counts[_value_key(c.value)] == top)


@dataclass(frozen=True)
class Longest:
    """The most complete text (a full description over a short one); ties go to the newest."""

    name: str = "longest"

    def choose(self, candidates: Sequence[Candidate]) -> Candidate | None:
        if not candidates:
            return None
        longest = max(len(str(c.value)) for c in candidates)
        return _newest(c for c in candidates if len(str(c.value)) == longest)


@dataclass(frozen=True)
class StewardOnly:
    name: str = "steward_only"

    def choose(self, candidates: Sequence[Candidate]) -> Candidate | None:
        return None


def strategy_for(
    strategy: str, systems: Sequence[str] = (), fallback_to_any: bool = True
) -> Strategy:
    if strategy == "source_priority":
        return SourcePriority(tuple(systems), fallback_to_any)
    simple: dict[str, Strategy] = {
        "most_recent": MostRecent(),
        "most_frequent": MostFrequent(),
        "longest": Longest(),
        "steward_only": StewardOnly(),
    }
    return simple[strategy]


class SourceView(NamedTuple):
    """What survivorship needs of one linked source record."""

    id: int
    system: str
    source_id: str
    canonical: dict[str, Any]
    references: dict[str, Any]
    at: dt.datetime


@dataclass(frozen=True)
class OverrideView:
    value: Any
    steward: str
    at: dt.datetime


def candidate_value(spec_attribute: Any, source: SourceView) -> Any:
    if isinstance(spec_attribute, Reference):
        return source.references.get(spec_attribute.name)
    return source.canonical.get(spec_attribute.name)


def survive(
    spec: DomainSpec,
    strategies: dict[str, Strategy],
    sources: Sequence[SourceView],
    overrides: dict[str, OverrideView],
) -> dict[str, tuple[Any, dict[str, Any] | None]]:
    """Every attribute's surviving canonical value and its lineage (None when empty)."""
    result: dict[str, tuple[Any, dict[str, Any] | None]] = {}
    references = {a.name for a in spec.references}
    for attribute in spec.attributes:
        name = attribute.name
        override = overrides.get(name)
        if override is not None:
            result[name] = (
                override.value,
                {"steward": override.steward, "at": override.at.isoformat(), "rule": "override"},
            )
            continue
        strategy = strategies[name]
        candidates = [
            Candidate(value, s.id, s.system, s.source_id, s.at)
            for s in sources
            if (value := (s.references if name in references else s.canonical).get(name))
            not in (None, "")
        ]
        chosen = strategy.choose(candidates)
        result[attribute.name] = (
            (chosen.value, chosen.lineage(strategy.name)) if chosen else (None, None)
        )
    return result
