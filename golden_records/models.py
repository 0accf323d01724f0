"""Golden records, source records (the cross-reference), ownership rules and API tokens.

The golden models (Customer, Item, Location, Price) are built from the domain declarations in
golden_records/domains.py: one abstract base carries what every golden record has (public id,
version, status, lineage, history); the attributes come from the declaration, so a domain is
declared once. State changes go through golden_records/services.py, never through ``save()``.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import time
import uuid
from typing import Any

import pycountry
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from simple_history.models import HistoricalRecords

from golden_records.domains import DOMAIN_CHOICES, DOMAINS, DomainSpec


def new_golden_id() -> uuid.UUID:
    """A UUIDv7 (RFC 9562): time-ordered, so new golden ids append to the primary-key index."""
    millis = time.time_ns() // 1_000_000
    raw = bytearray(millis.to_bytes(6, "big") + os.urandom(10))
    raw[6] = (raw[6] & 0x0F) | 0x70
    raw[8] = (raw[8] & 0x3F) | 0x80
    return uuid.UUID(bytes=bytes(raw))


class ActorType(models.TextChoices):
    SOURCE_SYSTEM = "source_system", "source system"
    STEWARD = "steward", "steward"
    RULE = "rule", "rule"
    TASK = "task", "task"
    COMMAND = "command", "command"
    SYSTEM = "system", "hub"


class Channel(models.TextChoices):
    API = "api", "API"
    UI = "ui", "web UI"
    ADMIN = "admin", "admin"
    TASK = "task", "task"
    COMMAND = "command", "command"
    MIGRATION = "migration", "migration"


class HistoryOrigin(models.Model):
    """Extra columns on every history table: who or what made the change, through which channel,
    and which fields it changed."""

    actor_type = models.CharField(
        max_length=20, choices=ActorType.choices, default=ActorType.SYSTEM
    )
    actor = models.CharField(max_length=150, blank=True, default="")
    channel = models.CharField(max_length=20, choices=Channel.choices, default=Channel.ADMIN)
    changed_fields = models.JSONField(default=list, blank=True)

    class Meta:
        abstract = True


def validate_country_alpha_2(value: str) -> None:
    """An ISO 3166-1 alpha-2 code in upper case ("DE"); blank is allowed (no country)."""
    if value and (value != value.upper() or pycountry.countries.get(alpha_2=value) is None):
        raise ValidationError(
            "%(value)r is not an ISO 3166-1 alpha-2 country code (upper case, e.g. DE).",
            code="invalid_country",
            params={"value": value},
        )


class SourceSystem(models.Model):
    """A system that sends records to the hub (and may receive golden records back)."""

    class Kind(models.TextChoices):
        CRM = "crm", "CRM"
        CPQ = "cpq", "CPQ"
        ECOMMERCE = "ecommerce", "eCommerce"
        EDI = "edi", "EDI"
        ERP = "erp", "ERP"
        WMS = "wms", "WMS"
        TMS = "tms", "TMS"
        OTHER = "other", "other"

    code = models.SlugField(max_length=32, unique=True)
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    active = models.BooleanField(default=True)
    default_country = models.CharField(
        max_length=2,
        blank=True,
        default="",
        validators=[validate_country_alpha_2],
        help_text="ISO 3166-1 alpha-2. The country the system's records are normalised in when "
        "they carry none (a tax id without prefix, a national phone number); never written into "
        "the records themselves.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords(bases=[HistoryOrigin])

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ApiToken(models.Model):
    """A bearer token. Only its SHA-256 is stored; the token itself is shown once on creation.

    A write token is scoped to one source system: it may write that system's records only.
    Tokens are created and revoked through ``golden_records.services.tokens``.
    """

    class Scope(models.TextChoices):
        WRITE = "write", "write (one system)"
        READ = "read", "read only (all domains)"

    PREFIX = "mdm_"

    name = models.CharField(max_length=100, blank=True, default="")
    system = models.ForeignKey(
        SourceSystem, null=True, blank=True, on_delete=models.CASCADE, related_name="tokens"
    )
    scope = models.CharField(max_length=8, choices=Scope.choices, default=Scope.WRITE)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    hint = models.CharField(
        max_length=12, editable=False, help_text="First characters, to tell tokens apart."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # Created and revoked, by whom and through which channel (golden_records/services/tokens.py).
    # The digest is kept (it identifies the token, it cannot be turned back into it); the use
    # of a token is not a change.
    history = HistoricalRecords(bases=[HistoryOrigin], excluded_fields=["last_used_at"])

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(scope="read") | models.Q(system__isnull=False),
                name="write_token_has_system",
            )
        ]

    def __str__(self) -> str:
        owner = self.system.code if self.system_id else "all domains"
        return f"{self.hint}… ({self.scope}, {owner})"

    @classmethod
    def generate(cls) -> tuple[str, str]:
        """A new random token and its digest."""
        token = cls.PREFIX + secrets.token_urlsafe(32)
        return token, hash_token(token)


class GoldenStatus(models.TextChoices):
    ACTIVE = "active", "active"
    MERGED = "merged", "merged into another"
    RETIRED = "retired", "retired"


class GoldenRecord(models.Model):
    """What every golden record has, whatever its domain.

    ``lineage`` maps each attribute to where its value came from:
    ``{"credit_limit": {"source_record": 12, "system": "erp", "source_id": "C-1", "at": "...",
    "rule": "source_priority"}}``. It is copied into history with the values.
    """

    golden_id = models.UUIDField(primary_key=True, default=new_golden_id, editable=False)
    version = models.PositiveIntegerField(default=1)
    record_status = models.CharField(
        max_length=8, choices=GoldenStatus.choices, default=GoldenStatus.ACTIVE, db_index=True
    )
    merged_into = models.UUIDField(null=True, blank=True, db_index=True)
    lineage = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    domain: DomainSpec

    class Meta:
        abstract = True

    def __str__(self) -> str:
        parts = [str(getattr(self, name, "") or "") for name in self.domain.display]
        label = " · ".join(p for p in parts if p)
        return label or str(self.golden_id)


def golden_model(spec: DomainSpec) -> type[GoldenRecord]:
    """The concrete golden model of one domain, its typed columns taken from the declaration."""
    body: dict[str, Any] = {
        "__module__": __name__,
        "__doc__": spec.description,
        "__qualname__": spec.model_name,
        "domain": spec,
        "Meta": type("Meta", (), {"ordering": ["created_at"], "verbose_name": spec.label}),
        # History is read by golden id and date; indexing every other column of it would only
        # slow down the writes of every change.
        "history": HistoricalRecords(
            bases=[HistoryOrigin],
            no_db_index=[
                "record_status",
                "merged_into",
                "updated_at",
                *(r.name for r in spec.references),
            ],
        ),
    }
    for attribute in spec.attributes:
        body[attribute.name] = attribute.model_field()
    return type(spec.model_name, (GoldenRecord,), body)


Customer = golden_model(DOMAINS["customer"])
Item = golden_model(DOMAINS["item"])
Location = golden_model(DOMAINS["location"])
Price = golden_model(DOMAINS["price"])

GOLDEN_MODELS: dict[str, type[GoldenRecord]] = {
    "customer": Customer,
    "item": Item,
    "location": Location,
    "price": Price,
}


class SourceRecord(models.Model):
    """One system's version of one entity, keyed by (system, domain, source id).

    This row is the cross-reference: ``golden_id`` says which golden record it is linked to.
    ``canonical`` holds the normalised attributes (references as the sender's ids);
    ``references`` holds the golden ids those resolve to (``null`` while still pending).
    """

    system = models.ForeignKey(SourceSystem, on_delete=models.PROTECT, related_name="records")
    domain = models.CharField(max_length=16, choices=DOMAIN_CHOICES)
    source_id = models.CharField(max_length=255)
    payload = models.JSONField(
        encoder=DjangoJSONEncoder, help_text="The attributes as the system sent them."
    )
    canonical = models.JSONField(help_text="The normalised attributes.")
    references = models.JSONField(default=dict, blank=True)
    payload_hash = models.CharField(max_length=64)
    source_updated_at = models.DateTimeField(null=True, blank=True)
    golden_id = models.UUIDField()
    link_rule = models.CharField(
        max_length=64,
        blank=True,
        default="",
        help_text="How the record was linked to its golden record.",
    )
    linked_at = models.DateTimeField()
    received_at = models.DateTimeField(
        help_text="When the hub last accepted a change of this record."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords(bases=[HistoryOrigin], no_db_index=["system"])

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["system", "domain", "source_id"], name="one_source_record_per_key"
            )
        ]
        indexes = [models.Index(fields=["domain", "golden_id"], name="source_by_golden")]

    def __str__(self) -> str:
        return f"{self.system.code}/{self.domain}/{self.source_id}"


class PendingReference(models.Model):
    """A reference a source record made to a record the hub has not received yet.

    Resolved (and deleted) by the pipeline when the referenced source record arrives.
    """

    source_record = models.ForeignKey(
        SourceRecord, on_delete=models.CASCADE, related_name="pending_references"
    )
    attribute = models.CharField(max_length=64)
    target_system = models.ForeignKey(SourceSystem, on_delete=models.CASCADE)
    target_domain = models.CharField(max_length=16, choices=DOMAIN_CHOICES)
    target_source_id = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["source_record", "attribute"], name="one_pending_reference_per_attribute"
            )
        ]
        indexes = [
            models.Index(
                fields=["target_system", "target_domain", "target_source_id"],
                name="pending_by_target",
            )
        ]

    def __str__(self) -> str:
        return f"{self.source_record} → {self.target_domain}/{self.target_source_id}"


class OwnershipRule(models.Model):
    """How one golden attribute is chosen from the linked source records.

    ``source_priority``: the first system in ``systems`` with a non-empty value wins; when none has
    one and ``fallback_to_any`` is set, the most recent value from any system is taken.
    ``most_recent``, ``most_frequent``, ``longest``: over all linked systems.
    ``steward_only``: only a steward override sets the value.
    A steward override (AttributeOverride) wins over every strategy until it is cleared.

    Governance: a ``governed`` attribute's change from a system that does not own it (not in
    ``systems`` under system priority; any system under steward only) waits in the stewards'
    change approvals instead of only showing as a discrepancy; a ``four_eyes`` attribute's
    steward edit is applied only once a second steward approves it.
    """

    class Strategy(models.TextChoices):
        SOURCE_PRIORITY = "source_priority", "system priority"
        MOST_RECENT = "most_recent", "most recent"
        MOST_FREQUENT = "most_frequent", "most frequent"
        LONGEST = "longest", "longest"
        STEWARD_ONLY = "steward_only", "steward only"

    domain = models.CharField(max_length=16, choices=DOMAIN_CHOICES)
    attribute = models.CharField(max_length=64)
    strategy = models.CharField(max_length=20, choices=Strategy.choices)
    systems = models.JSONField(
        default=list, blank=True, help_text="System codes, in priority order."
    )
    fallback_to_any = models.BooleanField(
        default=True,
        help_text="With system priority: when no listed system has a value, take the most recent.",
    )
    governed = models.BooleanField(
        default=False,
        help_text="A differing value from a system that does not own the attribute waits for a "
        "steward's approval (change approvals queue).",
    )
    four_eyes = models.BooleanField(
        "four eyes",
        default=False,
        help_text="A steward's edit of this attribute is applied only after a second steward "
        "approves it.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords(bases=[HistoryOrigin])

    class Meta:
        ordering = ["domain", "attribute"]
        constraints = [
            models.UniqueConstraint(fields=["domain", "attribute"], name="one_rule_per_attribute")
        ]

    def __str__(self) -> str:
        systems = f" {'>'.join(self.systems)}" if self.systems else ""
        return f"{self.domain}.{self.attribute}: {self.strategy}{systems}"

    def is_owner(self, system_code: str) -> bool:
        """Whether ``system_code`` owns the attribute: its values are applied without approval."""
        if self.strategy == self.Strategy.STEWARD_ONLY:
            return False
        if self.strategy == self.Strategy.SOURCE_PRIORITY:
            return system_code in self.systems
        return True

    def clean(self) -> None:
        spec = DOMAINS.get(self.domain)
        if spec is None or self.attribute not in spec.attributes_by_name:
            raise ValidationError(
                {"attribute": f"{self.domain} has no attribute {self.attribute!r}."}
            )
        if not isinstance(self.systems, list) or not all(isinstance(s, str) for s in self.systems):
            raise ValidationError({"systems": 'A list of system codes, e.g. ["erp", "crm"].'})
        if self.strategy == self.Strategy.SOURCE_PRIORITY and not self.systems:
            raise ValidationError({"systems": "System priority needs at least one system."})


class AttributeOverride(models.Model):
    """A steward's value for one attribute of one golden record; wins until cleared."""

    domain = models.CharField(max_length=16, choices=DOMAIN_CHOICES)
    golden_id = models.UUIDField()
    attribute = models.CharField(max_length=64)
    value = models.JSONField(null=True, help_text="Canonical value; null clears the attribute.")
    reason = models.CharField(max_length=500, blank=True, default="")
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    set_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords(bases=[HistoryOrigin])

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["domain", "golden_id", "attribute"], name="one_override_per_attribute"
            )
        ]

    def __str__(self) -> str:
        return f"{self.domain}/{self.golden_id}.{self.attribute} = {self.value!r}"


