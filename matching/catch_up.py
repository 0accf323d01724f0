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
from golden_records.models import SourceRecord
from golden_records.services.locks import lock_entities
from golden_records.services.merge import (
    MergeError,
    identifier_conflicts,
    merge_golden,
    resolve_golden_id,
)
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


def run_request(request_id: int) -> dict[str, int] | None:
    """Run one pending request; None when it is done already (a second delivery, or the
    sweep and the fast path both got it). Safe to run twice, and after a run that died."""
    with transaction.atomic():
        # Committed before the work: a run killed half-way still counts as an attempt.
        started = CatchUpRequest.objects.filter(pk=request_id, done_at=None).update(
            attempts=F("attempts") + 1, started_at=timezone.now()
        )
    if not started:
        return None
    with transaction.atomic():
        domain = CatchUpRequest.objects.values_list("domain", flat=True).get(pk=request_id)
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
    """Run the requests pending for longer than ``grace_seconds`` (their message was lost, or
    the worker running them died), oldest first, and forget done ones after
    ``RETENTION_DAYS``. Returns how many it ran."""
    now = timezone.now()
    due = list(
        CatchUpRequest.objects.filter(
            done_at=None, created_at__lte=now - dt.timedelta(seconds=grace_seconds)
        )
        .order_by("created_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    ran = 0
    for request_id in due:
        try:
            if run_request(request_id) is not None:
                ran += 1
        except Exception as exc:  # one failing request must not hold up the others
            logger.exception("catch-up request %s failed", request_id)
            CatchUpRequest.objects.filter(pk=request_id).update(error=repr(exc)[:2000])
    CatchUpRequest.objects.filter(done_at__lt=now - dt.timedelta(days=RETENTION_DAYS)).delete()
    return ran


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
    if connection.vendor != "postgresql":
        return
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL deadlock_timeout = '100ms'")
    except DatabaseError:
        logger.debug("catch-up: deadlock_timeout not settable here; the default applies")


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
        by_key = candidate_rows(fuzzy, limit, sorted(identifiers))
        # The candidates online matching would take now, had it seen everything: those sharing
        # the most usable keys. Of them, the unseen ones are what running one batch after the
        # other would have scored.
        batch = self.written | set(record_ids)
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
        names = _names({*strong, *(o for gs in strong.values() for _, o in gs.values())})
        for record, goldens in strong.items():
            if not self._merge_all(record, mine[record][0], goldens, names):
                band[record].extend((p, other, g) for g, (p, other) in goldens.items())
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

    def _merge_all(
        self,
        record: int,
        golden: uuid.UUID,
        goldens: dict[uuid.UUID, tuple[float, int]],
        names: dict[int, str],
    ) -> bool:
        """Merge every golden record ``record`` strongly matches with its own, into the oldest;
        False when they are left to a steward instead. Earlier merges of this run may have
        retired any of them: it acts on what they are now."""
        domain = self.domain
        own = resolve_golden_id(domain, golden)
        current: dict[uuid.UUID, tuple[float, int]] = {}
        for other_golden, (p, other) in goldens.items():
            now = resolve_golden_id(domain, other_golden)
            if now != own and (now not in current or p > current[now][0]):
                current[now] = (p, other)
        if not current:
            return True  # one golden record already
        matched = [other for _, other in current.values()]
        if len(matched) > 1:
            # The records matched must match each other too, as they would have linked had
            # their batches run one after the other; a record that bridges two look-alikes
            # is a steward's decision.
            cross = [(a, b) for i, a in enumerate(matched) for b in matched[i + 1 :]]
            if min(self._score(cross)) < self.rules.thresholds.auto_match:
                return False
        group = sorted({own, *current}, key=lambda g: g.int)  # UUIDv7: oldest first
        if identifier_conflicts(domain, group):
            return False
        survivor, merged = group[0], group[1:]
        why = "; ".join(
            f"{names.get(record, record)} ~ {names.get(other, other)} p={p:.4f}"
            for p, other in sorted(current.values(), reverse=True)
        )
        request = f" (catch-up request {self.request_id})" if self.request_id else ""
        origin = ChangeOrigin.task(
            RAISED_BY,
            reason=f"concurrent batches made {len(group)} golden records of one entity: "
            f"{why}{request}",
        )
        try:
            merge_golden(domain, survivor, merged, origin)
        except MergeError as exc:  # changed meanwhile (retired by a steward): left to a review
            logger.info("catch-up: %s not merged into %s: %s", merged, survivor, exc)
            return False
        self.counts["merged"] += len(merged)
        self.merges.append(
            {
                "survivor": str(survivor),
                "merged": [str(g) for g in merged],
                "record": record,
                "pairs": [{"record": o, "probability": round(p, 6)} for p, o in current.values()],
            }
        )
        return True


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
