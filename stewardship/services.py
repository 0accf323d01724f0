"""Every steward action on a match review, each in one transaction with its audit row.

``decide_review`` answers a review through ``matching.reviews.resolve_review`` (merge, or never
match on reject); on a merge, the values the steward chose instead of survivorship's become
steward overrides (``set_overrides``: one version for all) in the same transaction.
``defer_review``, ``assign_review`` and ``comment_review`` keep the steward's own bookkeeping.
After an unmerge split a merged review's records apart, ``unmerge_of`` finds that unmerge and
``merge_overrides`` the values chosen in the merge that are still in force (an unmerge leaves a
record's overrides where they are); ``clear_merge_overrides`` clears them (``clear_override``).
Each writes a ``StewardDecision`` naming who, when, what, before and after.

The steward UI (stewardship/views.py) and the REST API (stewardship/api/views.py,
``POST /api/v1/match-reviews/{id}/decision``) decide through the same ``decide_review``: the same
effects and the same audit row, its ``channel`` saying which (``ui`` or ``api``).

Two stewards deciding the same review: the review row is locked first; the second finds it
decided and gets ``AlreadyDecided`` naming who decided it and when. Nothing is applied twice.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Q

from golden_records.attributes import Reference
from golden_records.domains import get_domain
from golden_records.history import ChangeOrigin
from golden_records.models import (
    GOLDEN_MODELS,
    AttributeOverride,
    Channel,
    GoldenStatus,
    SourceRecord,
)
from golden_records.services import MergeError, clear_override, resolve_golden_id, set_overrides
from golden_records.values import golden_attributes
from matching.models import MatchReview, NeverMatch, ReviewStatus
from matching.reviews import MERGE, REJECT, ReviewError, resolve_review
from stewardship.models import ReviewComment, ReviewTask, StewardDecision

Action = StewardDecision.Action

MERGE_REASON = "chosen when merging match review {}"
"""The reason of the overrides a merge sets (``decide_review``): it names the review, so the
overrides a merge chose are found again (``merge_overrides``, the unmerge confirmation)."""
MERGE_REASON_PATTERN = re.compile(r"^chosen when merging match review (\d+)$")


def merge_review_of(reason: str) -> int | None:
    """The match review whose merge set an override with this reason, if one did."""
    found = MERGE_REASON_PATTERN.match(reason or "")
    return int(found.group(1)) if found else None


class StewardshipError(Exception):
    """An action that cannot be taken; ``code`` is stable."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


class AlreadyDecided(StewardshipError):
    """Someone decided the review first."""

    def __init__(self, review: MatchReview):
        who = review.decided_by.split(":", 1)[-1] or "someone"
        super().__init__(
            "review_not_open",
            f"Review {review.pk} was already {review.get_status_display().lower()} by {who}.",
        )
        self.review = review
        self.decided_by = who
        self.decided_at = review.decided_at


def _lock_open(review_id: int) -> MatchReview:
    review = MatchReview.objects.select_for_update().filter(pk=review_id).first()
    if review is None:
        raise StewardshipError("review_not_found", f"No match review {review_id}.")
    if review.status != ReviewStatus.OPEN:
        raise AlreadyDecided(review)
    return review


def _audit(
    review: MatchReview,
    action: str,
    user: Any,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    note: str = "",
    bulk: bool = False,
    golden_ids: tuple[uuid.UUID | None, uuid.UUID | None] = (None, None),
    channel: str = Channel.UI,
) -> StewardDecision:
    """``golden_ids``: the golden record decided on and the other one (the merged-away record,
    or the candidate's record of a rejected pair), so the decision shows on both records."""
    golden_id, related_golden_id = golden_ids
    return StewardDecision.objects.create(
        review=review,
        domain=review.domain,
        golden_id=golden_id,
        related_golden_id=related_golden_id if related_golden_id != golden_id else None,
        action=action,
        actor=user,
        actor_name=user.get_username(),
        channel=channel,
        bulk=bulk,
        note=note[:500],
        before=dict(before),
        after=dict(after),
    )


def _golden_ids(review: MatchReview) -> tuple[uuid.UUID, uuid.UUID]:
    rows = dict(
        SourceRecord.objects.filter(
            pk__in=[review.source_record_id, review.candidate_record_id]
        ).values_list("pk", "golden_id")
    )
    return rows[review.source_record_id], rows[review.candidate_record_id]


