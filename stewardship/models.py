"""The data steward's work on match reviews: who has a task, until when it waits, what was said
about it, and every decision taken on it (the audit trail); and the change approvals: governed
changes from systems that do not own an attribute, and four-eyes steward edits.

The review itself (``matching.MatchReview``) stays in the matching app, which owns its states
(open → merged / rejected / obsolete). What only the steward UI needs lives here, keyed by the
review, so the matcher never writes to these tables.
"""

from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

from golden_records.domains import DOMAIN_CHOICES
from golden_records.models import Channel, RejectedRecord, SourceRecord, SourceSystem
from matching.models import MatchReview


class ReviewTask(models.Model):
    """A match review's place in the stewards' work: its assignee and how long it is deferred.

    One row per review at most, created when a steward first assigns or defers it; a review
    without a row is unassigned and not deferred.
    """

    review = models.OneToOneField(
        MatchReview, on_delete=models.CASCADE, primary_key=True, related_name="task"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="review_tasks",
    )
    deferred_until = models.DateTimeField(
        null=True, blank=True, help_text="Hidden from the queue until then."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(fields=["assignee"], name="review_task_by_assignee"),
            models.Index(fields=["deferred_until"], name="review_task_by_deferral"),
        ]

    def __str__(self) -> str:
        return f"task for review {self.review_id}"


class ReviewComment(models.Model):
    """A steward's note on a match review, shown with its decisions."""

    review = models.ForeignKey(MatchReview, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    author_name = models.CharField(max_length=150)
    text = models.TextField(max_length=4000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"comment by {self.author_name} on review {self.review_id}"


class StewardDecision(models.Model):
    """The audit row of one steward action: who, when, what, before and after.

    Most actions are on a match review (``review``); an unmerge is on a golden record
    (``golden_id``, and ``related_golden_id`` for the record split off), with no review.

    Append-only. ``before`` and ``after`` hold what the action changed: for a merge both golden
    records' attributes before and the survivor's after (with the overrides the steward chose);
    for a rejection the never-match pairs remembered; for an unmerge the source records moved
    and both records' attributes before and after; for a deferral or an assignment the old
    and the new value. The golden records' own history says the same from their side.
    Clearing the overrides a merge chose (after an unmerge) is on its review, with the overrides
    cleared and the records' attributes before and after.
    A data-quality exception's resubmit or dismissal has ``rejected_record`` instead of a review
    (stewardship/exceptions.py).
    """

    class Action(models.TextChoices):
        MERGE = "merge", "merged"
        REJECT = "reject", "not a match"
        DEFER = "defer", "deferred"
        ASSIGN = "assign", "assigned"
        COMMENT = "comment", "commented"
        UNMERGE = "unmerge", "unmerged"
        RESUBMIT = "resubmit", "corrected and resubmitted"
        DISMISS = "dismiss", "dismissed"
        APPROVE_CHANGE = "approve_change", "approved a change"
        REJECT_CHANGE = "reject_change", "rejected a change"
        PROPOSE_EDIT = "propose_edit", "proposed an edit"
        EDIT = "edit", "edited"
        CLEAR_OVERRIDE = "clear_override", "cleared overrides"

    review = models.ForeignKey(
        MatchReview, null=True, on_delete=models.SET_NULL, related_name="steward_decisions"
    )
    rejected_record = models.ForeignKey(
        RejectedRecord,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="steward_decisions",
        help_text="The data-quality exception acted on (resubmit, dismiss).",
    )
    approval = models.ForeignKey(
        "ChangeApproval", null=True, on_delete=models.SET_NULL, related_name="decisions"
    )
    domain = models.CharField(max_length=16)
    golden_id = models.UUIDField(
        null=True, blank=True, db_index=True, help_text="The golden record acted on, if one."
    )
    related_golden_id = models.UUIDField(
        null=True,
        blank=True,
        db_index=True,
        help_text="The other golden record the action made or touched (an unmerge's new record).",
    )
    action = models.CharField(max_length=16, choices=Action.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=150)
    channel = models.CharField(max_length=20, choices=Channel.choices, default=Channel.UI)
    bulk = models.BooleanField(default=False, help_text="Taken on a selection in the queue.")
    note = models.CharField(max_length=500, blank=True, default="")
    before = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    after = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["review", "created_at"], name="decision_by_review"),
            models.Index(fields=["approval", "created_at"], name="decision_by_approval"),
        ]

    def __str__(self) -> str:
        if self.approval_id:
            return f"{self.actor_name} {self.get_action_display()} approval {self.approval_id}"
        target = f"review {self.review_id}" if self.review_id else f"{self.domain} {self.golden_id}"
        return f"{self.actor_name} {self.get_action_display()} {target}"


