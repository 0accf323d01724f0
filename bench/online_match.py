"""Online matching latency: one new record against N golden customers, in-process.

Loads N synthetic customer records (bench/generate.py) through the hub's ingest pipeline
(ingest_batch, 1,000 per batch: each is matched, linked or created, indexed) into a fresh
database, then matches held-out records one at a time, as a PUT of a single record would:
standardise, look the blocking keys up in the index, score the candidates, decide. Prints the
load throughput, the latency percentiles of the match step alone and of a whole single-record
ingest (match plus writes, rolled back), and the decisions' precision against the generator's
truth (for the held-out records that have a duplicate among the loaded ones).

    .venv/bin/python bench/online_match.py                    # 100,000 goldens, SQLite
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench .venv/bin/python bench/online_match.py
    .venv/bin/python bench/online_match.py --entities 20000 --probes 300
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--entities",
        type=int,
        default=100_000,
        help="Distinct companies loaded first (with their duplicates: about 1.5 records each).",
    )
    parser.add_argument("--probes", type=int, default=1_000, help="Held-out records matched.")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    tmp = tempfile.mkdtemp(prefix="mdm-online-")
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{tmp}/bench.sqlite3")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mdm.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction
    from generate import generate_customers

    from golden_records.domains import get_domain
    from golden_records.history import ChangeOrigin
    from golden_records.models import GOLDEN_MODELS, SourceRecord, SourceSystem
    from golden_records.pipeline import prepare_record
    from golden_records.services import ingest_batch, ingest_record
    from matching.online import OnlineMatcher
    from matching.rule_versions import active_rules

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # a clean slate in the given database
            cursor.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    call_command("migrate", verbosity=0)
    print(f"database: {connection.vendor}")

    records, entities = generate_customers(int(args.entities * 1.7) + args.probes, seed=args.seed)
    entity_of = {
        (r["source_system"], r["source_id"]): e for r, e in zip(records, entities, strict=True)
    }
    # Loaded: the records up to the one that brings the count of companies to --entities; held
    # out: the next --probes records (duplicates of loaded companies and new companies alike).
    seen: set[str] = set()
    cut = len(records) - args.probes
    for position, entity in enumerate(entities):
        seen.add(entity)
        if len(seen) == args.entities:
            cut = position + 1
            break
    loaded, probes = records[:cut], records[cut : cut + args.probes]
    systems = {
        code: SourceSystem.objects.get_or_create(code=code, defaults={"name": code, "kind": code})[
            0
        ]
        for code in {r["source_system"] for r in records}
    }
    origin = ChangeOrigin.command("bench")

    started = time.perf_counter()
    rejected = 0
    by_system: dict[str, list[dict]] = {}
    for record in loaded:
        by_system.setdefault(record["source_system"], []).append(record)
    batches = [
        (code, rows[i : i + 1000])
        for code, rows in by_system.items()
        for i in range(0, len(rows), 1000)
    ]
    batches.sort(key=lambda b: b[1][0]["source_id"])
    for number, (code, rows) in enumerate(batches, start=1):
        payloads = [{k: v for k, v in r.items() if k != "source_system" and v} for r in rows]
        outcome = ingest_batch(systems[code], "customer", payloads, "reject_failed", origin)
        rejected += outcome.counts.get("rejected", 0)
        if number % 20 == 0:
            rate = sum(len(b[1]) for b in batches[:number]) / (time.perf_counter() - started)
            print(f"  loaded {number}/{len(batches)} batches ({rate:,.0f} rec/s)", flush=True)
    load_seconds = time.perf_counter() - started
    goldens = GOLDEN_MODELS["customer"].objects.count()
    print(
        f"loaded {len(loaded):,} records in {load_seconds:.1f} s "
        f"({len(loaded) / load_seconds:,.0f} rec/s, {rejected} rejected): "
        f"{goldens:,} golden records"
    )

    rules = active_rules("customer")
    spec = get_domain("customer")
    golden_entities: dict = {}
    for system, source_id, golden_id in SourceRecord.objects.values_list(
        "system__code", "source_id", "golden_id"
    ):
        golden_entities.setdefault(golden_id, Counter())[entity_of[(system, source_id)]] += 1

    match_ms: list[float] = []
    ingest_ms: list[float] = []
    outcomes: Counter = Counter()
    right = wrong = 0
    for probe in probes:
        payload = {k: v for k, v in probe.items() if k != "source_system" and v}
        prepared = prepare_record(spec, payload, 0)
        if not prepared.ok:
            outcomes["invalid"] += 1
            continue
        t0 = time.perf_counter()
        matcher = OnlineMatcher(rules)
        matcher.prepare([prepared.canonical])
        decision = matcher.decide(0, {})
        match_ms.append((time.perf_counter() - t0) * 1000)
        outcomes[decision.outcome] += 1
        if decision.outcome == "linked":
            majority = golden_entities[decision.golden_id].most_common(1)[0][0]
            if majority == entity_of[(probe["source_system"], probe["source_id"])]:
                right += 1
            else:
                wrong += 1
        t0 = time.perf_counter()
        with transaction.atomic():
            ingest_record(
                systems[probe["source_system"]], "customer", probe["source_id"], payload, origin
            )
            transaction.set_rollback(True)
        ingest_ms.append((time.perf_counter() - t0) * 1000)

    print(f"\nmatch step, {len(match_ms)} single records against {goldens:,} golden records:")
    for label, values in (("match only", match_ms), ("ingest (match+write)", ingest_ms)):
        print(
            f"  {label:22s} p50 {percentile(values, 50):6.1f} ms  "
            f"p95 {percentile(values, 95):6.1f} ms  p99 {percentile(values, 99):6.1f} ms  "
            f"mean {statistics.mean(values):6.1f} ms"
        )
    print(f"  decisions: {dict(outcomes)}; auto-links to the right entity {right}, wrong {wrong}")


if __name__ == "__main__":
    main()
