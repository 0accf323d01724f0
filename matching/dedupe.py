"""Batch re-match of a whole domain: ``manage.py dedupe --domain customer``.

Three phases, state in the database (DedupeRun), the first two split into shards that run in
parallel on Celery workers (or one after the other in the command's own process):

``index``  standardise every source record again with the active rules and rewrite the match
           profile and blocking keys of those whose features changed (shard = record id mod n);
``score``  block and score all candidate pairs (each shard scores its share of the pairs, by a
           hash of the pair) and keep those at or above the review threshold (DedupePair);
``apply``  cluster and act: golden records are the starting groups (what is linked stays
           linked); auto-match pairs join groups strongest first, and two groups join only when
           every pair of records across them is at least ``cluster_guard`` probable and no pair
           is remembered as never-match (complete linkage: no chaining). Each resulting cluster
           of several golden records is merged into its oldest golden id, so ids that
           integrations hold stay valid and re-runs change nothing; pairs the guard kept apart,
           and pairs in the review band, become match reviews.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Mod
from django.utils import timezone

from golden_records.bulk import bulk_insert
from golden_records.history import ChangeOrigin
from golden_records.models import GOLDEN_MODELS, GoldenStatus, SourceRecord
from golden_records.services.merge import MergeError, merge_golden
from matching.blocking import candidate_pairs
from matching.features import Features
from matching.frequencies import domain_frequencies
from matching.memory import active_never_matches, ordered
from matching.models import (
    DedupePair,
    DedupeRun,
    DedupeShard,
    MatchProfile,
    MatchReview,
    ReviewStatus,
)
from matching.online import features_of, index_source_records
from matching.rule_versions import active_rules
from matching.rules import RuleSet
from matching.scoring import score_pair, score_pairs

logger = logging.getLogger(__name__)

INDEX, SCORE, APPLY = "index", "score", "apply"
SHARDED_PHASES = (INDEX, SCORE)
RECORDS_PER_SHARD = 25_000
CHUNK = 2_000

Progress = Callable[[str, int, int], None]


def start_run(
    domain: str, created_by: str, shards: int | None = None, dry_run: bool = False
) -> DedupeRun:
    rules = active_rules(domain)
    if shards is None:
        count = SourceRecord.objects.filter(domain=domain).count()
        shards = max(1, -(-count // RECORDS_PER_SHARD))
    return DedupeRun.objects.create(
        domain=domain,
        shards=shards,
        rule_version=rules.version,
        dry_run=dry_run,
        created_by=created_by,
    )


def run_inline(run: DedupeRun, progress: Progress | None = None) -> DedupeRun:
    """Every phase and shard in this process, in order (small domains, tests, no workers)."""
    for phase in SHARDED_PHASES:
        for shard in range(run.shards):
            run_shard(run.pk, phase, shard, enqueue=False)
            if progress:
                progress(phase, shard + 1, run.shards)
    apply_run(run.pk)
    if progress:
        progress(APPLY, 1, 1)
    run.refresh_from_db()
    return run


# -- shards ---------------------------------------------------------------------------------------


def run_shard(run_id: int, phase: str, shard: int, enqueue: bool = True) -> bool:
    """Run one shard of a phase; False when it had already run (a redelivered task)."""
    run = DedupeRun.objects.get(pk=run_id)
    if run.status != DedupeRun.Status.RUNNING:
        return False
    if DedupeShard.objects.filter(run=run, phase=phase, shard=shard).exists():
        return False
    rules = active_rules(run.domain)
    with transaction.atomic():
        if phase == INDEX:
            counts = _index_shard(run, rules, shard)
        elif phase == SCORE:
            DedupePair.objects.filter(run=run, shard=shard).delete()
            counts = _score_shard(run, rules, shard)
        else:
            raise ValueError(f"Unknown phase {phase!r}.")
        _, created = DedupeShard.objects.get_or_create(
            run=run, phase=phase, shard=shard, defaults={"counts": counts}
        )
        if not created:
            transaction.set_rollback(True)
            return False
        _advance_if_complete(run.pk, phase, enqueue)
    return True


def _advance_if_complete(run_id: int, phase: str, enqueue: bool) -> None:
    """The shard that finishes a phase moves the run on (and enqueues the next phase)."""
    run = DedupeRun.objects.select_for_update().get(pk=run_id)
    finished = list(
        DedupeShard.objects.filter(run=run, phase=phase).values_list("counts", flat=True)
    )
    if len(finished) < run.shards or run.phase != phase:
        return
    totals: dict[str, int] = defaultdict(int)
    for counts in finished:
        for key, value in counts.items():
            totals[key] += value
    next_phase = SCORE if phase == INDEX else APPLY
    run.phase = next_phase
    run.counts = {**run.counts, **totals}
    run.save(update_fields=["phase", "counts"])
    if enqueue:
        from matching import tasks

        if next_phase == SCORE:
            shards = range(run.shards)
            transaction.on_commit(
                lambda: [tasks.dedupe_shard.delay(run_id, SCORE, s) for s in shards]
            )
        else:
            transaction.on_commit(lambda: tasks.dedupe_apply.delay(run_id))


def _records_of_shard(run: DedupeRun, shard: int):
    return (
        SourceRecord.objects.filter(domain=run.domain)
        .annotate(shard_of=Mod(F("pk"), run.shards))
        .filter(shard_of=shard)
        .order_by("pk")
    )


def _index_shard(run: DedupeRun, rules: RuleSet, shard: int) -> dict[str, int]:
    """Standardise the shard's records again; rewrite the profiles that changed."""
    checked = rewritten = 0
    after = 0
    while True:
        records = list(
            _records_of_shard(run, shard).filter(pk__gt=after).only("pk", "canonical")[:CHUNK]
        )
        if not records:
            break
        after = records[-1].pk
        stored = dict(
            MatchProfile.objects.filter(source_record_id__in=[r.pk for r in records]).values_list(
                "source_record_id", "features"
            )
        )
        changed, features = [], []
        for record in records:
            current = features_of(rules, record.canonical)
            if stored.get(record.pk) != current:
                changed.append(record)
                features.append(current)
        index_source_records(rules, changed, features)
        checked += len(records)
        rewritten += len(changed)
    return {"records": checked, "reindexed": rewritten}


