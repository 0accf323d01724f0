"""How values go into payloads: money rounded half up, empty attributes left out."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

Payload = dict[str, Any]
"""One record as a system sends it."""


def money(value: float | Decimal, places: int = 2) -> Decimal:
    return Decimal(str(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def compact(payload: Payload) -> Payload:
    """The payload without empty attributes (systems leave fields out rather than send nulls)."""
    return {k: v for k, v in payload.items() if v not in (None, "")}
