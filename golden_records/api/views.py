"""Ingest API: source systems send their records (golden-record reads: api/golden.py)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from golden_records.api.authentication import TokenPrincipal
from golden_records.api.errors import ApiError, error_body
from golden_records.api.idempotency import request_fingerprint, run_once
from golden_records.api.serializers import (
    BatchErrorSerializer,
    BatchRequestSerializer,
    BatchResponseSerializer,
    ErrorSerializer,
    RecordResultSerializer,
    SourceRecordSerializer,
)
from golden_records.domains import DOMAINS, DomainSpec
from golden_records.history import ChangeOrigin
from golden_records.models import Channel, SourceRecord, SourceSystem
from golden_records.pipeline import PreparedRecord
from golden_records.services import ingest_batch, ingest_record
from golden_records.services.exceptions import keep_rejections
from golden_records.services.ingest import Action

SYSTEM_CODE_PATTERN = r"^[-a-zA-Z0-9_]+$"
"""What the routes take as a system code (Django's ``slug``); documented so clients know."""
SYSTEM_PARAM = OpenApiParameter(
    "system",
    str,
    OpenApiParameter.PATH,
    description="Source system code.",
    pattern=SYSTEM_CODE_PATTERN,
)
DOMAIN_PARAM = OpenApiParameter(
    "domain", str, OpenApiParameter.PATH, enum=list(DOMAINS), description="Domain."
)
SOURCE_ID_PARAM = OpenApiParameter(
    "source_id",
    str,
    OpenApiParameter.PATH,
    description="The record's id in the source system (`/` allowed; no line feed).",
    pattern=r"^[^\n]+$",
)
IDEMPOTENCY_PARAM = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="Same key and body within 48 hours replays the stored response.",
)


def result_dict(record: PreparedRecord) -> dict[str, Any]:
    return {
        "source_id": record.source_id,
        "golden_id": str(record.golden_id) if record.golden_id else None,
        "action": record.action,
        "version": record.version,
        "errors": record.errors_as_list(),
        "warnings": record.warnings_as_list(),
    }


def nul_fields(value: Any, path: str = "") -> list[dict[str, str]]:
    """Where a JSON value holds a NUL character, in a key or a string: PostgreSQL stores none, so
    such a value is refused (``invalid_character``) before it reaches the database."""
    found: list[dict[str, str]] = []
    if isinstance(value, str):
        if "\x00" in value:
            found.append(
                {
                    "field": path or "non_field",
                    "code": "invalid_character",
                    "message": "NUL characters are not allowed.",
                }
            )
    elif isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            found += nul_fields(key, where) + nul_fields(item, where)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += nul_fields(item, f"{path}[{i}]")
    return found


def domain_or_400(domain: str) -> DomainSpec:
    spec = DOMAINS.get(domain)
    if spec is None:
        raise ApiError(
            "unknown_domain", f"Unknown domain {domain!r}; one of: {', '.join(DOMAINS)}."
        )
    return spec


def writable_system(request: Request, system: str) -> SourceSystem:
    """The system the caller may write as; 403 for any other (existing or not).

    Token-only: a source system's write token sends its records. A logged-in user, whatever
    their role, never writes as a system (stewards correct records through the exceptions
    queue, which records them as the steward)."""
    principal = request.user
    if not isinstance(principal, TokenPrincipal):
        raise ApiError(
            "system_forbidden",
            f"Only a write token of system {system!r} sends its records, not a session.",
            status_code=status.HTTP_403_FORBIDDEN,
        )
    if not principal.can_write_as(system):
        raise ApiError(
            "system_forbidden",
            f"This token may not write as system {system!r}.",
            status_code=status.HTTP_403_FORBIDDEN,
        )
    return principal.system


