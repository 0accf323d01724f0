"""What the review page shows, computed without writing anything.

* the two compared records attribute by attribute, with each attribute's similarity, level and
  contribution from the stored explanation, and the system and age of each value;
* the survivorship preview: the golden record a merge would make (``preview_merge``: the same
  strategies, source records and overrides merge_golden would use), with the values a steward
  may choose instead;
* the propagation preview: what each subscription of the domain would receive, rendered by
  ``sync.delivery.render`` from an unsaved event (their field names, their ids).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from golden_records.attributes import Reference
from golden_records.domains import DomainSpec, get_domain
from golden_records.models import GOLDEN_MODELS, GoldenStatus, SourceRecord
from golden_records.services import preview_merge
from golden_records.survivorship import SourceView
from golden_records.values import golden_attributes, set_golden_value
from matching.models import MatchReview
from sync.delivery import render
from sync.models import Delivery, EventType, OutboxEvent, Subscription
from sync.outbox import event_payload


@dataclass
class Choice:
    token: str
    value: Any
    label: str
    chosen: bool


@dataclass
class Row:
    name: str
    label: str
    left: Any
    right: Any
    left_at: dt.datetime | None
    right_at: dt.datetime | None
    state: str  # same, differ, left_only, right_only, empty
    comparisons: list[dict[str, Any]]
    result: Any
    result_system: str
    result_at: dt.datetime | None
    result_rule: str
    choices: list[Choice] = field(default_factory=list)

    @property
    def similarity(self) -> float | None:
        values = [c["similarity"] for c in self.comparisons if c.get("similarity") is not None]
        return max(values) if values else None

    @property
    def contribution(self) -> float | None:
        if not self.comparisons:
            return None
        return round(sum(c.get("contribution") or 0.0 for c in self.comparisons), 3)

    @property
    def level(self) -> str:
        return ", ".join(c.get("level", "") for c in self.comparisons)


@dataclass
class SubscriberPreview:
    subscription: Subscription
    their_id: str | None
    merged_id: str | None
    fields: list[tuple[str, Any, bool]]  # their name, value, changed
    body: str


@dataclass
class ReviewPreview:
    spec: DomainSpec
    mine: uuid.UUID
    theirs: uuid.UUID
    survivor: uuid.UUID
    merged: uuid.UUID | None
    rows: list[Row]
    hidden: int
    extra_explanation: list[dict[str, Any]]
    subscribers: list[SubscriberPreview]
    sources: list[SourceView]
    golden_versions: dict[uuid.UUID, int]
    active: bool


def _value(attribute: Any, record: SourceRecord) -> Any:
    if isinstance(attribute, Reference):
        return (record.references or {}).get(attribute.name)
    return (record.canonical or {}).get(attribute.name)


def _empty(value: Any) -> bool:
    return value in (None, "")


def _display(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "" if value is None else str(value)


def _parse(at: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(at) if at else None


def choice_token(view: SourceView) -> str:
    return f"s{view.id}"


def build(review: MatchReview) -> ReviewPreview:
    spec = get_domain(review.domain)
    left, right = review.source_record, review.candidate_record
    mine, theirs = left.golden_id, right.golden_id
    survivor, merged = (mine, None) if mine == theirs else tuple(sorted([mine, theirs], key=_age))
    preview = preview_merge(spec.name, survivor, [merged] if merged else [])
    model = GOLDEN_MODELS[spec.name]
    goldens = {g.pk: g for g in model.objects.filter(pk__in={mine, theirs})}
    active = all(g.record_status == GoldenStatus.ACTIVE for g in goldens.values())

    by_feature: dict[str, list[dict[str, Any]]] = defaultdict(list)
    extra = []
    for entry in (review.explanation or {}).get("comparisons", []):
        feature = entry.get("feature")
        if feature:
            by_feature[feature.split(".", 1)[0]].append(entry)
        else:
            extra.append(entry)

    left_at = left.source_updated_at or left.received_at
    right_at = right.source_updated_at or right.received_at
    rows, hidden = [], 0
    for attribute in spec.attributes:
        name = attribute.name
        a, b = _value(attribute, left), _value(attribute, right)
        result, lineage = preview.values[name]
        lineage = lineage or {}
        if _empty(a) and _empty(b) and _empty(result):
            hidden += 1
            continue
        if _empty(a) and _empty(b):
            state = "empty"
        elif _empty(a):
            state = "right_only"
        elif _empty(b):
            state = "left_only"
        else:
            state = "same" if a == b else "differ"
        row = Row(
            name=name,
            label=attribute.verbose_name,
            left=_display(a),
            right=_display(b),
            left_at=left_at if not _empty(a) else None,
            right_at=right_at if not _empty(b) else None,
            state=state,
            comparisons=by_feature.get(name, []),
            result=_display(result),
            result_system=lineage.get("system") or lineage.get("steward", ""),
            result_at=_parse(lineage.get("at")),
            result_rule=lineage.get("rule", ""),
        )
        if not isinstance(attribute, Reference):
            row.choices = _choices(name, result, lineage, preview.sources)
        rows.append(row)

    versions = {g.pk: g.version for g in goldens.values()}
    subscribers = _subscribers(
        spec, review, survivor, merged, goldens, {n: v for n, (v, _) in preview.values.items()}
    )
    return ReviewPreview(
        spec, mine, theirs, survivor, merged, rows, hidden, extra, subscribers,
        preview.sources, versions, active,
    )  # fmt: skip


def _choices(name: str, result: Any, lineage: dict, sources: list[SourceView]) -> list[Choice]:
    """Distinct values the linked records hold for one attribute; survivorship's is chosen."""
    seen: dict[str, Choice] = {}
    for view in sources:
        value = view.canonical.get(name)
        if _empty(value):
            continue
        key = json.dumps(value, sort_keys=True, default=str)
        if key in seen:
            seen[key].label += f", {view.system}"
            continue
        seen[key] = Choice(
            choice_token(view), value, f"{_display(value)} · {view.system}", value == result
        )
    choices = list(seen.values())
    return choices if len(choices) > 1 else []


