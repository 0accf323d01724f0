"""Ownership and match rules: readable by everyone with a steward-UI role, changed by admins.

An ownership rule is changed through ``save_ownership_rule`` (its history row names the admin
and the UI); match thresholds through ``change_thresholds``, which adds a match rule version
(versions are append-only, as in the admin). The page shows both histories.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from golden_records.domains import DOMAINS
from golden_records.history import ChangeOrigin
from golden_records.models import Channel, OwnershipRule, SourceSystem
from golden_records.services.rules import save_ownership_rule
from matching.models import MatchRuleVersion
from matching.rule_versions import active_rules, change_thresholds
from matching.rules import RuleSet, rule_set_from_json
from stewardship.permissions import may_administer, steward_view

HISTORY_SHOWN = 30
TRACKED = ("strategy", "systems", "fallback_to_any")


def _require_admin(request: HttpRequest) -> None:
    if not may_administer(request.user):
        raise PermissionDenied("Only an admin changes ownership and match rules.")


def _domain(request: HttpRequest) -> str:
    domain = request.GET.get("domain", "")
    return domain if domain in DOMAINS else "customer"


def rules_url(domain: str, anchor: str = "") -> str:
    return f"{reverse('stewardship:rules')}?domain={domain}{'#' + anchor if anchor else ''}"


def ownership_history(domain: str, limit: int = HISTORY_SHOWN) -> list[dict[str, Any]]:
    """The domain's ownership rule changes, newest first, each with the fields it changed
    (before → after), computed from consecutive history rows of the same rule (one query)."""
    rows = list(
        OwnershipRule.history.filter(domain=domain)
        .order_by("id", "history_date", "history_id")
        .select_related("history_user")
    )
    previous: dict[int, Any] = {}
    changes = []
    spec = DOMAINS[domain]
    for row in rows:
        before = previous.get(row.id)
        if before is None and row.history_type == "~":
            # Rules seeded by the migration have no history row: compare with the installed
            # default (golden_records/domains.py, which the migration seeded from).
            default = spec.ownership_for(row.attribute)
            before = SimpleNamespace(
                strategy=default.strategy,
                systems=list(default.systems),
                fallback_to_any=default.fallback_to_any,
            )
        diffs = [
            (name, getattr(before, name) if before else None, getattr(row, name))
            for name in TRACKED
            if before is None or getattr(before, name) != getattr(row, name)
        ]
        previous[row.id] = row
        if before is not None and not diffs and row.history_type == "~":
            continue
        changes.append(
            {
                "row": row,
                "attribute": row.attribute,
                "diffs": diffs if before is not None else [],
                "created": before is None,
                "who": row.actor or (row.history_user.get_username() if row.history_user else ""),
            }
        )
    changes.sort(key=lambda c: (c["row"].history_date, c["row"].history_id), reverse=True)
    return changes[:limit]


def _match_rules(domain: str) -> tuple[RuleSet | None, list[dict[str, Any]]]:
    """The rules in force and the stored versions (newest first) with their thresholds."""
    try:
        rules = active_rules(domain)
    except KeyError:
        return None, []
    versions = []
    for row in MatchRuleVersion.objects.filter(domain=domain).order_by("-version"):
        try:
            thresholds = rule_set_from_json(row.rules).thresholds
        except (KeyError, TypeError, ValueError):
            thresholds = None
        versions.append({"row": row, "thresholds": thresholds})
    return rules, versions


def _rules_context(request: HttpRequest, domain: str, **extra: Any) -> dict[str, Any]:
    spec = DOMAINS[domain]
    stored = {r.attribute: r for r in OwnershipRule.objects.filter(domain=domain)}
    ownership = []
    for attribute in spec.attributes:
        rule = stored.get(attribute.name)
        default = spec.ownership_for(attribute.name)
        ownership.append(
            {
                "attribute": attribute,
                "rule": rule,
                "strategy": rule.get_strategy_display() if rule else default.strategy,
                "systems": rule.systems if rule else list(default.systems),
                "fallback": rule.fallback_to_any if rule else default.fallback_to_any,
                "uses_systems": (rule.strategy if rule else default.strategy)
                == OwnershipRule.Strategy.SOURCE_PRIORITY,
            }
        )
    history = ownership_history(domain, limit=500)
    last_change: dict[str, dict[str, Any]] = {}
    for change in history:  # newest first
        last_change.setdefault(change["attribute"], change)
    for row in ownership:
        row["last_change"] = last_change.get(row["attribute"].name)
    rules, versions = _match_rules(domain)
    return {
        "domain": domain,
        "spec": spec,
        "domains": DOMAINS,
        "ownership": ownership,
        "history": history[:HISTORY_SHOWN],
        "rules": rules,
        "versions": versions,
        "identifier_keys": spec.identifier_keys,
        "may_administer": may_administer(request.user),
        **extra,
    }


@require_http_methods(["GET"])
@steward_view()
def rules(request: HttpRequest) -> HttpResponse:
    domain = _domain(request)
    return render(request, "stewardship/rules/index.html", _rules_context(request, domain))


def _systems(raw: str) -> list[str]:
    return [s.strip() for s in raw.replace(">", ",").split(",") if s.strip()]


@require_http_methods(["GET", "POST"])
@steward_view()
def edit_ownership_rule(request: HttpRequest, rule_id: int) -> HttpResponse:
    """The edit form (GET) and the change (POST); admins only."""
    _require_admin(request)
    rule = get_object_or_404(OwnershipRule, pk=rule_id)
    errors: dict[str, list[str]] = {}
    note = ""
    if request.method == "POST":
        before = (rule.strategy, list(rule.systems), rule.fallback_to_any)
        rule.strategy = request.POST.get("strategy", "")
        rule.systems = _systems(request.POST.get("systems", ""))
        rule.fallback_to_any = request.POST.get("fallback_to_any") == "on"
        note = request.POST.get("note", "").strip()[:200]
        if (rule.strategy, rule.systems, rule.fallback_to_any) == before:
            messages.info(request, f"Nothing changed in {rule.domain}.{rule.attribute}.")
            return redirect(rules_url(rule.domain, f"rule-{rule.attribute}"))
        origin = ChangeOrigin.steward(
            request.user, Channel.UI, reason=note or "changed in the steward UI"
        )
        try:
            save_ownership_rule(rule, origin=origin)
        except ValidationError as exc:
            errors = exc.message_dict
        else:
            systems = " > ".join(rule.systems) or "no systems"
            messages.success(
                request,
                f"Saved {rule.domain}.{rule.attribute}: {rule.get_strategy_display()}, "
                f"{systems}. Golden records of the domain are being recomputed.",
            )
            return redirect(rules_url(rule.domain, "history"))
    known = list(SourceSystem.objects.values_list("code", flat=True))
    context = {
        "rule": rule,
        "spec": DOMAINS[rule.domain],
        "strategies": OwnershipRule.Strategy.choices,
        "systems_text": ", ".join(rule.systems),
        "available": sorted(set(known) | set(rule.systems)),
        "errors": errors,
        "general_errors": [m for k, v in errors.items() if k not in TRACKED for m in v],
        "note": note,
        "back_url": rules_url(rule.domain, f"rule-{rule.attribute}"),
        "history": [c for c in ownership_history(rule.domain, 500) if c["row"].id == rule.pk][:10],
    }
    return render(
        request, "stewardship/rules/ownership_edit.html", context, status=400 if errors else 200
    )


def _probability(raw: str) -> float | None:
    try:
        value = float(raw)
    except (TypeError, ValueError):
        return None
    return value if value == value else None  # NaN


@require_POST
@steward_view()
def edit_thresholds(request: HttpRequest, domain: str) -> HttpResponse:
    """A new match rule version with the posted thresholds; admins only."""
    _require_admin(request)
    if domain not in DOMAINS:
        raise Http404("Unknown domain.")
    auto_match = _probability(request.POST.get("auto_match", ""))
    review = _probability(request.POST.get("review", ""))
    errors: dict[str, list[str]] = {}
    if auto_match is None:
        errors["auto_match"] = ["A number between 0 and 1."]
    if review is None:
        errors["review"] = ["A number between 0 and 1."]
    if not errors:
        try:
            row = change_thresholds(
                domain,
                auto_match,
                review,
                created_by=request.user.get_username(),
                note=request.POST.get("note", ""),
            )
        except KeyError:
            errors["auto_match"] = [f"{DOMAINS[domain].label} records are matched by identifiers."]
        except ValidationError as exc:
            errors = exc.message_dict
        else:
            messages.success(
                request,
                f"Saved {domain} match rules v{row.version}: auto-match at {auto_match:g}, "
                f"review from {review:g}.",
            )
            return redirect(rules_url(domain, "versions"))
    context = _rules_context(
        request,
        domain,
        threshold_errors=errors,
        posted={name: request.POST.get(name, "") for name in ("auto_match", "review")},
    )
    return render(request, "stewardship/rules/index.html", context, status=400)
