"""Linking a new source record to an existing golden record.

Today one rule decides: exact strong identifiers (the domain's identifier keys). Candidates come
from the indexed MatchKey table, one query per key kind for a whole batch. A candidate whose
exclusive identifier (tax id, DUNS, GTIN) differs from the record's is never linked: two valid,
different tax ids are two companies, whatever else they share.
"""

from __future__ import annotations

import hashlib
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from golden_records.attributes import Reference
from golden_records.domains import DomainSpec
from golden_records.models import GOLDEN_MODELS, GoldenStatus
from matching.models import MatchKey

KeyValue = tuple[str, str]


def identifier_keys(
    spec: DomainSpec, canonical: dict[str, Any], references: dict[str, Any]
) -> list[KeyValue]:
    """The record's identifier key values, in the domain's priority order.

    A composite key (a price's) joins its parts with ``|``; a reference takes part through the
    golden id it resolves to, so the key exists only once the reference is resolved.
    """
    keys: list[KeyValue] = []
    for key in spec.identifier_keys:
        parts: list[str] = []
        for name in key.attributes:
            attribute = spec.attribute(name)
            if isinstance(attribute, Reference):
                value = references.get(name)
            else:
                value = attribute.match_value(canonical.get(name))
            if value is None and name in key.parts_required():
                break
            parts.append("" if value is None else str(value))
        else:
            value = "|".join(parts)
            if len(value) > 255:
                value = "sha256:" + hashlib.sha256(value.encode()).hexdigest()
            keys.append((key.name, value))
    return keys


@dataclass(frozen=True)
class LinkDecision:
    golden_id: uuid.UUID
    rule: str


class ExactLinker:
    """Finds the golden record a batch of new source records should link to.

    ``prefetch`` loads every candidate for the whole batch; ``decide`` answers per record, and
    ``remember`` makes a golden record created earlier in the same batch a candidate for the
    records after it.
    """

    def __init__(self, spec: DomainSpec):
        self.spec = spec
        self.model = GOLDEN_MODELS[spec.name]
        self.known: dict[KeyValue, set[uuid.UUID]] = defaultdict(set)
        self.exclusive: dict[uuid.UUID, dict[str, Any]] = {}

    def prefetch(self, keysets: Iterable[Sequence[KeyValue]]) -> None:
        by_kind: dict[str, set[str]] = defaultdict(set)
        for keys in keysets:
            for kind, value in keys:
                by_kind[kind].add(value)
        for kind, values in by_kind.items():
            rows = MatchKey.objects.filter(
                domain=self.spec.name, kind=kind, value__in=values
            ).values_list("value", "golden_id")
            for value, golden_id in rows:
                self.known[(kind, value)].add(golden_id)
        candidate_ids = {gid for ids in self.known.values() for gid in ids}
        fields = self.spec.exclusive_identifiers
        if candidate_ids:
            rows = self.model.objects.filter(
                pk__in=candidate_ids, record_status=GoldenStatus.ACTIVE
            ).values("pk", *fields)
            for row in rows:
                self.exclusive[row["pk"]] = {name: row[name] or None for name in fields}

    def decide(self, keys: Sequence[KeyValue], canonical: dict[str, Any]) -> LinkDecision | None:
        for kind, value in keys:
            for golden_id in sorted(self.known.get((kind, value), ())):
                identifiers = self.exclusive.get(golden_id)
                if identifiers is None or self._conflicts(canonical, identifiers):
                    continue
                return LinkDecision(golden_id, f"exact:{kind}")
        return None

    def remember(
        self, keys: Sequence[KeyValue], golden_id: uuid.UUID, canonical: dict[str, Any]
    ) -> None:
        for key in keys:
            self.known[key].add(golden_id)
        current = self.exclusive.setdefault(golden_id, {})
        for name in self.spec.exclusive_identifiers:
            if current.get(name) is None:
                current[name] = canonical.get(name)

    def _conflicts(self, canonical: dict[str, Any], identifiers: dict[str, Any]) -> bool:
        for name in self.spec.exclusive_identifiers:
            mine, theirs = canonical.get(name), identifiers.get(name)
            if mine is None or theirs is None:
                continue
            attribute = self.spec.attribute(name)
            if attribute.match_value(mine) != attribute.match_value(theirs):
                return True
        return False


def match_key_rows(
    spec: DomainSpec, source_record: Any, keys: Sequence[KeyValue]
) -> list[MatchKey]:
    return [
        MatchKey(
            source_record_id=source_record.pk,
            domain=spec.name,
            kind=kind,
            value=value,
            golden_id=source_record.golden_id,
        )
        for kind, value in keys
    ]
