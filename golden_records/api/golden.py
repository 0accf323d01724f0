"""Golden-record read API, one list and one detail route per domain.

``GET /api/v1/golden/{domain}``                 golden records, filtered, in cursor pages
``GET /api/v1/golden/{domain}/{golden_id}``     one golden record with lineage, overrides,
                                                cross-references and discrepancies

Both are generated for every domain of golden_records/domains.py (``golden_urlpatterns``), with
the domain's own serializers (golden_records/api/serializers.py: ``golden_serializers``), so the
schema shows each domain's attributes and filters.

**List.** Ordered by ``(updated_at, golden_id)``, oldest change first; the page ends with an
opaque ``next_cursor`` (keyset: the last row's ``updated_at`` and ``golden_id``), so a record
inserted or changed while a client pages appears once, on a later page, and none is skipped or
repeated for it. A record that changes while a client pages moves to the end (it is read again,
with its new values): paging with ``updated_since`` is a change feed. Filters:

* ``record_status=active`` (``active``, ``merged``, ``retired``; comma-separated for several);
  every status by default. (``status`` is a customer attribute.)
* ``updated_since=<ISO 8601>``: changed at or after that moment.
* ``{attribute}=value`` for any attribute, and ``{attribute}__{lookup}=value`` with the lookups of
  its kind (``ATTRIBUTE_LOOKUPS``): text ``icontains``, ``istartswith``; numbers and dates
  ``gt``, ``gte``, ``lt``, ``lte``; all ``in`` (comma-separated values) but booleans; all
  ``isnull`` (``true``: empty). Equality and ``in`` compare canonical values: a filter value is
  normalised as an ingested one is (``country=Germany`` finds ``DE``, ``sku=ab-1`` finds
  ``AB-1``). Reference attributes take golden ids.
* ``limit`` (1 to 1,000, default 100), ``cursor``.
* ``as_of=<ISO 8601>``: the records as they were at that moment, from history (each record's
  newest history row until then); the filters apply to those values.

An unknown parameter or a value that cannot be read is 400 ``invalid_filter`` naming it; a cursor
that cannot be read is 400 ``invalid_cursor``.

**Detail.** A golden id that was merged away reads as the record it was merged into, naming itself
in ``resolved_from``. ``?as_of=<ISO 8601>``: the record as it was at that moment, from history
(golden_records/read.py); 404 ``not_found_as_of`` for a record created later.

Both answer with an ``ETag`` of the body and 304 to ``If-None-Match`` with it.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.core.exceptions import ImproperlyConfigured
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.http import HttpResponse
from django.urls import URLPattern, path
from django.utils.dateparse import parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework.request import Request
from rest_framework.views import APIView

from golden_records.api.errors import ApiError
from golden_records.api.serializers import ErrorSerializer, golden_serializers
from golden_records.api.xref import (
    AS_OF_PARAM,
    IF_NONE_MATCH_PARAM,
    NOT_MODIFIED,
    LookupView,
    json_with_etag,
    parse_as_of,
)
from golden_records.attributes import (
    Attribute,
    AttributeValueError,
    Boolean,
    Choice,
    Country,
    Currency,
    Date,
    Duns,
    Gtin,
    Integer,
    Number,
    Reference,
    parse_decimal,
)
from golden_records.domains import DOMAINS, DomainSpec
from golden_records.models import GOLDEN_MODELS, GoldenStatus
from golden_records.read import GoldenNotFound, golden_attributes, read_golden, read_golden_as_of

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
MAX_BIGINT = 2**63 - 1
RESERVED = ("record_status", "updated_since", "cursor", "limit", "as_of")

TEXT_LOOKUPS = ("exact", "in", "icontains", "istartswith", "isnull")
CODE_LOOKUPS = ("exact", "in", "isnull")
ORDERED_LOOKUPS = ("exact", "in", "gt", "gte", "lt", "lte", "isnull")


def lookups_of(attribute: Attribute) -> tuple[str, ...]:
    """The filter lookups an attribute's kind takes."""
    if isinstance(attribute, Boolean):
        return ("exact", "isnull")
    if isinstance(attribute, Number | Integer | Date):
        return ORDERED_LOOKUPS
    if isinstance(attribute, Reference | Choice | Country | Currency | Gtin | Duns):
        return CODE_LOOKUPS
    return TEXT_LOOKUPS


