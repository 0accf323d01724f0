"""ingest_batch: one pipeline for every domain.

normalise → validate → classify (new, changed, unchanged, stale) → resolve references →
check overlaps → link → write source records, match keys and pending references →
resolve references waiting for these records → apply ownership → history.

A batch is processed set-wise (a fixed number of queries per batch, not per record) inside one
transaction, with the domain's lock held so that two writers cannot both create a golden record
for the same identifier. Under ``reject_all`` any invalid record rejects the whole batch before
anything is written; under ``reject_failed`` the valid records are written and the invalid ones
reported.
"""

from __future__ import annotations

import datetime as dt
import random
import time
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import OperationalError, transaction
from django.utils import timezone

from golden_records.attributes import Reference
from golden_records.bulk import bulk_insert, bulk_update_rows
from golden_records.domains import DomainSpec, get_domain
from golden_records.hierarchy import (
    CYCLIC_REFERENCE,
    closes_cycle,
    cycle_message,
    parent_map,
    self_references,
)
from golden_records.history import ChangeOrigin, write_history
from golden_records.models import (
    GOLDEN_MODELS,
    GoldenStatus,
    PendingReference,
    SourceRecord,
    SourceSystem,
    new_golden_id,
)
from golden_records.pipeline import PreparedRecord, prepare_record
from golden_records.services.governance import record_non_owner_changes
from golden_records.services.locks import lock_entities
from golden_records.services.ownership import apply_ownership
from matching.catch_up import request_catch_up
from matching.models import MatchKey
from matching.online import OnlineDecision, OnlineMatcher, index_source_records, record_decisions
from matching.rule_versions import rules_if_any
from matching.services import ExactLinker, identifier_keys, match_key_rows


class Action:
    CREATED = "created"
    LINKED = "linked"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    STALE = "stale"
    REJECTED = "rejected"


REJECT_FAILED = "reject_failed"
REJECT_ALL = "reject_all"


@dataclass
class IngestOutcome:
    records: list[PreparedRecord]
    rejected_all: bool = False

    @property
    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = defaultdict(int)
        for record in self.records:
            counts[record.action] += 1
        return dict(counts)


def ingest_record(
    system: SourceSystem, domain: str, source_id: str, payload: Any, origin: ChangeOrigin
) -> PreparedRecord:
    """Ingest one record (the PUT endpoint): a batch of one."""
    spec = get_domain(domain)
    prepared = prepare_record(
        spec, payload, 0, source_id=source_id, default_country=system.default_country
    )
    return _ingest(system, spec, [prepared], REJECT_ALL, origin).records[0]


def ingest_batch(
    system: SourceSystem,
    domain: str,
    payloads: Sequence[Any],
    on_error: str,
    origin: ChangeOrigin,
) -> IngestOutcome:
    spec = get_domain(domain)
    prepared = [
        prepare_record(spec, payload, i, default_country=system.default_country)
        for i, payload in enumerate(payloads)
    ]
    seen: set[str] = set()
    for record in prepared:
        if record.source_id and record.source_id in seen:
            record.add_error(
                "source_id", "duplicate_source_id", "The same source_id is twice in this batch."
            )
        seen.add(record.source_id)
    return _ingest(system, spec, prepared, on_error, origin)


def _reject(records: Sequence[PreparedRecord]) -> IngestOutcome:
    for record in records:
        record.action = Action.REJECTED
        record.golden_id = None
        record.version = None
        if record.ok:
            record.add_error(
                "non_field", "batch_rejected", "Not written: another record in the batch failed."
            )
    return IngestOutcome(list(records), rejected_all=True)


def _ingest(
    system: SourceSystem,
    spec: DomainSpec,
    records: list[PreparedRecord],
    on_error: str,
    origin: ChangeOrigin,
) -> IngestOutcome:
    if on_error == REJECT_ALL and any(not r.ok for r in records):
        return _reject(records)
    valid = [r for r in records if r.ok]
    for attempt in range(1, DEADLOCK_ATTEMPTS + 1):
        try:
            with transaction.atomic():
                _Batch(system, spec, origin).run(valid)
                if on_error == REJECT_ALL and any(not r.ok for r in records):
                    transaction.set_rollback(True)
                    return _reject(records)
            break
        except OperationalError as exc:
            if attempt == DEADLOCK_ATTEMPTS or not _is_deadlock(exc):
                raise
            for record in valid:
                record.reset_outcome()
            # Jittered: two batches that deadlocked once do not collide again at once.
            time.sleep(random.uniform(0.02, 0.1) * attempt)
    for record in records:
        if not record.ok:
            record.action = Action.REJECTED
            record.golden_id = None
            record.version = None
    return IngestOutcome(records)


