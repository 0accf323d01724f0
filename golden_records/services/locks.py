"""Entity-level write locks for ingest (see IngestLock)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from django.db import connection

from golden_records.lookups import array_literal
from golden_records.models import IngestLock


def lock_name_hash(name: str) -> int:
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big") >> 1


def lock_entities(names: Iterable[str]) -> None:
    """Hold a lock on every name until the transaction ends.

    On SQLite the write transaction itself is exclusive (settings: transaction_mode IMMEDIATE),
    so there is nothing more to lock.
    """
    if connection.vendor != "postgresql":
        return
    keys = sorted({lock_name_hash(name) for name in names})
    if not keys:
        return
    table = connection.ops.quote_name(IngestLock._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (key) SELECT k FROM unnest(%s::bigint[]) AS k ORDER BY k "
            "ON CONFLICT DO NOTHING",
            [array_literal(keys)],
        )
        cursor.execute(
            f"SELECT key FROM {table} WHERE key = ANY(%s::bigint[]) ORDER BY key FOR UPDATE",
            [array_literal(keys)],
        )
