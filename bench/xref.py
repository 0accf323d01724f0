"""Cross-reference lookups behind the production server, against the database's own speed.

Makes a fresh PostgreSQL database, migrates it, and loads 1,000,000 cross-references: 300,000
golden customers, each seen by ERP and by some of CRM, eCommerce (ids with slashes), WMS and EDI.
Then it starts the production server (gunicorn, as `make serve`: 2 workers, 4 threads) on a free
local port with a read-only token and measures

* single lookup `GET /api/v1/xref/customer/{system}/{id}`: p50 and p99 of one client in turn;
* requests per second with 8 concurrent clients (8 processes, keep-alive connections);
* a 1,000-id batch `POST /api/v1/xref/customer/lookup`: p50 and p99;

and the same lookups as plain psycopg queries (the SQL golden_records/xref.py sends, on one
connection per client), so each figure is printed beside the database's own and their ratio.
Targets on a 2-core machine: p99 at most 10 ms, at least 1,000 requests/s, a batch within 150 ms.

Loading: **bench-only loader**. Going through ingest would take far too long for a million
records, so `load()` writes the golden rows (`golden_records_customer`) and the source records
(`golden_records_sourcerecord`) directly with COPY, then ANALYZE. It writes no history rows, no
match index and no lineage: the data is consistent for current lookups only (`as_of` answers
from history, which this data does not have). Never use it outside this benchmark.

    .venv/bin/python bench/xref.py                       # 1,000,000 cross-references
    .venv/bin/python bench/xref.py --goldens 30000       # a quick run (about 100,000)
    .venv/bin/python bench/xref.py --pg-url postgres://postgres@127.0.0.1:5432/postgres
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import multiprocessing
import os
import random
import shutil
import statistics
import subprocess
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

from ingest import PYTHON, ROOT, free_port, fresh_pg_database, manage

# (system, share of golden customers it has a record of, source id pattern)
SYSTEMS = [
    ("erp", 1.0, "C{:07d}"),
    ("crm", 0.8, "0015g{:010d}"),
    ("ecom", 0.6, "shop/de/{:d}"),
    ("wms", 0.5, "W-{:d}"),
    ("edi", 0.43, "EDI{:08d}"),
]
CLIENTS = 8

SINGLE_SQL = """
    SELECT g.golden_id, g.record_status, xs.code, x.source_id, x.linked_at, x.link_rule
    FROM golden_records_sourcerecord k
    JOIN golden_records_sourcesystem ks ON ks.id = k.system_id
    LEFT JOIN golden_records_customer g ON g.golden_id = k.golden_id
    JOIN golden_records_sourcerecord x ON x.domain = k.domain AND x.golden_id = k.golden_id
    JOIN golden_records_sourcesystem xs ON xs.id = x.system_id
    WHERE ks.code = %s AND k.domain = %s AND k.source_id = %s
    ORDER BY x.linked_at, x.id
"""
BATCH_KEYS_SQL = """
    WITH k(code, sid) AS (SELECT * FROM unnest(%s::text[], %s::text[]))
    SELECT k.code, k.sid, sr.golden_id, g.record_status, g.merged_into
    FROM k
    JOIN golden_records_sourcesystem s ON s.code = k.code
    CROSS JOIN LATERAL (SELECT golden_id FROM golden_records_sourcerecord
                        WHERE system_id = s.id AND domain = %s AND source_id = k.sid LIMIT 1) sr
    LEFT JOIN golden_records_customer g ON g.golden_id = sr.golden_id
"""
BATCH_XREFS_SQL = """
    SELECT x.golden_id, s.code, x.source_id, x.linked_at, x.link_rule
    FROM unnest(%s::uuid[]) AS u(golden_id)
    CROSS JOIN LATERAL (SELECT * FROM golden_records_sourcerecord
                        WHERE domain = %s AND golden_id = u.golden_id
                                      OFFSET 0) x
    JOIN golden_records_sourcesystem s ON s.id = x.system_id
    ORDER BY x.linked_at, x.id