def decide_review(
    review_id: int,
    decision: str,
    user: Any,
    note: str = "",
    keep: Mapping[str, Any] | None = None,
    bulk: bool = False,
    channel: str = Channel.UI,
) -> StewardDecision:
    """Merge or reject one open review; ``keep`` (merge only) maps attributes to the canonical
    value the steward chose for the survivor; ``channel``: where the steward decided (``ui``,
    ``api``), in the audit row and the golden records' history. Returns the audit row."""
    if decision not in (MERGE, REJECT):
        raise StewardshipError("invalid_decision", "Decide 'merge' or 'reject'.")
    with transaction.atomic():
        review = _lock_open(review_id)
        spec = get_domain(review.domain)
        model = GOLDEN_MODELS[review.domain]
        mine, theirs = _golden_ids(review)
        before = {
            "status": review.status,
            "golden": {
                str(obj.pk): {"version": obj.version, "attributes": golden_attributes(obj)}
                for obj in model.objects.filter(pk__in=[mine, theirs])
            },
        }
        origin = ChangeOrigin.steward(user, channel)
        try:
            resolved = resolve_review(review_id, decision, origin, note)
        except ReviewError as exc:
            raise StewardshipError(exc.code, exc.message) from exc
        except MergeError as exc:
            raise StewardshipError(exc.code, str(exc)) from exc
        if decision == MERGE:
            survivor = resolve_golden_id(review.domain, mine)
            golden_ids = (survivor, theirs if survivor == mine else mine)
            current = golden_attributes(model.objects.get(pk=survivor))
            overrides: dict[str, Any] = {}
            for name, value in (keep or {}).items():
                attribute = spec.attributes_by_name.get(name)
                if attribute is None or isinstance(attribute, Reference):
                    raise StewardshipError("invalid_attribute", f"No attribute {name!r} to keep.")
                if value != current.get(name):
                    overrides[name] = value
            if overrides:
                # One new version for all the chosen values: one event for each subscriber.
                set_overrides(
                    review.domain,
                    survivor,
                    overrides,
                    user,
                    reason=MERGE_REASON.format(review.pk),
                    channel=channel,
                )
            obj = model.objects.get(pk=survivor)
            after = {
                "status": resolved.status,
                "survivor": str(survivor),
                "merged": [str(g) for g in {mine, theirs} - {survivor}],
                "version": obj.version,
                "attributes": golden_attributes(obj),
                "overrides": overrides,
            }
        else:
            remembered = NeverMatch.objects.filter(reason=f"match review {review.pk}").count()
            after = {"status": resolved.status, "never_match_pairs": remembered}
            golden_ids = (mine, theirs)
        return _audit(review, decision, user, before, after, note, bulk, golden_ids, channel)


@dataclass(frozen=True)
class BulkOutcome:
    review_id: int
    ok: bool
    message: str


def decide_many(
    review_ids: Iterable[int], decision: str, user: Any, note: str = ""
) -> list[BulkOutcome]:
    """``decide_review`` for each review, each in its own transaction: one that someone else
    decided meanwhile is reported, not applied again, and does not stop the others."""
    return each_apart(review_ids, lambda pk: decide_review(pk, decision, user, note, bulk=True))


def each_apart(ids: Iterable[int], act: Callable[[int], Any]) -> list[BulkOutcome]:
    """A bulk action: ``act`` for each id once, in the order given, each in the transaction the
    act opens; one refused (a ``StewardshipError``: decided meanwhile, say) is reported, not
    applied, and does not stop the others."""
    outcomes = []
    for pk in dict.fromkeys(ids):
        try:
            act(pk)
        except StewardshipError as exc:
            outcomes.append(BulkOutcome(pk, False, exc.message))
        else:
            outcomes.append(BulkOutcome(pk, True, ""))
    return outcomes


def _task(review: MatchReview) -> ReviewTask:
    task, _ = ReviewTask.objects.select_for_update().get_or_create(review=review)
    return task


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def defer_review(
    review_id: int, user: Any, until: dt.datetime | None, note: str = ""
) -> StewardDecision:
    """Hide an open review from the queue until ``until`` (None: show it again now)."""
    with transaction.atomic():
        review = _lock_open(review_id)
        task = _task(review)
        before = {"deferred_until": _iso(task.deferred_until)}
        task.deferred_until = until
        task.save(update_fields=["deferred_until", "updated_at"])
        return _audit(review, Action.DEFER, user, before, {"deferred_until": _iso(until)}, note)


def assign_review(review_id: int, user: Any, assignee: Any | None) -> StewardDecision:
    """Give an open review to a steward (None: unassign)."""
    with transaction.atomic():
        review = _lock_open(review_id)
        task = _task(review)
        old = task.assignee.get_username() if task.assignee_id else None
        task.assignee = assignee
        task.save(update_fields=["assignee", "updated_at"])
        new = assignee.get_username() if assignee else None
        return _audit(review, Action.ASSIGN, user, {"assignee": old}, {"assignee": new})


