"""apply_ownership: recompute golden records from their linked source records.

Called by ingest for every golden record a batch touched, after a reference resolves, and when a
steward sets or clears an override. Only a change of value makes a new version (with a history
row naming the changed fields); a change of lineage alone (the same value now supplied by another
record) is stored without one.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from golden_records.bulk import bulk_insert, bulk_update_rows
from golden_records.domains import DomainSpec, get_domain
from golden_records.hierarchy import (
    CYCLIC_REFERENCE,
    check_parent,
    closes_cycle,
    parent_map,
    self_references,
)
from golden_records.history import ChangeOrigin, origin_scope, write_history
from golden_records.models import (
    GOLDEN_MODELS,
    AttributeOverride,
    GoldenRecord,
    GoldenStatus,
    OwnershipRule,
    SourceRecord,
    SourceSystem,
)
from golden_records.survivorship import OverrideView, SourceView, Strategy, strategy_for, survive
from golden_records.values import golden_value, set_golden_value
from sync.models import EventType
from sync.outbox import EventNote, record_changes


def load_strategies(spec: DomainSpec) -> dict[str, Strategy]:
    """The strategy of every attribute: the database rule, else the domain's declared default."""
    rules = {r.attribute: r for r in OwnershipRule.objects.filter(domain=spec.name)}
    strategies: dict[str, Strategy] = {}
    for attribute in spec.attributes:
        rule = rules.get(attribute.name)
        if rule is not None:
            strategies[attribute.name] = strategy_for(
                rule.strategy, rule.systems, rule.fallback_to_any
            )
        else:
            default = spec.ownership_for(attribute.name)
            strategies[attribute.name] = strategy_for(
                default.strategy, default.systems, default.fallback_to_any
            )
    return strategies


def _system_codes() -> dict[int, str]:
    return dict(SourceSystem.objects.values_list("id", "code"))


def _source_views(
    spec: DomainSpec, golden_ids: Collection[uuid.UUID]
) -> dict[Any, list[SourceView]]:
    codes = _system_codes()
    views: dict[Any, list[SourceView]] = defaultdict(list)
    rows = SourceRecord.objects.filter(domain=spec.name, golden_id__any=golden_ids).values_list(
        "id",
        "system_id",
        "source_id",
        "canonical",
        "references",
        "source_updated_at",
        "received_at",
        "golden_id",
    )
    for pk, system_id, source_id, canonical, references, updated, received, golden_id in rows:
        views[golden_id].append(
            SourceView(pk, codes[system_id], source_id, canonical, references, updated or received)
        )
    return views


def _override_views(
    spec: DomainSpec, golden_ids: Collection[uuid.UUID]
) -> dict[Any, dict[str, OverrideView]]:
    views: dict[Any, dict[str, OverrideView]] = defaultdict(dict)
    rows = AttributeOverride.objects.filter(
        domain=spec.name, golden_id__any=golden_ids
    ).select_related("set_by")
    for row in rows:
        steward = row.set_by.get_username() if row.set_by else "steward"
        views[row.golden_id][row.attribute] = OverrideView(row.value, steward, row.set_at)
    return views


@dataclass(frozen=True)
class MergePreview:
    """What a merge would make of the survivor, computed without writing."""

    values: dict[str, tuple[Any, dict[str, Any] | None]]
    """Every attribute's surviving canonical value and its lineage, as ``survive`` gives them."""
    sources: list[SourceView]
    """The source records the survivor would hold (every record of every merged golden)."""
    overrides: dict[str, OverrideView]


def preview_merge(
    domain: str, survivor_id: uuid.UUID, merged_ids: Collection[uuid.UUID]
) -> MergePreview:
    """The survivor's attributes after ``merge_golden(domain, survivor_id, merged_ids)``.

    Read-only: the same strategies, source records and overrides merge_golden and
    apply_ownership would use (the survivor's overrides first, then those of the merged records
    for attributes the survivor has none of).
    """
    spec = get_domain(domain)
    ids = [survivor_id, *(g for g in merged_ids if g != survivor_id)]
    by_golden = _source_views(spec, ids)
    by_golden_overrides = _override_views(spec, ids)
    overrides: dict[str, OverrideView] = {}
    for golden_id in ids:
        for attribute, view in by_golden_overrides.get(golden_id, {}).items():
            overrides.setdefault(attribute, view)
    sources = [view for golden_id in ids for view in by_golden.get(golden_id, [])]
    values = survive(spec, load_strategies(spec), sources, overrides)
    return MergePreview(values, sources, overrides)


