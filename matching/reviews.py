"""Resolving match reviews: the steward's "same entity" or "not the same".

``merge`` merges the reviewed record's golden record into the candidate's (the older golden id
survives, so ids that integrations already hold keep working and the other one resolves to
it). ``reject`` remembers "never match" for every pair of source records across the two golden
records, so neither online matching nor a dedupe run proposes them again until a compared
attribute changes. Both close the other open reviews between the same two golden records.
"""

from __future__ import annotations

import datetime
import uuid

from django.db import transaction
from django.utils import timezone

from golden_records.history import ChangeOrigin
from golden_records.models import SourceRecord
from golden_records.services.merge import merge_golden
from matching.memory import remember_never_match
from matching.models import MatchReview, ReviewStatus

MERGE = "merge"
REJECT = "reject"


class ReviewError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def resolve_review(
    review_id: int, decision: str, origin: ChangeOrigin, note: str = ""
) -> MatchReview:
    if decision not in (MERGE, REJECT):
        raise ReviewError("invalid_decision", "Decide 'merge' or 'reject'.")
    with transaction.atomic():
        review = MatchReview.objects.select_for_update().filter(pk=review_id).first()
        if review is None:
            raise ReviewError("review_not_found", f"No match review {review_id}.")
        if review.status != ReviewStatus.OPEN:
            raise ReviewError(
                "review_not_open", f"Match review {review_id} is already {review.status}."
            )
        domain = review.domain
        mine = SourceRecord.objects.get(pk=review.source_record_id).golden_id
        theirs = SourceRecord.objects.get(pk=review.candidate_record_id).golden_id
        if decision == MERGE:
            if mine != theirs:
                survivor, merged = sorted([mine, theirs], key=_age)
                merge_golden(
                    domain, survivor, [merged], origin.with_reason(f"match review {review.pk}")
                )
            status = ReviewStatus.MERGED
        else:
            left = SourceRecord.objects.filter(domain=domain, golden_id=mine)
            right = SourceRecord.objects.filter(domain=domain, golden_id=theirs)
            if mine == theirs:
                raise ReviewError(
                    "already_merged",
                    "The two records are linked to the same golden record now: unmerge first.",
                )
            pairs = [
                (a, b)
                for a in left.values_list("pk", flat=True)
                for b in right.values_list("pk", flat=True)
            ]
            remember_never_match(
                domain, pairs, f"{origin.actor_type}:{origin.actor}", f"match review {review.pk}"
            )
            status = ReviewStatus.REJECTED
        now = timezone.now()
        actor = f"{origin.actor_type}:{origin.actor}"
        MatchReview.objects.filter(pk=review.pk).update(
            status=status, decided_by=actor, decided_at=now, note=note[:500]
        )
        _close_related(review, {mine, theirs}, actor, now)
        review.refresh_from_db()
        return review


def _age(golden_id: uuid.UUID) -> int:
    """Golden ids are UUIDv7, ordered by creation time (to the millisecond, then at random)."""
    return golden_id.int


def _close_related(
    review: MatchReview, golden_ids: set[uuid.UUID], actor: str, now: datetime.datetime
) -> None:
    """Other open reviews between the same two golden records are answered by this one."""
    records = SourceRecord.objects.filter(domain=review.domain, golden_id__in=golden_ids)
    ids = list(records.values_list("pk", flat=True))
    related = MatchReview.objects.filter(
        status=ReviewStatus.OPEN, source_record_id__in=ids, candidate_record_id__in=ids
    ).exclude(pk=review.pk)
    related.update(
        status=ReviewStatus.OBSOLETE,
        decided_by=actor,
        decided_at=now,
        note=f"Answered by match review {review.pk}.",
    )