DEADLOCK_ATTEMPTS = 5


def _is_deadlock(exc: OperationalError) -> bool:
    """PostgreSQL chose this transaction as a deadlock victim: safe to run the batch again."""
    return getattr(exc.__cause__, "sqlstate", None) in ("40P01", "40001")


class _Batch:
    """The database part of one batch; every step is one or a few set-wise queries."""

    def __init__(self, system: SourceSystem, spec: DomainSpec, origin: ChangeOrigin):
        self.system = system
        self.spec = spec
        self.origin = origin
        self.model = GOLDEN_MODELS[spec.name]
        self.now = timezone.now()
        self.rules = rules_if_any(spec.name)
        self.matcher: OnlineMatcher | None = None
        self.decisions: list[tuple[int, OnlineDecision]] = []
        self.matched: list[PreparedRecord] = []
        self.splits: list[tuple[int, int]] = []
        """(new record, stored record) pairs that found golden records made twice."""

    def run(self, records: list[PreparedRecord]) -> None:
        lock_entities(self._entity_locks(records))
        existing = {
            sr.source_id: sr
            for sr in SourceRecord.objects.filter(
                system=self.system,
                domain=self.spec.name,
                source_id__any=[r.source_id for r in records],
            )
        }
        changed: list[tuple[PreparedRecord, SourceRecord | None]] = []
        for record in records:
            current = existing.get(record.source_id)
            if current is None:
                changed.append((record, None))
                continue
            record.golden_id = current.golden_id
            if _is_stale(record.source_updated_at, current.source_updated_at):
                record.action = Action.STALE
            elif record.payload_hash == current.payload_hash:
                record.action = Action.UNCHANGED
            else:
                changed.append((record, current))

        references = self._resolve_references([r for r, _ in changed])
        lock_entities(self._resolved_key_locks(changed, references))
        self._check_overlaps(changed, references)
        self._check_cycles(changed, references)
        changed = [(r, current) for r, current in changed if r.ok]

        new_golden_ids = self._link(
            [r for r, current in changed if current is None],
            references,
            [(r, current) for r, current in changed if current is not None],
        )
        created, updated = self._write_source_records(changed, references)
        self._catch_up_after_commit([sr.pk for sr in created], [sr.pk for sr in updated])
        touched = self._resolve_waiting_references(created)
        own_domain = touched.pop(self.spec.name, set())
        own_domain.update(sr.golden_id for sr in (*created, *updated))
        versions = apply_ownership(
            self.spec.name, own_domain - new_golden_ids, self.origin, new_golden_ids
        )
        record_non_owner_changes(self.spec, self.system, [*created, *updated], self.now)
        for domain, golden_ids in touched.items():
            apply_ownership(domain, golden_ids, self.origin.with_reason("reference resolved"))
        missing = {r.golden_id for r in records if r.golden_id not in versions}
        if missing:
            versions.update(self.model.objects.filter(pk__any=missing).values_list("pk", "version"))
        for record in records:
            if record.ok:
                record.version = versions.get(record.golden_id)

    def _catch_up_after_commit(self, record_ids: list[int], written: list[int]) -> None:
        """Batches running side by side cannot see each other's new records (matching.catch_up):
        once this one commits, its new records (linked or not) are matched against what its read
        did not see. The request is a row of this transaction, run after commit (the sweep runs
        it if the message is lost). SQLite runs one write transaction at a time (no snapshot):
        nothing to catch up."""
        snapshot = self.matcher.snapshot if self.matcher is not None else None
        if not record_ids or snapshot is None:
            return
        request_catch_up(self.spec.name, record_ids, snapshot, written, self.splits)

    # -- locks ----------------------------------------------------------------------------------

    def _entity_locks(self, records: Sequence[PreparedRecord]) -> list[str]:
        """Names to lock before reading: each record, what it refers to, its plain identifiers.

        The referenced record's name is the one its own batch locks, so a record and a pending
        reference to it are never written side by side unseen.
        """
        system, domain = self.system.pk, self.spec.name
        names = []
        for record in records:
            names.append(f"src:{system}:{domain}:{record.source_id}")
            for ref in self.spec.references:
                if ref.name in record.canonical:
                    names.append(f"src:{system}:{ref.domain}:{record.canonical[ref.name]}")
            for kind, value in identifier_keys(self.spec, record.canonical, {}):
                names.append(f"key:{domain}:{kind}:{value}")
        return names

    def _resolved_key_locks(
        self,
        changed: Sequence[tuple[PreparedRecord, SourceRecord | None]],
        references: dict[int, dict[str, Any]],
    ) -> list[str]:
        """Names that exist only once references resolve: composite keys (a price's) and the
        overlap key of dated records."""
        domain = self.spec.name
        names = []
        for record, _ in changed:
            refs = references[record.index]
            if refs:
                for kind, value in identifier_keys(self.spec, record.canonical, refs):
                    names.append(f"key:{domain}:{kind}:{value}")
            if self.spec.overlap_key:
                parts = [
                    refs.get(n) if n in refs else record.canonical.get(n)
                    for n in self.spec.overlap_key
                ]
                names.append(f"overlap:{domain}:{parts}")
        return names

    # -- references ---------------------------------------------------------------------------

    def _resolve_references(self, records: Sequence[PreparedRecord]) -> dict[int, dict[str, Any]]:
        """Golden ids of what each record refers to (None where not known yet), by record index."""
        wanted: dict[str, set[str]] = defaultdict(set)
        for record in records:
            for ref in self.spec.references:
                if ref.name in record.canonical:
                    wanted[ref.domain].add(record.canonical[ref.name])
        found: dict[tuple[str, str], str] = {}
        for domain, source_ids in wanted.items():
            rows = SourceRecord.objects.filter(
                system=self.system, domain=domain, source_id__any=source_ids
            ).values_list("source_id", "golden_id")
            for source_id, golden_id in rows:
                found[(domain, source_id)] = str(golden_id)
        return {
            record.index: {
                ref.name: found.get((ref.domain, record.canonical[ref.name]))
                for ref in self.spec.references
                if ref.name in record.canonical
            }
            for record in records
        }

    def _resolve_waiting_references(self, written: Sequence[SourceRecord]) -> dict[str, set]:
        """Records that referred to one of ``written`` before it existed now point at its golden
        record; returns the golden records to recompute, by domain."""
        touched: dict[str, set] = defaultdict(set)
        by_source_id = {sr.source_id: sr for sr in written}
        waiting = list(
            PendingReference.objects.filter(
                target_system=self.system,
                target_domain=self.spec.name,
                target_source_id__any=list(by_source_id),
            ).select_related("source_record")
        )
        if not waiting:
            return touched
        updated: dict[int, SourceRecord] = {}
        for pending in waiting:
            referrer = updated.get(pending.source_record_id, pending.source_record)
            target = by_source_id[pending.target_source_id]
            referrer.references = {**referrer.references, pending.attribute: str(target.golden_id)}
            updated[referrer.pk] = referrer
            touched[referrer.domain].add(referrer.golden_id)
        bulk_update_rows(SourceRecord, list(updated.values()), ["references"])
        PendingReference.objects.filter(pk__in=[p.pk for p in waiting]).delete()
        _refresh_match_keys(list(updated.values()))
        return touched

    # -- validation that needs the database -----------------------------------------------------

    def _check_cycles(
        self,
        changed: Sequence[tuple[PreparedRecord, SourceRecord | None]],
        references: dict[int, dict[str, Any]],
    ) -> None:
        """A new or changed parent reference (a self-reference of the domain) that names the
        record itself, or resolves to its own golden record or to one whose ancestors include
        it, is refused with ``cyclic_reference`` before anything is written.

        Only a reference the sender sets or changes is refused: a record whose unchanged parent
        became cyclic through a merge still takes its other changes. What cannot be seen here (a
        new record that links to an existing golden record, a cycle closed within one batch, a
        merge) apply_ownership catches: it does not apply the value (golden_records/hierarchy.py).
        """
        for ref in self_references(self.spec):
            checks: list[tuple[PreparedRecord, Any, str]] = []
            for record, current in changed:
                sent = record.canonical.get(ref.name)
                if sent is None or (
                    current is not None and current.canonical.get(ref.name) == sent
                ):
                    continue
                if sent == record.source_id:
                    record.add_error(
                        ref.name, CYCLIC_REFERENCE, f"A record cannot be its own {ref.name}."
                    )
                    continue
                target = references[record.index].get(ref.name)
                if current is not None and target is not None:
                    checks.append((record, current.golden_id, target))
            if not checks:
                continue
            parents = parent_map(self.spec.name, ref.name, [target for *_, target in checks])
            for record, own, target in checks:
                if closes_cycle(parents, own, target):
                    record.add_error(
                        ref.name, CYCLIC_REFERENCE, cycle_message(ref.name, own, target)
                    )

    def _check_overlaps(
        self,
        changed: Sequence[tuple[PreparedRecord, SourceRecord | None]],
        references: dict[int, dict[str, Any]],
    ) -> None:
        """Dated records (prices) with the same overlap key must not overlap in validity.

        A new record with the key and the start date of a stored price links to it (its
        composite identifier includes ``valid_from``) only when it is that same price: the same
        end and, if this system already sent the price under another id, the same amount. An
        integration that sends 10.00 for January to June and then, under a new id, 12.00 for
        January has sent two prices for January; linking would silently replace the first.
        Such a record is rejected with ``overlapping_validity``: a price changes by sending its
        own record again. Another system's different amount for the same validity still links
        (ownership and change approvals decide the amount).
        """
        spec = self.spec
        if not spec.overlap_key:
            return

        def key_of(record: PreparedRecord) -> tuple | None:
            parts = []
            for name in spec.overlap_key:
                if isinstance(spec.attribute(name), Reference):
                    value = references[record.index].get(name)
                    if name in record.canonical and value is None:
                        return None  # reference not resolved yet: cannot compare
                    parts.append(value)
                else:
                    parts.append(record.canonical.get(name))
            return tuple(parts)

        keyed = [(r, current, key_of(r)) for r, current in changed]
        keyed = [(r, c, k) for r, c, k in keyed if k is not None]
        if not keyed:
            return
        first = spec.overlap_key[0]
        first_is_ref = isinstance(spec.attribute(first), Reference)
        column = f"{first}_id" if first_is_ref else first
        values = {k[0] for _, _, k in keyed}
        existing: dict[tuple, list[tuple[Any, str, str | None]]] = defaultdict(list)
        rows = self.model.objects.filter(
            **{f"{column}__in": values}, record_status=GoldenStatus.ACTIVE
        ).values("pk", "valid_from", "valid_to", *(_column(spec, n) for n in spec.overlap_key))
        for row in rows:
            key = tuple(_json_value(spec, n, row[_column(spec, n)]) for n in spec.overlap_key)
            existing[key].append(
                (
                    row["pk"],
                    row["valid_from"].isoformat() if row["valid_from"] else "",
                    row["valid_to"].isoformat() if row["valid_to"] else None,
                )
            )
        same_start = {
            golden_id
            for record, current, key in keyed
            if current is None
            for golden_id, other_start, _ in existing.get(key, [])
            if other_start == record.canonical.get("valid_from", "")
        }
        own_rows: dict[Any, list[dict[str, Any]]] = defaultdict(list)
        if same_start:
            for golden_id, canonical in SourceRecord.objects.filter(
                system=self.system, domain=spec.name, golden_id__any=list(same_start)
            ).values_list("golden_id", "canonical"):
                own_rows[golden_id].append(canonical)
        in_batch: dict[tuple, list[tuple[PreparedRecord, str, str | None]]] = defaultdict(list)
        for record, current, key in keyed:
            start = record.canonical.get("valid_from", "")
            end = record.canonical.get("valid_to")
            own = current.golden_id if current else None
            for golden_id, other_start, other_end in existing.get(key, []):
                if golden_id == own:
                    continue
                if own is None and other_start == start:
                    if other_end == end and not any(
                        _conflicting_row(spec, record.canonical, row) for row in own_rows[golden_id]
                    ):
                        continue  # the same price: it links to this golden record
                    record.add_error(
                        "valid_from",
                        "overlapping_validity",
                        f"Price {golden_id} has the same key and start date with another "
                        f"validity (to {other_end or 'open'}) or, from this system, another "
                        "amount: change that price by sending its own record again.",
                    )
                    break
                if _overlaps(start, end, other_start, other_end):
                    record.add_error(
                        "valid_from",
                        "overlapping_validity",
                        f"Overlaps price {golden_id} valid {other_start} to {other_end or 'open'}.",
                    )
                    break
            for other, other_start, other_end in in_batch[key]:
                if other_start == start and not _conflicting_row(
                    spec, record.canonical, other.canonical
                ):
                    continue  # the same row twice under two ids: they link
                if _overlaps(start, end, other_start, other_end):
                    record.add_error(
                        "valid_from",
                        "overlapping_validity",
                        f"Overlaps record {other.source_id} of this batch.",
                    )
                    break
            in_batch[key].append((record, start, end))

    # -- linking and writing ----------------------------------------------------------------------

    def _link(
        self,
        new_records: Sequence[PreparedRecord],
        references: dict[int, dict[str, Any]],
        updated: Sequence[tuple[PreparedRecord, SourceRecord]],
    ) -> set[uuid.UUID]:
        if self.rules is not None:
            return self._match(new_records, updated)
        return self._link_exact(new_records, references)

    def _match(
        self,
        new_records: Sequence[PreparedRecord],
        updated: Sequence[tuple[PreparedRecord, SourceRecord]],
    ) -> set[uuid.UUID]:
        """Domains with match rules: the matcher decides (identifiers are rules of its own).
        Records this batch changes take part with their new values."""
        self.matcher = OnlineMatcher(self.rules)
        self.matched = list(new_records)
        self.matcher.prepare(
            [r.canonical for r in new_records],
            [(current.pk, current.golden_id, r.canonical) for r, current in updated],
        )
        created: set[uuid.UUID] = set()
        golden_of_peer: dict[int, uuid.UUID] = {}
        for position, record in enumerate(new_records):
            decision = self.matcher.decide(position, golden_of_peer)
            if decision.golden_id is not None:
                record.golden_id = decision.golden_id
                record.action = Action.LINKED
                reason = self.matcher.explain(position, decision.best)["reason"]
                record.link_rule = f"match:{reason}"
            else:
                record.golden_id = new_golden_id()
                record.action = Action.CREATED
                record.link_rule = "new:review" if decision.outcome == "review" else "new"
                created.add(record.golden_id)
            golden_of_peer[position] = record.golden_id
            self.decisions.append((position, decision))
        return created

    def _link_exact(
        self, new_records: Sequence[PreparedRecord], references: dict[int, dict[str, Any]]
    ) -> set[uuid.UUID]:
        keysets = {
            r.index: identifier_keys(self.spec, r.canonical, references[r.index])
            for r in new_records
        }
        linker = ExactLinker(self.spec)
        linker.prefetch(keysets.values())
        created: set[uuid.UUID] = set()
        for record in new_records:
            keys = keysets[record.index]
            decision = linker.decide(keys, record.canonical)
            if decision is None:
                record.golden_id = new_golden_id()
                record.action = Action.CREATED
                record.link_rule = "new"
                created.add(record.golden_id)
            else:
                record.golden_id = decision.golden_id
                record.action = Action.LINKED
                record.link_rule = decision.rule
            linker.remember(keys, record.golden_id, record.canonical)
        return created

    def _write_source_records(
        self,
        changed: Sequence[tuple[PreparedRecord, SourceRecord | None]],
        references: dict[int, dict[str, Any]],
    ) -> tuple[list[SourceRecord], list[SourceRecord]]:
        """Create and update the source records, their match keys and pending references."""
        created: list[SourceRecord] = []
        updated: list[SourceRecord] = []
        fields_changed: dict[Any, list[str]] = {}
        for record, current in changed:
            refs = references[record.index]
            if current is None:
                created.append(
                    SourceRecord(
                        system=self.system,
                        domain=self.spec.name,
                        source_id=record.source_id,
                        payload=record.payload,
                        canonical=record.canonical,
                        references=refs,
                        payload_hash=record.payload_hash,
                        source_updated_at=record.source_updated_at,
                        golden_id=record.golden_id,
                        link_rule=record.link_rule,
                        linked_at=self.now,
                        received_at=self.now,
                        created_at=self.now,
                    )
                )
            else:
                record.action = Action.UPDATED
                fields_changed[current.pk] = sorted(
                    name
                    for name in {*current.canonical, *record.canonical}
                    if current.canonical.get(name) != record.canonical.get(name)
                )
                current.payload = record.payload
                current.canonical = record.canonical
                current.references = refs
                current.payload_hash = record.payload_hash
                current.source_updated_at = record.source_updated_at or current.source_updated_at
                current.received_at = self.now
                updated.append(current)

        bulk_insert(SourceRecord, created)
        if updated:
            bulk_update_rows(
                SourceRecord,
                updated,
                [
                    "payload",
                    "canonical",
                    "references",
                    "payload_hash",
                    "source_updated_at",
                    "received_at",
                ],
            )
            updated_ids = [sr.pk for sr in updated]
            PendingReference.objects.filter(source_record_id__any=updated_ids).delete()
            MatchKey.objects.filter(source_record_id__any=updated_ids).delete()
        write_history(SourceRecord, created, "+", self.origin, when=self.now)
        write_history(SourceRecord, updated, "~", self.origin, fields_changed, when=self.now)

        all_written = [*created, *updated]
        keys: list[MatchKey] = []
        pending: list[PendingReference] = []
        for sr in all_written:
            keys.extend(
                match_key_rows(
                    self.spec, sr, identifier_keys(self.spec, sr.canonical, sr.references)
                )
            )
            for ref in self.spec.references:
                if ref.name in sr.canonical and sr.references.get(ref.name) is None:
                    pending.append(
                        PendingReference(
                            source_record=sr,
                            attribute=ref.name,
                            target_system=self.system,
                            target_domain=ref.domain,
                            target_source_id=sr.canonical[ref.name],
                        )
                    )
        bulk_insert(MatchKey, keys)
        bulk_insert(PendingReference, pending)
        if self.rules is not None:
            self._index_for_matching(created, updated)
        return created, updated

    def _index_for_matching(
        self, created: Sequence[SourceRecord], updated: Sequence[SourceRecord]
    ) -> None:
        """Profiles and blocking keys of the written records; the decisions and reviews."""
        assert self.rules is not None
        if self.matcher is not None and self.matched:
            by_source_id = {sr.source_id: sr for sr in created}
            record_of = {
                position: by_source_id[record.source_id]
                for position, record in enumerate(self.matched)
            }
            # The matcher standardised the new records already, in the same order.
            index_source_records(
                self.rules,
                [record_of[p] for p in range(len(self.matched))],
                self.matcher.features,
                replace=False,
                keys=self.matcher.keys,
            )
            # Where a catch-up follows (PostgreSQL), it merges the splits this batch found.
            self.splits = record_decisions(
                self.matcher,
                self.decisions,
                record_of,
                f"matcher ({self.origin.actor_type}: {self.origin.actor})",
                self.now,
                defer_splits=self.matcher.snapshot is not None,
            )
        index_source_records(self.rules, list(updated))


