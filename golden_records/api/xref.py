"""Cross-reference lookup API: translate ids between systems through their golden record.

``GET  /api/v1/xref/{domain}/{system}/{source_id}``                  everything about one id
``GET  /api/v1/xref/{domain}/{system}/{source_id}/{target_system}``  the target system's ids
``POST /api/v1/xref/{domain}/lookup``                                up to 1,000 keys at once

Source ids may contain ``/``. The path is read from the end: when its last segment is the code of
a source system, it is the target system and the rest is the source id; otherwise the whole rest
is the source id. (A source id whose last segment is a system code is looked up through the batch
endpoint, whose body has no such ambiguity.) The system ``golden`` stands for golden ids.

Every read takes ``?as_of=<ISO 8601>`` (see golden_records/xref.py for what it answers). GET
answers carry an ``ETag``; ``If-None-Match`` with it answers 304. Any token reads: write tokens of
any system and read-only tokens.

The bodies are built as plain dicts and encoded once: on this path the serializer machinery costs
more than the database (bench/xref.py). The serializers describe the same shapes in the schema.

Speed (bench/xref.py): on PostgreSQL the lookups run as prepared statements, with psycopg's own
timestamp loader (``lookup_connection``): parsing and planning the six-table join costs several
times what executing it does. The views skip DRF's content negotiation (the API answers JSON
only), and tokens come from a per-process cache (golden_records/api/authentication.py).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connection
from django.http import HttpResponse
from django.utils.dateparse import parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from psycopg import postgres
from psycopg.adapt import Loader
from psycopg.pq import Format
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.request import Request
from rest_framework.views import APIView

from golden_records import xref
from golden_records.api.errors import ApiError
from golden_records.api.serializers import (
    BatchErrorSerializer,
    ErrorSerializer,
    XrefLookupRequestSerializer,
    XrefLookupResponseSerializer,
    XrefSerializer,
    XrefTargetSerializer,
)
from golden_records.api.views import (
    DOMAIN_PARAM,
    SOURCE_ID_PARAM,
    SYSTEM_CODE_PATTERN,
    domain_or_400,
)

SYSTEM_PARAM = OpenApiParameter(
    "system",
    str,
    OpenApiParameter.PATH,
    description="The code of the system whose id is asked about, or `golden` for a golden id.",
    pattern=SYSTEM_CODE_PATTERN,
)
TARGET_PARAM = OpenApiParameter(
    "target_system",
    str,
    OpenApiParameter.PATH,
    description="A source system code.",
    pattern=SYSTEM_CODE_PATTERN,
)
AS_OF_PARAM = OpenApiParameter(
    "as_of",
    OpenApiTypes.DATETIME,
    OpenApiParameter.QUERY,
    required=False,
    description="Answer as of this moment (ISO 8601; without an offset it is UTC), from history.",
)
IF_NONE_MATCH_PARAM = OpenApiParameter(
    "If-None-Match",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="The ETag of an earlier answer: 304 when the answer has not changed.",
)
NOT_MODIFIED = OpenApiResponse(description="Not modified: the answer has the ETag sent.")
READ_ERRORS = {400: ErrorSerializer, 401: ErrorSerializer, 404: ErrorSerializer}


PREPARE_THRESHOLD = 2
"""A lookup query is prepared on its second execution on a connection (psycopg counts them)."""

_TIMESTAMPTZ = postgres.types["timestamptz"].oid
_C_TIMESTAMPTZ = postgres.adapters.get_loader(_TIMESTAMPTZ, Format.TEXT)


class _FastTimestamptzLoader(Loader):
    """psycopg's own loader (C with psycopg[binary]) behind the ``timezone`` Django's cursors
    check (they put their own loader back when it differs)."""

    timezone = dt.UTC

    def __init__(self, oid: int, context: Any = None):
        super().__init__(oid, context)
        self._c_load = _C_TIMESTAMPTZ(oid, context).load

    def load(self, data: Any) -> dt.datetime:
        return self._c_load(data)


@contextmanager
def lookup_connection() -> Iterator[None]:
    """Run the lookups inside cheaply (PostgreSQL only; a no-op elsewhere):

    * as prepared statements: the single lookup's join costs about 0.5 ms to parse and plan and
      0.1 ms to run, so the plan is made once per connection (Django turns psycopg's preparing
      off by default). Statements live on their connection, at most psycopg's ``prepared_max``
      (100); behind PgBouncer in transaction mode this needs PgBouncer 1.21+ with
      ``max_prepared_statements`` set.
    * with psycopg's own (C) loader for ``timestamptz``: Django's replaces every value's tzinfo
      in Python, a fifth of a 1,000-key batch. The values are the same instants, aware, in the
      connection's time zone (UTC, as Django sets it).
    """
    if connection.vendor != "postgresql":
        yield
        return
    connection.ensure_connection()
    raw = connection.connection
    previous = raw.prepare_threshold
    django_loader = raw.adapters.get_loader(_TIMESTAMPTZ, Format.TEXT)
    if previous is None:
        raw.prepare_threshold = PREPARE_THRESHOLD
    if connection.timezone == dt.UTC:
        raw.adapters.register_loader(_TIMESTAMPTZ, _FastTimestamptzLoader)
    try:
        yield
    finally:
        raw.prepare_threshold = previous
        raw.adapters.register_loader(_TIMESTAMPTZ, django_loader)


class JSONOnly(DefaultContentNegotiation):
    """The API answers JSON only: take the first renderer without parsing ``Accept`` (DRF's
    negotiation costs more than the lookup's own Python code). So an ``Accept`` that excludes
    JSON gets JSON, not 406. Request bodies are negotiated as before (415 for another type)."""

    def select_renderer(self, request: Request, renderers: list, format_suffix=None) -> tuple:
        return renderers[0], renderers[0].media_type


class LookupView(APIView):
    """Base of the lookup views: JSON only, no throttling (reads of one indexed row)."""

    content_negotiation_class = JSONOnly
    throttle_classes: list = []


def parse_as_of(request: Request) -> dt.datetime | None:
    raw = request.query_params.get("as_of")
    if raw is None:
        return None
    # A "+" offset sent unencoded in a query string arrives as a space.
    try:
        value = parse_datetime(raw.strip().replace(" ", "+")) if raw.strip() else None
    except ValueError:  # well formed, but no such date
        value = None
    if value is None:
        raise ApiError("invalid_as_of", f"as_of must be an ISO 8601 date and time, got {raw!r}.")
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _not_found(error: xref.XrefNotFound) -> ApiError:
    return ApiError(error.code, error.message, status_code=404)


def _answer(domain: str, system: str, source_id: str, as_of: dt.datetime | None) -> xref.XrefAnswer:
    if system != xref.GOLDEN and "\x00" in source_id:  # no such id can be stored
        raise _not_found(
            xref.XrefNotFound(
                "source_record_not_found", f"No {domain} record {source_id!r} from {system!r}."
            )
        )
    try:
        with lookup_connection():
            if as_of is None:
                return xref.lookup(domain, system, source_id)
            return xref.lookup_as_of(domain, system, source_id, as_of)
    except xref.XrefNotFound as error:
        raise _not_found(error) from None


def _head(domain: str, system: str, source_id: str, answer: xref.XrefAnswer, as_of) -> dict:
    return {
        "domain": domain,
        "system": system,
        "source_id": source_id,
        "golden_id": str(answer.golden_id),
        "status": answer.status,
        "resolved_from": str(answer.resolved_from) if answer.resolved_from else None,
        "as_of": as_of.isoformat() if as_of else None,
    }


def json_with_etag(request: Request, data: dict[str, Any]) -> HttpResponse:
    """The answer encoded once, with a strong ETag of its bytes; 304 when the client has it."""
    body = json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()
    etag = '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'
    sent = request.headers.get("If-None-Match", "")
    if sent and (
        sent.strip() == "*" or etag in {t.strip().removeprefix("W/") for t in sent.split(",")}
    ):
        response = HttpResponse(status=304)
    else:
        response = HttpResponse(body, content_type="application/json")
    response["ETag"] = etag
    response["Cache-Control"] = "private, no-cache"
    return response


class XrefView(LookupView):
    """What one system's id stands for: golden id, status and every system's ids for it."""

    @extend_schema(
        operation_id="xref_get",
        parameters=[DOMAIN_PARAM, SYSTEM_PARAM, SOURCE_ID_PARAM, AS_OF_PARAM, IF_NONE_MATCH_PARAM],
        responses={200: XrefSerializer, 304: NOT_MODIFIED, **READ_ERRORS},
        description=(
            "The golden record a system's id belongs to (a merged-away golden id resolves to the "
            "survivor and names itself in `resolved_from`), its status, and every system's ids "
            "for it with when each was linked. 404 codes: `unknown_system`, "
            "`source_record_not_found`, `golden_record_not_found`, `not_found_as_of`. A source "
            "id may contain `/`; one whose last segment is a system code is read as route "
            "`…/{source_id}/{target_system}`: look it up with `POST …/lookup` instead."
        ),
    )
    def get(self, request: Request, domain: str, system: str, source_id: str) -> HttpResponse:
        domain_or_400(domain)
        as_of = parse_as_of(request)
        answer = _answer(domain, system, source_id, as_of)
        data = _head(domain, system, source_id, answer, as_of)
        data["xrefs"] = [x.as_dict() for x in answer.xrefs]
        return json_with_etag(request, data)


class XrefTargetView(LookupView):
    """One system's id translated to another system's id(s)."""

    @extend_schema(
        operation_id="xref_target_get",
        parameters=[
            DOMAIN_PARAM,
            SYSTEM_PARAM,
            SOURCE_ID_PARAM,
            TARGET_PARAM,
            AS_OF_PARAM,
            IF_NONE_MATCH_PARAM,
        ],
        responses={200: XrefTargetSerializer, 304: NOT_MODIFIED, **READ_ERRORS},
        description=(
            "The target system's ids for the golden record the id belongs to. 404 codes as for "
            "the full answer, plus `no_id_in_target_system`."
        ),
    )
    def get(
        self, request: Request, domain: str, system: str, source_id: str, target_system: str
    ) -> HttpResponse:
        domain_or_400(domain)
        as_of = parse_as_of(request)
        answer = _answer(domain, system, source_id, as_of)
        ids = answer.ids_in(target_system)
        if not ids:
            raise _not_found(xref.no_id_in(target_system, domain, answer.golden_id))
        data = _head(domain, system, source_id, answer, as_of)
        data["target_system"] = target_system
        data["ids"] = [x.as_dict() for x in ids]
        return json_with_etag(request, data)


def _lookup_keys(data: Any) -> tuple[list[tuple[str, str]], str | None]:
    """The keys and target of a lookup body, checked by hand: a serializer takes longer to check
    1,000 small objects than the database takes to answer them."""
    if not isinstance(data, dict):
        raise ApiError("invalid_batch", "The body must be a JSON object with `lookups`.")
    errors: list[dict[str, str]] = []
    unknown = sorted(set(data) - {"lookups", "target_system"})
    for name in unknown:
        errors.append({"field": name, "code": "unknown_field", "message": "Unknown field."})
    lookups = data.get("lookups")
    target = data.get("target_system")
    if target is not None and (not isinstance(target, str) or not target):
        errors.append(
            {"field": "target_system", "code": "invalid_type", "message": "A system code."}
        )
    if not isinstance(lookups, list):
        errors.append(
            {"field": "lookups", "code": "required", "message": "A list of up to 1,000 keys."}
        )
    elif not lookups or len(lookups) > xref.MAX_BATCH:
        errors.append(
            {
                "field": "lookups",
                "code": "min_length" if not lookups else "max_length",
                "message": f"Between 1 and {xref.MAX_BATCH:,} keys; got {len(lookups):,}.",
            }
        )
    keys: list[tuple[str, str]] = []
    for i, item in enumerate(lookups if isinstance(lookups, list) else ()):
        if not isinstance(item, dict):
            errors.append(
                {
                    "field": f"lookups[{i}]",
                    "code": "invalid_type",
                    "message": 'An object {"system", "source_id"}.',
                }
            )
            continue
        system, source_id = item.get("system"), item.get("source_id")
        for name, value in (("system", system), ("source_id", source_id)):
            if isinstance(value, str) and "\x00" in value:
                errors.append(
                    {
                        "field": f"lookups[{i}].{name}",
                        "code": "invalid_character",
                        "message": "NUL characters are not allowed.",
                    }
                )
            elif not isinstance(value, str) or not value:
                errors.append(
                    {
                        "field": f"lookups[{i}].{name}",
                        "code": "required" if value in (None, "") else "invalid_type",
                        "message": "A non-empty string.",
                    }
                )
        for name in sorted(set(item) - {"system", "source_id"}):
            errors.append(
                {"field": f"lookups[{i}].{name}", "code": "unknown_field", "message": "Unknown."}
            )
        keys.append((system, source_id))
    if errors:
        raise ApiError("invalid_batch", "The lookup is not valid.", fields=errors[:100])
    return keys, target


def _result(key: tuple[str, str], answer, target: str | None, domain: str) -> dict[str, Any]:
    system, source_id = key
    if isinstance(answer, xref.XrefNotFound):
        return {
            "system": system,
            "source_id": source_id,
            "found": False,
            "golden_id": None,
            "status": None,
            "resolved_from": None,
            "xrefs": [],
            "error": {"code": answer.code, "message": answer.message},
        }
    ids = answer.xrefs if target is None else answer.ids_in(target)
    error = None
    if target is not None and not ids:
        missing = xref.no_id_in(target, domain, answer.golden_id)
        error = {"code": missing.code, "message": missing.message}
    return {
        "system": system,
        "source_id": source_id,
        "found": True,
        "golden_id": str(answer.golden_id),
        "status": answer.status,
        "resolved_from": str(answer.resolved_from) if answer.resolved_from else None,
        "xrefs": [x.as_dict() for x in ids],
        "error": error,
    }


class XrefLookupView(LookupView):
    """Up to 1,000 keys answered in one round trip, in their order."""

    post_reads = True  # a read sent as POST: a viewer's session may send it (ApiRole)

    @extend_schema(
        operation_id="xref_lookup",
        parameters=[DOMAIN_PARAM, AS_OF_PARAM],
        request=XrefLookupRequestSerializer,
        responses={
            200: XrefLookupResponseSerializer,
            400: BatchErrorSerializer,
            401: ErrorSerializer,
        },
        description=(
            "Each result answers the key at the same position; a key without an answer has "
            "`found: false` and an `error` with the 404 code the single lookup would give. With "
            "`target_system` only that system's ids are returned (`error` "
            "`no_id_in_target_system` when it has none). Reads only: any token, or a session "
            "with the viewer role or above, may call it."
        ),
    )
    def post(self, request: Request, domain: str) -> HttpResponse:
        domain_or_400(domain)
        as_of = parse_as_of(request)
        keys, target = _lookup_keys(request.data)
        if target is not None and not xref.is_system_code(target):
            raise ApiError(
                "unknown_system",
                f"No source system {target!r}.",
                fields=[{"field": "target_system", "code": "unknown_system", "message": target}],
            )
        with lookup_connection():
            if as_of is None:
                answers = xref.lookup_many(domain, keys)
            else:
                answers = xref.lookup_many_as_of(domain, keys, as_of)
        results = [_result(k, a, target, domain) for k, a in zip(keys, answers, strict=True)]
        summary = {"found": 0, "not_found": 0, "no_id_in_target_system": 0}
        for r in results:
            if not r["found"]:
                summary["not_found"] += 1
            elif r["error"]:
                summary["no_id_in_target_system"] += 1
            else:
                summary["found"] += 1
        body = {
            "domain": domain,
            "as_of": as_of.isoformat() if as_of else None,
            "target_system": target,
            "results": results,
            "summary": summary,
        }
        return HttpResponse(
            json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode(),
            content_type="application/json",
        )


class SystemCodeConverter:
    """A path segment that names a source system (so ``…/{source_id}/{target_system}`` matches
    only when the last segment is a system code; otherwise the whole rest is the source id)."""

    regex = "[-a-zA-Z0-9_]+"

    def to_python(self, value: str) -> str:
        if not xref.is_system_code(value):
            raise ValueError(value)
        return value

    def to_url(self, value: str) -> str:
        return value
