"""Match reviews for the steward UI's tests, made without the matcher: two source records, each
with its own golden record (built by apply_ownership), and an open review between them carrying
an explanation in the matcher's format. Users in the steward, viewer and admin groups."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from golden_records.history import ChangeOrigin
from golden_records.models import SourceRecord, new_golden_id
from golden_records.services import apply_ownership
from matching.models import MatchReview
from tests.conftest import make_system

PASSWORD = "pw-steward-1"


def user(username: str, *groups: str, superuser: bool = False) -> Any:
    account = get_user_model().objects.create_user(
        username, password=PASSWORD, is_superuser=superuser
    )
    for name in groups:
        account.groups.add(Group.objects.get_or_create(name=name)[0])
    return account


def customer(system: str, source_id: str, at: dt.datetime | None = None, **canonical: Any):
    """A source record with its own new golden record (canonical values given as stored)."""
    now = timezone.now()
    golden_id = new_golden_id()
    record = SourceRecord.objects.create(
        system=make_system(system),
        domain="customer",
        source_id=source_id,
        payload=canonical,
        canonical=canonical,
        payload_hash=hashlib.sha256(json.dumps(canonical, sort_keys=True).encode()).hexdigest(),
        source_updated_at=at,
        golden_id=golden_id,
        link_rule="test",
        linked_at=now,
        received_at=now,
    )
    apply_ownership("customer", [], ChangeOrigin.command("test"), new_golden_ids=[golden_id])
    return record


def _explanation(left: dict, right: dict, probability: float) -> dict[str, Any]:
    comparisons = []
    for feature, weight in (("name", 6.5), ("city", 2.0), ("phone", 5.0), ("postal_code", 1.5)):
        a, b = left.get(feature), right.get(feature)
        same = a is not None and a == b
        comparisons.append(
            {
                "comparison": feature,
                "feature": feature,
                "left": a,
                "right": b,
                "comparator": "jaro_winkler",
                "similarity": None if a is None or b is None else (1.0 if same else 0.62),
                "level": "missing" if a is None or b is None else ("exact" if same else "else"),
                "contribution": 0.0 if a is None or b is None else (weight if same else -2.1),
            }
        )
    return {
        "probability": probability,
        "weight": 3.2,
        "reason": "weights",
        "rule_version": 1,
        "comparisons": comparisons,
    }


def review(
    left: SourceRecord,
    right: SourceRecord,
    probability: float = 0.8,
    created_at: dt.datetime | None = None,
) -> MatchReview:
    return MatchReview.objects.create(
        domain="customer",
        source_record=left,
        candidate_record=right,
        candidate_golden_id=right.golden_id,
        probability=probability,
        explanation=_explanation(left.canonical, right.canonical, probability),
        rule_version=1,
        raised_by="online match",
        created_at=created_at or timezone.now(),
    )


def pair(n: int, probability: float = 0.8, age_days: float = 0, system: str = "crm"):
    """Review ``n``: an ERP customer and another system's similar customer."""
    erp = customer(
        "erp",
        f"E-{n}",
        name=f"Northwind Traders {n} GmbH",
        city="Berlin",
        postal_code="10117",
        country="DE",
        phone=f"+49302345{n:04d}",
        payment_terms="NET30",
    )
    other = customer(
        system,
        f"A-{n}",
        name=f"Northwind Traders {n}",
        city="Berlin" if n % 2 else "Potsdam",
        country="DE",
        phone=f"+49302345{n:04d}",
        segment="Key account",
    )
    # The newer golden record is the one under review (as online matching raises them).
    return review(other, erp, probability, timezone.now() - dt.timedelta(days=age_days))


COMPANIES = [
    # (ERP record, other system, its record, probability, age in days)
    (
        {"name": "Northwind Traders GmbH", "address_line1": "Friedrichstrasse 123",
         "city": "Berlin", "postal_code": "10117", "country": "DE", "phone": "+493023456789",
         "payment_terms": "NET30", "credit_limit": "25000.00", "credit_currency": "EUR"},
        "crm",
        {"name": "Northwind Traders", "address_line1": "Friedrichstr. 123", "city": "Berlin",
         "postal_code": "10117", "country": "DE", "phone": "+493023456789",
         "segment": "Key account", "sales_owner": "M. Weber", "website": "northwind.example"},
        0.94, 2,
    ),
    (
        {"name": "Contoso Industrial Supply Inc", "address_line1": "400 Market St",
         "city": "Philadelphia", "region": "PA", "postal_code": "19106", "country": "US",
         "phone": "+12155550143", "payment_terms": "NET45"},
        "ecom",
        {"name": "Contoso Industrial", "address_line1": "400 Market Street", "city": "Philadelphia",
         "region": "PA", "postal_code": "19106", "country": "US", "email": "buy@contoso.example"},
        0.88, 5,
    ),
    (
        {"name": "Fabrikam Fasteners Ltd", "city": "Leeds", "postal_code": "LS1 4AP",
         "country": "GB", "phone": "+441134960000"},
        "wms",
        {"name": "Fabrikam Fastener", "city": "Leeds", "postal_code": "LS1 4AP", "country": "GB",
         "phone": "+441134960999"},
        0.81, 9,
    ),
    (
        {"name": "Tailspin Tools SARL", "city": "Lyon", "postal_code": "69002", "country": "FR",
         "phone": "+33478000000"},
        "crm",
        {"name": "Tailspin Tools", "city": "Villeurbanne", "postal_code": "69100", "country": "FR",
         "phone": "+33478000000", "segment": "SMB"},
        0.72, 1,
    ),
    (
        {"name": "Adventure Works Distribution BV", "city": "Rotterdam", "postal_code": "3011",
         "country": "NL"},
        "edi",
        {"name": "Adventure Works", "city": "Rotterdam", "postal_code": "3011", "country": "NL",
         "phone": "+31102000000"},
        0.66, 14,
    ),
    (
        {"name": "Litware Electrical AG", "city": "Zurich", "postal_code": "8001",
         "country": "CH", "phone": "+41441234567"},
        "crm",
        {"name": "Litware Elektro", "city": "Zürich", "postal_code": "8001", "country": "CH",
         "phone": "+41441234567"},
        0.61, 31,
    ),
]  # fmt: skip


def realistic() -> list[MatchReview]:
    """Six reviews between plausible companies, most probable first."""
    reviews = []
    for n, (erp, system, other, probability, days) in enumerate(COMPANIES, start=1):
        at = timezone.now() - dt.timedelta(days=days + 3)
        left = customer("erp", f"1000{n:02d}", at=at, **erp)
        right = customer(system, f"{system.upper()}-{n:03d}", **other)
        reviews.append(review(right, left, probability, timezone.now() - dt.timedelta(days=days)))
    return reviews
