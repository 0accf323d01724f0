"""Server time of the steward UI's two main pages with 10,000 open match reviews, on PostgreSQL.

The script makes a fresh PostgreSQL database, migrates it, and creates the data through the
services where it matters: 20,000 customer source records (an ERP customer and a look-alike from
CRM, WMS or eCommerce per review) with their golden records built by ``apply_ownership``, 10,000
open match reviews with explanations in the matcher's format spread over 60 days, 2,000 of them
assigned, 500 deferred, and two subscriptions. Then it times the views in-process with Django's
test Client (server time: URL resolution, middleware, queries, templates; no network), many runs
each, and prints p50 / p95 in milliseconds and the number of queries per request.

    .venv/bin/python bench/ui_queue.py
    .venv/bin/python bench/ui_queue.py --reviews 10000 --runs 60
    .venv/bin/python bench/ui_queue.py --pg-url postgres://postgres@127.0.0.1:5432/postgres
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.ingest import fresh_pg_database

BUDGET_MS = 300.0
OTHERS = ["crm", "wms", "ecom"]
WORDS = ["Northwind", "Contoso", "Fabrikam", "Tailspin", "Litware", "Adventure", "Wingtip",
         "Proseware", "Lucerne", "Humongous", "Margie", "Trey", "Alpine", "Coho"]  # fmt: skip
KINDS = ["Traders", "Industrial Supply", "Fasteners", "Tools", "Electrical", "Distribution"]
CITIES = [("Berlin", "10117", "DE"), ("Hamburg", "20095", "DE"), ("Leeds", "LS1 4AP", "GB"),
          ("Lyon", "69002", "FR"), ("Rotterdam", "3011", "NL")]  # fmt: skip


def setup_django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ["DJANGO_DEBUG"] = "0"
    os.environ.setdefault("MDM_VAR_DIR", tempfile.mkdtemp(prefix="mdm-bench-ui-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mdm.settings")
    import django

    django.setup()
    from django.conf import settings

    settings.ALLOWED_HOSTS.append("testserver")


def explanation(left: dict, right: dict, probability: float) -> dict:
    comparisons = []
    for feature, weight in (("name", 6.5), ("phone", 5.0), ("address_line1", 4.0),
                            ("city", 2.0), ("postal_code", 1.5), ("country", 0.3)):  # fmt: skip
        a, b = left.get(feature), right.get(feature)
        same = a is not None and a == b
        missing = a is None or b is None
        comparisons.append(
            {
                "comparison": feature,
                "feature": feature,
                "left": a,
                "right": b,
                "comparator": "jaro_winkler",
                "similarity": None if missing else (1.0 if same else 0.71),
                "level": "missing" if missing else ("exact" if same else "else"),
                "contribution": 0.0 if missing else (weight if same else -1.8),
            }
        )
    return {"probability": probability, "weight": 2.5, "reason": "weights", "rule_version": 1,
            "comparisons": comparisons}  # fmt: skip


def create_data(reviews: int, seed: int = 7) -> dict:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.utils import timezone

    from golden_records.history import ChangeOrigin
    from golden_records.models import SourceRecord, SourceSystem, new_golden_id
    from golden_records.services import apply_ownership
    from matching.models import MatchReview
    from stewardship.models import ReviewTask
    from sync.models import Subscription

    rng = random.Random(seed)
    now = timezone.now()
    systems = {
        code: SourceSystem.objects.create(code=code, name=code.upper(), kind=kind)
        for code, kind in [("erp", "erp"), ("crm", "crm"), ("wms", "wms"), ("ecom", "ecommerce")]
    }
    steward_group = Group.objects.create(name="steward")
    users = []
    for name in ("stella", "sam", "sofia", "stan"):
        user = get_user_model().objects.create_user(name, password="bench")
        user.groups.add(steward_group)
        users.append(user)
    Subscription.objects.create(
        system=systems["crm"], name="crm-accounts", domains=["customer"],
        fields={"customer": {"name": "AccountName", "segment": "Segment", "city": "City"}},
        endpoint_url="https://crm.example/hook", state=Subscription.State.PAUSED,
    )  # fmt: skip
    Subscription.objects.create(
        system=systems["ecom"], name="shop-customers", domains=["customer"],
        endpoint_url="https://shop.example/hook", state=Subscription.State.PAUSED,
    )  # fmt: skip

    origin = ChangeOrigin.command("bench")
    pairs = []
    started = time.perf_counter()
    for chunk_start in range(0, reviews, 500):
        records, golden_ids = [], []
        for n in range(chunk_start, min(chunk_start + 500, reviews)):
            city, postal, country = CITIES[n % len(CITIES)]
            name = f"{WORDS[n % len(WORDS)]} {KINDS[(n // 15) % len(KINDS)]} {n}"
            erp = {"name": f"{name} GmbH", "address_line1": f"{n % 400 + 1} Market Street",
                   "city": city, "postal_code": postal, "country": country,
                   "phone": f"+4930{n:07d}", "payment_terms": "NET30",
                   "credit_limit": "25000.00", "credit_currency": "EUR"}  # fmt: skip
            other = {"name": name, "address_line1": f"{n % 400 + 1} Market St", "city": city,
                     "postal_code": postal, "country": country,
                     "phone": f"+4930{n:07d}" if n % 3 else f"+4989{n:07d}",
                     "segment": "Key account" if n % 2 else "SMB"}  # fmt: skip
            for system, source_id, canonical in (
                ("erp", f"E{n:06d}", erp),
                (OTHERS[n % 3], f"X{n:06d}", other),
            ):
                golden_id = new_golden_id()
                golden_ids.append(golden_id)
                records.append(
                    SourceRecord(
                        system=systems[system], domain="customer", source_id=source_id,
                        payload=canonical, canonical=canonical,
                        payload_hash=hashlib.sha256(source_id.encode()).hexdigest(),
                        golden_id=golden_id, link_rule="bench", linked_at=now, received_at=now,
                    )
                )  # fmt: skip
        SourceRecord.objects.bulk_create(records)
        apply_ownership("customer", [], origin, new_golden_ids=golden_ids)
        for i in range(0, len(records), 2):
            pairs.append((records[i], records[i + 1]))
    print(f"  {2 * reviews:,} source and golden records in {time.perf_counter() - started:.0f} s")

    rows = []
    for erp, other in pairs:
        probability = round(rng.uniform(0.55, 0.97), 4)
        rows.append(
            MatchReview(
                domain="customer", source_record=other, candidate_record=erp,
                candidate_golden_id=erp.golden_id, probability=probability,
                explanation=explanation(other.canonical, erp.canonical, probability),
                rule_version=1, raised_by="online match",
                created_at=now - dt.timedelta(minutes=rng.randint(0, 60 * 24 * 60)),
            )
        )  # fmt: skip
    MatchReview.objects.bulk_create(rows, batch_size=1000)
    ids = list(MatchReview.objects.order_by("id").values_list("id", flat=True))
    tasks = [
        ReviewTask(review_id=pk, assignee=users[i % len(users)]) for i, pk in enumerate(ids[:2000])
    ]
    later = now + dt.timedelta(days=3)
    tasks += [ReviewTask(review_id=pk, deferred_until=later) for pk in ids[2000:2500]]
    ReviewTask.objects.bulk_create(tasks)
    return {"user": users[0]}


def measure(client, url: str, runs: int) -> tuple[float, float, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(3):  # warm up: templates, caches, connections
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        client.get(url)
        timings.append((time.perf_counter() - started) * 1000)
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    timings.sort()
    p95 = timings[min(len(timings) - 1, round(0.95 * (len(timings) - 1)))]
    return statistics.median(timings), p95, len(queries)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reviews", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--pg-url", default="postgres://postgres@127.0.0.1:5432/postgres")
    parser.add_argument(
        "--reuse", action="store_true", help="time the database of the previous run again"
    )
    args = parser.parse_args()

    name = "mdm_bench_ui"
    if args.reuse:
        setup_django(args.pg_url.rsplit("/", 1)[0] + f"/{name}")
    else:
        setup_django(fresh_pg_database(args.pg_url, name))
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from matching.models import MatchReview

    if not args.reuse:
        call_command("migrate", "--noinput", verbosity=0)
        print(f"Creating {args.reviews:,} open match reviews on PostgreSQL…")
        create_data(args.reviews)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    ids = list(MatchReview.objects.order_by("id").values_list("id", flat=True))
    print(
        f"{len(ids):,} open reviews; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )
    client = Client()
    client.force_login(get_user_model().objects.get(username="stella"))
    pages = [
        ("queue", "/steward/reviews"),
        ("queue, filtered", "/steward/reviews?system=crm&age=older7d&sort=age"),
        ("queue, page 100", "/steward/reviews?page=100"),
        ("queue, mine", "/steward/reviews?view=mine&sort=probability"),
        ("queue (htmx table)", "/steward/reviews?domain=customer&sort=-age"),
        ("review page", f"/steward/reviews/{ids[5000]}"),
        ("review page, in a filtered queue", f"/steward/reviews/{ids[7001]}?system=wms&sort=age"),
    ]
    print(f"{'page':34s} {'p50 ms':>8s} {'p95 ms':>8s} {'queries':>8s}")
    worst = 0.0
    for label, url in pages:
        extra = {"HTTP_HX_REQUEST": "true"} if "htmx" in label else {}
        if extra:
            client.defaults.update(extra)
        p50, p95, queries = measure(client, url, args.runs)
        for key in extra:
            client.defaults.pop(key)
        worst = max(worst, p95)
        print(f"{label:34s} {p50:8.1f} {p95:8.1f} {queries:8d}")
    verdict = "within" if worst <= BUDGET_MS else "OVER"
    print(f"worst p95 {worst:.1f} ms: {verdict} the {BUDGET_MS:.0f} ms budget")


if __name__ == "__main__":
    main()
