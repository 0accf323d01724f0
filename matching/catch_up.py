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

A record that strongly matches several golden records (three systems sent one entity at once:
three golden records) merges them all into the oldest, when the records it matched also match
each other at auto-match (as they would have linked one batch after the other) and no
exclusive identifier differs; otherwise a steward reviews them. Each merge's history names the
pairs and probabilities that made it, and the request's ``result`` lists its merges.

The work is driven from the database (``CatchUpRequest``, written in the batch's transaction):
the task sent on commit is the fast path, ``sweep`` runs whatever a lost message or a killed
worker left pending, and a request is marked done in the transaction that does its work.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np
from django.db import DatabaseError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from golden_records.bulk import bulk_insert
from golden_records.history import ChangeOrigin
from golden_records.lookups import array_literal
from golden_records.models import GOLDEN_MODELS, GoldenStatus, SourceRecord
from golden_records.services.locks import lock_entities
from golden_records.services.merge import MergeGroup, exclusive_identifiers, merge_groups
from matching.frequencies import domain_frequencies
from matching.memory import active_never_matches, ordered
from matching.models import CatchUpRequest, MatchDecision, MatchReview
from matching.online import (
    MAX_REVIEWS,
    Snapshot,
    _active_goldens,
    _profiles,
    block_limit,
    candidate_rows,
    record_identifier_keys,
    record_keys,
    scored_features,
    top_candidates,
)
from matching.rule_versions import rules_if_any
from matching.rules import RuleSet
from matching.scoring import score_pair, score_pairs

logger = logging.getLogger(__name__)

RAISED_BY = "catch-up match"
RETENTION_DAYS = 7
"""Done requests are kept this long (their ``result`` lists the merges they made)."""


def request_catch_up(
    domain: str,
    record_ids: Sequence[int],
    snapshot: Snapshot,
    written: Sequence[int] = (),
    splits: Sequence[tuple[int, int]] = (),
) -> CatchUpRequest:
    """Inside a batch's transaction: note its new records for a catch-up after commit, and
    send the task that runs it once the transaction commits (the fast path; ``sweep`` is the
    safety net)."""
    request = CatchUpRequest.objects.create(
        domain=domain,
        record_ids=list(record_ids),
        written=list(written),
        splits=[list(pair) for pair in splits],
        snapshot_xmin=snapshot.xmin,
        snapshot_own=snapshot.own,
        created_at=timezone.now(),
    )
    transaction.on_commit(lambda: _enqueue(request.pk))
    return request


def _enqueue(request_id: int) -> None:
    from matching.tasks import catch_up as task  # the task module imports this one

    try:
        task.delay(request_id)
    except Exception:  # the broker is down: the sweep runs the request
        logger.warning("Could not enqueue catch-up request %s; the sweep will run it", request_id)


MAX_ATTEMPTS = 10
"""A request that failed this often is left to an operator (its error is in the admin), not run
again by the sweep."""


def run_request(request_id: int) -> dict[str, int] | None:
    """Run one pending request; None when it is done already or another run has it now (a
    second delivery, or the sweep and the fast path both got it). Safe to run twice, and after
    a run that died."""
    with transaction.atomic():
        claimed = (
            CatchUpRequest.objects.select_for_update(skip_locked=True)
            .filter(pk=request_id, done_at=None)
            .values_list("domain", flat=True)
            .first()
        )
        if claimed is None:
            return None
        # Committed before the work: a run killed half-way still counts as an attempt.
        CatchUpRequest.objects.filter(pk=request_id).update(
            attempts=F("attempts") + 1, started_at=timezone.now()
        )
    try:
        return _run(request_id, claimed)
    except Exception as exc:
        CatchUpRequest.objects.filter(pk=request_id).update(error=repr(exc)[:2000])
        raise


def _run(request_id: int, domain: str) -> dict[str, int] | None:
    with transaction.atomic():
        # One catch-up per domain at a time: two catch-ups that find the same pair do not both
        # merge it or both raise its review.
        lock_entities([f"catch-up:{domain}"])
        request = CatchUpRequest.objects.select_for_update().get(pk=request_id)
        if request.done_at is not None:
            return None
        snapshot = (
            Snapshot(request.snapshot_xmin, request.snapshot_own)
            if request.snapshot_xmin is not None
            else None
        )
        merges: list[dict[str, Any]] = []
        counts = catch_up(
            domain,
            request.record_ids,
            snapshot,
            request.written,
            merges,
            request_id,
            [tuple(pair) for pair in request.splits],
        )
        request.done_at = timezone.now()
        request.result = {**counts, "merges": merges}
        request.error = ""
        request.save(update_fields=["done_at", "result", "error"])
    return counts


def sweep(grace_seconds: float = 10.0, limit: int = 100) -> int:
    """Run the requests pending for longer than ``grace_seconds`` and not started within it
    (their message was lost, their worker died, or their last run failed), oldest first, each
    at most ``MAX_ATTEMPTS`` times. Returns how many it ran."""
    since = timezone.now() - dt.timedelta(seconds=grace_seconds)
    due = list(
        CatchUpRequest.objects.filter(
            done_at=None, attempts__lt=MAX_ATTEMPTS, created_at__lte=since
        )
        .filter(Q(started_at=None) | Q(started_at__lte=since))
        .order_by("created_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    ran = 0
    for request_id in due:
        try:
            if run_request(request_id) is not None:
                ran += 1
        except Exception:  # recorded on the request; one failing must not hold up the others
            logger.exception("catch-up request %s failed", request_id)
    return ran


def purge_done(days: int = RETENTION_DAYS) -> int:
    """Forget done requests after ``days``; returns how many."""
    cutoff = timezone.now() - dt.timedelta(days=days)
    deleted, _ = CatchUpRequest.objects.filter(done_at__lt=cutoff).delete()
    return deleted


def catch_up(
    domain: str,
    record_ids: Sequence[int],
    snapshot: Snapshot | None,
    written: Sequence[int] = (),
    merges: list[dict[str, Any]] | None = None,
    request_id: int | None = None,
    splits: Sequence[tuple[int, int]] = (),
) -> dict[str, int]:
    """Match the source records ``record_ids`` (a batch's new records) against the candidates
    its read (``snapshot``) did not see; ``None``: against every candidate. ``written``: the
    batch's other records (its updates), never candidates: inside a savepoint (an idempotent
    request) its own rows carry ids the snapshot cannot tell from another transaction's.
    ``merges`` receives each merge made, with the pairs behind it. ``splits``: (record,
    other record) pairs the batch saw as strong across two golden records; they are scored
    again whether or not the read saw them."""
    rules = rules_if_any(domain)
    if rules is None or not record_ids:
        return {"pairs": 0, "merged": 0, "reviews": 0}
    with transaction.atomic():
        lock_entities([f"catch-up:{domain}"])
        _prefer_to_be_the_deadlock_victim()
        run = _Run(rules, snapshot, set(written), request_id)
        run.match(record_ids, splits)
        if merges is not None:
            merges.extend(run.merges)
        return run.counts


def _prefer_to_be_the_deadlock_victim() -> None:
    """Its merges lock golden records before source records, ingest the other way round. Of
    two transactions in a deadlock PostgreSQL cancels the one whose wait reaches
    ``deadlock_timeout`` first: a short one here makes that the catch-up, which runs again
    (Celery retry, or the sweep), not the batch an integration is waiting for. Setting it needs
    the SET privilege on the parameter; without it the default stays."""
    global _deadlock_timeout_settable
    if connection.vendor != "postgresql" or not _deadlock_timeout_settable:
        return
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL deadlock_timeout = '100ms'")
    except DatabaseError:
        _deadlock_timeout_settable = False  # not tried again by this process
        logger.info("catch-up: deadlock_timeout cannot be set by this role; the default applies")


_deadlock_timeout_settable = True


class _Run:
    """One catch-up: score the unseen pairs, then merge or raise reviews."""

    def __init__(
        self, rules: RuleSet, snapshot: Snapshot | None, written: set[int], request_id: int | None
    ):
        self.rules = rules
        self.domain = rules.domain
        self.snapshot = snapshot
        self.written = written
        self.request_id = request_id
        self.counts = {"pairs": 0, "merged": 0, "reviews": 0}
        self.merges: list[dict[str, Any]] = []
        self.pool: list[Any] = []
        self.position: dict[int, int] = {}

    def match(self, record_ids: Sequence[int], splits: Sequence[tuple[int, int]] = ()) -> None:
        rules, domain = self.rules, self.domain
        found: dict[int, set[int]] = defaultdict(set)
        for record, other in splits:
            found[record].add(other)
        mine = _profiles(set(record_ids) | set(found))
        active = _active_goldens({golden for golden, _ in mine.values()}, domain)
        mine = {r: v for r, v in mine.items() if v[0] in active}
        if not mine:
            return
        keys = {r: record_keys(rules, features) for r, (_, features) in mine.items()}
        identifiers = {
            k for _, features in mine.values() for k in record_identifier_keys(rules, features)
        }
        limit = block_limit(rules)
        fuzzy = sorted({k for ks in keys.values() for k in ks} - identifiers)
        batch = self.written | set(record_ids)
        by_key = candidate_rows(fuzzy, limit, sorted(identifiers), batch)
        # The candidates online matching would take now, had it seen everything: those sharing
        # the most usable keys. Of them, the unseen ones are what running one batch after the
        # other would have scored.
        others = {
            r: set(top_candidates(ks, by_key, limit, batch, identifiers)) for r, ks in keys.items()
        }
        recent = _unseen({o for os in others.values() for o in os}, self.snapshot)
        for record, split in found.items():
            others.setdefault(record, set()).update(split)
            recent |= split
        if not recent:
            return
        weighed = _weighed(mine)
        reviewed = _reviewed(set(mine) | set(recent))
        never = active_never_matches(set(mine) | set(recent))
        theirs = _profiles(set(recent), scored_features(rules))
        pairs = [
            (record, other)
            for record, (golden, _) in mine.items()
            for other in sorted(others[record] & theirs.keys())
            if theirs[other][0] != golden
            and ordered(record, other) not in reviewed
            and ordered(record, other) not in never
        ]
        if not pairs:
            return
        # All pairs in one vectorised scoring, as online matching scores its candidates.
        self.pool = [features for _, features in mine.values()]
        self.position = {record: i for i, record in enumerate(mine)}
        for other in theirs:
            self.position[other] = len(self.pool)
            self.pool.append(theirs[other][1])
        auto, review = rules.thresholds.auto_match, rules.thresholds.review
        strong: dict[int, dict[uuid.UUID, tuple[float, int]]] = defaultdict(dict)
        band: dict[int, list[tuple[float, int, uuid.UUID]]] = defaultdict(list)
        for (record, other), p in zip(pairs, self._score(pairs), strict=True):
            other_golden = theirs[other][0]
            if other not in found[record] and p <= weighed[record].get(other_golden, -1.0) + 1e-6:
                continue  # the online decision scored this golden record at least as high
            self.counts["pairs"] += 1
            if p >= auto:
                best = strong[record].get(other_golden)
                if best is None or p > best[0]:
                    strong[record][other_golden] = (p, other)
            elif p >= review:
                band[record].append((p, other, other_golden))
        for record in self._merge_splits(strong, {r: g for r, (g, _) in mine.items()}):
            band[record].extend((p, other, g) for g, (p, other) in strong[record].items())
        self.counts["reviews"] = _raise_reviews(rules, band)

    def _score(self, pairs: Sequence[tuple[int, int]]) -> list[float]:
        probabilities, _ = score_pairs(
            self.rules,
            self.pool,
            np.asarray([self.position[r] for r, _ in pairs], dtype=np.int64),
            np.asarray([self.position[o] for _, o in pairs], dtype=np.int64),
            domain_frequencies(self.rules),
        )
        return probabilities.tolist()

    def _merge_splits(
        self,
        strong: dict[int, dict[uuid.UUID, tuple[float, int]]],
        golden_of: dict[int, uuid.UUID],
    ) -> list[int]:
        """Merge, in one ``merge_groups`` call, every golden record a record strongly matches
        with its own: golden records linked through such records form one group, merged into
        its oldest. A record is left to a steward (returned) when the records it matched do
        not match each other at auto-match (they would not have linked had their batches run
        one after the other), or when its group's golden records differ in an exclusive
        identifier."""
        domain = self.domain
        current = _resolve(
            domain, {*golden_of.values(), *(g for gs in strong.values() for g in gs)}
        )
        parent: dict[uuid.UUID, uuid.UUID] = {}

        def root(golden: uuid.UUID) -> uuid.UUID:
            while parent.get(golden, golden) != golden:
                golden = parent[golden]
            return golden

        joined: dict[int, tuple[uuid.UUID, dict[uuid.UUID, tuple[float, int]]]] = {}
        refused: list[int] = []
        for record, goldens in strong.items():
            own = current[golden_of[record]]
            if own is None:
                continue  # retired meanwhile: nothing to merge into
            found: dict[uuid.UUID, tuple[float, int]] = {}
            for golden, (p, other) in goldens.items():
                now = current[golden]
                if now is not None and now != own and (now not in found or p > found[now][0]):
                    found[now] = (p, other)
            if not found:
                continue  # one golden record already
            matched = [other for _, other in found.values()]
            cross = [(a, b) for i, a in enumerate(matched) for b in matched[i + 1 :]]
            if cross and min(self._score(cross)) < self.rules.thresholds.auto_match:
                refused.append(record)
                continue
            joined[record] = (own, found)
            for golden in found:
                a, b = root(own), root(golden)
                if a != b:
                    parent[max(a, b, key=lambda g: g.int)] = min(a, b, key=lambda g: g.int)
        members: dict[uuid.UUID, set[uuid.UUID]] = defaultdict(set)
        for own, found in joined.values():
            for golden in (own, *found):
                members[root(golden)].add(golden)
        conflicting = _conflicting(domain, members)
        why: dict[uuid.UUID, list[str]] = defaultdict(list)
        pairs: dict[uuid.UUID, list[dict[str, Any]]] = defaultdict(list)
        names = _names({*joined, *(o for _, f in joined.values() for _, o in f.values())})
        for record, (own, found) in joined.items():
            group = root(own)
            if group in conflicting:
                refused.append(record)
                continue
            for p, other in sorted(found.values(), reverse=True):
                why[group].append(
                    f"{names.get(record, record)} ~ {names.get(other, other)} p={p:.4f}"
                )
                pairs[group].append({"record": record, "other": other, "probability": round(p, 6)})
        request = f" (catch-up request {self.request_id})" if self.request_id else ""
        groups = [
            MergeGroup(
                survivor,
                tuple(sorted(members[survivor] - {survivor}, key=lambda g: g.int)),
                f"concurrent batches made {len(members[survivor])} golden records of one "
                f"entity: {'; '.join(why[survivor][:10])}{request}",
            )
            for survivor in sorted(members, key=lambda g: g.int)
            if survivor not in conflicting
        ]
        if groups:
            merge_groups(domain, groups, ChangeOrigin.task(RAISED_BY))
        for group in groups:
            self.counts["merged"] += len(group.merged_ids)
            self.merges.append(
                {
                    "survivor": str(group.survivor_id),
                    "merged": [str(g) for g in group.merged_ids],
                    "pairs": pairs[group.survivor_id],
                }
            )
        return refused


def _resolve(domain: str, golden_ids: set[uuid.UUID]) -> dict[uuid.UUID, uuid.UUID | None]:
    """The active golden record each id stands for today (merged ids resolve forward; merged
    ids always point at an active survivor); None for one retired meanwhile."""
    model = GOLDEN_MODELS[domain]
    rows = model.objects.filter(pk__in=list(golden_ids)).values_list(
        "pk", "record_status", "merged_into"
    )
    found: dict[uuid.UUID, uuid.UUID | None] = dict.fromkeys(golden_ids)
    for pk, status, merged_into in rows:
        if status == GoldenStatus.ACTIVE:
            found[pk] = pk
        elif status == GoldenStatus.MERGED and merged_into:
            found[pk] = merged_into
    return found


def _conflicting(domain: str, groups: dict[uuid.UUID, set[uuid.UUID]]) -> set[uuid.UUID]:
    """The groups whose golden records differ in an exclusive identifier (one query)."""
    values = exclusive_identifiers(domain, {g for members in groups.values() for g in members})
    conflicting = set()
    for group, members in groups.items():
        for name in {n for g in members for n in values.get(g, {})}:
            if len({values[g][name] for g in members if name in values.get(g, {})}) > 1:
                conflicting.add(group)
    return conflicting


def _names(record_ids: set[int]) -> dict[int, str]:
    """``system:source_id`` of each record, for the merges' audit trail."""
    rows = SourceRecord.objects.filter(pk__in=record_ids).values_list(
        "pk", "system__code", "source_id"
    )
    return {pk: f"{system}:{source_id}" for pk, system, source_id in rows}


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
