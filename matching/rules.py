"""Match rules: per domain, declared as data (JSON), versioned.

A rule set says which attributes are standardised how (``attributes``: name → feature kind),
which feature combinations block records into candidate pairs (``blocking``), how each feature is
compared and what each level of similarity weighs (``comparisons``, Fellegi-Sunter m and u
probabilities), which identifiers decide (``decisive``: equal valid values match) or forbid
(``exclusive``: different values never auto-match), and the thresholds. A comparison may adjust
its exact level to how common the shared value is (``tf``: term frequencies), and a rule set may
require key evidence for an auto-match (``auto_match_requires``).

The defaults ship as matching/rules/<domain>.json; stewards' and training's versions are stored
in the database (MatchRuleVersion) and the active one is used online.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

RULES_DIR = Path(__file__).resolve().parent / "rules"


@dataclass(frozen=True)
class Level:
    """Pairs whose similarity is at least ``min_similarity`` (and not in an earlier level)."""

    label: str
    min_similarity: float
    m: float
    u: float

    @property
    def weight(self) -> float:
        """log2(m/u): the evidence this level gives for (positive) or against a match."""
        return math.log2(self.m / self.u)


@dataclass(frozen=True)
class TermFrequency:
    """Term-frequency adjustment of a comparison's first (exact) level, as Splink's
    ``term_frequency_adjustments``: a pair agreeing on value v weighs log2(m / u_v) with
    u_v = max(share of records holding v, ``minimum_u``) instead of the level's average u, so
    agreeing on a rare postal code or name is strong evidence and on a common one weak. For two
    values that differ but still reach the exact level (a name that is a subset of the other)
    the larger share counts. Below ``min_records`` records with a value the shares say too
    little and the level's own u holds."""

    minimum_u: float = 1e-4
    min_records: int = 1000


@dataclass(frozen=True)
class Comparison:
    name: str
    feature: str
    comparator: str
    levels: tuple[Level, ...]
    """Highest first; the last level (min_similarity 0) takes every other present pair."""
    tf: TermFrequency | None = None
    """Adjust the first level to the frequency of the value (``None``: the level's u)."""

    def level_index(self, similarity: float | None) -> int | None:
        if similarity is None:
            return None
        for index, level in enumerate(self.levels):
            if similarity >= level.min_similarity:
                return index
        return len(self.levels) - 1


@dataclass(frozen=True)
class EvidenceGroup:
    """Comparisons that measure one piece of evidence (street, city and postal code are one
    address): their positive weights add up to at most ``max_weight``, so a shared address
    cannot outvote a different company name by counting itself three times."""

    name: str
    comparisons: tuple[str, ...]
    max_weight: float


@dataclass(frozen=True)
class Requirement:
    """Key evidence an auto-match needs: one of ``comparisons`` at a level weighing at least
    ``min_weight`` bits (after any term-frequency adjustment). A pair without it, however much
    its weaker evidence adds up to, goes to review at most."""

    comparisons: tuple[str, ...]
    min_weight: float = 0.0


@dataclass(frozen=True)
class Thresholds:
    auto_match: float = 0.99
    """Match probability at or above which records link without a steward."""
    review: float = 0.5
    """At or above this (and below auto_match) a steward reviews the pair."""
    cluster_guard: float = 0.5
    """Every two records merged into one cluster must be at least this probable a match (with
    ``cluster_floor``: on average, the pairs across two groups that merge)."""
    cluster_floor: float | None = None
    """``None``: complete linkage (every pair across two merging groups at least
    ``cluster_guard``). A probability: average linkage with this floor (the pairs across on
    average at least ``cluster_guard``, none below ``cluster_floor``): a garbled record scoring
    weakly against its entity's other records no longer keeps them apart (clustering.py)."""


