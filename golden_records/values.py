"""A golden record's attribute values in canonical (JSON) form, and back."""

from __future__ import annotations

import uuid
from typing import Any

from golden_records.attributes import Reference
from golden_records.domains import DomainSpec


def golden_value(obj: Any, attribute: Any) -> Any:
    """The golden record's value of ``attribute`` in canonical (JSON) form."""
    if isinstance(attribute, Reference):
        raw = getattr(obj, f"{attribute.name}_id")
        return str(raw) if raw else None
    return attribute.to_json(getattr(obj, attribute.name))


def set_golden_value(obj: Any, attribute: Any, canonical: Any) -> None:
    if isinstance(attribute, Reference):
        setattr(obj, f"{attribute.name}_id", uuid.UUID(str(canonical)) if canonical else None)
    else:
        setattr(obj, attribute.name, attribute.to_python(canonical))


def golden_attributes(obj: Any, spec: DomainSpec | None = None) -> dict[str, Any]:
    """Every attribute's golden value in canonical form; ``obj`` is a golden record or one of
    its history rows (pass ``spec`` for those)."""
    spec = spec or obj.domain
    return {a.name: golden_value(obj, a) for a in spec.attributes}
