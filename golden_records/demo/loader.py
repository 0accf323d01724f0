"""Loading the demo: the source systems, every record through ``ingest_batch`` (the pipeline the
API uses), and what happened, as summary lines and the first errors."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from tqdm import tqdm

from golden_records.demo.formatting import Payload
from golden_records.history import ChangeOrigin, origin_scope
from golden_records.models import GOLDEN_MODELS, GoldenStatus, SourceSystem
from golden_records.services import ingest_batch
from golden_records.services.ingest import REJECT_FAILED

BATCH_SIZE = 1000
MAX_ERRORS_SHOWN = 20
DOMAIN_ORDER = ("customer", "item", "location", "price")
"""Customers first: the other domains refer to them (and prices to items)."""

SYSTEMS: tuple[tuple[str, str, str], ...] = (
    ("crm", "CRM (sales accounts)", SourceSystem.Kind.CRM),
    ("erp", "ERP (orders, invoicing, pricing)", SourceSystem.Kind.ERP),
    ("wms", "Warehouse management", SourceSystem.Kind.WMS),
    ("ecom", "B2B web shop", SourceSystem.Kind.ECOMMERCE),
    ("edi", "EDI gateway", SourceSystem.Kind.EDI),
)
SYSTEM_ORDER = ("erp", "crm", "wms", "ecom", "edi")
SUMMARY_ACTIONS = ("created", "linked", "updated", "unchanged", "stale", "rejected")


@dataclass
class LoadResult:
    counts: dict[tuple[str, str], Counter[str]] = field(default_factory=dict)
    """(domain, system) → how many records had each action."""
    seconds: dict[tuple[str, str], float] = field(default_factory=dict)
    rejected: int = 0
    errors: list[str] = field(default_factory=list)
    """The first ``MAX_ERRORS_SHOWN`` rejected records, described."""


def record_count(payloads: dict[tuple[str, str], list[Payload]]) -> int:
    return sum(len(rows) for rows in payloads.values())


def ensure_source_systems(origin: ChangeOrigin) -> dict[str, SourceSystem]:
    """The demo's source systems by code: created when missing, their name and kind corrected
    when they differ, and otherwise left alone (no save, no history row)."""
    systems = {}
    with origin_scope(origin):
        for code, name, kind in SYSTEMS:
            system, created = SourceSystem.objects.get_or_create(
                code=code, defaults={"name": name, "kind": kind}
            )
            if not created and (system.name, system.kind) != (name, kind):
                system.name, system.kind = name, kind
                system.save(update_fields=["name", "kind"])
            systems[code] = system
    return systems


def ingest_payloads(
    payloads: dict[tuple[str, str], list[Payload]], origin: ChangeOrigin
) -> LoadResult:
    """Send every system's records, customers first, in batches. Rejected records are counted
    and described, not raised: the caller decides (inside its transaction) what to keep."""
    systems = ensure_source_systems(origin)
    result = LoadResult()
    with progress_bar(record_count(payloads)) as bar:
        for domain in DOMAIN_ORDER:
            for code in SYSTEM_ORDER:
                rows = payloads.get((domain, code), [])
                if not rows:
                    continue
                tally = result.counts.setdefault((domain, code), Counter())
                started = time.monotonic()
                for batch in chunks(rows, BATCH_SIZE):
                    outcome = ingest_batch(systems[code], domain, batch, REJECT_FAILED, origin)
                    for record in outcome.records:
                        tally[record.action] += 1
                        if not record.ok:
                            result.rejected += 1
                            if len(result.errors) < MAX_ERRORS_SHOWN:
                                result.errors.append(describe_errors(code, domain, record))
                    bar.update(len(batch))
                result.seconds[domain, code] = time.monotonic() - started
    return result


def chunks(rows: Sequence[Payload], size: int) -> Iterator[Sequence[Payload]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def progress_bar(total: int) -> tqdm:
    # disable=None: a bar on a terminal only; nothing in logs, CI or tests.
    return tqdm(total=total, unit="rec", desc="seed_demo", disable=None, leave=False)


def describe_errors(system: str, domain: str, record: Any) -> str:
    where = f"{system}/{domain}/{record.source_id or '#' + str(record.index)}"
    details = "; ".join(
        f"{e['field']}: {e['code']} ({e['message']})" for e in record.errors_as_list()
    )
    return f"{where}: {details}"


def summary_lines(result: LoadResult) -> list[str]:
    """One line per (domain, system): how many records, how long, what happened to them."""
    lines = []
    for (domain, code), tally in result.counts.items():
        n = sum(tally.values())
        actions = ", ".join(
            f"{action} {tally[action]:,}" for action in SUMMARY_ACTIONS if tally[action]
        )
        seconds = result.seconds.get((domain, code), 0.0)
        lines.append(f"  {domain:<9} {code:<5} {n:>7,} records in {seconds:5.1f}s: {actions}")
    return lines


def rejection_message(result: LoadResult) -> str:
    return (
        f"{result.rejected:,} demo records were rejected; nothing was saved. "
        "First errors:\n  " + "\n  ".join(result.errors)
    )


def golden_summary() -> str:
    """How many active golden records each domain has: "Golden records: 12 customers, …"."""
    golden = {
        domain: model.objects.filter(record_status=GoldenStatus.ACTIVE).count()
        for domain, model in GOLDEN_MODELS.items()
    }
    return "Golden records: " + ", ".join(f"{golden[d]:,} {d}s" for d in DOMAIN_ORDER)
