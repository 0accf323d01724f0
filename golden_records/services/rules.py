"""Changing an ownership rule: saved with its history, then every golden record of the domain is
recomputed in the background (a rule applies to records already in the hub, not only new ones)."""

from __future__ import annotations

from django.db import transaction

from golden_records.models import OwnershipRule


def save_ownership_rule(rule: OwnershipRule) -> OwnershipRule:
    """Validate and save ``rule``; recompute its domain after commit."""
    from golden_records.tasks import recompute_golden_records

    rule.full_clean()
    with transaction.atomic():
        rule.save()
        reason = f"ownership rule {rule.domain}.{rule.attribute} changed"
        transaction.on_commit(lambda: recompute_golden_records.delay(rule.domain, None, reason))
    return rule
