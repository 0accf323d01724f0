"""Clusters from scored pairs: connected components, guarded against chaining.

Linking every pair above the auto-match threshold and taking connected components lets one
wrong or weak link chain two different entities together (A~B, B~C, yet A and C nothing
alike). Within each component, groups are merged strongest link first, and two groups merge
only when every pair across them is at least ``cluster_guard`` probable (pairs not scored yet
are scored then): complete linkage. What the guard keeps apart is reported for review.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

Pair = tuple[int, int]


@dataclass
class Clustering:
    cluster_of: dict[int, int]
    """Record index → cluster representative (the smallest index in the cluster)."""
    held_apart: list[tuple[int, int, float]] = field(default_factory=list)
    """Auto-match links the guard refused: (left, right, probability), for review."""


def cluster(
    count: int,
    links: Iterable[tuple[int, int, float]],
    guard: float,
    probability_of: Callable[[int, int], float],
) -> Clustering:
    """``links``: auto-match pairs with their probability. ``probability_of`` scores any pair."""
    links = sorted(links, key=lambda link: -link[2])
    adjacency: dict[int, list[tuple[int, int, float]]] = defaultdict(list)
    for link in links:
        adjacency[link[0]].append(link)
        adjacency[link[1]].append(link)
    group_of = list(range(count))
    members: dict[int, list[int]] = {i: [i] for i in range(count)}
    known: dict[Pair, float] = {(min(a, b), max(a, b)): p for a, b, p in links}
    held: list[tuple[int, int, float]] = []

    def probability(a: int, b: int) -> float:
        key = (min(a, b), max(a, b))
        if key not in known:
            known[key] = probability_of(*key)
        return known[key]

    for a, b, p in links:
        ga, gb = group_of[a], group_of[b]
        if ga == gb:
            continue
        if all(probability(x, y) >= guard for x in members[ga] for y in members[gb]):
            keep, drop = (ga, gb) if ga < gb else (gb, ga)
            for x in members[drop]:
                group_of[x] = keep
            members[keep].extend(members.pop(drop))
        else:
            held.append((a, b, p))
    cluster_of = {i: min(members[group_of[i]]) for i in range(count)}
    return Clustering(cluster_of, held)
