"""File mode: match a CSV export without touching the database.

The same standardise → block → score → cluster pipeline as the hub, over records held in
memory, with term frequencies counted over the file itself (a postal code much of the file
shares says little; see matching/frequencies.py). Rows are never dropped: a value that cannot
be standardised still takes part as far as it can, and a row with no usable value at all
becomes a cluster of its own.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from matching.clustering import Clustering, cluster
from matching.features import Features, extract
from matching.frequencies import TermFrequencies
from matching.rules import RuleSet
from matching.scoring import score_pair, score_pairs

KEY_COLUMNS = ("source_system", "source_id")
BATCH = 64
"""The cluster guard scores this many unscored pairs or more in one ``score_pairs`` call."""


@dataclass
class FileMatch:
    records: list[dict[str, str]]
    features: list[Features]
    left: np.ndarray
    right: np.ndarray
    probability: np.ndarray
    levels: np.ndarray
    clustering: Clustering
    frequencies: TermFrequencies | None = None


def read_records(path: str | Path, attributes: dict[str, str]) -> list[dict[str, str]]:
    """Rows of a CSV file (UTF-8, BOM or not); only the key and attribute columns are kept."""
    with open(path, newline="", encoding="utf-8-sig", errors="replace") as handle:
        return list(_rows(handle, attributes))


def _rows(handle: io.TextIOBase, attributes: dict[str, str]) -> Iterator[dict[str, str]]:
    reader = csv.DictReader(handle)
    wanted = set(attributes) | set(KEY_COLUMNS)
    for number, row in enumerate(reader, start=2):
        record = {k.strip(): (v or "").strip() for k, v in row.items() if k and k.strip() in wanted}
        record.setdefault("source_system", "")
        if not record.get("source_id"):
            record["source_id"] = f"line-{number}"
        yield record


def match_records(rules: RuleSet, records: list[dict[str, Any]]) -> FileMatch:
    from matching.blocking import candidate_pairs

    features = [extract(rules.attributes, record) for record in records]
    frequencies = file_frequencies(rules, features)
    left, right = candidate_pairs(rules, features)
    probability, levels = score_pairs(rules, features, left, right, frequencies)
    auto = np.flatnonzero(probability >= rules.thresholds.auto_match)
    links = zip(left[auto].tolist(), right[auto].tolist(), probability[auto].tolist(), strict=True)

    def probability_of(a: int, b: int) -> float:
        return score_pair(rules, features[a], features[b], frequencies).probability

    def probabilities_of(pairs: Sequence[tuple[int, int]]) -> np.ndarray:
        """The pairs the cluster guard asks about: a few one by one, many together (over just
        their records: ``score_pairs`` costs a little per call and per record)."""
        if len(pairs) < BATCH:
            return np.array([probability_of(a, b) for a, b in pairs])
        ids = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
        involved, local = np.unique(ids, return_inverse=True)
        local = local.reshape(-1, 2)
        subset = [features[i] for i in involved.tolist()]
        return score_pairs(rules, subset, local[:, 0], local[:, 1], frequencies)[0]

    clustering = cluster(
        len(records),
        links,
        rules.thresholds.cluster_guard,
        probability_of,
        probabilities_of,
        floor=rules.thresholds.cluster_floor,
    )
    return FileMatch(records, features, left, right, probability, levels, clustering, frequencies)


def file_frequencies(rules: RuleSet, features: list[Features]) -> TermFrequencies | None:
    """The term frequencies of the file's own records (``None`` when no comparison uses them)."""
    if not rules.tf_features:
        return None
    return TermFrequencies.from_features(features, rules.tf_features)


def write_clusters(result: FileMatch, path: str | Path) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["source_system", "source_id", "cluster_id"])
        for index, record in enumerate(result.records):
            representative = result.records[result.clustering.cluster_of[index]]
            writer.writerow(
                [
                    record["source_system"],
                    record["source_id"],
                    f"{representative['source_system']}:{representative['source_id']}",
                ]
            )
