"""Blocking: which records are compared at all.

A blocking rule is a tuple of features; records with equal, non-empty values for all of them
share a block. Candidate pairs are the pairs within each block; blocks larger than the rule
set's ``max_block_size`` (a common surname, a default postal code) are skipped, since they would
cost quadratic time and say little. Online matching looks the same keys up in the MatchKey index.

File mode blocks column-wise: per rule, the records' keys are numbered, the
records sorted by key number, and the pairs of all blocks of one size made in one step.
"""

from __future__ import annotations

from collections.abc import Sequence

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
    """Unique pairs (left < right) of record indexes sharing a block, sorted."""
    count = len(features)
    columns: dict[str, np.ndarray] = {}
    chunks: list[np.ndarray] = []
    for rule in rules.blocking:
        for feature in rule:
            if feature not in columns:
                columns[feature] = np.asarray([f.get(feature, "") for f in features], dtype=object)
        keys = columns[rule[0]]
        present = keys != ""
        for feature in rule[1:]:
            present &= columns[feature] != ""
            keys = keys + "|" + columns[feature]
        ids = np.flatnonzero(present)
        if len(ids) < 2:
            continue
        chunks.extend(_block_pairs(ids, keys[ids], count, rules.max_block_size))
    if not chunks:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty
    codes = np.concatenate(chunks)
    codes.sort()
    codes = codes[np.concatenate(([True], codes[1:] != codes[:-1]))]
    return codes // count, codes % count


def _block_pairs(ids: np.ndarray, keys: np.ndarray, count: int, limit: int) -> list[np.ndarray]:
    """Pair codes (left * count + right) within the blocks of 2 to ``limit`` records."""
    numbers: dict[str, int] = {}
    block = np.fromiter(
        (numbers.setdefault(key, len(numbers)) for key in keys.tolist()), np.int64, len(keys)
    )
    size_of = np.bincount(block)[block]
    usable = (size_of > 1) & (size_of <= limit)
    ids, block, size_of = ids[usable], block[usable], size_of[usable]
    order = np.argsort(block, kind="stable")  # ids stay ascending within a block
    ids, size_of = ids[order], size_of[order]
    chunks = []
    for size in np.flatnonzero(np.bincount(size_of)).tolist():
        members = ids[size_of == size].reshape(-1, size)
        first, second = np.triu_indices(size, k=1)
        chunks.append((members[:, first] * count + members[:, second]).ravel())
    return chunks
