"""Catch-up matching: the pairs two batches running at the same time could not see.

A batch matches its new records against what was committed when it read its candidates. Two
batches that run side by side do not see each other's records: when both bring the same new
entity without a shared identifier (identifiers are locked during ingest; blocking keys are
not, since a busy block would make every batch wait for the others), each creates a golden
record for it. After a batch commits, its new records (linked ones too) are matched again
against the candidates its read could not see: rows written by transactions its snapshot
(online.Snapshot) did not include. Whichever batch commits last sees the other's records. A
pair at or above auto-match merges the two golden records (the older one survives, as in
dedupe); a pair in the review band raises a review. Pairs the batch's own decision weighed (its
golden record scored no higher now), pairs with a review (open or decided) and pairs a steward
kept apart are left alone, so running it twice changes nothing.
Batches that ran one after the other leave nothing to catch up: a few queries, no scoring.
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from golden_records.bulk import bulk_insert
from golden_records.history import ChangeOrigin
from golden_records.lookups import array_literal
from golden_records.models import SourceRecord
from golden_records.services.locks import lock_entities
from golden_records.services.merge import MergeError, merge_golden, resolve_golden_id
from matching.frequencies import domain_frequencies
from matching.memory import active_never_matches, ordered
from matching.models import MatchDecision, MatchReview
from matching.online import (
    MAX_REVIEWS,
    ONLINE_BLOCK_LIMIT,
    Snapshot,
    _active_goldens,
    _profiles,
    _rows_under_keys,
    record_keys,
    scored_features,
    top_candidates,
)
from matching.rule_versions import rules_if_any
from matching.rules import RuleSet
from matching.scoring import score_pair, score_pairs

logger = logging.getLogger(__name__)

RAISED_BY = "catch-up match"


def catch_up(
    domain: str,
    record_ids: Sequence[int],
    snapshot: Snapshot | None,
    written: Sequence[int] = (),
) -> dict[str, int]:
    """Match the source records ``record_ids`` (a batch's new records) against the candidates
    its read (``snapshot``) did not see; ``None``: against every candidate. ``written``: the
    batch's other records (its updates), never candidates: inside a savepoint (an idempotent
    request) its own rows carry ids the snapshot cannot tell from another transaction's."""
    rules = rules_if_any(domain)
    counts = {"pairs": 0, "merged": 0, "reviews": 0}
    if rules is None or not record_ids:
        return counts
    with transaction.atomic():
        # One catch-up per domain at a time: two batches' catch-ups that find the same pair do
        # not both merge it or both raise its review.
        lock_entities([f"catch-up:{domain}"])
        return _catch_up(rules, record_ids, snapshot, set(written), counts)


def _catch_up(
    rules: RuleSet,
    record_ids: Sequence[int],
    snapshot: Snapshot | None,
    written: set[int],
    counts: dict[str, int],
) -> dict[str, int]:
    domain = rules.domain
    mine = _profiles(set(record_ids))
    active = _active_goldens({golden for golden, _ in mine.values()}, domain)
    mine = {r: v for r, v in mine.items() if v[0] in active}
    if not mine:
        return counts
    keys = {r: record_keys(rules, features) for r, (_, features) in mine.items()}
    limit = min(rules.max_block_size, ONLINE_BLOCK_LIMIT)
    by_key: dict[int, list[int]] = defaultdict(list)
    for key, other in _rows_under_keys(sorted({k for ks in keys.values() for k in ks}), limit + 1):
        by_key[key].append(other)
    # The candidates online matching would take now, had it seen everything: those sharing the
    # most usable keys. Of them, the unseen ones are what running one batch after the other
    # would have scored.
    batch = written | set(record_ids)
    others = {r: set(top_candidates(ks, by_key, limit, batch)) for r, ks in keys.items()}
    recent = _unseen({o for os in others.values() for o in os}, snapshot)
    if not recent:
        return counts
    weighed = _weighed(mine)
    reviewed = _reviewed(set(mine) | set(recent))
    never = active_never_matches(set(mine) | set(recent))
    theirs = _profiles(set(recent), scored_features(rules))
    frequencies = domain_frequencies(rules)
    auto, review = rules.thresholds.auto_match, rules.thresholds.review
    pairs = [
        (record, other)
        for record, (golden, _) in mine.items()
        for other in sorted(others[record] & theirs.keys())
        if theirs[other][0] != golden
        and ordered(record, other) not in reviewed
        and ordered(record, other) not in never
    ]
    if not pairs:
        return counts
    # All pairs in one vectorised scoring, as online matching scores its candidates.
    pool = [features for _, features in mine.values()]
    position = {record: i for i, record in enumerate(mine)}
    for other in theirs:
        position[other] = len(pool)
        pool.append(theirs[other][1])
    probabilities, _ = score_pairs(
        rules,
        pool,
        np.asarray([position[r] for r, _ in pairs], dtype=np.int64),
        np.asarray([position[o] for _, o in pairs], dtype=np.int64),
        frequencies,
    )
    strong: dict[int, dict[uuid.UUID, tuple[float, int]]] = defaultdict(dict)
    band: dict[int, list[tuple[float, int, uuid.UUID]]] = defaultdict(list)
    for (record, other), p in zip(pairs, probabilities.tolist(), strict=True):
        other_golden = theirs[other][0]
        if p <= weighed[record].get(other_golden, -1.0) + 1e-6:
            continue  # the online decision scored this golden record at least as high
        counts["pairs"] += 1
        if p >= auto:
            best = strong[record].get(other_golden)
            if best is None or p > best[0]:
                strong[record][other_golden] = (p, other)
        elif p >= review:
            band[record].append((p, other, other_golden))
    origin = ChangeOrigin.task(RAISED_BY, reason="concurrent batches created one entity twice")
    for record, goldens in strong.items():
        # Earlier merges of this loop may have retired either side: act on what they are now.
        own = resolve_golden_id(domain, mine[record][0])
        current = {resolve_golden_id(domain, g) for g in goldens} - {own}
        if not current:
            continue  # one golden record already
        if len(current) == 1 and _merge(domain, own, current.pop(), origin):
            counts["merged"] += 1
            continue
        # Several golden records as strong: probably duplicates of each other, the steward sees
        # them (as online matching does); or the merge found them changed meanwhile.
        band[record].extend((p, other, g) for g, (p, other) in goldens.items())
    counts["reviews"] = _raise_reviews(rules, band)
    return counts