def _refresh_match_keys(source_records: Sequence[SourceRecord]) -> None:
    """Rewrite the match keys of records whose references changed (composite keys use them)."""
    MatchKey.objects.filter(source_record__in=source_records).delete()
    rows: list[MatchKey] = []
    for sr in source_records:
        spec = get_domain(sr.domain)
        rows.extend(match_key_rows(spec, sr, identifier_keys(spec, sr.canonical, sr.references)))
    MatchKey.objects.bulk_create(rows, batch_size=1000)


def _is_stale(incoming: dt.datetime | None, stored: dt.datetime | None) -> bool:
    return incoming is not None and stored is not None and incoming < stored


def _overlaps(start: str, end: str | None, other_start: str, other_end: str | None) -> bool:
    return start <= (other_end or "9999-12-31") and other_start <= (end or "9999-12-31")


def _conflicting_row(spec: DomainSpec, canonical: dict[str, Any], other: dict[str, Any]) -> bool:
    """Two records of one overlap key and start date from one system say different things
    (another amount, another end): two prices for one period, not the same price twice.

    Not when they name different records of the sender (two of its items that the hub merged
    into one golden item): the sender sent one price per item, and the merge is what makes
    them meet; they link as before, the other amount kept as a discrepancy."""
    for name in spec.overlap_key:
        if isinstance(spec.attribute(name), Reference) and canonical.get(name) != other.get(name):
            return False
    return any(
        canonical.get(name) != other.get(name)
        for name in spec.attribute_names
        if name not in spec.overlap_key
    )


def _column(spec: DomainSpec, name: str) -> str:
    return f"{name}_id" if isinstance(spec.attribute(name), Reference) else name


def _json_value(spec: DomainSpec, name: str, value: Any) -> Any:
    attribute = spec.attribute(name)
    if isinstance(attribute, Reference):
        return str(value) if value else None
    return attribute.to_json(value)
