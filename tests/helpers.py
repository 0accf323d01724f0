"""Small helpers shared by API tests."""

from __future__ import annotations

import json
from typing import Any

from rest_framework.test import APIClient

from golden_records.models import GOLDEN_MODELS, GoldenRecord, SourceRecord


def put(client: APIClient, system: str, domain: str, source_id: str, body: Any, **extra: Any):
    return client.put(
        f"/api/v1/sources/{system}/{domain}/{source_id}",
        data=json.dumps(body) if not isinstance(body, str | bytes) else body,
        content_type="application/json",
        **extra,
    )


def batch(client: APIClient, system: str, domain: str, body: Any, **extra: Any):
    return client.post(
        f"/api/v1/sources/{system}/{domain}/batch",
        data=json.dumps(body) if not isinstance(body, str | bytes) else body,
        content_type="application/json",
        **extra,
    )


def golden_of(system: str, domain: str, source_id: str) -> GoldenRecord:
    record = SourceRecord.objects.get(system__code=system, domain=domain, source_id=source_id)
    return GOLDEN_MODELS[domain].objects.get(pk=record.golden_id)


def error_codes(response) -> dict[str, set[str]]:
    """{field: {codes}} from an error response."""
    codes: dict[str, set[str]] = {}
    for item in response.json()["error"].get("fields", []):
        codes.setdefault(item["field"], set()).add(item["code"])
    return codes