class SourceRecordView(APIView):
    """One source record: PUT sends it (create or replace), GET reads what the hub keeps."""

    @extend_schema(
        operation_id="source_record_put",
        parameters=[SYSTEM_PARAM, DOMAIN_PARAM, SOURCE_ID_PARAM],
        request={"application/json": OpenApiTypes.OBJECT},
        responses={
            200: RecordResultSerializer,
            201: RecordResultSerializer,
            400: ErrorSerializer,
            401: ErrorSerializer,
            403: ErrorSerializer,
        },
        description=(
            "Send one record: a JSON object of the domain's attributes, plus an optional "
            "`source_updated_at` (ISO 8601). The same payload again is `unchanged`; an older "
            "`source_updated_at` than the stored one is `stale`."
        ),
    )
    def put(self, request: Request, system: str, domain: str, source_id: str) -> Response:
        source_system = writable_system(request, system)
        domain_or_400(domain)
        refused = nul_fields(source_id, "source_id") + nul_fields(request.data)
        if refused:
            raise ApiError("validation_error", "The record is not valid.", fields=refused[:100])
        origin = ChangeOrigin.source_system(source_system.code, Channel.API)
        record = ingest_record(source_system, domain, source_id, request.data, origin)
        if not record.ok:
            keep_rejections(source_system, domain, [record], [request.data], Channel.API)
            return Response(
                error_body("validation_error", "The record is not valid.", record.errors_as_list()),
                status=status.HTTP_400_BAD_REQUEST,
            )
        code = status.HTTP_201_CREATED if record.action == Action.CREATED else status.HTTP_200_OK
        return Response(result_dict(record), status=code)

    @extend_schema(
        operation_id="source_record_get",
        parameters=[SYSTEM_PARAM, DOMAIN_PARAM, SOURCE_ID_PARAM],
        responses={200: SourceRecordSerializer, 404: ErrorSerializer},
    )
    def get(self, request: Request, system: str, domain: str, source_id: str) -> Response:
        domain_or_400(domain)
        record = (
            SourceRecord.objects.select_related("system")
            .filter(system__code=system, domain=domain, source_id=source_id)
            .first()
            if "\x00" not in source_id  # no such id can be stored
            else None
        )
        if record is None:
            raise ApiError(
                "source_record_not_found",
                f"No {domain} record {source_id!r} from system {system!r}.",
                status_code=404,
            )
        return Response(SourceRecordSerializer(record).data)


class SourceBatchView(APIView):
    """Up to 1,000 records of one system and domain in one request."""

    @extend_schema(
        operation_id="source_records_batch",
        parameters=[SYSTEM_PARAM, DOMAIN_PARAM, IDEMPOTENCY_PARAM],
        request=BatchRequestSerializer,
        responses={
            200: BatchResponseSerializer,
            400: BatchErrorSerializer,
            401: ErrorSerializer,
            403: ErrorSerializer,
            409: ErrorSerializer,
            422: ErrorSerializer,
        },
    )
    def post(self, request: Request, system: str, domain: str) -> Response:
        source_system = writable_system(request, system)
        domain_or_400(domain)
        body = BatchRequestSerializer(data=request.data)
        if not body.is_valid():
            raise ApiError(
                "invalid_batch",
                "The batch is not valid.",
                fields=[
                    {"field": name, "code": getattr(e, "code", "invalid"), "message": str(e)}
                    for name, errors in body.errors.items()
                    for e in (errors if isinstance(errors, list) else [errors])
                ],
            )
        refused = nul_fields(request.data)
        if refused:
            raise ApiError("invalid_batch", "The batch is not valid.", fields=refused[:100])
        records = request.data["records"]
        on_error = body.validated_data["on_error"]
        fingerprint = request_fingerprint(request.method, request.path, request.data)

        def work() -> Response:
            origin = ChangeOrigin.source_system(source_system.code, Channel.API)
            outcome = ingest_batch(source_system, domain, records, on_error, origin)
            # Kept for the stewards' exceptions queue; no query when every record is valid.
            keep_rejections(source_system, domain, outcome.records, records, Channel.API)
            results = [result_dict(r) for r in outcome.records]
            if outcome.rejected_all:
                failed = [
                    {**error, "field": f"records[{r.index}].{error['field']}"}
                    for r in outcome.records
                    for error in r.errors_as_list()
                    if error["code"] != "batch_rejected"
                ]
                data = error_body(
                    "batch_rejected", "No record was written: some records are not valid.", failed
                )
                data["results"] = results
                return Response(data, status=status.HTTP_400_BAD_REQUEST)
            summary = {action: 0 for action in BatchResponseSerializer().fields["summary"].fields}
            summary.update(outcome.counts)
            return Response({"results": results, "summary": summary})

        return run_once(source_system, request.headers.get("Idempotency-Key"), fingerprint, work)
