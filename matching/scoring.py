"""Scoring a pair of records: Fellegi-Sunter weights, strong identifiers, and the explanation.

The match weight is the prior's log-odds plus, for each comparison, the weight of the level the
pair falls in (log2 m/u; a missing value weighs nothing). A comparison with term frequencies
(``tf``) weighs its exact level by how common the shared value is when the caller passes the
frequencies (matching/frequencies.py): log2(m / u_v), u_v = max(share of records holding the
value, minimum u), so the same rare postal code or name is strong evidence and a common one
weak; without frequencies the level's average u holds. Evidence groups then cap what
comparisons measuring one thing may add together (city, region, postal code and country are one
locality): in the order declared, a group whose positive weights exceed its ``max_weight`` loses
the excess, and its members' positive weights shrink in proportion, so a later group containing
an earlier one (the address: street plus locality) counts the earlier one at its capped value.
The probability is the logistic of the weight. A rule set may require key evidence for an
auto-match (``auto_match_requires``: comparisons, such as the name, the street or a phone, and
the weight a level must have to count): a pair with none of it, however much its weaker
evidence adds up to (the same town, region and industry), stays below the auto-match threshold
and goes to review at most. Then identifiers decide: equal valid decisive
identifiers (tax id, GTIN) make a match; different exclusive identifiers cap the probability
below the auto-match threshold, so such a pair can go to review but never merge by itself.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from matching import comparators
from matching.features import Features
from matching.rules import Comparison, RuleSet

if TYPE_CHECKING:
    from matching.frequencies import TermFrequencies

DECIDED = 0.999999
"""Probability given to a pair whose decisive identifiers agree."""
BELOW = 1e-6
"""How far below the auto-match threshold a capped probability stays: far enough that it still
reads below the threshold when printed with six decimals."""
TOLERANCE = 1e-6
"""A similarity this close under a level's minimum is in the level: vector comparators give
float32 similarities (rapidfuzz ``cpdist``), so 0.9 may arrive as 0.8999999762."""
CHUNK = 250_000
"""``score_pairs`` works through this many pairs at a time, to bound its memory."""


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


def _requirement(rules: RuleSet) -> tuple[list[int], float] | None:
    """(comparison positions, minimum level weight) of the rule set's auto-match requirement."""
    spec = rules.auto_match_requires
    if spec is None:
        return None
    position = {c.name: i for i, c in enumerate(rules.comparisons)}
    return [position[n] for n in spec.comparisons if n in position], spec.min_weight


def _adjusts(comparison: Comparison, frequencies: TermFrequencies | None) -> bool:
    """Whether the comparison's exact level follows the frequency of the value."""
    return (
        comparison.tf is not None
        and frequencies is not None
        and frequencies.covers(comparison.feature, comparison.tf.min_records)
    )


def _tf_entry(
    comparison: Comparison, frequencies: TermFrequencies, left: str, right: str
) -> tuple[float, dict[str, Any]]:
    """The exact level's weight for these values, and what the explanation says about it."""
    assert comparison.tf is not None
    feature = comparison.feature
    share = max(frequencies.share(feature, left), frequencies.share(feature, right))
    u = max(share, comparison.tf.minimum_u)
    held = max(frequencies.count(feature, left), frequencies.count(feature, right))
    total = frequencies.totals[feature]
    return math.log2(comparison.levels[0].m / u), {
        "u": float(f"{u:.6g}"),
        "term_frequency": f"value held by {held:,} of {total:,} records ({share:.2%})",
    }


def _level_index(levels: tuple[Any, ...], similarity: float | None) -> int | None:
    if similarity is None:
        return None
    for index, level in enumerate(levels):
        if similarity >= level.min_similarity - TOLERANCE:
            return index
    return len(levels) - 1