def _unseen(record_ids: set[int], snapshot: Snapshot | None) -> set[int]:
    """The records whose current row the snapshot's read did not see."""
    if snapshot is None or not record_ids:
        return record_ids
    table = connection.ops.quote_name(SourceRecord._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, xmin::text FROM {table} WHERE id = ANY(%s::bigint[])",
            [array_literal(record_ids)],
        )
        return {r for r, xmin in cursor.fetchall() if not snapshot.saw(int(xmin))}


def _weighed(mine: dict[int, tuple[uuid.UUID, Any]]) -> dict[int, dict[uuid.UUID, float]]:
    """The golden records each record's online decision scored, with the probability it gave
    them (its candidates list). A pair scoring no higher now is one that decision weighed; a
    higher score means the golden record gained or changed a record the read did not see."""
    weighed: dict[int, dict[uuid.UUID, float]] = defaultdict(dict)
    rows = MatchDecision.objects.filter(source_record_id__any=list(mine)).values_list(
        "source_record_id", "candidates"
    )
    for record, candidates in rows:
        for candidate in candidates or ():
            weighed[record][uuid.UUID(candidate["golden_id"])] = candidate["probability"]
    return weighed


def _reviewed(record_ids: set[int]) -> set[tuple[int, int]]:
    ids = list(record_ids)
    rows = MatchReview.objects.filter(
        Q(source_record_id__any=ids) | Q(candidate_record_id__any=ids)
    ).values_list("source_record_id", "candidate_record_id")
    return {ordered(a, b) for a, b in rows}


def _merge(domain: str, a: uuid.UUID, b: uuid.UUID, origin: ChangeOrigin) -> bool:
    older, newer = sorted((a, b), key=lambda g: g.int)  # UUIDv7: ordered by creation time
    try:
        merge_golden(domain, older, [newer], origin)
    except MergeError as exc:  # merged or retired meanwhile: left to a review
        logger.info("catch-up: %s not merged into %s: %s", newer, older, exc)
        return False
    return True


def _raise_reviews(rules: RuleSet, band: dict[int, list[tuple[float, int, uuid.UUID]]]) -> int:
    """At most MAX_REVIEWS per record, most probable first; the newer record is under review.
    Golden ids are read again: this run's merges may have moved either record."""
    now = timezone.now()
    frequencies = domain_frequencies(rules)
    rows = []
    # Both sides' features in full (theirs were read with the scored features only) and
    # their golden records as they are now.
    full = _profiles({*band, *(other for pairs in band.values() for _, other, _ in pairs)})
    for record, pairs in band.items():
        for p, other, _ in sorted(pairs, key=lambda x: (-x[0], x[1]))[:MAX_REVIEWS]:
            if other not in full or record not in full or full[other][0] == full[record][0]:
                continue
            newer_is_mine = full[record][0].int > full[other][0].int
            source, candidate = (record, other) if newer_is_mine else (other, record)
            candidate_golden = full[candidate][0]
            features = {record: full[record][1], other: full[other][1]}
            rows.append(
                MatchReview(
                    domain=rules.domain,
                    source_record_id=source,
                    candidate_record_id=candidate,
                    candidate_golden_id=candidate_golden,
                    probability=p,
                    explanation=score_pair(
                        rules, features[source], features[candidate], frequencies
                    ).as_dict(),
                    rule_version=rules.version,
                    raised_by=RAISED_BY,
                    created_at=now,
                )
            )
    bulk_insert(MatchReview, rows)
    return len(rows)
