"""Self-references (a customer's ``parent``) stay acyclic.

A reference whose target is in its own domain builds a hierarchy. The golden hierarchy is what
survivorship computes, so ``apply_ownership`` is the one place that decides it: every path that
changes a golden ``parent`` (ingest, a pending reference resolving, merge, unmerge, a steward
override) ends there, and there a value that is the record itself or whose ancestor chain
reaches the record is not applied. Ingest and ``set_override`` check the same earlier, where it
can be seen before anything is written, and refuse with the stable code ``cyclic_reference``.

Ancestor chains are walked level by level, one query per level for every record at once, at most
``MAX_DEPTH`` levels: a chain longer than that cannot be shown acyclic and counts as a cycle.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping
from typing import Any

from golden_records.attributes import AttributeValueError, Reference
from golden_records.domains import DomainSpec
from golden_records.models import GOLDEN_MODELS

CYCLIC_REFERENCE = "cyclic_reference"
MAX_DEPTH = 50

_UNKNOWN = object()


class CyclicReference(AttributeValueError):
    """A reference that would make a record its own ancestor; ``field`` names the attribute."""

    def __init__(self, field: str, message: str):
        super().__init__(CYCLIC_REFERENCE, message)
        self.field = field


def self_references(spec: DomainSpec) -> tuple[Reference, ...]:
    """The references of ``spec`` that point into ``spec`` itself (a hierarchy)."""
    return tuple(ref for ref in spec.references if ref.domain == spec.name)


def _as_uuid(value: Any) -> uuid.UUID | None:
    if value in (None, ""):
        return None
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError:
        return None


def parent_map(
    domain: str, attribute: str, start: Collection[Any], depth: int = MAX_DEPTH
) -> dict[uuid.UUID, uuid.UUID | None]:
    """The stored ``attribute`` of every record in ``start`` and of their ancestors, up to
    ``depth`` levels: one query per level."""
    model = GOLDEN_MODELS[domain]
    column = f"{attribute}_id"
    parents: dict[uuid.UUID, uuid.UUID | None] = {}
    frontier = {u for u in map(_as_uuid, start) if u is not None}
    for _ in range(depth):
        if not frontier:
            break
        rows = model.objects.filter(pk__any=frontier).values_list("pk", column)
        parents.update(rows)
        frontier = {p for p in parents.values() if p is not None and p not in parents}
    return parents


def closes_cycle(
    parents: Mapping[uuid.UUID, uuid.UUID | None],
    child: Any,
    parent: Any,
    depth: int = MAX_DEPTH,
) -> bool:
    """Whether ``child`` → ``parent`` would close a cycle over ``parents`` (its own parent,
    or ``child`` among the ancestors of ``parent``). An ancestor chain longer than ``depth`` (or
    leaving ``parents``) cannot be shown acyclic: it counts as a cycle."""
    child_id, node = _as_uuid(child), _as_uuid(parent)
    for _ in range(depth + 1):
        if node is None:
            return False
        if node == child_id:
            return True
        nxt = parents.get(node, _UNKNOWN)
        if nxt is _UNKNOWN:
            return True
        node = nxt  # type: ignore[assignment]
    return True


def check_parent(domain: str, attribute: str, child: Any, parent: Any) -> None:
    """``CyclicReference`` if ``child``'s ``attribute`` set to ``parent`` would close a cycle."""
    if _as_uuid(parent) is None:
        return
    parents = parent_map(domain, attribute, [parent])
    if closes_cycle(parents, child, parent):
        raise CyclicReference(attribute, cycle_message(attribute, child, parent))


def cycle_message(attribute: str, child: Any, parent: Any) -> str:
    if _as_uuid(child) == _as_uuid(parent):
        return f"A record cannot be its own {attribute} ({parent})."
    return (
        f"{parent} as {attribute} of {child} would close a cycle: {child} is among its "
        f"ancestors (or the chain is longer than {MAX_DEPTH})."
    )
