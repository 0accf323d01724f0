"""Match keys: the indexed values that find candidate golden records for a new source record.

Every source record writes one row per identifier key it has (tax id, DUNS, GTIN, a price's
composite key …). Linking looks candidates up by (domain, kind, value) through the index, never by
scanning golden records, so it does not slow down as the hub grows. The fuzzy matcher adds its
blocking keys to the same table.
"""

from django.db import models

from golden_records.domains import DOMAIN_CHOICES
from golden_records.models import SourceRecord


class MatchKey(models.Model):
    """One identifier or blocking value of one source record."""

    source_record = models.ForeignKey(
        SourceRecord, on_delete=models.CASCADE, related_name="match_keys"
    )
    domain = models.CharField(max_length=16, choices=DOMAIN_CHOICES)
    kind = models.CharField(max_length=32)
    value = models.CharField(max_length=255)
    golden_id = models.UUIDField(help_text="Copied from the source record for one-step lookups.")

    class Meta:
        indexes = [models.Index(fields=["domain", "kind", "value"], name="match_key_lookup")]

    def __str__(self) -> str:
        return f"{self.domain}.{self.kind}={self.value}"


class MatchRuleVersion(models.Model):
    """One version of a domain's match rules (the JSON of matching/rules.py).

    Versions are append-only: an admin's edit or a training run adds a version, and the active
    flag says which one the hub matches with. Decisions store the version they were made with.
    """

    domain = models.CharField(max_length=16, choices=DOMAIN_CHOICES)
    version = models.PositiveIntegerField()
    rules = models.JSONField()
    active = models.BooleanField(default=False)
    note = models.CharField(max_length=500, blank=True, default="")
    created_by = models.CharField(
        max_length=150, blank=True, default="", help_text="Who or what made it (user, command)."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["domain", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["domain", "version"], name="one_rule_version_number"),
            models.UniqueConstraint(
                fields=["domain"], condition=models.Q(active=True), name="one_active_rule_version"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.domain} rules v{self.version}{' (active)' if self.active else ''}"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        from matching.rules import rule_set_from_json

        try:
            rule_set = rule_set_from_json(self.rules)
        except (KeyError, TypeError, ValueError) as exc:
            raise ValidationError({"rules": f"Not a valid rule set: {exc}"}) from exc
        if rule_set.domain != self.domain:
            raise ValidationError({"rules": f"These rules are for {rule_set.domain}."})


class MatchProfile(models.Model):
    """A source record's match features (matching/features.py), kept for scoring candidates.

    Written with the source record, so that a new record is scored against stored features
    instead of standardising every candidate again. ``fingerprint`` is a hash of the features
    the rules compare: it tells whether a steward's "not a match" still applies.
    """

    source_record = models.OneToOneField(
        SourceRecord, on_delete=models.CASCADE, primary_key=True, related_name="match_profile"
    )
    domain = models.CharField(max_length=16, choices=DOMAIN_CHOICES)
    features = models.JSONField()
    fingerprint = models.CharField(max_length=32)

    def __str__(self) -> str:
        return f"profile of source record {self.source_record_id}"


class BlockKey(models.Model):
    """One blocking key of one source record, hashed to 64 bits (see matching/online.py).

    The primary key (key, source_record) is the lookup index: candidates for a new record are
    the rows under its keys, found without scanning records, however many there are.
    """

    pk = models.CompositePrimaryKey("key", "source_record")
    key = models.BigIntegerField()
    source_record = models.ForeignKey(
        SourceRecord, on_delete=models.CASCADE, related_name="block_keys", db_index=True
    )

    def __str__(self) -> str:
        return f"{self.key} → {self.source_record_id}"


class MatchOutcome(models.TextChoices):
    LINKED = "linked", "Linked automatically"
    REVIEW = "review", "Own golden record, sent to review"
    NEW = "new", "New golden record"


class MatchDecision(models.Model):
    """What the matcher decided for one source record, and why (append-only).

    ``explanation`` is the best candidate pair's comparison by comparison explanation (both
    values, comparator, similarity, contribution); ``candidates`` lists every candidate golden
    record scored with its probability. Stewards and the API read it as it was decided.
    """

    source_record = models.ForeignKey(
        SourceRecord,
        on_delete=models.CASCADE,
        related_name="match_decisions",
        db_index=False,  # decision_by_record starts with it: a second index only costs writes
    )
    domain = models.CharField(max_length=16, choices=DOMAIN_CHOICES)
    outcome = models.CharField(max_length=16, choices=MatchOutcome.choices)
    golden_id = models.UUIDField(help_text="The golden record the source record was linked to.")
    probability = models.FloatField(null=True, blank=True, help_text="Of the best candidate.")
    rule = models.CharField(max_length=64, help_text="What decided: weights, decided, exact:…")
    rule_version = models.PositiveIntegerField(null=True, blank=True)
    explanation = models.JSONField(default=dict, blank=True)
    candidates = models.JSONField(default=list, blank=True)
    decided_by = models.CharField(max_length=150, help_text="Who or what ran the matcher.")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["source_record", "-created_at"], name="decision_by_record")]

    def __str__(self) -> str:
        return f"{self.outcome} {self.source_record_id} → {self.golden_id}"

    @property
    def explanation_or_none(self) -> dict | None:
        return self.explanation or None


