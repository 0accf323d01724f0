"""Term frequencies: how many records hold each value of the features the rules adjust.

A comparison with a ``tf`` option (matching/rules.py ``TermFrequency``) weighs an exact
agreement on value v by how common v is (u_v = max(share of records holding v, minimum_u)), as
Splink's term-frequency adjustments do: the same postal code says a lot when few records have
it and little when it is a town's ZIP shared by hundreds of companies.

* File mode counts the input file's own features (``TermFrequencies.from_features``).
* Online matching and dedupe use ``domain_frequencies(rules)``: the counts of the domain's
  stored match profiles, computed by the database, at most ``TOP_VALUES`` of the most frequent
  values per feature plus the number of records with a value; a value not in the table counts
  as rare (held by one record). Each process caches them for ``TTL`` seconds.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from matching.features import Features
from matching.rules import RuleSet

TOP_VALUES = 20_000
"""Values kept per feature from the database: the most frequent ones (the rest are rare)."""
TTL = 600.0
"""Seconds a process keeps a domain's frequencies before counting again."""


@dataclass(frozen=True)
class TermFrequencies:
    """Per feature: records holding each value (``counts``) and records with any value
    (``totals``). A value missing from ``counts`` is held by one record."""

    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    totals: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_features(cls, features: Iterable[Features], names: Iterable[str]) -> TermFrequencies:
        names = tuple(names)
        counters: dict[str, Counter[str]] = {name: Counter() for name in names}
        for record in features:
            for name in names:
                value = record.get(name)
                if value:
                    counters[name][value] += 1
        return cls(
            {name: dict(counter) for name, counter in counters.items()},
            {name: sum(counter.values()) for name, counter in counters.items()},
        )

    def covers(self, feature: str, min_records: int) -> bool:
        """Whether enough records hold a value of ``feature`` for its shares to count."""
        return feature in self.counts and self.totals.get(feature, 0) >= max(min_records, 1)

    def count(self, feature: str, value: str) -> int:
        return self.counts.get(feature, {}).get(value, 1)

    def share(self, feature: str, value: str) -> float:
        """The share of the records with a ``feature`` value that hold ``value``."""
        return self.count(feature, value) / max(self.totals.get(feature, 0), 1)


_cache: dict[tuple[str, tuple[str, ...]], tuple[float, TermFrequencies]] = {}
_lock = threading.Lock()


def domain_frequencies(rules: RuleSet) -> TermFrequencies | None:
    """The term frequencies of the domain's stored match profiles for the rules' ``tf``
    features (``None`` when no comparison uses them), cached per process for ``TTL`` seconds."""
    features = rules.tf_features
    if not features:
        return None
    scope = (rules.domain, features)
    now = time.monotonic()
    entry = _cache.get(scope)
    if entry is not None and now - entry[0] <= TTL:
        return entry[1]
    frequencies = count_profiles(rules.domain, features)
    with _lock:
        _cache[scope] = (now, frequencies)
    return frequencies


def clear_cache() -> None:
    with _lock:
        _cache.clear()


def count_profiles(domain: str, features: Iterable[str], top: int = TOP_VALUES) -> TermFrequencies:
    """Counted by the database: per feature, the ``top`` most frequent values and the number of
    profiles with a value."""
    from django.db.models import Count, TextField
    from django.db.models.fields.json import KeyTextTransform
    from django.db.models.functions import Cast

    from matching.models import MatchProfile

    counts: dict[str, dict[str, int]] = {}
    totals: dict[str, int] = {}
    for feature in features:
        values = (
            MatchProfile.objects.filter(domain=domain)
            .annotate(value=Cast(KeyTextTransform(feature, "features"), TextField()))
            .filter(value__gt="")
        )
        totals[feature] = values.count()
        rows = (
            values.values("value")
            .annotate(records=Count("pk"))
            .filter(records__gt=1)
            .order_by("-records", "value")[:top]
        )
        counts[feature] = {row["value"]: row["records"] for row in rows}
    return TermFrequencies(counts, totals)
