"""Batch ingest throughput: 100,000 customer records through the batch API, on SQLite and on
PostgreSQL.

For each database the script makes a fresh, empty database, migrates it, starts the production
server (gunicorn) on a free local port, creates source systems and tokens, and POSTs the records
in batches of 1,000 from CLIENTS concurrent clients. 70% of the records come from ERP as new
customers; 30% from CRM, which carry the DUNS number of an ERP customer and so link to it
(`linked`), and half of those also send a conflicting credit limit (a non-owner's value).
It prints records/s per database, the actions the hub reported and the CPU time the web
workers and the database server spent per record (read from /proc), then sends every batch a
second time, as a nightly full extract would (all ``unchanged``), and prints that rate too
(``--no-resend`` skips it).

That default data set (``--data adversarial``) is hard on the matcher on purpose: 70,000
distinct customers drawn from 15 x 10 x 5 names, 6 towns and 3 street names, so every blocking
key is shared by hundreds of records and most new records land in the review band. ``--data
realistic`` sends bench/generate.py's customers instead (varied names and addresses, about a
third with noisy duplicates from other systems, look-alikes and chains; four source systems:
crm, ecom, edi, erp), in batches of 1,000 per system, the systems taking turns.

``--concurrent-systems`` (PostgreSQL only) is the concurrent-senders scenario of
tests/concurrent_senders.py: erp, crm and ecom each send the same ENTITIES new companies (1,700)
at the same moment, in BATCHES batches (4 of 425), names and streets spelt their own way and no
identifier, so only the fuzzy match (and the catch-up after commit) can join them. It prints
records/s, the active golden records right after the last response, 30 s after it and once the
repair is done (no pending ``matching_catchuprequest`` row, when that table exists, and the
worker idle; at most --repair-timeout s), the open reviews (those between two records of one
company at or above auto-match), wrong merges, and then the same data sent one system after the
other, each run in a fresh database (mdm_wtbench_concurrent, mdm_wtbench_sequential, dropped
afterwards): the extra golden records are concurrent minus sequential.

    .venv/bin/python bench/ingest.py                    # both databases, 100,000 records
    .venv/bin/python bench/ingest.py --records 20000 --databases sqlite
    .venv/bin/python bench/ingest.py --data realistic --databases postgres
    .venv/bin/python bench/ingest.py --pg-url postgres://postgres@127.0.0.1:5432/postgres
    .venv/bin/python bench/ingest.py --concurrent-systems --pg-url postgres://postgres@127.0.0.1:5432/postgres
    .venv/bin/python bench/ingest.py --concurrent-systems --entities 150 --batches 2
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable

NAMES = [
    "Acme",
    "Summit",
    "Meridian",
    "Pioneer",
    "Atlas",
    "Harbor",
    "Keystone",
    "Granite",
    "Evergreen",
    "Liberty",
    "Northwind",
    "Bluewater",
    "Redwood",
    "Silverline",
    "Crescent",
]
KINDS = [
    "Industrial Supply",
    "Foods",
    "Electric",
    "Hardware",
    "Logistics",
    "Packaging",
    "Building Products",
    "Janitorial",
    "Medical Supply",
    "Auto Parts",
]
FORMS = ["Inc.", "LLC", "Corp.", "Co.", "Ltd."]
CITIES = [
    ("Chicago", "IL", "60601"),
    ("Dallas", "TX", "75201"),
    ("Denver", "CO", "80202"),
    ("Atlanta", "GA", "30303"),
    ("Columbus", "OH", "43215"),
    ("Phoenix", "AZ", "85004"),
]


def customer(rng: random.Random, i: int) -> dict:
    city, region, postal = rng.choice(CITIES)
    return {
        "source_id": f"C{i:07d}",
        "name": f"{rng.choice(NAMES)} {rng.choice(KINDS)} {rng.choice(FORMS)}",
        "duns": f"{100000000 + i:09d}",
        "phone": f"+1 312 555 {i % 10000:04d}",
        "email": f"ap{i}@customer{i}.example",
        "address_line1": f"{rng.randint(1, 9999)} {rng.choice(['Main', 'Oak', 'Lake'])} St",
        "city": city,
        "region": region,
        "postal_code": postal,
        "country": "US",
        "industry": rng.choice(["Manufacturing", "Healthcare", "Hospitality", "Construction"]),
        "credit_limit": f"{rng.randint(1, 500) * 100}.00",
        "credit_currency": "USD",
        "payment_terms": rng.choice(["NET30", "NET45", "NET60"]),
    }


def make_records(total: int, seed: int = 7) -> dict[str, list[dict]]:
    rng = random.Random(seed)
    erp_count = int(total * 0.7)
    erp = [customer(rng, i) for i in range(erp_count)]
    crm = []
    for j in range(total - erp_count):
        base = dict(erp[rng.randrange(erp_count)])
        base["source_id"] = f"001{j:012d}"
        base["name"] = base["name"].upper()
        base.pop("email")
        if j % 2:
            base["credit_limit"] = "999999.00"
        crm.append(base)
    return {"erp": erp, "crm": crm}


def make_realistic_records(total: int, seed: int = 7) -> dict[str, list[dict]]:
    """bench/generate.py's customers by source system, without their empty fields."""
    sys.path.insert(0, str(ROOT / "bench"))
    from generate import generate_customers

    rows, _ = generate_customers(total, seed=seed)
    by_system: dict[str, list[dict]] = {}
    for row in rows:
        payload = {k: v for k, v in row.items() if k != "source_system" and v}
        by_system.setdefault(row["source_system"], []).append(payload)
    return dict(sorted(by_system.items()))