class ChangeApproval(models.Model):
    """A change to a golden attribute that waits for a steward: a governed attribute's differing
    value from a system that does not own it, or a steward's edit of a four-eyes attribute.

    States move only as ``TRANSITIONS`` allows: pending → approved / rejected / superseded. A
    newer proposal from the same source record (or steward) for the same attribute supersedes
    the older pending one; so does a golden value that came to equal the proposed one. Written by
    golden_records/services/governance.py (from ingest) and stewardship/approvals.py.
    """

    class Kind(models.TextChoices):
        NON_OWNER_CHANGE = "non_owner_change", "change from a non-owner"
        FOUR_EYES_EDIT = "four_eyes_edit", "four-eyes edit"

    class State(models.TextChoices):
        PENDING = "pending", "pending"
        APPROVED = "approved", "approved"
        REJECTED = "rejected", "rejected"
        SUPERSEDED = "superseded", "superseded"

    TRANSITIONS: dict[str, frozenset[str]] = {
        State.PENDING: frozenset({State.APPROVED, State.REJECTED, State.SUPERSEDED}),
        State.APPROVED: frozenset(),
        State.REJECTED: frozenset(),
        State.SUPERSEDED: frozenset(),
    }

    domain = models.CharField(max_length=16, choices=DOMAIN_CHOICES)
    golden_id = models.UUIDField()
    attribute = models.CharField(max_length=64)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    state = models.CharField(max_length=12, choices=State.choices, default=State.PENDING)
    proposed_value = models.JSONField(
        null=True, encoder=DjangoJSONEncoder, help_text="Canonical value; null clears it."
    )
    golden_value = models.JSONField(
        null=True,
        encoder=DjangoJSONEncoder,
        help_text="The golden record's value when the change was proposed.",
    )
    source_record = models.ForeignKey(
        SourceRecord, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    system = models.ForeignKey(
        SourceSystem, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="proposed_changes",
    )
    proposed_by_name = models.CharField(
        max_length=150, blank=True, default="", help_text="The steward, or the system's code."
    )
    reason = models.CharField(max_length=500, blank=True, default="")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_by_name = models.CharField(max_length=150, blank=True, default="")
    decided_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["state", "created_at"], name="approval_queue"),
            models.Index(fields=["state", "domain", "created_at"], name="approval_queue_by_domain"),
            models.Index(fields=["domain", "golden_id", "attribute"], name="approval_by_golden"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["domain", "golden_id", "attribute", "source_record"],
                condition=models.Q(state="pending", source_record__isnull=False),
                name="one_pending_change_per_source",
            ),
            models.UniqueConstraint(
                fields=["domain", "golden_id", "attribute", "proposed_by"],
                condition=models.Q(state="pending", kind="four_eyes_edit"),
                name="one_pending_edit_per_steward",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.domain}/{self.golden_id}.{self.attribute} ({self.state})"

    def can_move_to(self, state: str) -> bool:
        return state in self.TRANSITIONS.get(self.state, frozenset())

    def move_to(self, state: str) -> None:
        """Change the state in memory (the caller saves), refusing what the map does not allow."""
        if not self.can_move_to(state):
            raise ValueError(f"A {self.state} change approval cannot become {state}.")
        self.state = state
