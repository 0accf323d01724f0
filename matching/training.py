"""Estimating the rule weights from data, as Fellegi-Sunter linkers (Splink) do.

The model the scorer applies to a candidate pair is: prior log-odds + Σ log2(m/u) over the
comparisons (evidence groups capped). Training estimates its three kinds of numbers so that the
scorer's probability is, as far as the data allow, the probability that the pair is a match:

* **u** (how often a level occurs between two *different* records) from random record pairs,
  almost all of which are non-matches (Splink's ``estimate_u_using_random_sampling``). u is
  held fixed: the expectation-maximisation below never changes it. (The few random pairs that
  are matches are then discounted by their EM probability and EM runs again; see ``fit``.)
* **m** (how often a level occurs between two records of the same entity) and the **prior** by
  expectation-maximisation over the blocked candidate pairs, u fixed. Because u describes *all*
  pairs, the prior that goes with it is the chance that two random records match (Splink's
  ``probability_two_random_records_match``), not the share of matches among candidate pairs: the
  E step scores each candidate pair exactly as the scorer will (prior + weights, group caps),
  and the M step sets the prior to the expected number of matches among the candidate pairs
  divided by all n(n-1)/2 pairs (pairs blocking never proposes are taken to be non-matches; this
  is the candidate pairs' match share λ converted to the rule's meaning). The identifier
  verdicts (decisive, exclusive) are rules on top of the weights and take no part.
* **Labelled pairs** (steward decisions): a merged pair is a match, a rejected one a non-match,
  with fixed responsibility 1 or 0 in every M step, whether or not blocking proposes the pair.
  A labelled non-match lowers the prior; it does not change u (u describes random pairs, and
  rejected pairs are the hard cases, not a random sample of non-matches).

Estimates are anchored to the rules trained from (the shipped defaults or the active version):
each comparison's previous m counts as ``strength`` pseudo-matches (a Dirichlet prior), so a
comparison seen in a few pairs moves little and one seen in thousands follows the data; a level
never seen keeps its previous m or u (the other levels share the rest), rather than being
smoothed towards zero; every probability stays within [1e-6, 1 - 1e-6]. Without candidate or
labelled pairs the previous m and prior are kept. Nothing else of the rule set changes: the same
comparisons, levels, thresholds, blocking, groups and identifiers, with new m, u and prior
(``scope="all"``) or new m only (``scope="m"``, what the commands write by default: see ``fit``).

Steward decisions: ``train(rules, features, labelled=[(i, j, is_match), ...])`` with ``i``, ``j``
indexes into ``features``; ``labelled_pairs(keys, decisions)`` builds that list from decisions
given by record key.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from matching.blocking import candidate_pairs
from matching.features import Features
from matching.rules import Level, RuleSet
from matching.scoring import score_pairs

RANDOM_PAIRS = 200_000
"""Random pairs drawn to estimate u (all pairs when there are fewer)."""
MAX_ITERATIONS = 100
TOLERANCE = 1e-5
"""EM stops when no m changes by more than this and the prior by less than this, relatively."""
STRENGTH = 20.0
"""Pseudo-observations the previous m (and u) count for, against the data's (expected) counts."""
FLOOR = 1e-6
CEILING = 1 - 1e-6
MIN_COUNT = 0.5
"""A level with fewer (expected) observations than this has not been seen."""
MIN_PRIOR = 1e-12
U_PASSES = 5
SCOPES = ("all", "m")
"""At most this many estimates of u (see ``fit``)."""
U_TOLERANCE = 0.01
"""u has settled when no level's u changes by more than 1 % between two passes."""

Labelled = Sequence[tuple[int, int, bool]]


