"""The golden-record browser: search across the four domains, one record's full picture, and the
steward's unmerge (with its audit row).

Search finds records three ways, each an indexed lookup or a bounded scan:

* by hub golden id (a full UUID): the primary key of each domain's table; a merged-away id
  resolves to its survivor and says so;
* by any system's id (``SourceRecord.source_id``, exact): the unique (system, domain, source_id)
  index, asked with every system and domain in scope so the index's leading columns are used;
* by name: case-insensitive "contains" over the domain's text display attributes
  (``DomainSpec.display``: a customer's name, an item's name and SKU, a location's name, code and
  street, a price's list), each domain ordered and cut at the page's end, merged in Python.

A page costs at most one query per domain for the ids, one per domain for the rows and one for
their systems, whatever the number of records.

The detail page reuses the read model (golden_records/read.py: discrepancies) and adds what only
a steward needs: the account hierarchy or prices, open match reviews, the latest delivery per
subscription, the history with field-level diffs, and the steward decisions about the record.
Each part is one query with a limit.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.db import connection, transaction
from django.db.models import Count, Max, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Collate, Lower

from golden_records.attributes import Code, Reference, Text
from golden_records.domains import DOMAIN_CHOICES, DOMAINS, DomainSpec, get_domain
from golden_records.history import ChangeOrigin
from golden_records.models import (
    GOLDEN_MODELS,
    AttributeOverride,
    Channel,
    GoldenRecord,
    GoldenStatus,
    SourceRecord,
    SourceSystem,
)
from golden_records.read import discrepancies
from golden_records.services import MergeError, load_strategies, unmerge
from golden_records.survivorship import OverrideView, SourceView, survive
from golden_records.values import golden_attributes
from matching.models import MatchReview, ReviewStatus
from stewardship.models import ChangeApproval, StewardDecision
from stewardship.services import StewardshipError, merge_review_of
from sync.models import Delivery, Subscription

PER_PAGE = 50
MAX_PAGE = 200
"""Deeper pages are not offered: a steward narrows the search instead."""
LIMIT = 50
"""Rows shown per section of the detail page (history, reviews, decisions, children …)."""

STATUSES = {
    "active": "Active",
    "merged": "Merged away",
    "retired": "Retired",
    "all": "Any status",
}
SORTS = {"updated": "Recently changed", "name": "Name A to Z"}


def search_attributes(spec: DomainSpec) -> tuple[str, ...]:
    """The attributes the search box matches by name: the domain's text display attributes."""
    return tuple(
        name for name in spec.display if isinstance(spec.attribute(name), Text | Code)
    ) or (spec.display[0],)


def label(obj: GoldenRecord) -> str:
    """A golden record's name for people (its domain's display attributes)."""
    return str(obj)


def parse_uuid(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text.strip())
    except ValueError:
        return None


class RecordSearch(forms.Form):
    """The browser's search box, filters and sort, from the query string."""

    q = forms.CharField(max_length=255, required=False, strip=True)
    domain = forms.ChoiceField(choices=[("", "All domains"), *DOMAIN_CHOICES], required=False)
    status = forms.ChoiceField(choices=list(STATUSES.items()), required=False)
    system = forms.ChoiceField(choices=[], required=False)
    sort = forms.ChoiceField(choices=list(SORTS.items()), required=False)

    def __init__(self, data: Any, *args: Any, **kwargs: Any):
        super().__init__(data, *args, **kwargs)
        self.fields["system"].choices = [
            ("", "All systems"),
            *SourceSystem.objects.order_by("code").values_list("code", "code"),
        ]

    def value(self, name: str) -> str:
        """A field's clean value; "" for a field whose value cannot be used (the others still
        apply, as in the review queue's filters)."""
        if not self.is_bound:
            return ""
        if self.is_valid():
            return self.cleaned_data.get(name) or ""
        return "" if name in self.errors else self.cleaned_data.get(name) or ""

    @property
    def domains(self) -> list[str]:
        return [self.value("domain")] if self.value("domain") else list(DOMAINS)

    @property
    def record_status(self) -> str:
        return self.value("status") or "active"

    @property
    def ordering(self) -> str:
        return self.value("sort") or "updated"

    def query(self, names: tuple[str, ...] = ("q", "domain", "status", "system", "sort")) -> str:
        return urlencode({n: self.value(n) for n in names if self.value(n)})