def comment_review(review_id: int, user: Any, text: str) -> ReviewComment:
    """A note on a review, open or decided."""
    text = text.strip()
    if not text:
        raise StewardshipError("empty_comment", "Write something to comment.")
    with transaction.atomic():
        review = MatchReview.objects.filter(pk=review_id).first()
        if review is None:
            raise StewardshipError("review_not_found", f"No match review {review_id}.")
        comment = ReviewComment.objects.create(
            review=review, author=user, author_name=user.get_username(), text=text[:4000]
        )
        _audit(review, Action.COMMENT, user, {}, {"comment": comment.pk, "text": text[:500]})
        return comment


# -- after an unmerge ----------------------------------------------------------------------------


def unmerge_of(review: MatchReview) -> StewardDecision | None:
    """The unmerge that split a merged review's two records apart after its merge (the first,
    if several did), or None. Every unmerge is a steward's (``unmerge_records``), so its audit
    row is the answer: one that moved one of the two records, not both, out of a golden record
    the pair has been on (the survivor, the merged-away record, or where they are now)."""
    if review.status != ReviewStatus.MERGED:
        return None
    merge = review.steward_decisions.filter(action=Action.MERGE).order_by("-pk").first()
    if merge is None:
        return None
    pair = {review.source_record_id, review.candidate_record_id}
    now = SourceRecord.objects.filter(pk__in=pair).values_list("golden_id", flat=True)
    ids = {g for g in (merge.golden_id, merge.related_golden_id, *now) if g is not None}
    candidates = StewardDecision.objects.filter(
        Q(golden_id__in=ids) | Q(related_golden_id__in=ids),
        action=Action.UNMERGE,
        domain=review.domain,
        pk__gt=merge.pk,
    ).order_by("pk")
    for decision in candidates:
        moved = {r.get("id") for r in (decision.after or {}).get("moved", [])}
        if len(moved & pair) == 1:
            return decision
    return None


def merge_overrides(review: MatchReview) -> list[AttributeOverride]:
    """The overrides the review's merge chose that are still in force: set with the merge's
    reason (a later edit of the attribute replaces the reason) on an active golden record."""
    if review.status != ReviewStatus.MERGED:
        return []
    rows = list(
        AttributeOverride.objects.filter(
            domain=review.domain, reason=MERGE_REASON.format(review.pk)
        )
        .select_related("set_by")
        .order_by("golden_id", "attribute")
    )
    if not rows:
        return []
    active = set(
        GOLDEN_MODELS[review.domain]
        .objects.filter(pk__in={r.golden_id for r in rows}, record_status=GoldenStatus.ACTIVE)
        .values_list("pk", flat=True)
    )
    spec = get_domain(review.domain)
    kept = []
    for row in rows:
        if row.golden_id in active:
            attribute = spec.attributes_by_name.get(row.attribute)
            row.label = attribute.verbose_name if attribute else row.attribute
            kept.append(row)
    return kept


def clear_merge_overrides(
    review_id: int,
    user: Any,
    override_ids: Iterable[int] | None = None,
    note: str = "",
    channel: str = Channel.UI,
) -> StewardDecision:
    """Clear the overrides a review's merge chose (``override_ids``: those of them; None: all),
    each through ``clear_override`` (the ownership rules decide the attribute again), with one
    audit row on the review. The review row is locked first: of two stewards clearing, the
    second finds nothing left and gets ``nothing_to_clear``."""
    with transaction.atomic():
        review = MatchReview.objects.select_for_update().filter(pk=review_id).first()
        if review is None:
            raise StewardshipError("review_not_found", f"No match review {review_id}.")
        rows = merge_overrides(review)
        if override_ids is not None:
            wanted = set(override_ids)
            rows = [r for r in rows if r.pk in wanted]
        if not rows:
            raise StewardshipError(
                "nothing_to_clear",
                "Nothing was cleared: no override chosen in this merge is in force any more.",
            )
        cleared = [
            {
                "golden_id": str(r.golden_id),
                "attribute": r.attribute,
                "value": r.value,
                "set_by": r.set_by.get_username() if r.set_by else "",
            }
            for r in rows
        ]
        model = GOLDEN_MODELS[review.domain]
        golden = list(dict.fromkeys(r.golden_id for r in rows))
        before = {
            "overrides": cleared,
            "golden": {
                str(o.pk): {"version": o.version, "attributes": golden_attributes(o)}
                for o in model.objects.filter(pk__in=golden)
            },
        }
        for row in rows:
            try:
                clear_override(review.domain, row.golden_id, row.attribute, user, channel)
            except ValueError as exc:  # the record stopped being active meanwhile
                raise StewardshipError("golden_record_not_active", str(exc)) from exc
        after = {
            "cleared": cleared,
            "golden": {
                str(o.pk): {"version": o.version, "attributes": golden_attributes(o)}
                for o in model.objects.filter(pk__in=golden)
            },
        }
        ids = (golden[0], golden[1] if len(golden) > 1 else None)
        return _audit(review, Action.CLEAR_OVERRIDE, user, before, after, note, False, ids, channel)
