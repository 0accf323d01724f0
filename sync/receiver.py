"""The reference webhook receiver: what a downstream system that does it right looks like.

It verifies Standard Webhooks signatures (any of several secrets, so a rotation works), refuses
stale timestamps, drops versions older than (or equal to) the newest it holds for a record, answers
with its own id for each record, and keeps what it received in its own SQLite file: every request
(``requests``) and the current state per record (``records``). The hub's tests and benchmark read
that file to count what arrived; ``make run`` starts one for the demo subscriptions.

Each URL path is a separate inbox (``channel``): two subscriptions pointing at ``/erp`` and
``/ecom`` of one receiver are kept apart, as two downstream systems would be.

Fault injection (for tests and benchmarks): a share of the verified requests can be answered with
an error status instead of being applied, or held for a while before being answered (a hanging
endpoint: the request is applied after the hang, as a slow system would, so the hub's retry after
its timeout arrives as a duplicate). ``POST /_control`` with a JSON object changes the faults at
run time; ``GET /_control`` shows them and counts requests by outcome.
"""

from __future__ import annotations

import json
import random
import sqlite3
import threading
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from sync import signing

CONTROL_PATH = "/_control"
MAX_BODY_BYTES = 10 * 1024 * 1024

SCHEMA = """
CREATE TABLE IF NOT EXISTS requests (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    received_at REAL NOT NULL,          -- Unix time, when the request was read
    channel TEXT NOT NULL,              -- the URL path
    webhook_id TEXT,
    golden_id TEXT,
    version INTEGER,
    type TEXT,
    status INTEGER NOT NULL,            -- what the receiver answered
    outcome TEXT NOT NULL,              -- accepted, stale, rejected, invalid, failed
    error TEXT,
    body TEXT
);
CREATE INDEX IF NOT EXISTS requests_by_record ON requests (channel, golden_id, version);
CREATE TABLE IF NOT EXISTS records (
    channel TEXT NOT NULL,
    golden_id TEXT NOT NULL,
    receiver_id TEXT NOT NULL,          -- the id this receiver gave the record
    version INTEGER NOT NULL,
    type TEXT,
    webhook_id TEXT NOT NULL,
    updated_at REAL NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (channel, golden_id)
);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""


@dataclass
class Faults:
    """What goes wrong on purpose. ``enabled`` switches all of it off without forgetting it."""

    enabled: bool = True
    fail_rate: float = 0.0  # share of verified requests answered with fail_status, not applied
    fail_status: int = 500
    hang_rate: float = 1.0  # share of requests held for hang_seconds (when hang_seconds > 0)
    hang_seconds: float = 0.0

    def update(self, changes: dict[str, Any]) -> None:
        known = {f.name: f.type for f in fields(self)}
        unknown = set(changes) - set(known)
        if unknown:
            raise ValueError(f"unknown fault settings: {', '.join(sorted(unknown))}")
        for name, value in changes.items():
            if name == "enabled":
                if not isinstance(value, bool):
                    raise ValueError("enabled is true or false")
            elif name == "fail_status":
                value = int(value)
                if not 100 <= value <= 599:
                    raise ValueError("fail_status is an HTTP status")
            else:
                value = float(value)
                if value < 0 or (name.endswith("_rate") and value > 1):
                    raise ValueError(f"{name} must be between 0 and 1" if "rate" in name else name)
            setattr(self, name, value)


class Store:
    """The receiver's SQLite file (WAL). One connection behind a lock: every write is a short
    transaction, and a check-then-apply must not interleave with another request's."""

    def __init__(self, path: str | Path):
        self.path = str(path)
        self.lock = threading.Lock()
        self.conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.execute("PRAGMA busy_timeout=10000")
        self.conn.executescript(SCHEMA)

    def close(self) -> None:
        with self.lock:
            self.conn.close()

    def log(self, channel: str, status: int, outcome: str, error: str, **item: Any) -> None:
        with self.lock:
            self._log(channel, status, outcome, error, **item)

    def _log(
        self,
        channel: str,
        status: int,
        outcome: str,
        error: str,
        webhook_id: str | None = None,
        golden_id: str | None = None,
        version: int | None = None,
        type: str | None = None,
        body: str | None = None,
        received_at: float | None = None,
    ) -> None:
        self.conn.execute(
            "INSERT INTO requests (received_at, channel, webhook_id, golden_id, version, type,"
            " status, outcome, error, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                time.time() if received_at is None else received_at,
                channel,
                webhook_id,
                golden_id,
                version,
                type,
                status,
                outcome,
                error or None,
                body,
            ),
        )

    def apply(
        self,
        channel: str,
        webhook_id: str,
        golden_id: str,
        version: int,
        type: str,
        body: str,
        received_at: float,
    ) -> tuple[str, str]:
        """Store a verified message: (outcome, receiver id); outcome is accepted or stale."""
        with self.lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                row = self.conn.execute(
                    "SELECT receiver_id, version FROM records WHERE channel = ? AND golden_id = ?",
                    (channel, golden_id),
                ).fetchone()
                if row is not None and version <= row[1]:
                    outcome, receiver_id = "stale", row[0]
                else:
                    outcome = "accepted"
                    if row is None:
                        receiver_id = self._next_id()
                        self.conn.execute(
                            "INSERT INTO records (channel, golden_id, receiver_id, version, type,"
                            " webhook_id, updated_at, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                            (channel, golden_id, receiver_id, version, type, webhook_id,
                             received_at, body),
                        )  # fmt: skip
                    else:
                        receiver_id = row[0]
                        self.conn.execute(
                            "UPDATE records SET version = ?, type = ?, webhook_id = ?,"
                            " updated_at = ?, body = ? WHERE channel = ? AND golden_id = ?",
                            (version, type, webhook_id, received_at, body, channel, golden_id),
                        )
                self._log(
                    channel,
                    200,
                    outcome,
                    "",
                    webhook_id=webhook_id,
                    golden_id=golden_id,
                    version=version,
                    type=type,
                    body=body,
                    received_at=received_at,
                )
                self.conn.execute("COMMIT")
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
        return outcome, receiver_id

    def _next_id(self) -> str:
        self.conn.execute(
            "INSERT INTO counters (name, value) VALUES ('receiver_id', 1)"
            " ON CONFLICT (name) DO UPDATE SET value = value + 1"
        )
        (value,) = self.conn.execute(
            "SELECT value FROM counters WHERE name = 'receiver_id'"
        ).fetchone()
        return f"R-{value:06d}"

    def outcome_counts(self) -> dict[str, int]:
        with self.lock:
            return dict(
                self.conn.execute("SELECT outcome, count(*) FROM requests GROUP BY outcome")
            )


class ReceiverServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(
        self,
        address: tuple[str, int],
        secrets: Iterable[str],
        store: Store,
        faults: Faults | None = None,
        control: bool = True,
        tolerance: int = signing.TOLERANCE_SECONDS,
        seed: int | None = None,
    ):
        self.secrets = list(secrets)
        if not self.secrets:
            raise ValueError("The receiver needs at least one signing secret.")
        for secret in self.secrets:
            signing.sign(secret, "check", 0, b"")  # a malformed secret fails now, not per request
        self.store = store
        self.faults = faults or Faults()
        self.control = control
        self.tolerance = tolerance
        self.random = random.Random(seed)
        self.random_lock = threading.Lock()
        super().__init__(address, ReceiverHandler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away (it timed out on a hanging request) is not an error here."""
        import sys

        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)

    def chance(self, rate: float) -> bool:
        if rate <= 0:
            return False
        with self.random_lock:
            return self.random.random() < rate


class ReceiverHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the hub pools its connections
    # One write per response and no Nagle delay: headers and body in separate small packets
    # would wait for the client's delayed ACK (40 ms each).
    wbufsize = 64 * 1024
    disable_nagle_algorithm = True
    server: ReceiverServer
    server_version = "mdm-reference-receiver/1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def answer(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def read_body(self) -> bytes | None:
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY_BYTES:
            self.close_connection = True
            self.answer(400, {"error": "bad_length", "message": "Content-Length needed."})
            return None
        return self.rfile.read(length)

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == CONTROL_PATH and self.server.control:
            self.answer(200, self.control_state())
        elif path == "/_health":
            self.answer(200, {"ok": True})
        else:
            self.answer(404, {"error": "not_found"})

    def control_state(self) -> dict[str, Any]:
        return {
            "faults": asdict(self.server.faults),
            "requests": self.server.store.outcome_counts(),
        }

    def do_POST(self) -> None:
        received_at = time.time()
        body = self.read_body()
        if body is None:
            return
        channel = self.path.split("?", 1)[0]
        if channel == CONTROL_PATH and self.server.control:
            self.post_control(body)
            return
        server = self.server
        try:
            webhook_id = signing.verify(
                server.secrets, dict(self.headers.items()), body, tolerance=server.tolerance
            )
        except signing.SignatureError as exc:
            server.store.log(
                channel,
                401,
                "rejected",
                exc.code,
                webhook_id=self.headers.get("webhook-id"),
                received_at=received_at,
            )
            self.answer(401, {"error": exc.code, "message": exc.message})
            return
        text = body.decode("utf-8", errors="replace")
        try:
            message = json.loads(body)
            golden_id = str(message["golden_id"])
            version = int(message["version"])
            type_ = str(message.get("type", ""))
        except (ValueError, KeyError, TypeError):
            server.store.log(
                channel, 400, "invalid", "not_an_event", webhook_id=webhook_id, body=text,
                received_at=received_at,
            )  # fmt: skip
            self.answer(400, {"error": "not_an_event", "message": "golden_id and version needed."})
            return
        item = {
            "webhook_id": webhook_id,
            "golden_id": golden_id,
            "version": version,
            "type": type_,
            "body": text,
            "received_at": received_at,
        }
        faults = server.faults
        if faults.enabled and faults.hang_seconds > 0 and server.chance(faults.hang_rate):
            time.sleep(faults.hang_seconds)
        elif faults.enabled and server.chance(faults.fail_rate):
            status = faults.fail_status
            server.store.log(channel, status, "failed", "injected failure", **item)
            self.answer(status, {"error": "injected_failure"})
            return
        outcome, receiver_id = server.store.apply(channel, **item)
        if outcome == "stale":
            self.answer(200, {"id": receiver_id, "dropped": "stale"})
        else:
            self.answer(200, {"id": receiver_id})

    def post_control(self, body: bytes) -> None:
        try:
            changes = json.loads(body or b"{}")
            if not isinstance(changes, dict):
                raise ValueError("a JSON object of fault settings")
            self.server.faults.update(changes)
        except (ValueError, TypeError) as exc:
            self.answer(400, {"error": "bad_control", "message": str(exc)})
            return
        self.answer(200, self.control_state())


def make_server(
    secrets: Iterable[str],
    store_path: str | Path,
    host: str = "127.0.0.1",
    port: int = 0,
    faults: Faults | None = None,
    control: bool = True,
    seed: int | None = None,
) -> ReceiverServer:
    """A receiver bound to (host, port) (0: a free port); call serve_forever() to run it."""
    return ReceiverServer(
        (host, port), secrets, Store(store_path), faults=faults, control=control, seed=seed
    )


# -- reading a receiver's file (tests, benchmarks) ----------------------------------------------


def read_requests(store_path: str | Path, outcomes: Iterable[str] | None = None) -> list[dict]:
    """Every request the receiver logged, in arrival order (optionally only some outcomes)."""
    conn = sqlite3.connect(f"file:{store_path}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        query = "SELECT * FROM requests"
        params: list[str] = []
        if outcomes is not None:
            wanted = list(outcomes)
            query += f" WHERE outcome IN ({','.join('?' * len(wanted))})"
            params = wanted
        return [dict(row) for row in conn.execute(query + " ORDER BY seq", params)]
    finally:
        conn.close()


def read_records(store_path: str | Path) -> dict[tuple[str, str], dict]:
    """The receiver's current state: (channel, golden id) -> its row."""
    conn = sqlite3.connect(f"file:{store_path}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        rows = conn.execute("SELECT * FROM records")
        return {(row["channel"], row["golden_id"]): dict(row) for row in rows}
    finally:
        conn.close()