@dataclass
class Hit:
    """A record the search found by id: how, and (for a merged-away id) which id was asked."""

    domain: str
    golden_id: uuid.UUID
    how: str
    resolved_from: uuid.UUID | None = None
    obj: GoldenRecord | None = None
    systems: list[tuple[str, int]] = field(default_factory=list)


@dataclass
class Row:
    domain: str
    obj: GoldenRecord
    systems: list[tuple[str, int]] = field(default_factory=list)


@dataclass
class SearchResult:
    hits: list[Hit]
    rows: list[Row]
    page: int
    has_next: bool

    @property
    def start(self) -> int:
        return (self.page - 1) * PER_PAGE + 1 if self.rows else 0

    @property
    def end(self) -> int:
        return (self.page - 1) * PER_PAGE + len(self.rows)


def _system_ids(form: RecordSearch) -> list[int]:
    codes = [form.value("system")] if form.value("system") else None
    systems = SourceSystem.objects.all()
    if codes:
        systems = systems.filter(code__in=codes)
    return list(systems.values_list("pk", flat=True))


def id_hits(form: RecordSearch) -> list[Hit]:
    """Records the search text names by golden id or by a system's id."""
    text = form.value("q")
    if not text:
        return []
    hits: list[Hit] = []
    golden_id = parse_uuid(text)
    if golden_id is not None:
        for domain in form.domains:
            row = (
                GOLDEN_MODELS[domain]
                .objects.filter(pk=golden_id)
                .values("record_status", "merged_into")
                .first()
            )
            if row is None:
                continue
            if row["record_status"] == GoldenStatus.MERGED and row["merged_into"]:
                # merge_golden keeps merged ids pointed at the final survivor.
                survivor = row["merged_into"]
                hits.append(Hit(domain, survivor, "merged golden id", resolved_from=golden_id))
            else:
                hits.append(Hit(domain, golden_id, "golden id"))
    system_ids = _system_ids(form)
    if system_ids:
        records = (
            SourceRecord.objects.filter(
                system_id__in=system_ids, domain__in=form.domains, source_id=text
            )
            .select_related("system")
            .only("domain", "golden_id", "source_id", "system__code")
            .order_by("domain", "system__code")[:LIMIT]
        )
        seen = {(h.domain, h.golden_id) for h in hits}
        for record in records:
            if (record.domain, record.golden_id) not in seen:
                seen.add((record.domain, record.golden_id))
                hits.append(Hit(record.domain, record.golden_id, f"{record.system.code} id {text}"))
    return hits


def _name_query(form: RecordSearch, domain: str) -> QuerySet:
    spec = get_domain(domain)
    rows = GOLDEN_MODELS[domain].objects.all()
    if form.record_status != "all":
        rows = rows.filter(record_status=form.record_status)
    if text := form.value("q"):
        matches = Q()
        for name in search_attributes(spec):
            matches |= Q(**{f"{name}__icontains": text})
        rows = rows.filter(matches)
    if system := form.value("system"):
        rows = rows.filter(
            golden_id__in=SourceRecord.objects.filter(domain=domain, system__code=system).values(
                "golden_id"
            )
        )
    return rows


def _sort_key(form: RecordSearch, domain: str) -> tuple[Any, tuple[str, ...]]:
    if form.ordering == "name":
        key = Lower(get_domain(domain).display[0])
        # Byte order, as Python sorts the domains' rows together (a locale's order differs).
        if connection.vendor == "postgresql":
            key = Collate(key, "C")
        return key, ("key", "golden_id")
    return None, ("-updated_at", "-golden_id")