@dataclass(frozen=True)
class Filter:
    """One query parameter: ``{attribute}`` or ``{attribute}__{lookup}``."""

    attribute: Attribute
    lookup: str

    @property
    def param(self) -> str:
        name = self.attribute.name
        return name if self.lookup == "exact" else f"{name}__{self.lookup}"

    @property
    def column(self) -> str:
        name = self.attribute.name
        return f"{name}_id" if isinstance(self.attribute, Reference) else name

    @property
    def stored_as_text(self) -> bool:
        """Empty is '' (not NULL) in the column."""
        return not isinstance(self.attribute, Number | Integer | Boolean | Date | Reference)

    def value(self, raw: str, record: dict[str, Any]) -> Any:
        """The database value of one filter value; ``AttributeValueError`` if it has none."""
        if "\x00" in raw:
            raise AttributeValueError("invalid_character", "NUL characters are not allowed.")
        attribute = self.attribute
        if self.lookup in ("icontains", "istartswith"):
            return raw
        if isinstance(attribute, Reference):
            try:
                return uuid.UUID(raw)
            except ValueError:
                raise AttributeValueError("invalid_uuid", f"{raw!r} is not a golden id.") from None
        if isinstance(attribute, Number):
            value = parse_decimal(raw)
            whole = attribute.max_digits - attribute.decimal_places
            if value.adjusted() >= whole:
                raise AttributeValueError("too_large", f"At most {whole} digits before the point.")
            if value != value.quantize(Decimal(1).scaleb(-attribute.decimal_places)):
                raise AttributeValueError(
                    "too_many_decimals", f"At most {attribute.decimal_places} decimal places."
                )
            return value
        if isinstance(attribute, Integer):
            value = parse_decimal(raw)
            if value != value.to_integral_value() or abs(value) > MAX_BIGINT:
                raise AttributeValueError("invalid_integer", f"{raw!r} is not a whole number.")
            return int(value)
        canonical = attribute.clean(raw, record)
        if canonical is None:
            raise AttributeValueError("required", "A value is required.")
        return attribute.to_python(canonical)

    def q(self, raw: str, record: dict[str, Any]) -> Q:
        if self.lookup == "isnull":
            empty = Boolean(name="isnull").clean(raw, record)
            if empty is None:
                raise AttributeValueError("invalid_boolean", "true or false.")
            if self.stored_as_text:
                blank = Q(**{self.column: ""})
            else:
                blank = Q(**{f"{self.column}__isnull": True})
            return blank if empty else ~blank
        if self.lookup == "in":
            values = [self.value(v, record) for v in raw.split(",") if v.strip()]
            if not values:
                raise AttributeValueError("required", "At least one value.")
            return Q(**{f"{self.column}__in": values})
        return Q(**{f"{self.column}__{self.lookup}": self.value(raw, record)})


def domain_filters(spec: DomainSpec) -> dict[str, Filter]:
    filters = {}
    for attribute in spec.attributes:
        if attribute.name in RESERVED:
            raise ImproperlyConfigured(f"{spec.name}.{attribute.name}: a reserved parameter name")
        for lookup in lookups_of(attribute):
            f = Filter(attribute, lookup)
            filters[f.param] = f
    return filters


# -- cursors -------------------------------------------------------------------------------------


