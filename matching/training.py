"""Estimating the rule weights from data, as Fellegi-Sunter linkers do.

* u (how often a level occurs between two *different* records) from random record pairs: almost
  all random pairs are non-matches.
* m (how often it occurs between two records of the same entity) and the share of matches
  among candidate pairs by expectation-maximisation over the blocked candidate pairs, u fixed.
* Steward decisions, where there are some, are labelled pairs: a merged pair counts as a
  match, a rejected one as a non-match, with full weight in the M step.

The result is a new rule version with the same structure and new m, u and prior.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from matching.blocking import candidate_pairs
from matching.features import Features
from matching.rules import Level, RuleSet
from matching.scoring import score_pairs

SMOOTHING = 1e-3
RANDOM_PAIRS = 200_000


def _level_frequencies(
    levels: np.ndarray, weights: np.ndarray, count: int, previous: np.ndarray
) -> np.ndarray:
    """Weighted share of each level among pairs where the comparison is present; the previous
    estimate where the data say nothing about this comparison."""
    present = levels >= 0
    totals = np.bincount(levels[present], weights=weights[present], minlength=count)
    if totals.sum() < 1:
        return previous
    return (totals + SMOOTHING) / (totals.sum() + SMOOTHING * count)


def estimate_u(rules: RuleSet, features: Sequence[Features], seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    n = len(features)
    pairs = min(RANDOM_PAIRS, n * (n - 1) // 2)
    left = rng.integers(0, n, pairs)
    right = rng.integers(0, n, pairs)
    keep = left != right
    _, levels = score_pairs(rules, list(features), left[keep], right[keep])
    ones = np.ones(levels.shape[1])
    return [
        _level_frequencies(
            levels[c], ones, len(comp.levels), np.array([lv.u for lv in comp.levels])
        )
        for c, comp in enumerate(rules.comparisons)
    ]


def train(
    rules: RuleSet,
    features: Sequence[Features],
    labelled: Sequence[tuple[int, int, bool]] = (),
    iterations: int = 25,
    version: int | None = None,
) -> RuleSet:
    """A new rule set with m, u and prior estimated from ``features`` (and labelled pairs)."""
    features = list(features)
    u = [np.array([level.u for level in comp.levels]) for comp in rules.comparisons]
    left, right = candidate_pairs(rules, features)
    if labelled:
        extra = np.asarray([(a, b) for a, b, _ in labelled], dtype=np.int64)
        left = np.concatenate([left, extra[:, 0]])
        right = np.concatenate([right, extra[:, 1]])
    _, levels = score_pairs(rules, features, left, right)
    fixed = np.full(len(left), np.nan)
    for i, (_, _, is_match) in enumerate(labelled):
        fixed[len(left) - len(labelled) + i] = 1.0 if is_match else 0.0

    m = [np.array([level.m for level in comp.levels]) for comp in rules.comparisons]
    share = min(max(rules.prior, 0.01), 0.5)
    for _ in range(iterations):
        log_m = np.zeros(len(left))
        log_u = np.zeros(len(left))
        for c in range(len(rules.comparisons)):
            present = levels[c] >= 0
            index = np.where(present, levels[c], 0)
            log_m += np.where(present, np.log(m[c][index]), 0.0)
            log_u += np.where(present, np.log(u[c][index]), 0.0)
        odds = np.exp(np.clip(log_m - log_u, -700, 700)) * share / (1 - share)
        posterior = odds / (1 + odds)
        posterior = np.where(np.isnan(fixed), posterior, fixed)
        m = [
            _level_frequencies(levels[c], posterior, len(comp.levels), m[c])
            for c, comp in enumerate(rules.comparisons)
        ]
        u = [
            _level_frequencies(levels[c], 1 - posterior, len(comp.levels), u[c])
            for c, comp in enumerate(rules.comparisons)
        ]
        share = float(np.clip(posterior.mean(), 1e-4, 0.999))

    new_levels = {
        comp.name: tuple(
            replace(level, m=_rounded(m[c][i]), u=_rounded(u[c][i]))
            for i, level in enumerate(comp.levels)
        )
        for c, comp in enumerate(rules.comparisons)
    }
    trained = rules.with_levels(new_levels, version if version is not None else rules.version + 1)
    return replace(trained, prior=round(share, 6))


def _rounded(probability: float) -> float:
    return max(round(float(probability), 6), 1e-6)


def describe(rules: RuleSet) -> list[str]:
    lines = [f"prior {rules.prior:.4f}"]
    for comp in rules.comparisons:
        cells = ", ".join(
            f"{lv.label} m={lv.m:.3f} u={lv.u:.4f} w={lv.weight:+.1f}" for lv in comp.levels
        )
        lines.append(f"{comp.name}: {cells}")
    return lines


__all__ = ["Level", "describe", "estimate_u", "train"]
