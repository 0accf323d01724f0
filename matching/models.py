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
