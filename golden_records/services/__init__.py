"""Every write to golden records, source records and ownership goes through these functions.

Each runs inside ``transaction.atomic()``, writes history with the change's origin, and leaves the
database consistent on any error. Views, API, commands and tasks call them; nothing else changes
these tables.
"""

from golden_records.services.ingest import IngestOutcome, ingest_batch, ingest_record
from golden_records.services.merge import MergeError, merge_golden, resolve_golden_id, unmerge
from golden_records.services.ownership import (
    MergePreview,
    apply_ownership,
    clear_override,
    load_strategies,
    preview_merge,
    set_override,
    set_overrides,
)

__all__ = [
    "IngestOutcome",
    "MergeError",
    "MergePreview",
    "apply_ownership",
    "clear_override",
    "ingest_batch",
    "ingest_record",
    "load_strategies",
    "merge_golden",
    "preview_merge",
    "resolve_golden_id",
    "set_override",
    "set_overrides",
    "unmerge",
]