def apply_ownership(
    domain: str,
    golden_ids: Collection[uuid.UUID],
    origin: ChangeOrigin,
    new_golden_ids: Collection[uuid.UUID] = (),
    notes: Mapping[uuid.UUID, EventNote] | None = None,
    touch: Collection[uuid.UUID] = (),
) -> dict[uuid.UUID, int]:
    """Recompute the given golden records of ``domain``; create those in ``new_golden_ids``.

    Every new version gets an outbox event (``created`` or ``updated``, unless ``notes`` names
    another type for that record, such as ``unmerged``). Records in ``touch`` get a new version
    even when no value changed: the change is in their composition, which subscribers must hear.
    Returns each golden record's version afterwards.
    """
    spec = get_domain(domain)
    model = GOLDEN_MODELS[domain]
    if not golden_ids and not new_golden_ids:
        return {}
    with transaction.atomic():
        ids = set(golden_ids) | set(new_golden_ids)
        strategies = load_strategies(spec)
        sources = _source_views(spec, ids)
        overrides = _override_views(spec, ids)
        # Row locks in key order: two batches touching one golden record take turns.
        existing = {
            obj.pk: obj
            for obj in model.objects.select_for_update()
            .filter(pk__any=set(golden_ids) - set(new_golden_ids))
            .order_by("pk")
        }
        survived_of = {
            golden_id: survive(
                spec, strategies, sources.get(golden_id, []), overrides.get(golden_id, {})
            )
            for golden_id in ids
        }
        hierarchies = _hierarchies(spec, survived_of, set(new_golden_ids) - set(existing))
        now = timezone.now()
        created: list[GoldenRecord] = []
        changed: list[GoldenRecord] = []
        relineaged: list[GoldenRecord] = []
        changed_fields: dict[Any, list[str]] = {}
        for golden_id in sorted(ids):
            obj = existing.get(golden_id)
            is_new = obj is None
            if is_new:
                if golden_id not in new_golden_ids:
                    continue  # deleted meanwhile: nothing to recompute
                obj = model(golden_id=golden_id, version=1, created_at=now, updated_at=now)
            elif obj.record_status != GoldenStatus.ACTIVE:
                continue
            survived = survived_of[golden_id]
            fields: list[str] = []
            lineage: dict[str, Any] = {}
            for attribute in spec.attributes:
                value, origin_of_value = survived[attribute.name]
                parents = hierarchies.get(attribute.name)
                if parents is not None:
                    if value is not None and closes_cycle(parents, golden_id, value):
                        origin_of_value = {
                            **(origin_of_value or {}),
                            "refused": CYCLIC_REFERENCE,
                            "refused_value": value,
                        }
                        value = None
                    parents[golden_id] = uuid.UUID(value) if value else None
                if origin_of_value is not None:
                    lineage[attribute.name] = origin_of_value
                if golden_value(obj, attribute) != value:
                    set_golden_value(obj, attribute, value)
                    fields.append(attribute.name)
            lineage_changed = lineage != obj.lineage
            obj.lineage = lineage
            if is_new:
                created.append(obj)
                changed_fields[golden_id] = fields
            elif fields or golden_id in touch:
                obj.version += 1
                obj.updated_at = now
                changed.append(obj)
                changed_fields[golden_id] = fields
            elif lineage_changed:
                relineaged.append(obj)

        if created:
            bulk_insert(model, created)
            write_history(model, created, "+", origin, changed_fields, now)
        if changed:
            update_fields = [a.name for a in spec.attributes]
            bulk_update_rows(model, changed, [*update_fields, "version", "lineage", "updated_at"])
            write_history(model, changed, "~", origin, changed_fields, now)
        if relineaged:
            bulk_update_rows(model, relineaged, ["lineage"])
        notes = notes or {}
        record_changes(
            domain,
            [(obj, notes.get(obj.pk, EventNote(EventType.CREATED))) for obj in created]
            + [(obj, notes.get(obj.pk, EventNote(EventType.UPDATED))) for obj in changed],
            origin,
            now,
        )
        versions = {obj.pk: obj.version for obj in existing.values()}
        versions.update({obj.pk: obj.version for obj in created})
        return versions


