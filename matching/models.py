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
