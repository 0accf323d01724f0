"""Clusters from scored pairs: connected components, guarded against chaining.

Linking every pair above the auto-match threshold and taking connected components lets one
wrong or weak link chain two different entities together (A~B, B~C, yet A and C nothing
alike). Groups are merged strongest link first (ties by record index, so the result does not
depend on the order links arrive in), and two groups merge only when every pair across them is
at least ``cluster_guard`` probable (pairs not scored yet are scored then): complete linkage.
With a ``cluster_floor`` the guard is softer, average linkage with a floor: two groups merge when
the pairs across them are on average at least ``cluster_guard`` probable and none is below the
floor. One badly garbled record that scores weakly (not impossibly) against its entity's other
records then no longer keeps them apart, while a chain A~B~C whose ends are clearly different
(A and C below the floor) still never becomes one cluster. What the guard keeps apart is
reported for review.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

Pair = tuple[int, int]


@dataclass
class Clustering:
    cluster_of: dict[int, int]
    """Record index → cluster representative (the smallest index in the cluster)."""
    held_apart: list[tuple[int, int, float]] = field(default_factory=list)
    """Auto-match links the guard refused: (left, right, probability), for review."""


def guard_clears(probabilities: Sequence[float], guard: float, floor: float | None) -> bool:
    """Whether two groups whose pairs across have these probabilities may merge: each at least
    ``guard`` (``floor`` None: complete linkage), or on average at least ``guard`` and each at
    least ``floor`` (average linkage with a floor)."""
    if not probabilities:
        return True
    if floor is None:
        return min(probabilities) >= guard
    return min(probabilities) >= floor and sum(probabilities) / len(probabilities) >= guard


def cluster(
    count: int,
    links: Iterable[tuple[int, int, float]],
    guard: float,
    probability_of: Callable[[int, int], float],
    probabilities_of: Callable[[Sequence[Pair]], Sequence[float]] | None = None,
    floor: float | None = None,
) -> Clustering:
    """``links``: auto-match pairs with their probability. ``probability_of`` scores any pair;
    ``probabilities_of``, when given, scores many at once (the pairs across two groups that
    were not scored yet) and is used instead. ``floor``: ``None`` for complete linkage (every
    pair across at least ``guard``), else average linkage (the mean at least ``guard``) with
    every pair across at least ``floor``."""
    ordered = sorted(
        ((min(a, b), max(a, b), p) for a, b, p in links), key=lambda link: (-link[2], *link[:2])
    )
    group_of = list(range(count))
    members: dict[int, list[int]] = {}
    known: dict[Pair, float] = {}
    for a, b, p in ordered:
        known.setdefault((a, b), p)
    held: list[tuple[int, int, float]] = []

    lowest = guard if floor is None else floor

    def clears(left: list[int], right: list[int]) -> bool:
        keys = [(x, y) if x < y else (y, x) for x in left for y in right]
        unknown = []
        for key in keys:
            p = known.get(key)
            if p is None:
                unknown.append(key)
            elif p < lowest:
                return False
        if probabilities_of is not None and unknown:
            for key, p in zip(unknown, probabilities_of(unknown), strict=True):
                known[key] = float(p)
        elif unknown:
            for key in unknown:
                known[key] = probability_of(*key)
                if known[key] < lowest:
                    return False
        return guard_clears([known[key] for key in keys], guard, floor)

    for a, b, p in ordered:
        ga, gb = group_of[a], group_of[b]
        if ga == gb:
            continue
        left, right = members.get(ga, [ga]), members.get(gb, [gb])
        if clears(left, right):
            keep, drop = (ga, gb) if ga < gb else (gb, ga)
            merged = members.pop(keep, [keep])
            dropped = members.pop(drop, [drop])
            for x in dropped:
                group_of[x] = keep
            merged.extend(dropped)
            members[keep] = merged
        else:
            held.append((a, b, p))
    cluster_of = {}
    for i in range(count):
        group = members.get(group_of[i])
        cluster_of[i] = min(group) if group else i
    return Clustering(cluster_of, held)