def name_rows(form: RecordSearch, page: int) -> tuple[list[tuple[str, uuid.UUID]], bool]:
    """The (domain, golden id) pairs of one page of name matches, and whether more follow."""
    upto = page * PER_PAGE + 1
    found: list[tuple[Any, uuid.UUID, str]] = []
    for domain in form.domains:
        key, order = _sort_key(form, domain)
        rows = _name_query(form, domain)
        if key is not None:
            rows = rows.annotate(key=key)
            values = rows.order_by(*order).values_list("key", "golden_id")[:upto]
        else:
            values = rows.order_by(*order).values_list("updated_at", "golden_id")[:upto]
        found += [(k if k is not None else "", g, domain) for k, g in values]
    found.sort(key=lambda r: (r[0], r[1]), reverse=form.ordering == "updated")
    window = found[(page - 1) * PER_PAGE : upto]
    return [(d, g) for _, g, d in window[:PER_PAGE]], len(window) > PER_PAGE


def _load(pairs: list[tuple[str, uuid.UUID]]) -> dict[tuple[str, uuid.UUID], GoldenRecord]:
    """Golden records by (domain, id): one query per domain."""
    by_domain: dict[str, set[uuid.UUID]] = defaultdict(set)
    for domain, golden_id in pairs:
        by_domain[domain].add(golden_id)
    loaded = {}
    for domain, ids in by_domain.items():
        for obj in GOLDEN_MODELS[domain].objects.filter(pk__in=ids):
            loaded[(domain, obj.pk)] = obj
    return loaded


def _systems(pairs: list[tuple[str, uuid.UUID]]) -> dict[tuple[str, uuid.UUID], list]:
    """Per record, its systems and how many of their records it holds: one query."""
    if not pairs:
        return {}
    found: dict[tuple[str, uuid.UUID], list] = defaultdict(list)
    rows = (
        SourceRecord.objects.filter(
            domain__in={d for d, _ in pairs}, golden_id__in={g for _, g in pairs}
        )
        .values_list("domain", "golden_id", "system__code")
        .annotate(n=Count("pk"))
        .order_by("domain", "golden_id", "system__code")
    )
    for domain, golden_id, code, n in rows:
        found[(domain, golden_id)].append((code, n))
    return found


def search(form: RecordSearch, page: int) -> SearchResult:
    """Id matches and one page of name matches, with their objects and systems loaded."""
    page = max(1, min(page, MAX_PAGE))
    hits = id_hits(form)
    pairs, has_next = name_rows(form, page)
    if page >= MAX_PAGE:
        has_next = False
    everything = [*pairs, *((h.domain, h.golden_id) for h in hits)]
    objects = _load(everything)
    systems = _systems(list(objects))
    for hit in hits:
        hit.obj = objects.get((hit.domain, hit.golden_id))
        hit.systems = systems.get((hit.domain, hit.golden_id), [])
    rows = [
        Row(domain, objects[(domain, g)], systems.get((domain, g), []))
        for domain, g in pairs
        if (domain, g) in objects
    ]
    return SearchResult([h for h in hits if h.obj is not None], rows, page, has_next)


# -- one record ----------------------------------------------------------------------------------


