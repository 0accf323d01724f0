"""Propagation to downstream systems: subscriptions, the outbox, deliveries and their attempts.

The database is the truth about delivery (../docs/architecture.md, "Propagation"): an
``OutboxEvent`` is written in the same transaction as the golden-record change it describes, with
one ``Delivery`` per subscription that wants it. Celery messages only wake workers up; a periodic
sweep finds due deliveries (and expired leases) by itself, so a lost message or a killed worker
delays a delivery but never loses it.
"""

from __future__ import annotations

import uuid

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from golden_records.domains import DOMAIN_CHOICES
from golden_records.models import HistoryOrigin, SourceSystem


class Subscription(models.Model):
    """A downstream system's subscription: which domains and attributes, where, and its state."""

    class Transport(models.TextChoices):
        WEBHOOK = "webhook", "HTTP webhook"

    class State(models.TextChoices):
        ACTIVE = "active", "active"
        PAUSED = "paused", "paused"
        DISABLED = "disabled", "disabled"

    system = models.ForeignKey(SourceSystem, on_delete=models.PROTECT, related_name="subscriptions")
    name = models.CharField(max_length=100, unique=True)
    domains = models.JSONField(default=list, help_text='Domains it receives, e.g. ["customer"].')
    fields = models.JSONField(
        default=dict,
        blank=True,
        help_text=(
            "Per domain, the attributes it receives and their names in its schema: "
            '{"customer": {"name": "AccountName", "credit_limit": "CreditLimit"}}. '
            "A domain without an entry receives every attribute under the hub's names."
        ),
    )
    transport = models.CharField(max_length=16, choices=Transport.choices, default="webhook")
    endpoint_url = models.URLField(max_length=500)
    state = models.CharField(max_length=16, choices=State.choices, default=State.ACTIVE)
    state_reason = models.CharField(max_length=300, blank=True, default="")
    state_changed_at = models.DateTimeField(null=True, blank=True)
    failing_since = models.DateTimeField(
        null=True, blank=True, help_text="First failure since the last success (None when well)."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords(bases=[HistoryOrigin])

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def wants(self, domain: str) -> bool:
        return domain in self.domains


class SigningSecret(models.Model):
    """One of a subscription's signing secrets; several are active during a rotation."""

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="secrets")
    secret = models.CharField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(
        null=True, blank=True, help_text="After this the secret no longer signs (rotation)."
    )

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.subscription} secret {self.secret[:10]}…"


class EventType(models.TextChoices):
    CREATED = "created", "created"
    UPDATED = "updated", "updated"
    MERGED = "merged", "merged"
    UNMERGED = "unmerged", "unmerged"
    RETIRED = "retired", "retired"
    SNAPSHOT = "snapshot", "snapshot (re-sync)"


class OutboxEvent(models.Model):
    """A golden-record change, with the record's full state after it. Never updated."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    domain = models.CharField(max_length=16, choices=DOMAIN_CHOICES)
    golden_id = models.UUIDField()
    version = models.PositiveIntegerField()
    type = models.CharField(max_length=16, choices=EventType.choices)
    payload = models.JSONField(encoder=DjangoJSONEncoder)
    actor = models.CharField(max_length=180, blank=True, default="")
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        indexes = [models.Index(fields=["domain", "golden_id", "version"], name="event_by_golden")]

    def __str__(self) -> str:
        return f"{self.type} {self.domain}/{self.golden_id} v{self.version}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "pending"
    DELIVERING = "delivering", "delivering"
    DELIVERED = "delivered", "delivered"
    SUPERSEDED = "superseded", "superseded by a newer version"
    DEAD = "dead", "dead (retries exhausted)"


class Delivery(models.Model):
    """One event for one subscription: its state, when it is due and how it went.

    Per (subscription, golden record) at most one delivery is ``delivering`` at a time (a partial
    unique constraint keeps it so), and a newer version supersedes pending older ones.
    """

    event = models.ForeignKey(OutboxEvent, on_delete=models.CASCADE, related_name="deliveries")
    subscription = models.ForeignKey(
        Subscription, on_delete=models.CASCADE, related_name="deliveries"
    )
    domain = models.CharField(max_length=16, choices=DOMAIN_CHOICES)
    golden_id = models.UUIDField()
    version = models.PositiveIntegerField()
    status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    lease_until = models.DateTimeField(null=True, blank=True)
    lease_token = models.UUIDField(null=True, blank=True)
    created_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True, default="")
    replayed_at = models.DateTimeField(null=True, blank=True)
    replayed_by = models.CharField(max_length=150, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "golden_id"],
                condition=Q(status="delivering"),
                name="one_delivery_in_flight_per_record",
            ),
        ]
        indexes = [
            models.Index(fields=["subscription", "status", "next_attempt_at"], name="delivery_due"),
            models.Index(fields=["subscription", "golden_id", "status"], name="delivery_by_record"),
            models.Index(fields=["status", "created_at"], name="delivery_by_age"),
        ]

    def __str__(self) -> str:
        return f"{self.subscription} {self.domain}/{self.golden_id} v{self.version}: {self.status}"


class DeliveryAttempt(models.Model):
    """One HTTP attempt of a delivery: when, how long, what came back."""

    class Outcome(models.TextChoices):
        DELIVERED = "delivered", "delivered"
        RETRY = "retry", "failed, will retry"
        DEAD = "dead", "failed, retries exhausted"
        DISABLED = "disabled", "endpoint gone (410): subscription disabled"

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_rows")
    number = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField()
    status_code = models.PositiveIntegerField(null=True, blank=True)
    response_excerpt = models.CharField(max_length=1000, blank=True, default="")
    error = models.CharField(max_length=500, blank=True, default="")
    outcome = models.CharField(max_length=16, choices=Outcome.choices)

    class Meta:
        ordering = ["delivery_id", "number"]
        indexes = [models.Index(fields=["started_at"], name="attempt_by_time")]

    def __str__(self) -> str:
        return f"attempt {self.number} of delivery {self.delivery_id}: {self.outcome}"


class DeliveredVersion(models.Model):
    """The newest version of a golden record a subscription has received, and when.

    Kept per (subscription, golden record) for reconciliation (lag behind the current version),
    the record's delivery status in the UI, and to skip re-sending what is already there.
    """

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="+")
    domain = models.CharField(max_length=16, choices=DOMAIN_CHOICES)
    golden_id = models.UUIDField()
    version = models.PositiveIntegerField()
    delivered_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "golden_id"], name="one_delivered_version_per_record"
            )
        ]

    def __str__(self) -> str:
        return f"{self.subscription_id} has {self.domain}/{self.golden_id} v{self.version}"


class JobRun(models.Model):
    """A scheduled job's run for one period (a nightly re-sync, a reconciliation): the unique key
    makes a second run in the same period a no-op."""

    job = models.CharField(max_length=40)
    key = models.CharField(max_length=120, help_text="Subscription, domain and period.")
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    result = models.JSONField(default=dict, encoder=DjangoJSONEncoder)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["job", "key"], name="one_run_per_period")]

    def __str__(self) -> str:
        return f"{self.job} {self.key}"