class CpuMeter:
    """CPU seconds spent by the hub's processes while a pass runs, from Linux's /proc: the
    gunicorn server and its workers (``web``), the Celery worker (``worker``: the catch-up
    matching each batch enqueues on commit) and every PostgreSQL server process (``database``;
    the machine is otherwise quiet: every cluster's processes count). A process that ends between
    two samples loses at most its last quarter second."""

    def __init__(self, roles: dict[int, str]):
        self.roles = roles
        self.first: dict[int, float] = {}
        self.last: dict[int, tuple[str, float]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.started = False

    def __enter__(self) -> CpuMeter:
        self._sample(first=True)
        self.started = True
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    def _run(self) -> None:
        while not self._stop.wait(0.25):
            self._sample()

    def _sample(self, first: bool = False) -> None:
        for pid, kind, seconds in _processes(self.roles):
            if pid not in self.first:
                # Seen at the start: count from here; born during the pass: count all of it.
                self.first[pid] = seconds if first else 0.0
            self.last[pid] = (kind, seconds)

    def seconds(self) -> dict[str, float]:
        totals = {"web": 0.0, "worker": 0.0, "database": 0.0}
        for pid, (kind, seconds) in list(self.last.items()):
            totals[kind] += seconds - self.first[pid]
        return totals

    def wait_until_idle(self, role: str, quiet: float = 2.0, timeout: float = 600.0) -> float:
        """Seconds until the ``role`` processes used under 2% of a core for ``quiet`` seconds
        (the worker has worked off what the pass enqueued)."""
        started = time.perf_counter()
        previous, since = self.total(role), time.perf_counter()
        while time.perf_counter() - started < timeout:
            time.sleep(0.25)
            now = self.total(role)
            if now - previous > 0.02 * (time.perf_counter() - since):
                previous, since = now, time.perf_counter()
            elif time.perf_counter() - since >= quiet:
                return since - started
        return time.perf_counter() - started

    def total(self, role: str) -> float:
        """CPU seconds the ``role`` processes have used so far."""
        self._sample()
        return sum(s for kind, s in list(self.last.values()) if kind == role)


def _processes(roles: dict[int, str]) -> list[tuple[int, str, float]]:
    """(pid, role, CPU seconds) of the processes in ``roles``, their children, and PostgreSQL."""
    found = []
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    for entry in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = entry.read_text()
        except OSError:
            continue
        name = text[text.index("(") + 1 : text.rindex(")")]
        fields = text[text.rindex(")") + 2 :].split()
        pid, ppid = int(entry.parent.name), int(fields[1])
        seconds = (int(fields[11]) + int(fields[12])) / tick
        role = roles.get(pid) or roles.get(ppid)
        if role:
            found.append((pid, role, seconds))
        elif name.startswith("postgres"):
            found.append((pid, "database", seconds))
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def manage(env: dict, *args: str) -> str:
    return subprocess.run(
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    ).stdout.strip()


def post(url: str, token: str, body: bytes) -> dict:
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=600) as response:
        return json.loads(response.read())