def chosen_values(review: MatchReview, post: Any) -> dict[str, Any]:
    """The canonical values a merge form chose (``keep_<attribute>`` = ``s<source record id>``),
    read from the source records of the two golden records, never from the form."""
    spec = get_domain(review.domain)
    wanted: dict[str, int] = {}
    for attribute in spec.attributes:
        token = post.get(f"keep_{attribute.name}", "")
        if token.startswith("s") and token[1:].isdigit() and not isinstance(attribute, Reference):
            wanted[attribute.name] = int(token[1:])
    if not wanted:
        return {}
    golden_ids = {review.source_record.golden_id, review.candidate_record.golden_id}
    records = dict(
        SourceRecord.objects.filter(
            domain=spec.name, golden_id__in=golden_ids, pk__in=set(wanted.values())
        ).values_list("pk", "canonical")
    )
    return {
        name: records[pk][name]
        for name, pk in wanted.items()
        if pk in records and not _empty(records[pk].get(name))
    }


def _subscribers(
    spec: DomainSpec,
    review: MatchReview,
    survivor: uuid.UUID,
    merged: uuid.UUID | None,
    goldens: dict[uuid.UUID, Any],
    values: dict[str, Any],
) -> list[SubscriberPreview]:
    subscriptions = [
        s
        for s in Subscription.objects.select_related("system").order_by("name")
        if s.wants(spec.name)
    ]
    if not subscriptions or survivor not in goldens:
        return []
    # Their ids: the survivor keeps the one it has (the record linked first); the merged record's
    # records move to it, so a subscriber that only knew the merged record keeps that id.
    held: dict[tuple[int, uuid.UUID], str] = {}
    rows = (
        SourceRecord.objects.filter(
            domain=spec.name,
            system_id__in={s.system_id for s in subscriptions},
            golden_id__in={survivor, merged} - {None},
        )
        .order_by("-linked_at", "-id")
        .values_list("system_id", "golden_id", "source_id")
    )
    for system_id, golden_id, source_id in rows:
        held[(system_id, golden_id)] = source_id
    current = golden_attributes(goldens[survivor])
    changed = {
        a.name
        for a in spec.attributes
        if _same_form(a, values[a.name]) != _same_form(a, current.get(a.name))
    }
    model = GOLDEN_MODELS[spec.name]
    obj = model(
        golden_id=survivor,
        version=goldens[survivor].version + 1,
        record_status=GoldenStatus.ACTIVE,
        updated_at=timezone.now(),
    )
    for attribute in spec.attributes:
        set_golden_value(obj, attribute, values[attribute.name])
    event = OutboxEvent(
        id=uuid.uuid4(),
        domain=spec.name,
        golden_id=survivor,
        version=obj.version,
        type=EventType.UPDATED,
        payload=event_payload(spec.name, obj, EventType.UPDATED),
    )
    previews = []
    for subscription in subscriptions:
        their_id = held.get((subscription.system_id, survivor)) or (
            held.get((subscription.system_id, merged)) if merged else None
        )
        merged_id = held.get((subscription.system_id, merged)) if merged else None
        delivery = Delivery(event=event, subscription=subscription, domain=spec.name)
        body = json.loads(render(delivery, their_id, {}))
        names = subscription.fields.get(spec.name) or {}
        ours = {their: our for our, their in names.items()} if names else {}
        fields = [
            (their, _display(value), ours.get(their, their) in changed)
            for their, value in body.get("record", {}).items()
        ]
        previews.append(
            SubscriberPreview(subscription, their_id, merged_id, fields, json.dumps(body, indent=2))
        )
    return previews


def _same_form(attribute: Any, value: Any) -> Any:
    """A canonical value as the golden record stores it (25000.00 and "25000.00" are equal)."""
    if _empty(value) or isinstance(attribute, Reference):
        return value or None
    return attribute.to_json(attribute.to_python(value))


def _age(golden_id: uuid.UUID) -> int:
    """As matching.reviews decides: the older golden id (UUIDv7) survives."""
    return golden_id.int
