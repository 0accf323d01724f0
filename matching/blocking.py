"""Blocking: which records are compared at all.

A blocking rule is a tuple of features; records with equal, non-empty values for all of them
share a block. Candidate pairs are the pairs within each block; blocks larger than the rule
set's ``max_block_size`` (a common surname, a default postal code) are skipped, since they would
cost quadratic time and say little. Online matching looks the same keys up in the MatchKey index.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence

import numpy as np

from matching.features import Features
from matching.rules import RuleSet


def blocking_keys(rules: RuleSet, features: Features) -> list[tuple[str, str]]:
    """(rule name, key value) for every blocking rule the record has all features of."""
    keys = []
    for rule in rules.blocking:
        values = [features.get(f, "") for f in rule]
        if all(values):
            keys.append(("+".join(rule), "|".join(values)))
    return keys


def candidate_pairs(rules: RuleSet, features: Sequence[Features]) -> tuple[np.ndarray, np.ndarray]:
    """Unique pairs (left < right) of record indexes sharing a block."""
    chunks: list[np.ndarray] = []
    for rule in rules.blocking:
        blocks: dict[str, list[int]] = defaultdict(list)
        for index, record in enumerate(features):
            values = [record.get(f, "") for f in rule]
            if all(values):
                blocks["|".join(values)].append(index)
        for members in _usable(blocks.values(), rules.max_block_size):
            ids = np.asarray(members, dtype=np.int64)
            left, right = np.triu_indices(len(ids), k=1)
            chunks.append(ids[left] * len(features) + ids[right])
    if not chunks:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty
    codes = np.unique(np.concatenate(chunks))
    return codes // len(features), codes % len(features)


def _usable(blocks: Iterator[list[int]] | object, limit: int) -> Iterator[list[int]]:
    for members in blocks:  # type: ignore[attr-defined]
        if 1 < len(members) <= limit:
            yield members