class IngestLock(models.Model):
    """Row locks that serialise writers of the same entity, not of the whole domain.

    Before linking, a batch locks (SELECT … FOR UPDATE, in key order) one row per source record
    it writes, per identifier value it links by, per record it references and per price key it
    checks for overlaps; missing rows are inserted first (INSERT … ON CONFLICT DO NOTHING, which
    waits for a concurrent inserter). Two batches about different entities run side by side;
    two that could create the same golden record, or race on one source record, take turns.
    ``key`` is a 63-bit hash of the lock's name. Rows hold no data: any of them may be deleted.
    """

    key = models.BigIntegerField(primary_key=True)

    def __str__(self) -> str:
        return str(self.key)


class IdempotencyRecord(models.Model):
    """The stored response to a POST sent with an ``Idempotency-Key``."""

    class State(models.TextChoices):
        RUNNING = "running", "running"
        DONE = "done", "done"

    system = models.ForeignKey(SourceSystem, on_delete=models.CASCADE)
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    state = models.CharField(max_length=8, choices=State.choices, default=State.RUNNING)
    status_code = models.PositiveSmallIntegerField(null=True)
    response = models.JSONField(null=True, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["system", "key"], name="one_idempotency_key_per_system")
        ]

    def __str__(self) -> str:
        return f"{self.system_id}:{self.key}"