@dataclass(frozen=True)
class RuleSet:
    domain: str
    version: int
    attributes: dict[str, str]
    blocking: tuple[tuple[str, ...], ...]
    comparisons: tuple[Comparison, ...]
    prior: float
    thresholds: Thresholds = Thresholds()
    decisive: tuple[str, ...] = ()
    exclusive: tuple[str, ...] = ()
    identifiers: tuple[str, ...] = ()
    """Features whose blocking keys are identifier keys (never too common, see
    online.IDENTIFIER_GOLDEN_LIMIT) beside the decisive and exclusive ones: a location code."""
    never_together: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """(feature, values): records whose feature falls on different sides of ``values`` are
    never the same (a warehouse and a postal address)."""
    decisive_veto: float = -6.0
    """A decisive identifier does not decide when the other evidence weighs less than this
    (the same GTIN on two products that share nothing else is a data error to review)."""
    groups: tuple[EvidenceGroup, ...] = ()
    auto_match_requires: Requirement | None = None
    max_block_size: int = 200
    notes: str = ""
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def prior_weight(self) -> float:
        return math.log2(self.prior / (1 - self.prior))

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["blocking"] = [list(b) for b in self.blocking]
        data["never_together"] = [[f, list(v)] for f, v in self.never_together]
        data["groups"] = [{**asdict(g), "comparisons": list(g.comparisons)} for g in self.groups]
        for comparison in data["comparisons"]:
            if comparison["tf"] is None:
                del comparison["tf"]
        if self.auto_match_requires is None:
            del data["auto_match_requires"]
        else:
            data["auto_match_requires"]["comparisons"] = list(self.auto_match_requires.comparisons)
        return data

    @property
    def tf_features(self) -> tuple[str, ...]:
        """The features whose term frequencies the comparisons use."""
        return tuple(dict.fromkeys(c.feature for c in self.comparisons if c.tf is not None))

    def with_levels(self, levels: dict[str, tuple[Level, ...]], version: int) -> RuleSet:
        comparisons = tuple(
            replace(c, levels=levels.get(c.name, c.levels)) for c in self.comparisons
        )
        return replace(self, comparisons=comparisons, version=version)


def _term_frequency(comparison: dict[str, Any]) -> TermFrequency | None:
    spec = comparison.get("tf")
    if not spec:
        return None
    if float(comparison["levels"][0]["min_similarity"]) < 1.0:
        raise ValueError(
            f"Comparison {comparison['name']!r}: term frequencies adjust an exact first level "
            "(min_similarity 1)."
        )
    spec = {} if spec is True else spec
    return TermFrequency(
        minimum_u=float(spec.get("minimum_u", TermFrequency.minimum_u)),
        min_records=int(spec.get("min_records", TermFrequency.min_records)),
    )


def _requirement(data: dict[str, Any], meta: dict[str, Any]) -> Requirement | None:
    """``auto_match_requires``; rule versions stored before it was a field kept it in ``meta``."""
    legacy = meta.pop("auto_match_requires", None)
    spec = data.get("auto_match_requires") or legacy
    if not spec:
        return None
    return Requirement(tuple(spec["comparisons"]), float(spec.get("min_weight", 0.0)))


def rule_set_from_json(data: dict[str, Any]) -> RuleSet:
    comparisons = tuple(
        Comparison(
            name=c["name"],
            feature=c["feature"],
            comparator=c["comparator"],
            levels=tuple(Level(**level) for level in c["levels"]),
            tf=_term_frequency(c),
        )
        for c in data["comparisons"]
    )
    meta = dict(data.get("meta", {}))
    requirement = _requirement(data, meta)
    return RuleSet(
        domain=data["domain"],
        version=int(data.get("version", 1)),
        attributes=dict(data["attributes"]),
        blocking=tuple(tuple(b) for b in data["blocking"]),
        comparisons=comparisons,
        prior=float(data["prior"]),
        thresholds=Thresholds(**data.get("thresholds", {})),
        decisive=tuple(data.get("decisive", ())),
        exclusive=tuple(data.get("exclusive", ())),
        identifiers=tuple(data.get("identifiers", ())),
        never_together=tuple((f, tuple(v)) for f, v in data.get("never_together", ())),
        groups=tuple(
            EvidenceGroup(g["name"], tuple(g["comparisons"]), float(g["max_weight"]))
            for g in data.get("groups", ())
        ),
        decisive_veto=float(data.get("decisive_veto", -6.0)),
        auto_match_requires=requirement,
        max_block_size=int(data.get("max_block_size", 200)),
        notes=data.get("notes", ""),
        meta=meta,
    )


def default_rules(domain: str) -> RuleSet:
    path = RULES_DIR / f"{domain}.json"
    if not path.exists():
        raise KeyError(f"No match rules for domain {domain!r}.")
    return rule_set_from_json(json.loads(path.read_text()))


def load_rules_file(path: str | Path) -> RuleSet:
    return rule_set_from_json(json.loads(Path(path).read_text()))