"""


# -- the bench-only loader -----------------------------------------------------------------------


def load(database_url: str, goldens: int, seed: int = 11) -> list[tuple[str, str]]:
    """COPY ``goldens`` golden customers and their source records; returns every (system, id)."""
    import psycopg

    rng = random.Random(seed)
    now = dt.datetime.now(dt.UTC)
    keys: list[tuple[str, str]] = []
    with psycopg.connect(database_url) as conn, conn.cursor() as cur:
        system_ids = dict(cur.execute("SELECT code, id FROM golden_records_sourcesystem"))
        # Every NOT NULL text column of the golden table without a value here gets "".
        required_text = [
            name
            for (name,) in cur.execute(
                """SELECT column_name FROM information_schema.columns
                   WHERE table_name = 'golden_records_customer' AND is_nullable = 'NO'
                     AND data_type = 'character varying'
                     AND column_name NOT IN ('record_status', 'name')"""
            )
        ]
        golden_ids = [uuid.UUID(int=rng.getrandbits(128)) for _ in range(goldens)]
        columns = ["golden_id", "version", "record_status", "lineage", "created_at", "updated_at"]
        columns += ["name", *required_text]
        with cur.copy(f"COPY golden_records_customer ({', '.join(columns)}) FROM STDIN") as copy:
            for i, golden_id in enumerate(golden_ids):
                copy.write_row(
                    [golden_id, 1, "active", "{}", now, now, f"Customer {i}"]
                    + [""] * len(required_text)
                )
        source_columns = [
            "system_id", "domain", "source_id", "payload", "canonical", "\"references\"",
            "payload_hash", "golden_id", "link_rule", "linked_at", "received_at", "created_at",
        ]  # fmt: skip
        with cur.copy(
            f"COPY golden_records_sourcerecord ({', '.join(source_columns)}) FROM STDIN"
        ) as copy:
            for code, share, pattern in SYSTEMS:
                system_id = system_ids[code]
                for i, golden_id in enumerate(golden_ids):
                    if share < 1.0 and rng.random() >= share:
                        continue
                    source_id = pattern.format(i)
                    linked = now - dt.timedelta(seconds=rng.randrange(10_000_000))
                    copy.write_row(
                        [system_id, "customer", source_id, "{}", "{}", "{}", "", golden_id,
                         "bench", linked, linked, linked]
                    )  # fmt: skip
                    keys.append((code, source_id))
        conn.commit()
        conn.autocommit = True
        cur.execute("VACUUM ANALYZE golden_records_customer")
        cur.execute("VACUUM ANALYZE golden_records_sourcerecord")
    return keys


# -- clients -------------------------------------------------------------------------------------


def _path(key: tuple[str, str]) -> str:
    from urllib.parse import quote

    return f"/api/v1/xref/customer/{key[0]}/{quote(key[1], safe='/')}"


def http_singles(port: int, token: str, keys, seconds: float | None, out) -> None:
    """GET each key in turn on one keep-alive connection; puts the latencies (s) on ``out``."""
    conn = http.client.HTTPConnection("127.0.0.1", port)
    headers = {"Authorization": f"Bearer {token}"}
    latencies = []
    stop = time.perf_counter() + seconds if seconds else None
    for key in keys:
        started = time.perf_counter()
        conn.request("GET", _path(key), headers=headers)
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            raise SystemExit(f"{key}: HTTP {response.status}")
        latencies.append(time.perf_counter() - started)
        if stop and started > stop:
            break
    out.put(latencies)


def db_singles(database_url: str, keys, seconds: float | None, out) -> None:
    import psycopg

    latencies = []
    stop = time.perf_counter() + seconds if seconds else None
    with psycopg.connect(database_url, autocommit=True) as conn:
        cur = conn.cursor()
        for code, source_id in keys:
            started = time.perf_counter()
            rows = cur.execute(SINGLE_SQL, (code, "customer", source_id)).fetchall()
            if not rows:
                raise SystemExit(f"{code}/{source_id}: no row")
            latencies.append(time.perf_counter() - started)
            if stop and started > stop:
                break
    out.put(latencies)


def concurrent(target, args_for, clients: int) -> tuple[float, list[float]]:
    """Runs ``clients`` processes; returns (requests per second, all latencies)."""
    ctx = multiprocessing.get_context("fork")
    out = ctx.Queue()
    procs = [ctx.Process(target=target, args=(*args_for(i), out)) for i in range(clients)]
    started = time.perf_counter()
    for p in procs:
        p.start()
    latencies = []
    for _ in procs:
        latencies.extend(out.get())
    for p in procs:
        p.join()
    elapsed = time.perf_counter() - started
    return len(latencies) / elapsed, latencies


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def http_batch(port: int, token: str, batches) -> list[float]:
    conn = http.client.HTTPConnection("127.0.0.1", port)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    latencies = []
    for batch in batches:
        body = json.dumps({"lookups": [{"system": s, "source_id": i} for s, i in batch]})
        started = time.perf_counter()
        conn.request("POST", "/api/v1/xref/customer/lookup", body=body, headers=headers)
        response = conn.getresponse()
        data = json.loads(response.read())
        latencies.append(time.perf_counter() - started)
        if response.status != 200 or data["summary"]["found"] != len(batch):
            raise SystemExit(f"batch: HTTP {response.status} {data.get('summary')}")
    return latencies


def db_batch(database_url: str, batches) -> list[float]:
    import psycopg

    latencies = []
    with psycopg.connect(database_url, autocommit=True) as conn:
        cur = conn.cursor()
        for batch in batches:
            started = time.perf_counter()
            rows = cur.execute(
                BATCH_KEYS_SQL, ([s for s, _ in batch], [i for _, i in batch], "customer")
            ).fetchall()
            golden_ids = list({r[2] for r in rows})
            cur.execute(BATCH_XREFS_SQL, (golden_ids, "customer")).fetchall()
            latencies.append(time.perf_counter() - started)
    return latencies


# -- the run -------------------------------------------------------------------------------------


def start_server(env: dict, port: int) -> subprocess.Popen:
    server = subprocess.Popen(
        [
            str(Path(PYTHON).parent / "gunicorn"),
            "mdm.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--threads",
            "4",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("gunicorn did not start")


def line(label: str, http_value: float, db_value: float, unit: str, target: str) -> None:
    ratio = http_value / db_value if unit != "req/s" else db_value / http_value
    print(
        f"{label:34s} {http_value:9,.1f} {unit:6s} (database alone {db_value:9,.1f} {unit}; "
        f"x{ratio:5.1f})   target {target}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--goldens", type=int, default=300_000)
    parser.add_argument("--singles", type=int, default=5_000, help="sequential lookups")
    parser.add_argument("--seconds", type=float, default=10.0, help="of the concurrent run")
    parser.add_argument("--batches", type=int, default=30)
    parser.add_argument("--pg-url", default="postgres://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()

    database_url = fresh_pg_database(args.pg_url, "mdm_bench_xref")
    workdir = Path(tempfile.mkdtemp(prefix="mdm-bench-xref-"))
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "MDM_VAR_DIR": str(workdir),
        "DJANGO_DEBUG": "0",
        "MDM_LOG_LEVEL": "WARNING",
    }
    manage(env, "migrate", "--noinput", "-v0")
    for code, _, _ in SYSTEMS:
        manage(env, "create_source_system", code, "--name", code.upper(), "--kind", "other")
    token = manage(env, "create_token", "--read-only")
    started = time.perf_counter()
    keys = load(database_url, args.goldens)
    print(
        f"loaded {args.goldens:,} golden customers, {len(keys):,} cross-references "
        f"in {time.perf_counter() - started:.0f} s (COPY, bench-only loader)",
        flush=True,
    )
    rng = random.Random(3)
    port = free_port()
    server = start_server(env, port)
    try:
        warm = rng.sample(keys, 500)
        q = multiprocessing.get_context("fork").Queue()
        http_singles(port, token, warm, None, q)
        q.get()
        sample = rng.sample(keys, args.singles)
        _, http_lat = concurrent(http_singles, lambda i: (port, token, sample, None), 1)
        _, db_lat = concurrent(db_singles, lambda i: (database_url, sample, None), 1)
        line("single lookup p50", pct(http_lat, 0.5), pct(db_lat, 0.5), "ms", "")
        line("single lookup p99", pct(http_lat, 0.99), pct(db_lat, 0.99), "ms", "<= 10 ms")

        many = [rng.sample(keys, 200_000 // CLIENTS) for _ in range(CLIENTS)]
        http_rps, http_conc = concurrent(
            http_singles, lambda i: (port, token, many[i], args.seconds), CLIENTS
        )
        db_rps, db_conc = concurrent(
            db_singles, lambda i: (database_url, many[i], args.seconds), CLIENTS
        )
        line(f"{CLIENTS} clients: requests/s", http_rps, db_rps, "req/s", ">= 1,000 req/s")
        line(f"{CLIENTS} clients: p99", pct(http_conc, 0.99), pct(db_conc, 0.99), "ms", "")

        batches = [rng.sample(keys, 1000) for _ in range(args.batches)]
        http_batch(port, token, batches[:2])  # warm
        http_b = http_batch(port, token, batches)
        db_b = db_batch(database_url, batches)
        line("1,000-id batch p50", pct(http_b, 0.5), pct(db_b, 0.5), "ms", "")
        line("1,000-id batch p99", pct(http_b, 0.99), pct(db_b, 0.99), "ms", "<= 150 ms")
        print(
            f"(mean single {statistics.mean(http_lat) * 1000:.2f} ms over {len(http_lat):,}; "
            f"{len(http_conc):,} requests in the concurrent run)"
        )
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