def _hierarchies(
    spec: DomainSpec,
    survived_of: Mapping[uuid.UUID, Mapping[str, tuple[Any, Any]]],
    new_ids: Collection[uuid.UUID],
) -> dict[str, dict[uuid.UUID, uuid.UUID | None]]:
    """For each self-reference of ``spec`` (a customer's ``parent``): the stored parent of the
    records being recomputed, of the values survivorship proposes and of their ancestors.

    ``apply_ownership`` decides the records in key order and writes each decision into this map
    before the next: a proposed parent that is the record itself or whose ancestor chain (with
    the decisions already taken) reaches the record is not applied. The golden value is then
    empty rather than the previous one, which is a value the owner no longer sends; the lineage
    keeps the refused value and the code ``cyclic_reference``, so the record page shows why.
    The check sits here because every path that changes a golden parent ends here: ingest, a
    pending reference resolving, merge, unmerge, a steward override.
    """
    result: dict[str, dict[uuid.UUID, uuid.UUID | None]] = {}
    for ref in self_references(spec):
        proposed = {survived[ref.name][0] for survived in survived_of.values()}
        if not any(proposed):
            continue  # no parent proposed: no cycle can close (most batches: no query)
        start = {*survived_of, *(v for v in proposed if v)} - set(new_ids)
        parents = parent_map(spec.name, ref.name, start)
        parents.update(dict.fromkeys(new_ids))
        result[ref.name] = parents
    return result


def _current_golden(domain: str, golden_id: uuid.UUID) -> GoldenRecord:
    model = GOLDEN_MODELS[domain]
    obj = model.objects.select_for_update().get(pk=golden_id)
    if obj.record_status != GoldenStatus.ACTIVE:
        raise ValueError(f"Golden record {golden_id} is {obj.record_status}, not active.")
    return obj


def set_override(
    domain: str,
    golden_id: uuid.UUID,
    attribute: str,
    raw_value: Any,
    user: Any,
    reason: str = "",
    channel: str = "ui",
) -> int:
    """A steward's value for one attribute; wins over every rule until cleared.

    The value is normalised and validated like a source value. Returns the new version.
    """
    return set_overrides(domain, golden_id, {attribute: raw_value}, user, reason, channel)


def set_overrides(
    domain: str,
    golden_id: uuid.UUID,
    raw_values: Mapping[str, Any],
    user: Any,
    reason: str = "",
    channel: str = "ui",
) -> int:
    """Steward values for several attributes at once: one new version of the golden record (one
    history row, one event for subscribers), not one per attribute. Every value is validated
    before anything is written. Returns the new version.
    """
    spec = get_domain(domain)
    canonical = {name: spec.attribute(name).clean(raw, {}) for name, raw in raw_values.items()}
    for ref in self_references(spec):
        if ref.name in canonical:
            check_parent(domain, ref.name, golden_id, canonical[ref.name])
    names = ", ".join(sorted(canonical))
    origin = ChangeOrigin.steward(user, channel=channel, reason=reason or f"override {names}")
    with transaction.atomic():
        _current_golden(domain, golden_id)
        with origin_scope(origin):
            for attribute, value in canonical.items():
                AttributeOverride.objects.update_or_create(
                    domain=domain,
                    golden_id=golden_id,
                    attribute=attribute,
                    defaults={"value": value, "reason": reason, "set_by": user},
                )
        return apply_ownership(domain, [golden_id], origin)[golden_id]


def clear_override(
    domain: str, golden_id: uuid.UUID, attribute: str, user: Any, channel: str = "ui"
) -> int:
    """Remove a steward override: the ownership rule decides the attribute again."""
    origin = ChangeOrigin.steward(user, channel=channel, reason=f"clear override {attribute}")
    with transaction.atomic():
        _current_golden(domain, golden_id)
        with origin_scope(origin):
            for row in AttributeOverride.objects.filter(
                domain=domain, golden_id=golden_id, attribute=attribute
            ):
                row.delete()
        return apply_ownership(domain, [golden_id], origin)[golden_id]