@dataclass
class DomainProfiles:
    record_ids: np.ndarray
    golden_ids: list[Any]
    features: list[Features]

    def position(self) -> dict[int, int]:
        return {int(r): i for i, r in enumerate(self.record_ids.tolist())}


def load_profiles(domain: str) -> DomainProfiles:
    """Every profile of the domain's records linked to an active golden record, by record id."""
    active = set(
        GOLDEN_MODELS[domain]
        .objects.filter(record_status=GoldenStatus.ACTIVE)
        .values_list("pk", flat=True)
    )
    rows = (
        MatchProfile.objects.filter(domain=domain)
        .order_by("source_record_id")
        .values_list("source_record_id", "source_record__golden_id", "features")
    )
    ids, goldens, features = [], [], []
    for record_id, golden_id, feats in rows.iterator(chunk_size=5000):
        if golden_id in active:
            ids.append(record_id)
            goldens.append(golden_id)
            features.append(feats)
    return DomainProfiles(np.asarray(ids, dtype=np.int64), goldens, features)


def _score_shard(run: DedupeRun, rules: RuleSet, shard: int) -> dict[str, int]:
    profiles = load_profiles(run.domain)
    left, right = candidate_pairs(rules, profiles.features)
    golden_codes = _codes(profiles.golden_ids)
    mine = ((left * 1_000_003 + right) % run.shards == shard) & (
        golden_codes[left] != golden_codes[right]
    )
    left, right = left[mine], right[mine]
    probability, _ = score_pairs(
        rules, profiles.features, left, right, frequencies=domain_frequencies(rules)
    )
    keep = probability >= rules.thresholds.review
    ids = profiles.record_ids
    rows = [
        DedupePair(run=run, shard=shard, left=int(ids[a]), right=int(ids[b]), probability=float(p))
        for a, b, p in zip(
            left[keep].tolist(), right[keep].tolist(), probability[keep].tolist(), strict=True
        )
    ]
    bulk_insert(DedupePair, rows)
    return {"pairs_scored": len(left), "pairs_kept": len(rows)}


