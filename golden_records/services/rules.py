"""Changing an ownership rule: saved with its history, then every golden record of the domain is
recomputed in the background (a rule applies to records already in the hub, not only new ones)."""

from __future__ import annotations

import contextlib

from django.core.exceptions import ValidationError
from django.db import transaction

from golden_records.history import ChangeOrigin, origin_scope
from golden_records.models import OwnershipRule, SourceSystem


def save_ownership_rule(rule: OwnershipRule, origin: ChangeOrigin | None = None) -> OwnershipRule:
    """Validate and save ``rule``; recompute its domain after commit.

    Raises ``ValidationError`` (by field) for an invalid rule: besides the model's checks, a
    system listed twice, or a system code the hub does not know that the rule did not list
    already. ``origin`` (a steward in the UI) is written on the history row; without it the
    admin's request user is.
    """
    from golden_records.tasks import recompute_golden_records

    rule.full_clean()
    systems = list(rule.systems)
    if len(set(systems)) != len(systems):
        twice = sorted({s for s in systems if systems.count(s) > 1})
        raise ValidationError({"systems": f"Listed twice: {', '.join(twice)}."})
    before = (
        OwnershipRule.objects.filter(pk=rule.pk).values_list("systems", flat=True).first()
        if rule.pk
        else None
    )
    known = set(SourceSystem.objects.values_list("code", flat=True)) | set(before or [])
    unknown = [s for s in systems if s not in known]
    if unknown:
        plural = "s" if len(unknown) > 1 else ""
        raise ValidationError({"systems": f"Unknown system code{plural}: {', '.join(unknown)}."})
    scope = origin_scope(origin) if origin is not None else contextlib.nullcontext()
    with transaction.atomic(), scope:
        rule.save()
        reason = f"ownership rule {rule.domain}.{rule.attribute} changed"
        transaction.on_commit(lambda: recompute_golden_records.delay(rule.domain, None, reason))
    return rule