@dataclass(frozen=True)
class TrainingReport:
    """What training saw and did, for the log and the rule version's note."""

    records: int
    candidate_pairs: int
    random_pairs: int
    labelled_matches: int
    labelled_non_matches: int
    expected_matches: float
    """Sum of the match probabilities of the candidate and labelled pairs at the end."""
    candidate_match_share: float
    """λ: the expected share of matches among the candidate pairs."""
    prior_before: float
    prior: float
    """The calibrated prior (the new rule set's when ``scope`` is "all")."""
    iterations: int
    converged: bool
    u_passes: int
    scope: str = "all"
    kept: tuple[str, ...] = field(default=())
    """Levels (and comparisons) whose m or u was kept from the previous rules for want of data."""

    def lines(self) -> list[str]:
        lines = [
            f"{self.records:,} records, {self.candidate_pairs:,} candidate pairs, "
            f"{self.random_pairs:,} random pairs (u), {self.labelled_matches} labelled matches, "
            f"{self.labelled_non_matches} labelled non-matches",
            f"EM: {self.u_passes} estimates of u, {self.iterations} iterations in all, "
            + ("converged" if self.converged else "stopped at the iteration cap")
            + f"; {self.expected_matches:,.1f} expected matches, "
            f"λ among candidates {self.candidate_match_share:.4f}; "
            f"prior {self.prior_before:.6g} in the rules, calibrated {self.prior:.6g}",
            "new rule version: "
            + ("m, u and prior" if self.scope == "all" else "m (u and prior kept)"),
        ]
        if self.kept:
            lines.append("kept from the previous rules (too little data): " + ", ".join(self.kept))
        return lines


@dataclass(frozen=True)
class Training:
    rules: RuleSet
    report: TrainingReport


def _clamp(values: np.ndarray) -> np.ndarray:
    return np.clip(values, FLOOR, CEILING)


def _estimate(
    counts: np.ndarray, previous: np.ndarray, strength: float, rarer_than: float = 1.0
) -> np.ndarray:
    """A level distribution from (expected) counts, anchored to ``previous``.

    Levels not seen keep their previous probability, or ``rarer_than`` when that is smaller (no
    random pair among N in a level says its u is below about 1/N); the seen levels share the rest
    in proportion to their counts plus ``strength`` pseudo-observations spread as ``previous``.
    """
    previous = np.asarray(previous, dtype=float)
    seen = counts >= MIN_COUNT
    if not seen.any():
        return previous.copy()
    estimate = previous.copy()
    estimate[~seen] = np.minimum(previous[~seen], rarer_than)
    free = 1.0 - estimate[~seen].sum()
    if free <= FLOOR:
        return previous.copy()
    weights = counts[seen] + strength * previous[seen]
    estimate[seen] = free * weights / weights.sum()
    estimate = _clamp(estimate)
    return estimate / estimate.sum()


def _counts(levels: np.ndarray, weights: np.ndarray, count: int) -> np.ndarray:
    present = levels >= 0
    return np.bincount(levels[present], weights=weights[present], minlength=count)[:count]