class ReviewStatus(models.TextChoices):
    OPEN = "open", "Open"
    MERGED = "merged", "Merged"
    REJECTED = "rejected", "Not a match"
    OBSOLETE = "obsolete", "Obsolete"


class MatchReview(models.Model):
    """A steward's task: is this source record the same entity as that golden record?

    Raised when a pair scores between the review and auto-match thresholds, or when the
    chaining guard keeps an auto-match apart. Merging merges the record's golden record into
    the candidate; rejecting remembers "never match" for the compared records.
    """

    domain = models.CharField(max_length=16, choices=DOMAIN_CHOICES)
    source_record = models.ForeignKey(
        SourceRecord, on_delete=models.CASCADE, related_name="match_reviews"
    )
    candidate_record = models.ForeignKey(
        SourceRecord,
        on_delete=models.CASCADE,
        related_name="candidate_in_reviews",
        help_text="The candidate golden record's best-scoring source record.",
    )
    candidate_golden_id = models.UUIDField()
    probability = models.FloatField()
    explanation = models.JSONField(default=dict)
    rule_version = models.PositiveIntegerField(null=True, blank=True)
    raised_by = models.CharField(max_length=150, help_text="online match, dedupe run, …")
    status = models.CharField(
        max_length=16, choices=ReviewStatus.choices, default=ReviewStatus.OPEN
    )
    decided_by = models.CharField(max_length=150, blank=True, default="")
    decided_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-probability", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source_record", "candidate_record"],
                condition=models.Q(status="open"),
                name="one_open_review_per_pair",
            )
        ]
        indexes = [models.Index(fields=["domain", "status"], name="review_queue")]

    def __str__(self) -> str:
        return f"review {self.source_record_id} ~ {self.candidate_golden_id} ({self.status})"


class NeverMatch(models.Model):
    """A steward said these two source records are different entities.

    The memory holds while neither record's compared features change: each side's fingerprint
    is kept, and a pair whose current fingerprints differ is matched again like any other.
    ``left`` is the record with the smaller id.
    """

    domain = models.CharField(max_length=16, choices=DOMAIN_CHOICES)
    left = models.ForeignKey(SourceRecord, on_delete=models.CASCADE, related_name="+")
    right = models.ForeignKey(SourceRecord, on_delete=models.CASCADE, related_name="+")
    left_fingerprint = models.CharField(max_length=32)
    right_fingerprint = models.CharField(max_length=32)
    decided_by = models.CharField(max_length=150)
    reason = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["left", "right"], name="one_never_match_per_pair"),
            models.CheckConstraint(
                condition=models.Q(left__lt=models.F("right")), name="never_match_ordered"
            ),
        ]
        indexes = [models.Index(fields=["right"], name="never_match_by_right")]

    def __str__(self) -> str:
        return f"never {self.left_id} ~ {self.right_id}"


