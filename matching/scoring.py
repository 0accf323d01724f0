"""Scoring a pair of records: Fellegi-Sunter weights, strong identifiers, and the explanation.

The match weight is the prior's log-odds plus, for each comparison, the weight of the level the
pair falls in (log2 m/u; a missing value weighs nothing). The probability is the logistic of the
weight. Then identifiers decide: equal valid decisive identifiers (tax id, GTIN) make a match;
different exclusive identifiers cap the probability below the auto-match threshold, so such a
pair can go to review but never merge by itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from matching import comparators
from matching.features import Features
from matching.rules import RuleSet

DECIDED = 0.999999
"""Probability given to a pair whose decisive identifiers agree."""


@dataclass(frozen=True)
class PairScore:
    probability: float
    weight: float
    explanation: list[dict[str, Any]]
    reason: str
    rule_version: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "probability": round(self.probability, 6),
            "weight": round(self.weight, 3),
            "reason": self.reason,
            "rule_version": self.rule_version,
            "comparisons": self.explanation,
        }


def _valid(rules: RuleSet, features: Features, feature: str) -> bool:
    """A GTIN counts only with a valid check digit; other identifiers when present."""
    if rules.attributes.get(feature) == "gtin":
        return features.get(f"{feature}.valid") == "1"
    return bool(features.get(feature))


def identifier_verdict(rules: RuleSet, a: Features, b: Features) -> str:
    """ "excluded" when an exclusive identifier differs (or the records are of kinds that are
    never the same), else "decided" when a decisive identifier agrees, else ""."""
    for feature in rules.exclusive:
        left, right = a.get(feature), b.get(feature)
        if left and right and left != right:
            return "excluded"
    for feature, values in rules.never_together:
        left, right = a.get(feature), b.get(feature)
        if left and right and (left in values) != (right in values):
            return "excluded"
    for feature in rules.decisive:
        left, right = a.get(feature), b.get(feature)
        if left and left == right and _valid(rules, a, feature) and _valid(rules, b, feature):
            return "decided"
    return ""


def score_pair(rules: RuleSet, a: Features, b: Features) -> PairScore:
    weight = rules.prior_weight
    explanation = []
    for comparison in rules.comparisons:
        similarity = comparators.SCALAR[comparison.comparator](a, b, comparison.feature)
        index = comparison.level_index(similarity)
        contribution = 0.0 if index is None else comparison.levels[index].weight
        weight += contribution
        explanation.append(
            {
                "comparison": comparison.name,
                "feature": comparison.feature,
                "left": a.get(comparison.feature),
                "right": b.get(comparison.feature),
                "comparator": comparison.comparator,
                "similarity": None if similarity is None else round(similarity, 4),
                "level": "missing" if index is None else comparison.levels[index].label,
                "contribution": round(contribution, 3),
            }
        )
    contributions = {e["comparison"]: e["contribution"] for e in explanation}
    for group in rules.groups:
        excess = (
            sum(max(contributions.get(n, 0.0), 0.0) for n in group.comparisons) - group.max_weight
        )
        if excess > 0:
            weight -= excess
            explanation.append(
                {
                    "comparison": f"{group.name} (capped)",
                    "feature": None,
                    "left": None,
                    "right": None,
                    "comparator": "evidence cap",
                    "similarity": None,
                    "level": f"at most {group.max_weight:g}",
                    "contribution": round(-excess, 3),
                }
            )
    probability = 1 / (1 + 2 ** (-weight))
    verdict = identifier_verdict(rules, a, b)
    if verdict == "decided":
        identifiers = sum(
            e["contribution"]
            for e, c in zip(explanation[: len(rules.comparisons)], rules.comparisons, strict=True)
            if c.feature in rules.decisive
        )
        if weight - rules.prior_weight - identifiers < rules.decisive_veto:
            verdict = "identifier contradicted"
    probability = _apply_verdict(rules, probability, verdict)
    return PairScore(probability, weight, explanation, verdict or "weights", rules.version)


def _apply_verdict(rules: RuleSet, probability: float, verdict: str) -> float:
    if verdict == "identifier contradicted":
        return min(max(probability, rules.thresholds.review), _below(rules.thresholds.auto_match))
    if verdict == "excluded":
        return min(probability, _below(rules.thresholds.auto_match))
    if verdict == "decided":
        return max(probability, DECIDED)
    return probability


def _below(threshold: float) -> float:
    return np.nextafter(threshold, 0.0).item()


def score_pairs(
    rules: RuleSet, features: list[Features], left: np.ndarray, right: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities and levels of many pairs (features[left[i]], features[right[i]]).

    The same numbers as ``score_pair``, computed column by column; ``levels`` holds each
    comparison's level index per pair (-1 when missing) for training and explanations.
    """
    count = len(left)
    weight = np.full(count, rules.prior_weight)
    levels = np.full((len(rules.comparisons), count), -1, dtype=np.int16)
    contributions = np.zeros((len(rules.comparisons), count))
    for c_index, comparison in enumerate(rules.comparisons):
        if comparison.comparator in comparators.MULTI_FEATURE:
            similarity = comparators.vector_with_features(
                comparison.comparator, comparison.feature, features, left, right
            )
        else:
            column = [f.get(comparison.feature, "") for f in features]
            values = np.asarray(column, dtype=object)
            similarity = comparators.vector(comparison.comparator, values[left], values[right])
        present = ~np.isnan(similarity)
        index = np.full(count, len(comparison.levels) - 1, dtype=np.int16)
        for l_index in range(len(comparison.levels) - 1, -1, -1):
            index[similarity >= comparison.levels[l_index].min_similarity] = l_index
        weights = np.array([level.weight for level in comparison.levels])
        contributions[c_index] = np.where(present, weights[index], 0.0)
        weight += contributions[c_index]
        levels[c_index] = np.where(present, index, -1)
    position = {c.name: i for i, c in enumerate(rules.comparisons)}
    for group in rules.groups:
        members = [position[n] for n in group.comparisons if n in position]
        positive = np.clip(contributions[members], 0.0, None).sum(axis=0)
        weight -= np.clip(positive - group.max_weight, 0.0, None)
    probability = 1 / (1 + np.exp2(-weight))
    decided, excluded = _verdicts(rules, features, left, right)
    identifier_rows = [i for i, c in enumerate(rules.comparisons) if c.feature in rules.decisive]
    others = weight - rules.prior_weight - contributions[identifier_rows].sum(axis=0)
    contradicted = decided & (others < rules.decisive_veto)
    decided &= ~contradicted
    probability = np.where(
        contradicted,
        np.minimum(
            np.maximum(probability, rules.thresholds.review), _below(rules.thresholds.auto_match)
        ),
        probability,
    )
    probability = np.where(decided, np.maximum(probability, DECIDED), probability)
    probability = np.where(
        excluded, np.minimum(probability, _below(rules.thresholds.auto_match)), probability
    )
    return probability, levels


def _verdicts(
    rules: RuleSet, features: list[Features], left: np.ndarray, right: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``identifier_verdict`` for many pairs: (decided, excluded) boolean arrays."""

    def column(feature: str) -> np.ndarray:
        return np.asarray([f.get(feature, "") for f in features], dtype=object)

    excluded = np.zeros(len(left), dtype=bool)
    for feature in rules.exclusive:
        values = column(feature)
        lv, rv = values[left], values[right]
        excluded |= (lv != "") & (rv != "") & (lv != rv)
    for feature, kinds in rules.never_together:
        values = column(feature)
        inside = np.isin(values, list(kinds))
        lv, rv = values[left], values[right]
        excluded |= (lv != "") & (rv != "") & (inside[left] != inside[right])
    decided = np.zeros(len(left), dtype=bool)
    for feature in rules.decisive:
        values = column(feature)
        valid = np.asarray([_valid(rules, f, feature) for f in features], dtype=bool)
        lv, rv = values[left], values[right]
        decided |= (lv != "") & (lv == rv) & valid[left] & valid[right]
    return decided & ~excluded, excluded
