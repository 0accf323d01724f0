"""webhook_receiver: run the reference webhook receiver (sync/receiver.py)."""

from __future__ import annotations

import argparse
import signal
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from sync.receiver import CONTROL_PATH, Faults, make_server

HELP = f"""Run the reference webhook receiver: a downstream system that verifies Standard Webhooks
signatures, drops stale versions, answers {{"id": "R-000001"}} (its own id, stable per record)
and keeps every request and the current state per record in its own SQLite file.

Each URL path is a separate inbox, so several subscriptions can point at one receiver
(http://127.0.0.1:9000/erp, http://127.0.0.1:9000/ecom).

Answers: 200 {{"id": ...}} applied; 200 {{"id": ..., "dropped": "stale"}} a version it already
has or an older one (not applied); 401 {{"error": "bad_signature" | "stale_timestamp" |
"missing_headers" | "bad_timestamp"}}; 400 not an event (no golden_id/version).

Fault injection, for tests and benchmarks:
  --fail-rate 0.3 --fail-status 500   answer 30% of verified requests with 500, not applied
  --hang-seconds 20 [--hang-rate 0.1] hold (10% of) requests 20 s, then apply and answer
  --faults-off                        start with the faults above configured but switched off
At run time, POST {CONTROL_PATH} with a JSON object changes them, for example
  curl -X POST localhost:9000{CONTROL_PATH} -d '{{"enabled": false}}'
  curl -X POST localhost:9000{CONTROL_PATH} -d '{{"fail_rate": 1, "fail_status": 503}}'
and GET {CONTROL_PATH} shows them with request counts by outcome. SIGUSR1 switches the faults
on or off. --no-control removes the endpoint.
"""


def rate(value: str) -> float:
    number = float(value)
    if not 0 <= number <= 1:
        raise argparse.ArgumentTypeError("a share between 0 and 1")
    return number


class Command(BaseCommand):
    help = HELP
    requires_system_checks: list[str] = []  # it does not touch the hub's database

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any):
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.formatter_class = argparse.RawDescriptionHelpFormatter
        return parser

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=9000, help="0 picks a free port")
        parser.add_argument(
            "--secret",
            action="append",
            required=True,
            help="a whsec_ signing secret; repeat it during a rotation",
        )
        parser.add_argument(
            "--store", default="receiver.sqlite3", help="its SQLite file (made if missing)"
        )
        parser.add_argument("--fail-rate", type=rate, default=0.0)
        parser.add_argument("--fail-status", type=int, default=500)
        parser.add_argument("--hang-seconds", type=float, default=0.0)
        parser.add_argument("--hang-rate", type=rate, default=1.0)
        parser.add_argument("--faults-off", action="store_true")
        parser.add_argument("--no-control", action="store_true")
        parser.add_argument("--seed", type=int, default=None, help="for repeatable faults")

    def handle(self, *args: Any, **options: Any) -> None:
        faults = Faults(enabled=not options["faults_off"])
        try:
            faults.update(
                {
                    "fail_rate": options["fail_rate"],
                    "fail_status": options["fail_status"],
                    "hang_seconds": options["hang_seconds"],
                    "hang_rate": options["hang_rate"],
                }
            )
            server = make_server(
                options["secret"],
                options["store"],
                host=options["host"],
                port=options["port"],
                faults=faults,
                control=not options["no_control"],
                seed=options["seed"],
            )
        except (ValueError, OSError) as exc:
            raise CommandError(str(exc)) from exc

        def toggle(signum: int, frame: Any) -> None:
            faults.enabled = not faults.enabled

        def stop(signum: int, frame: Any) -> None:
            raise KeyboardInterrupt

        signal.signal(signal.SIGUSR1, toggle)
        signal.signal(signal.SIGTERM, stop)
        self.stdout.write(f"Reference receiver on {server.url}/ storing in {options['store']}")
        self.stdout.flush()
        try:
            server.serve_forever(poll_interval=0.2)
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
            server.store.close()