@contextlib.contextmanager
def hub(database_url: str, systems: list[str], workers: int = 2, threads: int = 2):
    """A migrated database served by gunicorn (``workers`` x ``threads``) on a free local port,
    a Celery worker (solo pool) and a source system with a write token for each of ``systems``:
    yields (base URL, tokens, the processes' roles for CpuMeter), the worker booted and quiet."""
    workdir = Path(tempfile.mkdtemp(prefix="mdm-bench-"))
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "MDM_VAR_DIR": str(workdir),
        "DJANGO_DEBUG": "0",
        "MDM_LOG_LEVEL": "WARNING",
    }
    manage(env, "migrate", "--noinput", "-v0")
    tokens = {}
    for code in systems:
        kind = {"ecom": "ecommerce"}.get(code, code)
        manage(env, "create_source_system", code, "--name", code.upper(), "--kind", kind)
        tokens[code] = manage(env, "create_token", code)
    port = free_port()
    server = subprocess.Popen(
        [
            str(Path(PYTHON).parent / "gunicorn"),
            "mdm.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--timeout",
            "600",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    worker = subprocess.Popen(
        [PYTHON, "-m", "celery", "-A", "mdm", "worker", "--pool", "solo", "--loglevel", "error"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,  # its banner; errors still go to stderr
    )
    roles = {server.pid: "web", worker.pid: "worker"}
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        with CpuMeter(roles) as booting:  # the worker has started and gone quiet
            booting.wait_until_idle("worker", quiet=1.0)
        if worker.poll() is not None:
            raise SystemExit(f"the Celery worker exited at start (status {worker.returncode})")
        yield f"http://127.0.0.1:{port}", tokens, roles
    finally:
        server.terminate()
        worker.terminate()
        server.wait()
        worker.wait()
        shutil.rmtree(workdir, ignore_errors=True)


def run(
    database: str,
    database_url: str,
    records: dict[str, list[dict]],
    clients: int,
    interleave: bool = False,
    resend_too: bool = True,
    workers: int = 2,
    threads: int = 2,
) -> dict:
    with hub(database_url, list(records), workers, threads) as (base_url, tokens, roles):
        per_system = []
        for code, rows in records.items():
            per_system.append(
                [
                    (
                        f"{base_url}/api/v1/sources/{code}/customer/batch",
                        tokens[code],
                        json.dumps({"records": rows[start : start + 1000]}).encode(),
                    )
                    for start in range(0, len(rows), 1000)
                ]
            )
        if interleave:  # the systems take turns: batch 1 of each, then batch 2 of each, …
            jobs = [
                job
                for turn in range(max(map(len, per_system)))
                for batches in per_system
                if turn < len(batches)
                for job in [batches[turn]]
            ]
        else:
            jobs = [job for batches in per_system for job in batches]
        with CpuMeter(roles) as meter:
            elapsed, actions = send(jobs, clients)
            drained = meter.wait_until_idle("worker")
        cpu = meter.seconds()
        # The same records again, as a nightly full extract sends them: all unchanged.
        resend = None
        if resend_too:
            with CpuMeter(roles) as again:
                resend = (*send(jobs, clients), again.seconds())
    total = sum(len(rows) for rows in records.values())
    result = {
        "database": database,
        "records": total,
        "seconds": elapsed,
        "records_per_s": total / elapsed,
        "actions": dict(actions),
        "cpu_ms_per_record": {k: 1000 * v / total for k, v in cpu.items()},
        "worker_done_after_s": drained,
    }
    if resend is not None:
        result["resend"] = {
            "seconds": resend[0],
            "records_per_s": total / resend[0],
            "actions": dict(resend[1]),
            "cpu_ms_per_record": {k: 1000 * v / total for k, v in resend[2].items()},
        }
    return result


def send(jobs: list[tuple[str, str, bytes]], clients: int) -> tuple[float, Counter]:
    """POST every batch from ``clients`` concurrent clients: (seconds, actions reported)."""
    actions: Counter = Counter()
    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        for result in pool.map(lambda job: post(*job), jobs):
            actions.update(r["action"] for r in result["results"])
    return time.perf_counter() - started, actions


def cpu_line(per_record: dict[str, float]) -> str:
    """CPU time per record, and the rate those alone would allow on this machine's cores."""
    cores = os.cpu_count() or 1
    web, worker, database = per_record["web"], per_record["worker"], per_record["database"]
    every = web + worker + database
    ceiling = f"{1000 * cores / every:,.0f}" if every else "-"
    return (
        f"CPU per record: web {web:.2f} ms + worker {worker:.2f} ms + database {database:.2f} ms"
        f" = {every:.2f} ms (on {cores} cores at most {ceiling} records/s)"
    )


def fresh_pg_database(admin_url: str, name: str) -> str:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


# --concurrent-systems --------------------------------------------------------------------------

AUTO_MATCH = json.loads((ROOT / "matching/rules/customer.json").read_text())["thresholds"][
    "auto_match"
]


def drop_pg_database(admin_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class HubState:
    """What the hub's database holds, read over one connection of its own."""

    def __init__(self, database_url: str):
        import psycopg

        self.conn = psycopg.connect(database_url, autocommit=True)

    def close(self) -> None:
        self.conn.close()

    def active_golden(self) -> int:
        return self.conn.execute(
            "SELECT count(*) FROM golden_records_customer WHERE record_status = 'active'"
        ).fetchone()[0]

    def pending_catch_up(self) -> int | None:
        """Catch-up requests not done yet (matching.CatchUpRequest); None: no such table."""
        exists = self.conn.execute(
            "SELECT to_regclass('matching_catchuprequest') IS NOT NULL"
        ).fetchone()[0]
        if not exists:
            return None
        return self.conn.execute(
            "SELECT count(*) FROM matching_catchuprequest WHERE done_at IS NULL"
        ).fetchone()[0]

    def judge(self, truth: dict[tuple[str, str], int]) -> dict[str, int]:
        """Golden records and open reviews against the truth, (system, source id) → company."""
        merged_into = dict(
            self.conn.execute(
                "SELECT golden_id, merged_into FROM golden_records_customer "
                "WHERE record_status = 'merged'"
            ).fetchall()
        )

        def survivor(golden_id):
            for _ in range(100):  # a merged id resolves to the record it was merged into
                if golden_id not in merged_into:
                    break
                golden_id = merged_into[golden_id]
            return golden_id

        company: dict[int, int] = {}
        held: dict = {}  # active golden id → the companies of its source records
        for pk, code, source_id, golden_id in self.conn.execute(
            "SELECT r.id, s.code, r.source_id, r.golden_id FROM golden_records_sourcerecord r "
            "JOIN golden_records_sourcesystem s ON s.id = r.system_id WHERE r.domain = 'customer'"
        ):
            company[pk] = truth[(code, source_id)]
            held.setdefault(survivor(golden_id), set()).add(company[pk])
        goldens_of: Counter = Counter(c for companies in held.values() for c in companies)
        reviews = self.conn.execute(
            "SELECT source_record_id, candidate_record_id, probability FROM matching_matchreview "
            "WHERE status = 'open' AND domain = 'customer'"
        ).fetchall()
        same = [p for a, b, p in reviews if company[a] == company[b]]
        return {
            "golden": self.active_golden(),
            "wrong_merges": sum(len(companies) > 1 for companies in held.values()),
            "split_companies": sum(n > 1 for n in goldens_of.values()),
            "open_reviews": len(reviews),
            "reviews_one_company": len(same),
            "reviews_one_company_auto": sum(p >= AUTO_MATCH for p in same),
            "reviews_two_companies": len(reviews) - len(same),
        }


def wait_for_repair(
    state: HubState, meter: CpuMeter, last_response: float, cap: float, quiet: float = 2.0
) -> dict:
    """Wait until the catch-up is done: no pending CatchUpRequest (when the table exists) and
    the worker under 2% of a core for ``quiet`` seconds. Samples the active golden records every
    half second. Returns when it was done (seconds after ``last_response``), whether the wait
    hit ``cap`` (seconds after the last response), what it waited for and the samples."""
    samples: list[tuple[float, int]] = []
    previous, busy_at = meter.total("worker"), time.perf_counter()
    pending_at = last_response
    table = False
    while True:
        now = time.perf_counter()
        cpu = meter.total("worker")
        if cpu - previous > 0.02 * (now - busy_at):
            previous, busy_at = cpu, now
        pending = state.pending_catch_up()
        table = pending is not None
        if pending:
            pending_at = now
        samples.append((now - last_response, state.active_golden()))
        if not pending and now - busy_at >= quiet:
            done = max(busy_at, pending_at, last_response) - last_response
            return {"after_s": done, "capped": False, "table": table, "samples": samples}
        if now - last_response >= cap:
            return {
                "after_s": now - last_response,
                "capped": True,
                "table": table,
                "samples": samples,
            }
        time.sleep(0.5)


def concurrent_systems_run(
    database_url: str,
    scenario,
    batches: int,
    sequential: bool,
    workers: int,
    threads: int,
    cap: float,
) -> dict:
    from tests.concurrent_senders import send_concurrently

    systems = list(scenario.payloads)
    with hub(database_url, systems, workers, threads) as (base_url, tokens, roles):
        state = HubState(database_url)
        try:
            with CpuMeter(roles) as meter:
                sent = send_concurrently(base_url, tokens, scenario, batches, sequential)
                right_after = state.active_golden()
                repair = wait_for_repair(state, meter, sent.finished, cap)
            judged = state.judge(scenario.truth)
        finally:
            state.close()
    at_30 = [count for after, count in repair["samples"] if after <= 30.0]
    return {
        "systems": systems,
        "sent": sent,
        "right_after": right_after,
        "at_30_s": at_30[-1] if at_30 and repair["samples"][-1][0] >= 30.0 else judged["golden"],
        "repair": repair,
        "judged": judged,
        "cpu_ms_per_record": {k: 1000 * v / scenario.records for k, v in meter.seconds().items()},
    }


def concurrent_systems(args: argparse.Namespace) -> None:
    """The concurrent-senders scenario (tests/concurrent_senders.py), concurrent and then one
    system after the other, each in a fresh PostgreSQL database; prints the difference."""
    sys.path.insert(0, str(ROOT))
    from tests.concurrent_senders import entities

    scenario = entities(args.entities)
    systems = list(scenario.payloads)
    size = -(-args.entities // args.batches)
    print(
        f"concurrent systems: {', '.join(systems)} each send the same {args.entities:,} companies"
        f" ({scenario.records:,} records) in {args.batches} batches of {size:,}; "
        f"gunicorn {args.workers} workers x {args.threads} threads, one Celery worker (solo); "
        f"PostgreSQL; auto-match at p >= {AUTO_MATCH}",
        flush=True,
    )
    results = {}
    for label, sequential in (("concurrent", False), ("sequential", True)):
        name = f"mdm_wtbench_{label}"
        url = fresh_pg_database(args.pg_url, name)
        try:
            result = concurrent_systems_run(
                url,
                scenario,
                args.batches,
                sequential,
                args.workers,
                args.threads,
                args.repair_timeout,
            )
        finally:
            if not args.keep_databases:
                drop_pg_database(args.pg_url, name)
        results[label] = result
        print_concurrent_systems(label, scenario.records, result)
    concurrent, sequential = results["concurrent"], results["sequential"]
    baseline = sequential["judged"]["golden"]
    after = concurrent["judged"]["golden"]
    print(
        f"extra golden records: concurrent - sequential = {after:,} - {baseline:,} = "
        f"{after - baseline:,} after the repair "
        f"({concurrent['repair']['after_s']:.1f} s after the last response"
        f"{', capped' if concurrent['repair']['capped'] else ''}); "
        f"{concurrent['right_after'] - baseline:,} right after the last response, "
        f"{concurrent['at_30_s'] - baseline:,} 30 s after it (target: 0 within 30 s)",
        flush=True,
    )


def print_concurrent_systems(label: str, records: int, result: dict) -> None:
    sent, repair, judged = result["sent"], result["repair"], result["judged"]
    pad = " " * 12
    print(
        f"{label:11s} {records:>6,} records in {sent.seconds:6.1f} s = "
        f"{records / sent.seconds:5,.0f} records/s   actions {dict(sorted(sent.actions.items()))}",
        flush=True,
    )
    per_system: dict[str, list[str]] = {system: [] for system in result["systems"]}
    for system, _, seconds in sorted(sent.batch_seconds, key=lambda batch: batch[1]):
        per_system[system].append(f"{seconds:.1f}")
    print(
        f"{pad}seconds per batch: "
        + "; ".join(f"{system} {' '.join(times)}" for system, times in per_system.items())
    )
    print(f"{pad}{cpu_line(result['cpu_ms_per_record'])} (until the repair was done)")
    waited_for = (
        "no pending catch-up request and the worker idle"
        if repair["table"]
        else "the worker idle (no matching_catchuprequest table)"
    )
    capped = " - CAPPED, not done" if repair["capped"] else ""
    print(
        f"{pad}active golden records: {result['right_after']:,} right after the last response, "
        f"{result['at_30_s']:,} 30 s after it, {judged['golden']:,} when the repair was done "
        f"({repair['after_s']:.1f} s after the last response{capped}; waited for {waited_for})"
    )
    print(
        f"{pad}open reviews {judged['open_reviews']:,}: of one company "
        f"{judged['reviews_one_company']:,} (at p >= {AUTO_MATCH}: "
        f"{judged['reviews_one_company_auto']:,}), of two companies "
        f"{judged['reviews_two_companies']:,}; golden records mixing companies (wrong merges) "
        f"{judged['wrong_merges']:,}; companies over several golden records "
        f"{judged['split_companies']:,}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=2, help="threads per gunicorn worker")
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--pg-url", default="postgres://postgres@127.0.0.1:5432/postgres")
    parser.add_argument(
        "--data",
        choices=["adversarial", "realistic"],
        default="adversarial",
        help="adversarial: few distinct names and addresses (the default, see above); "
        "realistic: bench/generate.py's customers",
    )
    parser.add_argument(
        "--no-resend",
        action="store_true",
        help="skip the second pass that sends every record again unchanged",
    )
    parser.add_argument(
        "--concurrent-systems",
        action="store_true",
        help="erp, crm and ecom send the same new companies at the same time (PostgreSQL only, "
        "see above); --entities, --batches, --workers, --threads, --pg-url apply",
    )
    parser.add_argument("--entities", type=int, default=1700, help="--concurrent-systems")
    parser.add_argument(
        "--batches", type=int, default=4, help="--concurrent-systems: batches per system"
    )
    parser.add_argument(
        "--repair-timeout",
        type=float,
        default=600.0,
        help="--concurrent-systems: seconds after the last response to wait for the repair",
    )
    parser.add_argument(
        "--keep-databases",
        action="store_true",
        help="--concurrent-systems: keep mdm_wtbench_concurrent / _sequential for a look",
    )
    args = parser.parse_args()
    if args.concurrent_systems:
        concurrent_systems(args)
        return
    realistic = args.data == "realistic"
    records = make_realistic_records(args.records) if realistic else make_records(args.records)
    results = []
    for database in args.databases.split(","):
        if database == "sqlite":
            url = "sqlite:///" + str(
                Path(tempfile.mkdtemp(prefix="mdm-bench-db-")) / "bench.sqlite3"
            )
        elif database == "postgres":
            url = fresh_pg_database(args.pg_url, "mdm_bench_ingest")
        else:
            raise SystemExit(f"unknown database {database!r}")
        result = run(
            database,
            url,
            records,
            args.clients,
            interleave=realistic,
            resend_too=not args.no_resend,
            workers=args.workers,
            threads=args.threads,
        )
        results.append(result)
        print(
            f"{database:9s} {args.data:11s} {result['records']:>7,} records in "
            f"{result['seconds']:7.1f} s = "
            f"{result['records_per_s']:7,.0f} records/s   actions {result['actions']}",
            flush=True,
        )
        print(f"{'':21s} {cpu_line(result['cpu_ms_per_record'])}", flush=True)
        print(
            f"{'':21s} the worker finished the catch-up matching "
            f"{result['worker_done_after_s']:.1f} s after the last response",
            flush=True,
        )
        if "resend" in result:
            again = result["resend"]
            print(
                f"{database:9s} {'resent':11s} {result['records']:>7,} records in "
                f"{again['seconds']:7.1f} s = {again['records_per_s']:7,.0f} records/s   "
                f"actions {again['actions']}",
                flush=True,
            )
            print(f"{'':21s} {cpu_line(again['cpu_ms_per_record'])}", flush=True)


if __name__ == "__main__":
    main()