def display(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "" if value is None else str(value)


def _when(text: str | None) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(text) if text else None
    except ValueError:
        return None


def load_record(domain: str, golden_id: uuid.UUID) -> GoldenRecord | None:
    """The golden row with the records it references (one query)."""
    spec = get_domain(domain)
    return (
        GOLDEN_MODELS[domain]
        .objects.select_related(*(r.name for r in spec.references))
        .filter(pk=golden_id)
        .first()
    )


def source_records(obj: GoldenRecord) -> list[SourceRecord]:
    """Every source record linked to the golden record (the cross-references), oldest link first."""
    return list(
        SourceRecord.objects.select_related("system")
        .filter(domain=obj.domain.name, golden_id=obj.pk)
        .defer("payload")
        .order_by("linked_at", "id")
    )


def _views(sources: list[SourceRecord]) -> list[SourceView]:
    return [
        SourceView(
            sr.pk,
            sr.system.code,
            sr.source_id,
            sr.canonical,
            sr.references,
            sr.source_updated_at or sr.received_at,
        )
        for sr in sources
    ]


@dataclass
class AttributeRow:
    name: str
    label: str
    value: str
    reference: Any = None
    lineage: dict[str, Any] = field(default_factory=dict)
    override: Any = None
    others: list[dict[str, Any]] = field(default_factory=list)

    @property
    def by_steward(self) -> bool:
        return self.lineage.get("rule") == "override" or self.override is not None

    @property
    def at(self) -> dt.datetime | None:
        return _when(self.lineage.get("at"))


def attribute_rows(
    obj: GoldenRecord, sources: list[SourceRecord], overrides: list[AttributeOverride]
) -> tuple[list[AttributeRow], int, int]:
    """Each attribute with a value (or a differing value somewhere): its lineage, steward
    override and the values other systems hold (``read.discrepancies``). Also the number of
    empty attributes hidden and of discrepancies."""
    spec = obj.domain
    values = golden_attributes(obj)
    others: dict[str, list[dict[str, Any]]] = defaultdict(list)
    found = discrepancies(obj, sources)
    for entry in found:
        others[entry["attribute"]].append(entry)
    by_attribute = {o.attribute: o for o in overrides}
    rows, hidden = [], 0
    for attribute in spec.attributes:
        name = attribute.name
        value = values[name]
        if value in (None, "") and not others.get(name) and name not in by_attribute:
            hidden += 1
            continue
        reference = getattr(obj, name) if isinstance(attribute, Reference) and value else None
        rows.append(
            AttributeRow(
                name=name,
                label=attribute.verbose_name,
                value=display(value),
                reference=reference,
                lineage=(obj.lineage or {}).get(name) or {},
                override=by_attribute.get(name),
                others=others.get(name, []),
            )
        )
    return rows, hidden, len(found)


def overrides_of(obj: GoldenRecord) -> list[AttributeOverride]:
    return list(
        AttributeOverride.objects.filter(domain=obj.domain.name, golden_id=obj.pk)
        .select_related("set_by")
        .order_by("attribute")
    )


def merged_from(obj: GoldenRecord) -> list[uuid.UUID]:
    """Golden ids merged into this record (they resolve to it)."""
    return list(
        type(obj)
        .objects.filter(merged_into=obj.pk)
        .order_by("updated_at")
        .values_list("pk", flat=True)[:LIMIT]
    )


def hierarchy(obj: GoldenRecord) -> dict[str, Any]:
    """A customer's parent, children and locations; an item's prices (active ones, limited)."""
    domain = obj.domain.name
    if domain == "customer":
        children = GOLDEN_MODELS["customer"].objects.filter(
            parent_id=obj.pk, record_status=GoldenStatus.ACTIVE
        )
        locations = GOLDEN_MODELS["location"].objects.filter(
            customer_id=obj.pk, record_status=GoldenStatus.ACTIVE
        )
        return {
            "parent": obj.parent if obj.parent_id else None,
            "children": list(children.order_by("name", "golden_id")[:LIMIT]),
            "locations": list(locations.order_by("kind", "name", "golden_id")[:LIMIT]),
        }
    if domain == "item":
        prices = (
            GOLDEN_MODELS["price"]
            .objects.filter(item_id=obj.pk, record_status=GoldenStatus.ACTIVE)
            .select_related("customer")
            .order_by("price_list", "currency", "min_quantity", "-valid_from")
        )
        return {"prices": list(prices[:LIMIT])}
    return {}


def open_reviews(obj: GoldenRecord) -> list[MatchReview]:
    """Open match reviews naming this record or one of its source records."""
    linked = SourceRecord.objects.filter(domain=obj.domain.name, golden_id=obj.pk).values("pk")
    return list(
        MatchReview.objects.filter(status=ReviewStatus.OPEN, domain=obj.domain.name)
        .filter(
            Q(source_record_id__in=linked)
            | Q(candidate_record_id__in=linked)
            | Q(candidate_golden_id=obj.pk)
        )
        .select_related("source_record__system", "candidate_record__system")
        .defer("source_record__payload", "candidate_record__payload")
        .order_by("-probability", "id")[:LIMIT]
    )


def pending_approvals(obj: GoldenRecord, also: list[uuid.UUID]) -> list[ChangeApproval]:
    """Change approvals waiting on this record (or on an id merged into it, which approving
    applies to this survivor), oldest first: one query."""
    spec = get_domain(obj.domain.name)
    pending = list(
        ChangeApproval.objects.filter(
            domain=obj.domain.name,
            golden_id__in=[obj.pk, *also],
            state=ChangeApproval.State.PENDING,
        )
        .select_related("system", "source_record")
        .defer("source_record__payload")
        .order_by("created_at", "id")[:LIMIT]
    )
    for approval in pending:
        attribute = spec.attributes_by_name.get(approval.attribute)
        approval.attribute_label = attribute.verbose_name if attribute else approval.attribute
    return pending


@dataclass
class DeliveryState:
    subscription: Subscription
    delivery: Delivery | None


def deliveries(obj: GoldenRecord) -> list[DeliveryState]:
    """Per subscription to the domain, the latest delivery of this record (two queries)."""
    domain = obj.domain.name
    latest = (
        Delivery.objects.filter(subscription=OuterRef("pk"), golden_id=obj.pk)
        .order_by("-created_at", "-id")
        .values("pk")[:1]
    )
    subscriptions = [
        s
        for s in Subscription.objects.select_related("system")
        .annotate(latest=Subquery(latest))
        .order_by("name")
        if s.wants(domain) or s.latest
    ]
    ids = [s.latest for s in subscriptions if s.latest]
    found = {
        d.pk: d
        for d in Delivery.objects.filter(pk__in=ids)
        .select_related("event")
        .only(
            "status",
            "version",
            "attempts",
            "next_attempt_at",
            "created_at",
            "delivered_at",
            "last_status_code",
            "last_error",
            "subscription_id",
            "event__type",
        )
        .annotate(last_attempt=Max("attempt_rows__started_at"))
    }
    return [DeliveryState(s, found.get(s.latest)) for s in subscriptions]


@dataclass
class Change:
    attribute: str
    name: str
    old: str
    new: str


@dataclass
class HistoryEntry:
    row: Any
    changes: list[Change]

    @property
    def kind(self) -> str:
        return {"+": "created", "~": "changed", "-": "deleted"}.get(self.row.history_type, "")


STATUS_FIELDS = ("record_status", "merged_into")


def _history_values(spec: DomainSpec, row: Any) -> dict[str, str]:
    values = {name: display(v) for name, v in golden_attributes(row, spec).items()}
    values["record_status"] = row.record_status
    values["merged_into"] = str(row.merged_into) if row.merged_into else ""
    return values


def history(obj: GoldenRecord, limit: int = LIMIT) -> tuple[list[HistoryEntry], bool]:
    """The newest ``limit`` history rows, each with the fields it changed (old -> new) against
    the row before it; whether older rows exist. One query (``limit`` + 1 rows)."""
    spec = obj.domain
    rows = list(
        type(obj)
        .history.filter(golden_id=obj.pk)
        .order_by("-history_date", "-history_id")[: limit + 1]
    )
    labels = {a.name: a.verbose_name for a in spec.attributes}
    labels.update({"record_status": "status", "merged_into": "merged into"})
    entries = []
    values = [_history_values(spec, row) for row in rows]
    for i, row in enumerate(rows[:limit]):
        new = values[i]
        old = values[i + 1] if i + 1 < len(rows) else {}
        changes = [
            Change(name, labels[name], old.get(name, ""), value)
            for name, value in new.items()
            if value != old.get(name, "") and not (not old and name in STATUS_FIELDS)
        ]
        entries.append(HistoryEntry(row, changes))
    _name_references(spec, entries)
    return entries, len(rows) > limit


def _name_references(spec: DomainSpec, entries: list[HistoryEntry]) -> None:
    """Golden ids in reference changes shown as the records' names: one query per referenced
    domain."""
    targets = {r.name: r.domain for r in spec.references}
    wanted: dict[str, set[str]] = defaultdict(set)
    for entry in entries:
        for change in entry.changes:
            if change.attribute in targets:
                wanted[targets[change.attribute]] |= {v for v in (change.old, change.new) if v}
    names: dict[str, str] = {}
    for domain, ids in wanted.items():
        valid = [g for g in map(parse_uuid, ids) if g is not None]
        for obj in GOLDEN_MODELS[domain].objects.filter(pk__in=valid):
            names[str(obj.pk)] = label(obj)
    for entry in entries:
        for change in entry.changes:
            if change.attribute in targets:
                change.old = names.get(change.old, change.old)
                change.new = names.get(change.new, change.new)


def decisions(obj: GoldenRecord, also: list[uuid.UUID]) -> list[StewardDecision]:
    """Steward decisions about this record: those naming it (or an id merged into it), and
    those on match reviews of its source records. Newest first."""
    ids = [obj.pk, *also]
    linked = SourceRecord.objects.filter(domain=obj.domain.name, golden_id=obj.pk).values("pk")
    reviews = MatchReview.objects.filter(
        Q(source_record_id__in=linked) | Q(candidate_record_id__in=linked)
    ).values("pk")
    return list(
        StewardDecision.objects.filter(
            Q(golden_id__in=ids) | Q(related_golden_id__in=ids) | Q(review_id__in=reviews)
        ).order_by("-created_at", "-id")[:LIMIT]
    )


# -- unmerge -------------------------------------------------------------------------------------


@dataclass
class UnmergePreview:
    moving: list[SourceRecord]
    staying: list[SourceRecord]
    new_values: list[tuple[str, str, str]]
    """(attribute, value, system) of the new record, as survivorship would compute it."""
    changed: list[tuple[str, str, str]]
    """(attribute, old, new) of the original record after the split."""
    subscriptions: list[Subscription]
    merge_overrides: list[tuple[str, str, int]] = field(default_factory=list)
    """(attribute, value, match review) of the overrides chosen in merges: they stay on this
    record after the split unless a steward clears them."""


def preview_unmerge(
    obj: GoldenRecord, sources: list[SourceRecord], chosen: set[int]
) -> UnmergePreview:
    """What ``unmerge`` would do, computed without writing: the same strategies; the new record
    gets no steward overrides (they stay with the original)."""
    spec = obj.domain
    moving = [s for s in sources if s.pk in chosen]
    staying = [s for s in sources if s.pk not in chosen]
    strategies = load_strategies(spec)
    rows = overrides_of(obj)
    overrides = {
        o.attribute: OverrideView(
            o.value, o.set_by.get_username() if o.set_by else "steward", o.set_at
        )
        for o in rows
    }
    from_merges = [
        (spec.attributes_by_name[o.attribute].verbose_name, display(o.value), review_id)
        for o in rows
        if (review_id := merge_review_of(o.reason)) is not None
        and o.attribute in spec.attributes_by_name
    ]
    new = survive(spec, strategies, _views(moving), {})
    left = survive(spec, strategies, _views(staying), overrides)
    current = golden_attributes(obj)
    new_values = [
        (a.verbose_name, display(new[a.name][0]), (new[a.name][1] or {}).get("system", ""))
        for a in spec.attributes
        if new[a.name][0] not in (None, "")
    ]
    changed = [
        (a.verbose_name, display(current[a.name]), after)
        for a in spec.attributes
        if display(current[a.name]) != (after := display(_comparable(a, left[a.name][0])))
    ]
    subscriptions = [
        s
        for s in Subscription.objects.select_related("system").order_by("name")
        if s.wants(spec.name)
    ]
    return UnmergePreview(moving, staying, new_values, changed, subscriptions, from_merges)


def _comparable(attribute: Any, value: Any) -> Any:
    """A survivorship value in the form the golden record stores it (25000.00 = "25000.00")."""
    if value in (None, "") or isinstance(attribute, Reference):
        return value
    return attribute.to_json(attribute.to_python(value))


class RecordsMoved(StewardshipError):
    """The source records chosen are no longer on the record: someone split them out first."""


def _moved_message(domain: str, golden_id: uuid.UUID, gone: set[int]) -> str:
    records = list(
        SourceRecord.objects.filter(pk__in=gone)
        .select_related("system")
        .only("source_id", "golden_id", "system__code")
    )
    names = ", ".join(f"{r.system.code} {r.source_id}" for r in records) or "they"
    where = {r.golden_id for r in records}
    decision = (
        StewardDecision.objects.filter(
            action=StewardDecision.Action.UNMERGE,
            golden_id=golden_id,
            related_golden_id__in=where,
        )
        .order_by("-created_at")
        .first()
    )
    who = (
        f" by {decision.actor_name} at {decision.created_at:%H:%M}" if decision is not None else ""
    )
    return (
        f"Nothing was changed: {names} {'is' if len(records) == 1 else 'are'} no longer linked "
        f"to this record (already split out{who})."
    )


def unmerge_records(
    domain: str, golden_id: uuid.UUID, source_record_ids: set[int], user: Any, note: str = ""
) -> StewardDecision:
    """Split the chosen source records out of ``golden_id`` into a new golden record
    (``golden_records.services.unmerge``: history, events for both records, never-match memory)
    and write the audit row. The golden row is locked first: of two stewards splitting the same
    records, the second finds them gone and gets ``RecordsMoved``; nothing is done twice."""
    if domain not in DOMAINS:
        raise StewardshipError("unknown_domain", f"Unknown domain {domain!r}.")
    if not source_record_ids:
        raise StewardshipError("nothing_selected", "Select the source records to split out.")
    model = GOLDEN_MODELS[domain]
    with transaction.atomic():
        golden = model.objects.select_for_update().filter(pk=golden_id).first()
        if golden is None:
            raise StewardshipError(
                "golden_record_not_found", f"No {domain} golden record {golden_id}."
            )
        if golden.record_status != GoldenStatus.ACTIVE:
            raise StewardshipError(
                "golden_record_not_active",
                f"Nothing was changed: this record is {golden.get_record_status_display()}.",
            )
        linked = source_records(golden)
        gone = set(source_record_ids) - {r.pk for r in linked}
        if gone:
            raise RecordsMoved("source_records_moved", _moved_message(domain, golden_id, gone))
        if len(source_record_ids) >= len(linked):
            raise StewardshipError(
                "invalid_split", "Leave at least one source record on the record."
            )
        moving = [r for r in linked if r.pk in source_record_ids]
        before = {
            "golden_id": str(golden_id),
            "version": golden.version,
            "attributes": golden_attributes(golden),
            "source_records": [_xref(r) for r in linked],
        }
        origin = ChangeOrigin.steward(user, Channel.UI, reason=note[:200])
        try:
            new_id = unmerge(domain, golden_id, [r.pk for r in moving], origin)
        except MergeError as exc:
            raise StewardshipError(exc.code, str(exc)) from exc
        objs = {o.pk: o for o in model.objects.filter(pk__in=[golden_id, new_id])}
        after = {
            "golden_id": str(golden_id),
            "version": objs[golden_id].version,
            "attributes": golden_attributes(objs[golden_id]),
            "new_golden_id": str(new_id),
            "new_version": objs[new_id].version,
            "new_attributes": golden_attributes(objs[new_id]),
            "moved": [_xref(r) for r in moving],
        }
        return StewardDecision.objects.create(
            review=None,
            domain=domain,
            golden_id=golden_id,
            related_golden_id=new_id,
            action=StewardDecision.Action.UNMERGE,
            actor=user,
            actor_name=user.get_username(),
            channel=Channel.UI,
            note=note[:500],
            before=before,
            after=after,
        )


def _xref(record: SourceRecord) -> dict[str, Any]:
    return {"id": record.pk, "system": record.system.code, "source_id": record.source_id}