def encode_cursor(updated_at: dt.datetime, golden_id: uuid.UUID) -> str:
    raw = json.dumps([updated_at.isoformat(), golden_id.hex], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[dt.datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        when, golden_id = json.loads(raw)
        updated_at = parse_datetime(when)
        if updated_at is None or updated_at.tzinfo is None:
            raise ValueError(when)
        return updated_at, uuid.UUID(golden_id)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise ApiError(
            "invalid_cursor", "The cursor cannot be read: pass `next_cursor` as it came."
        ) from None


# -- views ---------------------------------------------------------------------------------------


def _bad(param: str, code: str, message: str) -> ApiError:
    return ApiError(
        "invalid_filter",
        f"Query parameter {param!r}: {message}",
        fields=[{"field": param, "code": code, "message": message}],
    )


def _datetime(param: str, raw: str) -> dt.datetime:
    try:
        value = parse_datetime(raw.strip().replace(" ", "+")) if raw.strip() else None
    except ValueError:
        value = None
    if value is None:
        raise _bad(param, "invalid_datetime", f"{raw!r} is not an ISO 8601 date and time.")
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


class GoldenListView(LookupView):
    """Golden records of one domain; subclassed per domain by ``golden_views``."""

    spec: DomainSpec
    filters: dict[str, Filter]

    def get(self, request: Request) -> HttpResponse:
        params = request.query_params
        record = {k: params.get(k) for k in params}
        queryset: QuerySet = GOLDEN_MODELS[self.spec.name].objects.all()
        if "as_of" in params:
            queryset = self.as_of(_datetime("as_of", params["as_of"]))
        limit = DEFAULT_LIMIT
        for param in params:
            values = params.getlist(param)
            if len(values) > 1:
                raise _bad(param, "repeated", "Give each parameter once.")
            raw = values[0]
            if param == "as_of":
                continue
            if param == "limit":
                if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
                    raise _bad(param, "invalid_limit", f"A whole number from 1 to {MAX_LIMIT:,}.")
                limit = int(raw)
            elif param == "cursor":
                updated_at, golden_id = decode_cursor(raw)
                queryset = queryset.filter(updated_at__gte=updated_at).filter(
                    Q(updated_at__gt=updated_at) | Q(golden_id__gt=golden_id)
                )
            elif param == "updated_since":
                queryset = queryset.filter(updated_at__gte=_datetime(param, raw))
            elif param == "record_status":
                statuses = [s.strip() for s in raw.split(",") if s.strip()]
                if not statuses or set(statuses) - set(GoldenStatus.values):
                    raise _bad(
                        param, "invalid_choice", f"One or more of {', '.join(GoldenStatus.values)}."
                    )
                queryset = queryset.filter(record_status__in=statuses)
            elif param in self.filters:
                try:
                    queryset = queryset.filter(self.filters[param].q(raw, record))
                except AttributeValueError as error:
                    raise _bad(param, error.code, error.message) from None
            else:
                raise _bad(param, "unknown_filter", "Unknown parameter; see the API docs.")
        rows = list(queryset.order_by("updated_at", "golden_id")[: limit + 1])
        more = len(rows) > limit
        rows = rows[:limit]
        next_cursor = encode_cursor(rows[-1].updated_at, rows[-1].golden_id) if more else None
        next_link = None
        if next_cursor:
            query = {k: v for k, v in record.items() if k != "cursor"}
            next_link = f"{request.path}?{urlencode({**query, 'cursor': next_cursor})}"
        body = {
            "domain": self.spec.name,
            "results": [self.item(row) for row in rows],
            "next_cursor": next_cursor,
            "next": next_link,
        }
        return json_with_etag(request, body)

    def as_of(self, moment: dt.datetime) -> QuerySet:
        """Every record as it was at ``moment``: per golden id, its newest history row written
        until then (records created later are absent). Filters and cursors apply to those rows,
        whose columns have the golden table's names."""
        history = GOLDEN_MODELS[self.spec.name].history.model  # type: ignore[attr-defined]
        newest = (
            history.objects.filter(golden_id=OuterRef("golden_id"), history_date__lte=moment)
            .order_by("-history_date", "-history_id")
            .values("history_id")[:1]
        )
        return (
            history.objects.filter(history_date__lte=moment)
            .filter(history_id=Subquery(newest))
            .exclude(history_type="-")
        )

    def item(self, row: Any) -> dict[str, Any]:
        return {
            "golden_id": str(row.golden_id),
            "version": row.version,
            "status": row.record_status,
            "merged_into": str(row.merged_into) if row.merged_into else None,
            "created_at": row.created_at.isoformat(),
            "updated_at": row.updated_at.isoformat(),
            "attributes": golden_attributes(row, self.spec),
        }


class GoldenDetailView(LookupView):
    """One golden record of one domain; subclassed per domain by ``golden_views``."""

    spec: DomainSpec

    def get(self, request: Request, golden_id: uuid.UUID) -> HttpResponse:
        as_of = parse_as_of(request)
        try:
            if as_of is None:
                data = read_golden(self.spec, golden_id)
            else:
                data = read_golden_as_of(self.spec, golden_id, as_of)
        except GoldenNotFound as error:
            raise ApiError(error.code, error.message, status_code=404) from None
        return json_with_etag(request, data)


def _filter_parameters(spec: DomainSpec, filters: dict[str, Filter]) -> list[OpenApiParameter]:
    params = [
        OpenApiParameter(
            "record_status",
            str,
            description="`active`, `merged`, `retired`; comma-separated for several. "
            "Default: every status.",
        ),
        OpenApiParameter(
            "updated_since", OpenApiTypes.DATETIME, description="Changed at or after (ISO 8601)."
        ),
        OpenApiParameter(
            "limit", int, description=f"Page size, 1 to {MAX_LIMIT:,} (default {DEFAULT_LIMIT})."
        ),
        OpenApiParameter("cursor", str, description="`next_cursor` of the page before."),
        OpenApiParameter(
            "as_of",
            OpenApiTypes.DATETIME,
            description="The records as they were at that moment (ISO 8601), from history; "
            "filters apply to those values.",
        ),
    ]
    kinds = {
        Integer: int,
        Boolean: OpenApiTypes.BOOL,
        Date: OpenApiTypes.DATE,
        Reference: OpenApiTypes.UUID,
    }
    for f in filters.values():
        kind = next((t for k, t in kinds.items() if isinstance(f.attribute, k)), str)
        if f.lookup in ("icontains", "istartswith", "in"):
            kind = str
        if f.lookup == "isnull":
            kind = OpenApiTypes.BOOL
        enum = None
        if isinstance(f.attribute, Choice) and f.lookup == "exact":
            enum = list(f.attribute.choices)
        words = {
            "exact": "equals (normalised as on ingest)",
            "in": "is one of (comma-separated)",
            "icontains": "contains (any case)",
            "istartswith": "starts with (any case)",
            "gt": "greater than",
            "gte": "at least",
            "lt": "less than",
            "lte": "at most",
            "isnull": "is empty (`true`) or not (`false`)",
        }
        params.append(
            OpenApiParameter(
                f.param, kind, enum=enum, description=f"`{f.attribute.name}` {words[f.lookup]}."
            )
        )
    return params


GOLDEN_ID_PARAM = OpenApiParameter("golden_id", uuid.UUID, OpenApiParameter.PATH)
READ_ERRORS = {400: ErrorSerializer, 401: ErrorSerializer}


def golden_views(spec: DomainSpec) -> tuple[type[GoldenListView], type[GoldenDetailView]]:
    """The list and detail views of one domain, documented with its own shapes and filters."""
    shapes = golden_serializers(spec)
    filters = domain_filters(spec)
    list_view = type(
        f"{spec.model_name}GoldenListView",
        (GoldenListView,),
        {"spec": spec, "filters": filters, "__doc__": f"Golden {spec.label} records."},
    )
    detail_view = type(
        f"{spec.model_name}GoldenDetailView",
        (GoldenDetailView,),
        {"spec": spec, "__doc__": f"One golden {spec.label}."},
    )
    list_schema = extend_schema(
        operation_id=f"golden_{spec.name}_list",
        tags=["golden records"],
        parameters=[*_filter_parameters(spec, filters), IF_NONE_MATCH_PARAM],
        responses={200: shapes.page, 304: NOT_MODIFIED, **READ_ERRORS},
        description=(
            f"Golden {spec.label} records, oldest change first (`updated_at`, then `golden_id`), "
            "in pages of `limit`. Pass `next_cursor` as `cursor` for the next page: pages are "
            "stable under inserts and changes (a record that changes moves to the end). "
            "Filters: `{attribute}=value` (normalised as on ingest: `country=Germany` is `DE`) "
            "and `{attribute}__{lookup}=value`. 400 codes: `invalid_filter` (unknown parameter "
            "or unreadable value, named in `fields`), `invalid_cursor`."
        ),
    )
    detail_schema = extend_schema(
        operation_id=f"golden_{spec.name}_get",
        tags=["golden records"],
        parameters=[GOLDEN_ID_PARAM, AS_OF_PARAM, IF_NONE_MATCH_PARAM],
        responses={200: shapes.detail, 304: NOT_MODIFIED, **READ_ERRORS, 404: ErrorSerializer},
        description=(
            f"A golden {spec.label} with its lineage (where each value came from), steward "
            "overrides, every system's ids and the discrepancies (values a linked system holds "
            "that did not win). A merged-away id reads as its survivor and names itself in "
            "`resolved_from`. `as_of`: as it was at that moment, from history. 404 codes: "
            "`golden_record_not_found`, `not_found_as_of`."
        ),
    )
    extend_schema_view(get=list_schema)(list_view)
    extend_schema_view(get=detail_schema)(detail_view)
    return list_view, detail_view


class UnknownGoldenRoute(APIView):
    """``/golden/{domain}[/{id}]`` for a domain or id no route matched: the API's error shape
    instead of Django's 404 page."""

    @extend_schema(exclude=True)
    def get(self, request: Request, domain: str, golden_id: str | None = None) -> HttpResponse:
        if domain not in DOMAINS:
            raise ApiError(
                "unknown_domain", f"Unknown domain {domain!r}; one of: {', '.join(DOMAINS)}."
            )
        raise ApiError(
            "golden_record_not_found", f"No {domain} golden record {golden_id}.", status_code=404
        )


def golden_urlpatterns() -> list[URLPattern]:
    patterns = []
    for name, spec in DOMAINS.items():
        list_view, detail_view = golden_views(spec)
        patterns += [
            path(f"golden/{name}", list_view.as_view(), name=f"golden-{name}-list"),
            path(
                f"golden/{name}/<uuid:golden_id>",
                detail_view.as_view(),
                name=f"golden-{name}-record",
            ),
        ]
    return [
        *patterns,
        path("golden/<str:domain>", UnknownGoldenRoute.as_view()),
        path("golden/<str:domain>/<path:golden_id>", UnknownGoldenRoute.as_view()),
    ]