def _random_pairs(n: int, pairs: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """All pairs when there are at most ``pairs``, else ``pairs`` uniform random distinct ones."""
    total = n * (n - 1) // 2
    if total <= pairs:
        left, right = np.triu_indices(n, k=1)
        return left.astype(np.int64), right.astype(np.int64)
    rng = np.random.default_rng(seed)
    left = rng.integers(0, n, pairs)
    right = (left + rng.integers(1, n, pairs)) % n
    return left, right


def _random_sample(
    rules: RuleSet, features: list[Features], seed: int, pairs: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Random pairs (left < right) and their levels."""
    left, right = _random_pairs(len(features), pairs, seed)
    left, right = np.minimum(left, right), np.maximum(left, right)
    _, levels = score_pairs(rules, features, left, right)
    return left, right, levels


def _u_from(
    rules: RuleSet, levels: np.ndarray, non_match: np.ndarray, strength: float
) -> tuple[list[np.ndarray], list[str]]:
    """u from random pairs' levels, each pair counting by its chance of being a non-match."""
    u, kept = [], []
    for c, comp in enumerate(rules.comparisons):
        previous = np.array([lv.u for lv in comp.levels])
        counts = _counts(levels[c], non_match, len(comp.levels))
        total = counts.sum()
        u.append(_estimate(counts, previous, strength, 1.0 / total if total else 1.0))
        kept += _kept(comp, counts, "u", u[-1] == previous)
    return u, kept


def _kept(comp, counts: np.ndarray, kind: str, same: np.ndarray | None = None) -> list[str]:
    if not (counts >= MIN_COUNT).any():
        return [f"{comp.name} ({kind})"]
    return [
        f"{comp.name}/{lv.label} ({kind})"
        for i, (lv, c) in enumerate(zip(comp.levels, counts, strict=True))
        if c < MIN_COUNT and (same is None or same[i])
    ]


def estimate_u(
    rules: RuleSet,
    features: Sequence[Features],
    seed: int = 0,
    pairs: int = RANDOM_PAIRS,
    strength: float = STRENGTH,
) -> list[np.ndarray]:
    """u of every comparison's levels from random record pairs, all taken as non-matches (a
    distribution per comparison; a level no random pair falls in keeps the rule's u or 1/N)."""
    features = list(features)
    if len(features) < 2:
        return [np.array([lv.u for lv in comp.levels]) for comp in rules.comparisons]
    _, _, levels = _random_sample(rules, features, seed, pairs)
    return _u_from(rules, levels, np.ones(levels.shape[1]), strength)[0]


def _weights(
    rules: RuleSet,
    levels: np.ndarray,
    log_ratio: list[np.ndarray],
    prior: float,
) -> np.ndarray:
    """The scorer's match weight of every pair from its levels (prior, weights, group caps)."""
    weight = np.full(levels.shape[1], math.log2(prior / (1 - prior)))
    contributions = np.zeros(levels.shape, dtype=float)
    for c in range(len(rules.comparisons)):
        present = levels[c] >= 0
        contributions[c] = np.where(present, log_ratio[c][np.where(present, levels[c], 0)], 0.0)
    weight += contributions.sum(axis=0)
    position = {comp.name: i for i, comp in enumerate(rules.comparisons)}
    for group in rules.groups:
        members = [position[name] for name in group.comparisons if name in position]
        if members:
            positive = np.clip(contributions[members], 0.0, None).sum(axis=0)
            weight -= np.clip(positive - group.max_weight, 0.0, None)
    return weight


def _em(
    rules: RuleSet,
    levels: np.ndarray,
    fixed: np.ndarray,
    u: list[np.ndarray],
    m: list[np.ndarray],
    prior: float,
    all_pairs: int,
    anchor: list[np.ndarray],
    strength: float,
    max_iterations: int,
    tolerance: float,
) -> tuple[list[np.ndarray], float, np.ndarray, int, bool]:
    """EM for m and the prior over the pairs' levels, u fixed; labelled rows (``fixed`` not
    NaN) keep their responsibility. Returns m, prior, the pairs' match probabilities, the
    iterations run and whether they converged."""
    is_fixed = ~np.isnan(fixed)
    log_u = [np.log2(values) for values in u]
    posterior = np.where(is_fixed, fixed, 0.0)
    for iteration in range(1, max_iterations + 1):
        log_ratio = [np.log2(m[c]) - log_u[c] for c in range(len(u))]
        weight = _weights(rules, levels, log_ratio, prior)
        posterior = 1 / (1 + np.exp2(-np.clip(weight, -1000, 1000)))
        posterior = np.where(is_fixed, fixed, posterior)
        new_m = [
            _estimate(_counts(levels[c], posterior, len(anchor[c])), anchor[c], strength)
            for c in range(len(u))
        ]
        new_prior = float(np.clip(posterior.sum() / all_pairs, MIN_PRIOR, 0.5))
        change = max(float(np.abs(a - b).max()) for a, b in zip(new_m, m, strict=True))
        prior_change = abs(new_prior - prior) / prior
        m, prior = new_m, new_prior
        if change < tolerance and prior_change < tolerance:
            return m, prior, posterior, iteration, True
    return m, prior, posterior, max_iterations, False


def fit(
    rules: RuleSet,
    features: Sequence[Features],
    labelled: Labelled = (),
    *,
    max_iterations: int = MAX_ITERATIONS,
    tolerance: float = TOLERANCE,
    strength: float = STRENGTH,
    random_pairs: int = RANDOM_PAIRS,
    u_passes: int = U_PASSES,
    seed: int = 0,
    version: int | None = None,
    scope: str = "all",
) -> Training:
    """Train ``rules`` on ``features``; the new rule set and a report.

    ``labelled`` holds steward decisions as ``(i, j, is_match)`` with ``i`` and ``j`` indexes
    into ``features`` (see ``labelled_pairs`` to build it from record keys).

    ``scope`` says what the new rule set takes: "all" (m, u and prior: the calibrated model, as
    Splink has it) or "m" (the estimated m only; u and the prior stay the rules'). m, the share
    of matches at each level, means the same whatever the scale of the weights; u and the prior
    set that scale, and a rule set's evidence caps, thresholds, decisive veto and key-evidence
    minimum are absolute numbers of bits chosen against its own u and prior. Hand-set rules put
    the prior near the share of matches among candidate pairs (0.1) where the calibrated prior
    is the chance that two random records match (about 1e-4 on a few thousand records), so
    their caps do not fit calibrated weights: "m" refines such rules within their scale, "all"
    suits rules whose caps and thresholds were set for calibrated weights. The report has the
    calibrated figures either way.

    u comes from random pairs and stays fixed during each EM run. It is first estimated taking
    every random pair as a non-match (Splink's way); on a few thousand records a random sample
    holds dozens of true matches, enough to make u of the strongest agreement levels several
    times too high. So after EM, u is estimated again with each random pair counted by its
    chance of being a non-match (those blocking also proposes get their EM probability, the
    others count fully), and EM runs again with that u, fixed; this alternation stops when u
    moves by less than 1 %, after at most ``u_passes`` estimates (1: Splink's single estimate).
    """
    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {SCOPES}, not {scope!r}")
    features = list(features)
    n = len(features)
    all_pairs = n * (n - 1) // 2
    comparisons = rules.comparisons
    old_m = [np.array([lv.m for lv in comp.levels]) for comp in comparisons]
    old_u = [np.array([lv.u for lv in comp.levels]) for comp in comparisons]

    left, right = candidate_pairs(rules, features)
    candidates = len(left)
    fixed = np.full(candidates, np.nan)
    decisions: dict[tuple[int, int], bool] = {}
    for i, j, is_match in labelled:
        i, j = int(i), int(j)
        if i == j or not (0 <= i < n and 0 <= j < n):
            raise ValueError(f"labelled pair ({i}, {j}) is not two of the {n} records")
        decisions[(min(i, j), max(i, j))] = bool(is_match)
    codes = left * n + right
    extra = []
    for (i, j), is_match in decisions.items():
        at = int(np.searchsorted(codes, i * n + j))
        if at < candidates and codes[at] == i * n + j:
            fixed[at] = float(is_match)
        else:
            extra.append((i, j, is_match))
    if extra:
        left = np.concatenate([left, np.array([e[0] for e in extra], dtype=np.int64)])
        right = np.concatenate([right, np.array([e[1] for e in extra], dtype=np.int64)])
        fixed = np.concatenate([fixed, np.array([float(e[2]) for e in extra])])
    _, levels = score_pairs(rules, features, left, right)

    u, m, prior, kept = old_u, old_m, rules.prior, []
    posterior = np.where(np.isnan(fixed), 0.0, fixed)
    iterations, converged, sampled, passes = 0, False, 0, 0
    if n >= 2:
        r_left, r_right, r_levels = _random_sample(rules, features, seed, random_pairs)
        sampled = len(r_left)
        u, kept_u = _u_from(rules, r_levels, np.ones(sampled), strength)
    else:
        kept_u = ["u (fewer than two records)"]
    if len(left) and all_pairs:
        # Start from the previous rules' odds, read as the match share among candidate pairs.
        prior = float(np.clip(rules.prior * max(candidates, 1) / all_pairs, MIN_PRIOR, 0.5))
        order = np.argsort(left * n + right)
        sorted_codes = (left * n + right)[order]
        for done in range(max(u_passes, 1)):
            if done:
                at = np.searchsorted(sorted_codes, r_left * n + r_right)
                at = np.clip(at, 0, len(order) - 1)
                hit = sorted_codes[at] == r_left * n + r_right
                non_match = np.where(hit, 1 - posterior[order[at]], 1.0)
                new_u, new_kept = _u_from(rules, r_levels, non_match, strength)
                if all(
                    np.abs(np.log(a) - np.log(b)).max() < U_TOLERANCE
                    for a, b in zip(new_u, u, strict=True)
                ):
                    break  # settled: keep the u the last EM run used
                u, kept_u = new_u, new_kept
            m, prior, posterior, runs, converged = _em(
                rules,
                levels,
                fixed,
                u,
                m,
                prior,
                all_pairs,
                old_m,
                strength,
                max_iterations,
                tolerance,
            )
            iterations += runs
            passes = done + 1
        for c, comp in enumerate(comparisons):
            kept += _kept(comp, _counts(levels[c], posterior, len(comp.levels)), "m")
    else:
        kept += ["m and prior (no candidate or labelled pairs)"]

    new_levels = {
        comp.name: tuple(
            replace(level, m=_rounded(m[c][i]), u=_rounded(u[c][i]))
            for i, level in enumerate(comp.levels)
        )
        for c, comp in enumerate(comparisons)
    }
    if scope == "m":
        new_levels = {
            comp.name: tuple(
                replace(old, m=new.m)
                for old, new in zip(comp.levels, new_levels[comp.name], strict=True)
            )
            for comp in comparisons
        }
    trained = rules.with_levels(new_levels, version if version is not None else rules.version + 1)
    calibrated_prior = _rounded(prior, MIN_PRIOR)
    if scope == "all":
        trained = replace(trained, prior=calibrated_prior)
    report = TrainingReport(
        records=n,
        candidate_pairs=candidates,
        random_pairs=sampled,
        labelled_matches=sum(decisions.values()),
        labelled_non_matches=len(decisions) - sum(decisions.values()),
        expected_matches=float(posterior.sum()),
        candidate_match_share=float(posterior[:candidates].mean()) if candidates else 0.0,
        prior_before=rules.prior,
        prior=calibrated_prior,
        scope=scope,
        iterations=iterations,
        converged=converged,
        u_passes=passes,
        kept=tuple(kept_u + kept),
    )
    return Training(trained, report)


def train(
    rules: RuleSet,
    features: Sequence[Features],
    labelled: Labelled = (),
    iterations: int = MAX_ITERATIONS,
    version: int | None = None,
    **options,
) -> RuleSet:
    """A new rule set with m, u and prior estimated from ``features`` and labelled pairs
    ``(i, j, is_match)`` (indexes into ``features``); ``fit`` also gives the report."""
    return fit(
        rules, features, labelled, max_iterations=iterations, version=version, **options
    ).rules


def labelled_pairs(
    keys: Sequence[Hashable], decisions: Iterable[tuple[Hashable, Hashable, bool]]
) -> list[tuple[int, int, bool]]:
    """Steward decisions about records (by key) as labelled pairs for ``train``/``fit``.

    ``keys[i]`` is the key (a source record id, say) of ``features[i]``; each decision is
    ``(key_a, key_b, is_match)``: True for a pair a steward merged, False for one kept apart.
    Decisions about records not in ``keys`` are left out; the last decision about a pair wins.
    """
    index: Mapping[Hashable, int] = {key: i for i, key in enumerate(keys)}
    out: dict[tuple[int, int], bool] = {}
    for a, b, is_match in decisions:
        if a in index and b in index and index[a] != index[b]:
            i, j = sorted((index[a], index[b]))
            out[(i, j)] = bool(is_match)
    return [(i, j, is_match) for (i, j), is_match in out.items()]


def _rounded(probability: float, floor: float = FLOOR) -> float:
    """Six significant digits, within [floor, 1 - 1e-6]: no 0, 1, NaN or inf in a rule."""
    value = float(probability)
    if not math.isfinite(value):
        raise ValueError(f"not a probability: {probability!r}")
    return min(max(float(f"{value:.6g}"), floor), CEILING)


def describe(rules: RuleSet) -> list[str]:
    lines = [f"prior {rules.prior:.6g}"]
    for comp in rules.comparisons:
        cells = ", ".join(
            f"{lv.label} m={lv.m:.3f} u={lv.u:.2g} w={lv.weight:+.1f}" for lv in comp.levels
        )
        lines.append(f"{comp.name}: {cells}")
    return lines


__all__ = [
    "Level",
    "Training",
    "TrainingReport",
    "describe",
    "estimate_u",
    "fit",
    "labelled_pairs",
    "train",
]