class RejectedRecord(models.Model):
    """A record a source system sent that failed validation: a data-quality exception.

    Ingest still writes nothing for an invalid record; the rejection is kept here so that a
    steward can correct and resubmit it (golden_records/services/exceptions.py). One row per
    (system, domain, source id, payload hash): the same bad payload sent again bumps
    ``times_seen`` and ``last_seen``. ``error_codes`` repeats the errors' codes as
    ``,code,code,`` so that the queue can filter by code on every database.

    States: open → resubmitted (a steward corrected it) / dismissed (a steward's note says why)
    / superseded (the system sent a later version of the record, valid or not).
    """

    class State(models.TextChoices):
        OPEN = "open", "open"
        RESUBMITTED = "resubmitted", "resubmitted"
        DISMISSED = "dismissed", "dismissed"
        SUPERSEDED = "superseded", "superseded"

    system = models.ForeignKey(SourceSystem, on_delete=models.PROTECT, related_name="rejections")
    domain = models.CharField(max_length=16, choices=DOMAIN_CHOICES)
    source_id = models.CharField(
        max_length=255, blank=True, default="", help_text="Empty when the record had none."
    )
    payload = models.JSONField(encoder=DjangoJSONEncoder, help_text="The record as sent.")
    payload_hash = models.CharField(max_length=64)
    errors = models.JSONField(default=list, help_text='[{"field", "code", "message"}]')
    error_codes = models.CharField(max_length=500, blank=True, default="")
    channel = models.CharField(max_length=20, choices=Channel.choices, default=Channel.API)
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    times_seen = models.PositiveIntegerField(default=1)
    state = models.CharField(max_length=12, choices=State.choices, default=State.OPEN)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_by_name = models.CharField(max_length=150, blank=True, default="")
    note = models.CharField(max_length=500, blank=True, default="")
    golden_id = models.UUIDField(
        null=True, blank=True, help_text="The golden record a resubmission was linked to."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["system", "domain", "source_id", "payload_hash"],
                name="one_rejection_per_payload",
            )
        ]
        indexes = [
            models.Index(fields=["state", "last_seen"], name="rejection_by_state"),
            models.Index(fields=["system", "domain", "source_id"], name="rejection_by_key"),
        ]

    def __str__(self) -> str:
        return f"rejected {self.system_id}/{self.domain}/{self.source_id or '(no id)'} #{self.pk}"