class DedupeRun(models.Model):
    """One batch re-match of a domain (``manage.py dedupe``), and where it stands.

    A run moves through phases: ``index`` (standardise every record again, rewrite what
    changed), ``score`` (score the candidate pairs), ``apply`` (cluster, merge, raise reviews).
    The first two are split into shards that Celery workers run in parallel; each finished
    shard is a DedupeShard row, and the last one to finish starts the next phase. All the
    state is here, in the database: a redelivered task finds its shard done and stops.
    """

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    domain = models.CharField(max_length=16, choices=DOMAIN_CHOICES)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    phase = models.CharField(max_length=16, default="index")
    shards = models.PositiveIntegerField(default=1)
    rule_version = models.PositiveIntegerField()
    dry_run = models.BooleanField(default=False)
    counts = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True, default="")
    created_by = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"dedupe {self.domain} #{self.pk} ({self.status}, {self.phase})"


class DedupeShard(models.Model):
    """A finished shard of a dedupe run's phase."""

    run = models.ForeignKey(DedupeRun, on_delete=models.CASCADE, related_name="finished_shards")
    phase = models.CharField(max_length=16)
    shard = models.PositiveIntegerField()
    counts = models.JSONField(default=dict, blank=True)
    finished_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "phase", "shard"], name="one_finished_shard")
        ]

    def __str__(self) -> str:
        return f"run {self.run_id} {self.phase} shard {self.shard}"


class DedupePair(models.Model):
    """A scored candidate pair of a dedupe run at or above the review threshold."""

    run = models.ForeignKey(DedupeRun, on_delete=models.CASCADE, related_name="pairs")
    shard = models.PositiveIntegerField()
    left = models.BigIntegerField(help_text="Source record id.")
    right = models.BigIntegerField(help_text="Source record id.")
    probability = models.FloatField()

    class Meta:
        indexes = [models.Index(fields=["run", "shard"], name="dedupe_pair_shard")]

    def __str__(self) -> str:
        return f"{self.left} ~ {self.right}: {self.probability:.3f}"


class CatchUpRequest(models.Model):
    """A batch's new records, to be matched again once the batch has committed, against the
    candidates its read could not see (matching/catch_up.py).

    The row is written in the batch's own transaction: it exists exactly when the records do.
    The Celery message sent on commit is only the fast path; the sweep (``matching.sweep``)
    runs what a lost message or a killed worker left pending, so no repair depends on the
    broker. A request is done in the same transaction as its merges and reviews: a run that
    dies leaves it pending, and the next run starts from the same state.
    """

    domain = models.CharField(max_length=16, choices=DOMAIN_CHOICES)
    record_ids = models.JSONField(help_text="Source record ids of the batch's new records.")
    written = models.JSONField(
        default=list, help_text="The batch's other written records: never candidates."
    )
    splits = models.JSONField(
        default=list,
        help_text="[record, other record] pairs online matching found as strong as the record's "
        "own golden record, in another one: golden records made twice, to merge.",
    )
    snapshot_xmin = models.BigIntegerField(
        null=True, help_text="The oldest transaction running when the batch read (None: all)."
    )
    snapshot_own = models.BigIntegerField(null=True, help_text="The batch's own transaction.")
    created_at = models.DateTimeField()
    attempts = models.PositiveIntegerField(
        default=0, help_text="Runs started (committed before each run: a killed run counts)."
    )
    started_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    result = models.JSONField(
        default=dict, blank=True, help_text="Counts, and each merge with the pair that made it."
    )
    error = models.TextField(blank=True, default="", help_text="The last failed run's error.")

    class Meta:
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=models.Q(done_at__isnull=True),
                name="catch_up_pending",
            ),
            models.Index(fields=["done_at"], name="catch_up_done"),
        ]

    def __str__(self) -> str:
        state = "done" if self.done_at else "pending"
        return f"catch-up {self.domain} #{self.pk} ({len(self.record_ids)} records, {state})"