def score_pair(
    rules: RuleSet, a: Features, b: Features, frequencies: TermFrequencies | None = None
) -> PairScore:
    """One pair's probability, weight and explanation; ``frequencies`` adjust the comparisons
    with term frequencies (``None``: no adjustment)."""
    weight = rules.prior_weight
    explanation = []
    contributions = []
    for comparison in rules.comparisons:
        similarity = comparators.SCALAR[comparison.comparator](a, b, comparison.feature)
        index = _level_index(comparison.levels, similarity)
        contribution = 0.0 if index is None else comparison.levels[index].weight
        adjustment: dict[str, Any] = {}
        if index == 0 and frequencies is not None and _adjusts(comparison, frequencies):
            contribution, adjustment = _tf_entry(
                comparison, frequencies, a[comparison.feature], b[comparison.feature]
            )
        contributions.append(contribution)
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
                **adjustment,
            }
        )
    positive = np.clip(np.asarray(contributions, dtype=float)[:, None], 0.0, None)
    for group, excess in zip(rules.groups, _cap_groups(rules, positive), strict=True):
        if excess[0] > 0:
            weight -= excess[0]
            explanation.append(_cap_entry(group, float(excess[0])))
    probability = 1 / (1 + 2 ** (-weight))
    verdict = identifier_verdict(rules, a, b)
    requirement = _requirement(rules)
    if (
        requirement is not None
        and verdict != "decided"
        and probability > _below(rules.thresholds.auto_match)
        and not any(contributions[i] >= requirement[1] for i in requirement[0])
    ):
        explanation.append(_requirement_entry(rules))
        probability = _below(rules.thresholds.auto_match)
        verdict = verdict or "key evidence missing"
    if verdict == "decided":
        identifiers = sum(
            contribution
            for contribution, c in zip(contributions, rules.comparisons, strict=True)
            if c.feature in rules.decisive
        )
        if weight - rules.prior_weight - identifiers < rules.decisive_veto:
            verdict = "identifier contradicted"
    probability = _apply_verdict(rules, probability, verdict)
    return PairScore(probability, weight, explanation, verdict or "weights", rules.version)


def _cap_entry(group: Any, excess: float) -> dict[str, Any]:
    return {
        "comparison": f"{group.name} (capped)",
        "feature": None,
        "left": None,
        "right": None,
        "comparator": "evidence cap",
        "similarity": None,
        "level": f"at most {group.max_weight:g}",
        "contribution": round(-excess, 3),
    }


def _requirement_entry(rules: RuleSet) -> dict[str, Any]:
    positions, min_weight = _requirement(rules)  # type: ignore[misc]
    names = ", ".join(rules.comparisons[i].name for i in positions)
    return {
        "comparison": "auto-match requirement",
        "feature": None,
        "left": None,
        "right": None,
        "comparator": "requirement",
        "similarity": None,
        "level": f"not met: no {names} weighing {min_weight:g} or more",
        "contribution": 0.0,
    }


def _cap_groups(rules: RuleSet, positive: np.ndarray) -> list[np.ndarray]:
    """Each evidence group's excess per pair, in the groups' order; ``positive`` (comparisons x
    pairs: the positive part of each contribution) is scaled down in place as groups cap."""
    position = {c.name: i for i, c in enumerate(rules.comparisons)}
    excesses = []
    for group in rules.groups:
        members = [position[n] for n in group.comparisons if n in position]
        total = positive[members].sum(axis=0)
        excess = np.clip(total - group.max_weight, 0.0, None)
        capped = excess > 0
        if capped.any():
            scale = np.where(capped, group.max_weight / np.where(capped, total, 1.0), 1.0)
            positive[np.ix_(members, np.flatnonzero(capped))] *= scale[capped]
        excesses.append(excess)
    return excesses


def _apply_verdict(rules: RuleSet, probability: float, verdict: str) -> float:
    if verdict == "key evidence missing":
        return probability
    if verdict == "identifier contradicted":
        return min(max(probability, rules.thresholds.review), _below(rules.thresholds.auto_match))
    if verdict == "excluded":
        return min(probability, _below(rules.thresholds.auto_match))
    if verdict == "decided":
        return max(probability, DECIDED)
    return probability


