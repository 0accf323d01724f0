"""Which match rules are in force: the active database version, else the shipped default."""

from __future__ import annotations

from dataclasses import replace

from django.db import transaction

from matching.models import MatchRuleVersion
from matching.rules import RuleSet, default_rules, rule_set_from_json


def active_rules(domain: str) -> RuleSet:
    row = MatchRuleVersion.objects.filter(domain=domain, active=True).first()
    if row is None:
        return default_rules(domain)
    return replace(rule_set_from_json(row.rules), version=row.version)


def save_rule_version(
    rule_set: RuleSet, created_by: str, note: str = "", activate: bool = True
) -> MatchRuleVersion:
    """Store ``rule_set`` as the domain's next version (and make it the active one)."""
    with transaction.atomic():
        rows = MatchRuleVersion.objects.select_for_update().filter(domain=rule_set.domain)
        latest = max([r.version for r in rows] + [default_rules(rule_set.domain).version])
        version = latest + 1
        if activate:
            rows.filter(active=True).update(active=False)
        row = MatchRuleVersion(
            domain=rule_set.domain,
            version=version,
            rules=replace(rule_set, version=version).to_json(),
            active=activate,
            note=note,
            created_by=created_by,
        )
        row.full_clean()
        row.save()
        return row


def rules_if_any(domain: str) -> RuleSet | None:
    """The domain's active rules, or None for a domain matched by identifiers only (price)."""
    try:
        return active_rules(domain)
    except KeyError:
        return None


def change_thresholds(
    domain: str, auto_match: float, review: float, created_by: str, note: str = ""
) -> MatchRuleVersion:
    """A new active version of the domain's rules with other auto-match and review thresholds
    (everything else as in the active version). ``ValidationError`` by field when they do not
    satisfy 0 < review < auto_match <= 1."""
    from django.core.exceptions import ValidationError

    errors = {}
    if not 0 < review < 1:
        errors["review"] = "Between 0 and 1 (a probability)."
    if not 0 < auto_match <= 1:
        errors["auto_match"] = "Above 0 and at most 1 (a probability)."
    if not errors and review >= auto_match:
        errors["review"] = "Below the auto-match threshold (pairs in between go to review)."
    if errors:
        raise ValidationError(errors)
    current = active_rules(domain)
    if (current.thresholds.auto_match, current.thresholds.review) == (auto_match, review):
        raise ValidationError({"auto_match": "These are the thresholds in force already."})
    thresholds = replace(current.thresholds, auto_match=auto_match, review=review)
    changed = (
        f"thresholds: auto-match {current.thresholds.auto_match:g} → {auto_match:g}, "
        f"review {current.thresholds.review:g} → {review:g}"
    )
    return save_rule_version(
        replace(current, thresholds=thresholds),
        created_by=created_by,
        note=(f"{note.strip()} ({changed})" if note.strip() else changed)[:500],
    )
