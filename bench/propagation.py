"""Propagation throughput and latency: golden changes delivered to two subscriptions through
two Celery worker processes (Redis broker, PostgreSQL), to the reference receiver.

The script makes a fresh PostgreSQL database, migrates it, subscribes two systems (two inboxes of
one reference receiver, started as a subprocess like the workers, beat and a private Redis server;
tests/sync/reliability.py) and runs two phases of CHANGES new customers each (one golden change,
so one delivery per subscription, each):

- backlog: the changes are made with no worker running, then two workers start; deliveries/s is
  counted from the first delivery to the last one (receiver time).
- live: the workers run while the changes are made, in batches of BATCH records (one transaction
  each), as fast as ingest goes. Latency is from the event's created_at (the change, inside the
  ingest transaction, so it includes the rest of that transaction) to the moment the receiver
  read the request that it accepted (its received_at); p50/p95/max are printed, with the
  deliveries/s of that phase (bounded by how fast ingest makes changes).

    .venv/bin/python bench/propagation.py                        # 10,000 changes per phase
    .venv/bin/python bench/propagation.py --changes 2000 --batch 100
    .venv/bin/python bench/propagation.py --phases live --rate 250   # paced changes
    MDM_DELIVERY_BATCH=64 MDM_DELIVERY_THREADS=16 .venv/bin/python bench/propagation.py

Engine settings (MDM_DELIVERY_*, MDM_WEBHOOK_*) are taken from the environment, as the hub does.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.ingest import fresh_pg_database  # noqa: E402


def manage(env: dict, *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--changes", type=int, default=10_000, help="per phase")
    parser.add_argument("--batch", type=int, default=100, help="records per ingest (live phase)")
    parser.add_argument("--pg-url", default="postgres://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--phases", default="backlog,live")
    parser.add_argument(
        "--rate",
        type=float,
        default=0.0,
        help="live phase: changes per second (0: as fast as ingest goes). Latency is only "
        "bounded when deliveries keep up, i.e. below the backlog phase's rate / subscriptions.",
    )
    args = parser.parse_args()

    url = fresh_pg_database(args.pg_url, "mdm_bench_propagation")
    workdir = Path(tempfile.mkdtemp(prefix="mdm-bench-propagation-"))
    os.environ.update(
        DATABASE_URL=url,
        DJANGO_SETTINGS_MODULE="mdm.settings",
        DJANGO_DEBUG="0",
        MDM_VAR_DIR=str(workdir),
        MDM_LOG_LEVEL="WARNING",
    )
    manage({**os.environ}, "migrate", "--noinput", "-v0")

    import django

    django.setup()

    import sync.tasks
    from golden_records.history import ChangeOrigin
    from golden_records.models import SourceSystem
    from golden_records.services import ingest_batch
    from sync import signing
    from sync.models import Delivery, OutboxEvent
    from sync.services import create_subscription
    from tests.sync.reliability import Cluster, receiver_requests, wait_until

    secret = signing.new_secret()
    cluster = Cluster(url, workdir, secret, workers=2)
    erp = SourceSystem.objects.create(code="erp", name="ERP", kind="erp")
    origin = ChangeOrigin.source_system("erp")
    try:
        cluster.start_redis()
        cluster.start_receiver()
        cluster.start_beat()
        _app, dispatch = cluster.sender()
        sync.tasks.dispatch = dispatch  # this process wakes workers on the private Redis
        channels = {}
        for code in ("ecom", "crm"):
            system = SourceSystem.objects.create(code=code, name=code.upper(), kind=code)
            sub = create_subscription(
                system, code, f"{cluster.receiver_url}/{code}", ["customer"], secret=secret
            )
            channels[sub.pk] = f"/{code}"

        def ingest(count: int, batch: int, prefix: str, rate: float = 0.0) -> float:
            started = time.perf_counter()
            for start in range(0, count, batch):
                if rate:  # paced: no more than `rate` changes per second so far
                    ahead = start / rate - (time.perf_counter() - started)
                    if ahead > 0:
                        time.sleep(ahead)
                records = [
                    {"source_id": f"{prefix}{i}", "name": f"{prefix} {uuid.uuid4().hex[:12]}"}
                    for i in range(start, min(count, start + batch))
                ]
                ingest_batch(erp, "customer", records, "reject_failed", origin)
            return time.perf_counter() - started

        def all_delivered(expected: int) -> bool:
            return (
                Delivery.objects.filter(status="delivered").count() >= expected
                and not Delivery.objects.exclude(status="delivered").exists()
            )

        def report(phase: str, since_seq: int, ingest_seconds: float) -> None:
            rows = [
                r
                for r in receiver_requests(cluster.store, channels.values())
                if r["seq"] > since_seq and r["outcome"] == "accepted"
            ]
            created = dict(
                (str(event_id), when.timestamp())
                for event_id, when in OutboxEvent.objects.values_list("id", "created_at")
            )
            latencies = [r["received_at"] - created[r["webhook_id"]] for r in rows]
            first = min(r["received_at"] for r in rows)
            last = max(r["received_at"] for r in rows)
            first_change = min(created[r["webhook_id"]] for r in rows)
            span = last - first
            print(
                f"{phase:8s} {len(rows):>6,} deliveries  "
                f"{len(rows) / span:7,.0f} deliveries/s (first to last delivery, {span:.1f} s)  "
                f"{len(rows) / (last - first_change):6,.0f}/s from the first change  "
                f"ingest {ingest_seconds:.1f} s  latency p50 {statistics.median(latencies):.2f} s"
                f"  p95 {percentile(latencies, 0.95):.2f} s  max {max(latencies):.2f} s",
                flush=True,
            )

        delivered = 0
        seq = 0
        for phase in args.phases.split(","):
            if phase == "backlog":
                seconds = ingest(args.changes, 1000, "B")
                for i in range(cluster.workers):
                    cluster.start_worker(i)
            elif phase == "live":
                if not cluster.worker_names():
                    for i in range(cluster.workers):
                        cluster.start_worker(i)
                    # Changes made while the workers still boot would wait for them: the live
                    # phase measures running workers, so it starts when both answer a ping.
                    control, _ = cluster.sender()
                    wait_until(
                        lambda app=control: len(app.control.ping(timeout=0.5)) >= cluster.workers,
                        60,
                        "workers ready",
                        0.2,
                    )
                seconds = ingest(args.changes, args.batch, "L", args.rate)
            else:
                raise SystemExit(f"unknown phase {phase!r}")
            delivered += 2 * args.changes
            cpu_before = cluster.cpu_seconds()
            wait_until(lambda n=delivered: all_delivered(n), 900, f"{phase} delivered", 0.5)
            report(phase, seq, seconds)
            cpu = {
                name: used - cpu_before.get(name, 0.0)
                for name, used in cluster.cpu_seconds().items()
            }
            print(
                "         CPU s while delivering: "
                + ", ".join(f"{name} {used:.1f}" for name, used in sorted(cpu.items())),
                flush=True,
            )
            seq = max(r["seq"] for r in receiver_requests(cluster.store, channels.values()))
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()