def _codes(values: list[Any]) -> np.ndarray:
    index: dict[Any, int] = {}
    return np.asarray([index.setdefault(v, len(index)) for v in values], dtype=np.int64)


# -- apply ----------------------------------------------------------------------------------------


def apply_run(run_id: int) -> DedupeRun:
    """Cluster the run's pairs, merge, raise reviews. Safe to run twice: merged golden records
    are no longer separate and reviews already open are not raised again."""
    run = DedupeRun.objects.get(pk=run_id)
    if run.status != DedupeRun.Status.RUNNING:
        return run
    rules = active_rules(run.domain)
    try:
        counts = _apply(run, rules)
    except Exception as exc:
        DedupeRun.objects.filter(pk=run.pk).update(
            status=DedupeRun.Status.FAILED, error=repr(exc)[:2000], finished_at=timezone.now()
        )
        raise
    run.counts = {**run.counts, **counts}
    run.status = DedupeRun.Status.DONE
    run.phase = APPLY
    run.finished_at = timezone.now()
    run.save(update_fields=["counts", "status", "phase", "finished_at"])
    return run


def _apply(run: DedupeRun, rules: RuleSet) -> dict[str, int]:
    pairs = list(DedupePair.objects.filter(run=run).values_list("left", "right", "probability"))
    records = {r for a, b, _ in pairs for r in (a, b)}
    golden_of = dict(
        SourceRecord.objects.filter(
            domain=run.domain, golden_id__in=_active_goldens(run, records)
        ).values_list("pk", "golden_id")
    )
    members: dict[Any, list[int]] = defaultdict(list)
    for record_id, golden_id in SourceRecord.objects.filter(
        domain=run.domain, golden_id__in=set(golden_of.values())
    ).values_list("pk", "golden_id"):
        members[golden_id].append(record_id)
        golden_of[record_id] = golden_id
    features = dict(
        MatchProfile.objects.filter(
            source_record_id__in={r for ids in members.values() for r in ids}
        ).values_list("source_record_id", "features")
    )
    never = active_never_matches(set(golden_of), run.domain)
    known = {ordered(a, b): p for a, b, p in pairs}

    def probability(a: int, b: int) -> float:
        key = ordered(a, b)
        if key in never:
            return 0.0
        if key not in known:
            fa, fb = features.get(a), features.get(b)
            known[key] = (
                0.0
                if fa is None or fb is None
                else score_pair(rules, fa, fb, domain_frequencies(rules)).probability
            )
        return known[key]

    auto = rules.thresholds.auto_match
    links = sorted(
        (
            (p, a, b)
            for a, b, p in pairs
            if p >= auto and a in golden_of and b in golden_of and ordered(a, b) not in never
        ),
        key=lambda link: (-link[0], link[1], link[2]),
    )
    group_of = {g: g for g in members}
    grouped: dict[Any, list[Any]] = {g: [g] for g in members}
    held: list[tuple[int, int, float]] = []
    for p, a, b in links:
        ga, gb = group_of[golden_of[a]], group_of[golden_of[b]]
        if ga == gb:
            continue
        left = [r for g in grouped[ga] for r in members[g]]
        right = [r for g in grouped[gb] for r in members[g]]
        if all(probability(x, y) >= rules.thresholds.cluster_guard for x in left for y in right):
            keep, drop = (ga, gb) if _age(ga) <= _age(gb) else (gb, ga)
            for g in grouped[drop]:
                group_of[g] = keep
            grouped[keep].extend(grouped.pop(drop))
        else:
            held.append((a, b, p))

    merged = skipped = 0
    origin = ChangeOrigin.task(f"dedupe run {run.pk}", reason="batch re-match")
    clusters = [sorted(gs, key=_age) for gs in grouped.values() if len(gs) > 1]
    for goldens in clusters:
        if run.dry_run:
            merged += len(goldens) - 1
            continue
        try:
            merge_golden(run.domain, goldens[0], goldens[1:], origin)
            merged += len(goldens) - 1
        except MergeError as exc:
            # Changed since the pairs were scored (merged or retired meanwhile): the next run
            # sees the new state.
            logger.warning("dedupe run %s: cluster %s not merged: %s", run.pk, goldens, exc)
            skipped += 1

    review_band = [
        (a, b, p)
        for a, b, p in pairs
        if p < auto and a in golden_of and b in golden_of and ordered(a, b) not in never
    ]
    raised = _raise_reviews(run, rules, [*held, *review_band], group_of, golden_of, features)
    return {
        "auto_links": len(links),
        "clusters_merged": len(clusters),
        "golden_records_merged": merged,
        "clusters_skipped": skipped,
        "held_apart": len(held),
        "reviews_raised": raised,
    }