def _below(threshold: float) -> float:
    return threshold - BELOW


def score_pairs(
    rules: RuleSet,
    features: list[Features],
    left: np.ndarray,
    right: np.ndarray,
    frequencies: TermFrequencies | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities and levels of many pairs (features[left[i]], features[right[i]]).

    The same numbers as ``score_pair`` (with the same ``frequencies``), computed column by
    column, ``CHUNK`` pairs at a time; ``levels`` holds each comparison's level index per pair
    (-1 when missing) for training and explanations.
    """
    probability, levels, _ = _score_pairs(rules, features, left, right, frequencies, False)
    return probability, levels


def score_pairs_explained(
    rules: RuleSet,
    features: list[Features],
    left: np.ndarray,
    right: np.ndarray,
    frequencies: TermFrequencies | None = None,
) -> tuple[np.ndarray, PairDetails]:
    """``score_pairs`` that also keeps what each pair's explanation needs (similarities,
    contributions, capped excess, verdicts): ``details.explain(i)`` gives the same ``PairScore``
    as ``score_pair`` for pair ``i`` without comparing the two records again."""
    probability, _, details = _score_pairs(rules, features, left, right, frequencies, True)
    assert details is not None
    return probability, details


def _score_pairs(
    rules: RuleSet,
    features: list[Features],
    left: np.ndarray,
    right: np.ndarray,
    frequencies: TermFrequencies | None,
    explained: bool,
) -> tuple[np.ndarray, np.ndarray, PairDetails | None]:
    left = np.asarray(left, dtype=np.int64)
    right = np.asarray(right, dtype=np.int64)
    count = len(left)
    probability = np.empty(count)
    levels = np.full((len(rules.comparisons), count), -1, dtype=np.int16)
    columns: dict[str, np.ndarray] = {}

    def column(feature: str) -> np.ndarray:
        if feature not in columns:
            columns[feature] = np.asarray([f.get(feature, "") for f in features], dtype=object)
        return columns[feature]

    verdicts = _Verdicts(rules, features, column)
    # Per adjusted comparison: the share of records holding each record's value (looked up
    # once per distinct value: a batch's pool repeats its towns and countries many times).
    shares: dict[int, np.ndarray] = {}
    by_feature: dict[str, np.ndarray] = {}
    for c_index, comparison in enumerate(rules.comparisons):
        if frequencies is not None and _adjusts(comparison, frequencies):
            feature = comparison.feature
            if feature not in by_feature:
                values = column(feature).tolist()
                share_of = {v: frequencies.share(feature, v) if v else 0.0 for v in set(values)}
                by_feature[feature] = np.asarray([share_of[v] for v in values], dtype=float)
            shares[c_index] = by_feature[feature]
    details = (
        PairDetails(rules, features, left, right, levels, frequencies, shares)
        if explained
        else None
    )
    for start in range(0, count, CHUNK):
        part = slice(start, min(start + CHUNK, count))
        probability[part] = _score_chunk(
            rules,
            features,
            column,
            verdicts,
            left[part],
            right[part],
            levels[:, part],
            shares,
            None if details is None else (details, part),
        )
    return probability, levels, details


def _score_chunk(
    rules: RuleSet,
    features: list[Features],
    column: Any,
    verdicts: _Verdicts,
    left: np.ndarray,
    right: np.ndarray,
    levels: np.ndarray,
    shares: dict[int, np.ndarray],
    keep: tuple[PairDetails, slice] | None = None,
) -> np.ndarray:
    count = len(left)
    weight = np.full(count, rules.prior_weight)
    contributions = np.zeros((len(rules.comparisons), count))
    for c_index, comparison in enumerate(rules.comparisons):
        if comparison.comparator in comparators.MULTI_FEATURE:
            similarity = comparators.vector_with_features(
                comparison.comparator, comparison.feature, features, left, right
            )
        else:
            values = column(comparison.feature)
            similarity = comparators.vector(comparison.comparator, values[left], values[right])
        similarity = np.asarray(similarity, dtype=float)
        present = ~np.isnan(similarity)
        index = np.full(count, len(comparison.levels) - 1, dtype=np.int16)
        for l_index in range(len(comparison.levels) - 1, -1, -1):
            index[similarity >= comparison.levels[l_index].min_similarity - TOLERANCE] = l_index
        weights = np.array([level.weight for level in comparison.levels])
        contributions[c_index] = np.where(present, weights[index], 0.0)
        share = shares.get(c_index)
        if share is not None and comparison.tf is not None:
            exact = present & (index == 0)
            u = np.maximum(
                np.maximum(share[left[exact]], share[right[exact]]), comparison.tf.minimum_u
            )
            contributions[c_index, exact] = np.log2(comparison.levels[0].m / u)
        weight += contributions[c_index]
        levels[c_index] = np.where(present, index, -1)
        if keep is not None:
            keep[0].similarity[c_index, keep[1]] = similarity
    positive = np.clip(contributions, 0.0, None)
    excesses = _cap_groups(rules, positive)
    for excess in excesses:
        weight -= excess
    probability = 1 / (1 + np.exp2(-weight))
    below = _below(rules.thresholds.auto_match)
    requirement = _requirement(rules)
    met = np.ones(count, dtype=bool)
    if requirement is not None:
        met = (contributions[requirement[0]] >= requirement[1]).any(axis=0)
        if keep is not None:
            keep[0].requirement_failed[keep[1]] = ~met & (probability > below)
        probability = np.where(met, probability, np.minimum(probability, below))
    decided, excluded = verdicts(left, right)
    identifier_rows = [i for i, c in enumerate(rules.comparisons) if c.feature in rules.decisive]
    others = weight - rules.prior_weight - contributions[identifier_rows].sum(axis=0)
    contradicted = decided & (others < rules.decisive_veto)
    if keep is not None:
        kept, part = keep
        kept.contributions[:, part] = contributions
        if excesses:
            kept.excess[:, part] = np.asarray(excesses)
        kept.weight[part] = weight
        kept.decided[part] = decided
        kept.excluded[part] = excluded
        kept.contradicted[part] = contradicted
    decided &= ~contradicted
    probability = np.where(
        contradicted,
        np.minimum(np.maximum(probability, rules.thresholds.review), below),
        probability,
    )
    probability = np.where(decided, np.maximum(probability, DECIDED), probability)
    probability = np.where(excluded, np.minimum(probability, below), probability)
    if keep is not None:
        keep[0].probability[keep[1]] = probability
    return probability


class PairDetails:
    """What ``score_pairs_explained`` keeps per pair to explain it as ``score_pair`` would:
    similarities, level indexes, contributions (after term frequencies), each evidence group's
    excess, the weight, the verdict flags and the final probability."""

    def __init__(
        self,
        rules: RuleSet,
        features: list[Features],
        left: np.ndarray,
        right: np.ndarray,
        levels: np.ndarray,
        frequencies: TermFrequencies | None,
        shares: dict[int, np.ndarray],
    ) -> None:
        count = len(left)
        comparisons = len(rules.comparisons)
        self.rules = rules
        self.features = features
        self.left = left
        self.right = right
        self.levels = levels
        self.frequencies = frequencies
        self.adjusted = frozenset(shares)
        self._tf_entries: dict[tuple[int, str, str], dict[str, Any]] = {}
        self.similarity = np.full((comparisons, count), np.nan)
        self.contributions = np.zeros((comparisons, count))
        self.excess = np.zeros((len(rules.groups), count))
        self.weight = np.zeros(count)
        self.probability = np.zeros(count)
        self.requirement_failed = np.zeros(count, dtype=bool)
        self.decided = np.zeros(count, dtype=bool)
        self.excluded = np.zeros(count, dtype=bool)
        self.contradicted = np.zeros(count, dtype=bool)

    def _tf_adjustment(self, c_index: int, left: str, right: str) -> dict[str, Any]:
        """What the explanation says of an exact level weighed by term frequency (the same
        values recur across a batch's pairs: worked out once per comparison and values)."""
        key = (c_index, left, right)
        entry = self._tf_entries.get(key)
        if entry is None:
            assert self.frequencies is not None
            comparison = self.rules.comparisons[c_index]
            entry = self._tf_entries[key] = _tf_entry(comparison, self.frequencies, left, right)[1]
        return entry

    def explain(self, i: int) -> PairScore:
        """Pair ``i``'s score and explanation: the content ``score_pair`` gives."""
        rules = self.rules
        a = self.features[int(self.left[i])]
        b = self.features[int(self.right[i])]
        similarities = self.similarity[:, i].tolist()
        levels = self.levels[:, i].tolist()
        contributions = self.contributions[:, i].tolist()
        explanation: list[dict[str, Any]] = []
        for c_index, comparison in enumerate(rules.comparisons):
            level = levels[c_index]
            similarity = similarities[c_index]
            adjustment: dict[str, Any] = {}
            if level == 0 and c_index in self.adjusted:
                adjustment = self._tf_adjustment(
                    c_index, a[comparison.feature], b[comparison.feature]
                )
            explanation.append(
                {
                    "comparison": comparison.name,
                    "feature": comparison.feature,
                    "left": a.get(comparison.feature),
                    "right": b.get(comparison.feature),
                    "comparator": comparison.comparator,
                    "similarity": None if math.isnan(similarity) else round(similarity, 4),
                    "level": "missing" if level < 0 else comparison.levels[level].label,
                    "contribution": round(contributions[c_index], 3),
                    **adjustment,
                }
            )
        for group, excess in zip(rules.groups, self.excess[:, i].tolist(), strict=True):
            if excess > 0:
                explanation.append(_cap_entry(group, excess))
        verdict = "excluded" if self.excluded[i] else "decided" if self.decided[i] else ""
        if verdict != "decided" and self.requirement_failed[i]:
            explanation.append(_requirement_entry(rules))
            verdict = verdict or "key evidence missing"
        if verdict == "decided" and self.contradicted[i]:
            verdict = "identifier contradicted"
        return PairScore(
            float(self.probability[i]),
            float(self.weight[i]),
            explanation,
            verdict or "weights",
            rules.version,
        )


class _Verdicts:
    """``identifier_verdict`` for many pairs: (decided, excluded) boolean arrays."""

    def __init__(self, rules: RuleSet, features: list[Features], column: Any) -> None:
        self.exclusive = [column(f) for f in rules.exclusive]
        self.never_together = []
        for feature, kinds in rules.never_together:
            values = column(feature)
            self.never_together.append((values, np.isin(values, list(kinds))))
        self.decisive = []
        for feature in rules.decisive:
            valid = np.asarray([_valid(rules, f, feature) for f in features], dtype=bool)
            self.decisive.append((column(feature), valid))

    def __call__(self, left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        excluded = np.zeros(len(left), dtype=bool)
        for values in self.exclusive:
            lv, rv = values[left], values[right]
            excluded |= (lv != "") & (rv != "") & (lv != rv)
        for values, inside in self.never_together:
            lv, rv = values[left], values[right]
            excluded |= (lv != "") & (rv != "") & (inside[left] != inside[right])
        decided = np.zeros(len(left), dtype=bool)
        for values, valid in self.decisive:
            lv, rv = values[left], values[right]
            decided |= (lv != "") & (lv == rv) & valid[left] & valid[right]
        return decided & ~excluded, excluded