def _active_goldens(run: DedupeRun, record_ids: set[int]) -> set[Any]:
    goldens = set(
        SourceRecord.objects.filter(pk__in=record_ids).values_list("golden_id", flat=True)
    )
    return set(
        GOLDEN_MODELS[run.domain]
        .objects.filter(pk__in=goldens, record_status=GoldenStatus.ACTIVE)
        .values_list("pk", flat=True)
    )


def _age(golden_id: Any) -> int:
    """Golden ids are UUIDv7, ordered by creation time (to the millisecond, then at random)."""
    return golden_id.int


def _raise_reviews(
    run: DedupeRun,
    rules: RuleSet,
    pairs: list[tuple[int, int, float]],
    group_of: dict[Any, Any],
    golden_of: dict[int, Any],
    features: dict[int, Features],
) -> int:
    """One review per pair whose records end up in different clusters, best pair per two
    golden records, unless one is open already."""
    best: dict[tuple[Any, Any], tuple[int, int, float]] = {}
    for a, b, p in pairs:
        ga, gb = group_of[golden_of[a]], group_of[golden_of[b]]
        if ga == gb:
            continue
        key = (ga, gb) if str(ga) < str(gb) else (gb, ga)
        if key not in best or p > best[key][2]:
            best[key] = (a, b, p)
    if run.dry_run or not best:
        return len(best)
    open_pairs = set(
        MatchReview.objects.filter(domain=run.domain, status=ReviewStatus.OPEN).values_list(
            "source_record_id", "candidate_record_id"
        )
    )
    now = timezone.now()
    rows = []
    for a, b, p in best.values():
        # The newer golden record is the one under review, the older one the candidate.
        mine, theirs = (
            (a, b) if _age(group_of[golden_of[a]]) > _age(group_of[golden_of[b]]) else (b, a)
        )
        if (mine, theirs) in open_pairs or (theirs, mine) in open_pairs:
            continue
        rows.append(
            MatchReview(
                domain=run.domain,
                source_record_id=mine,
                candidate_record_id=theirs,
                candidate_golden_id=group_of[golden_of[theirs]],
                probability=p,
                explanation=score_pair(
                    rules, features[mine], features[theirs], domain_frequencies(rules)
                ).as_dict(),
                rule_version=rules.version,
                raised_by=f"dedupe run {run.pk}",
                created_at=now,
            )
        )
    bulk_insert(MatchReview, rows)
    return len(rows)
