"""merge_golden and unmerge: moving source records between golden records.

A merge re-points every source record (and its match keys) of the merged golden records to the
survivor, marks them ``merged`` with ``merged_into`` so their ids keep resolving, moves steward
overrides the survivor does not have, re-resolves references that pointed at them (prices of a
merged item, locations of a merged customer) and recomputes the survivor. An unmerge splits
source records out into a new golden record and recomputes both. History says who did it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Collection, Sequence

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from golden_records.domains import DOMAINS, get_domain
from golden_records.history import ChangeOrigin, write_history
from golden_records.models import (
    GOLDEN_MODELS,
    AttributeOverride,
    GoldenRecord,
    GoldenStatus,
    SourceRecord,
    new_golden_id,
)
from golden_records.services.ownership import apply_ownership
from matching.memory import remember_never_match
from matching.models import MatchKey, MatchReview, ReviewStatus
from sync.models import EventType
from sync.outbox import EventNote, record_changes


class MergeError(ValueError):
    """A merge or unmerge that cannot be done; ``code`` is stable."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def _lock_active(domain: str, golden_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, GoldenRecord]:
    model = GOLDEN_MODELS[domain]
    found = {
        g.pk: g for g in model.objects.select_for_update().filter(pk__in=golden_ids).order_by("pk")
    }
    for golden_id in golden_ids:
        golden = found.get(golden_id)
        if golden is None:
            raise MergeError("golden_record_not_found", f"No {domain} golden record {golden_id}.")
        if golden.record_status != GoldenStatus.ACTIVE:
            raise MergeError(
                "golden_record_not_active",
                f"{domain} golden record {golden_id} is {golden.record_status}.",
            )
    return found


def _move_source_records(
    records: Sequence[SourceRecord], golden_id: uuid.UUID, rule: str, origin: ChangeOrigin
) -> None:
    now = timezone.now()
    for record in records:
        record.golden_id = golden_id
        record.link_rule = rule
        record.linked_at = now
    ids = [record.pk for record in records]
    SourceRecord.objects.filter(pk__in=ids).update(
        golden_id=golden_id, link_rule=rule, linked_at=now
    )
    MatchKey.objects.filter(source_record_id__in=ids).update(golden_id=golden_id)
    write_history(
        SourceRecord, records, "~", origin, {r.pk: ["golden_id"] for r in records}, when=now
    )


def _re_resolve_references(
    domain: str, moved: Sequence[SourceRecord], origin: ChangeOrigin
) -> None:
    """Records elsewhere that refer to a moved source record now refer to its new golden."""
    by_system: dict[int, dict[str, SourceRecord]] = defaultdict(dict)
    for record in moved:
        by_system[record.system_id][record.source_id] = record
    touched: dict[str, set[uuid.UUID]] = defaultdict(set)
    for ref_domain, spec in DOMAINS.items():
        for ref in spec.references:
            if ref.domain != domain:
                continue
            # A reference names the sender's own id: one query for every system's targets.
            sent_by = Q()
            for system_id, targets in by_system.items():
                sent_by |= Q(system_id=system_id, **{f"canonical__{ref.name}__in": list(targets)})
            referrers = list(SourceRecord.objects.filter(sent_by, domain=ref_domain))
            for referrer in referrers:
                target = by_system[referrer.system_id][referrer.canonical[ref.name]]
                referrer.references = {**referrer.references, ref.name: str(target.golden_id)}
                touched[ref_domain].add(referrer.golden_id)
            if referrers:
                SourceRecord.objects.bulk_update(referrers, ["references"])
    for ref_domain, golden_ids in touched.items():
        apply_ownership(ref_domain, golden_ids, origin.with_reason("reference moved"))


def merge_golden(
    domain: str,
    survivor_id: uuid.UUID,
    merged_ids: Collection[uuid.UUID],
    origin: ChangeOrigin,
) -> int:
    """Merge ``merged_ids`` into ``survivor_id``; returns the survivor's new version."""
    get_domain(domain)
    merged_ids = [g for g in dict.fromkeys(merged_ids) if g != survivor_id]
    if not merged_ids:
        raise MergeError("nothing_to_merge", "Name at least one other golden record to merge.")
    with transaction.atomic():
        goldens = _lock_active(domain, [survivor_id, *merged_ids])
        moved = list(
            SourceRecord.objects.filter(domain=domain, golden_id__in=merged_ids).select_related(
                "system"
            )
        )
        # Which systems' records each retired golden record held: subscribers find their own
        # id for it in the merge event although those records now belong to the survivor.
        held: dict[uuid.UUID, list[dict[str, str]]] = defaultdict(list)
        for record in moved:
            held[record.golden_id].append(
                {"system": record.system.code, "source_id": record.source_id}
            )
        _move_source_records(moved, survivor_id, "merge", origin)

        kept = set(
            AttributeOverride.objects.filter(domain=domain, golden_id=survivor_id).values_list(
                "attribute", flat=True
            )
        )
        for override in AttributeOverride.objects.filter(domain=domain, golden_id__in=merged_ids):
            if override.attribute not in kept:
                kept.add(override.attribute)
                AttributeOverride.objects.filter(pk=override.pk).update(golden_id=survivor_id)

        now = timezone.now()
        retired = [goldens[g] for g in merged_ids]
        for golden in retired:
            golden.record_status = GoldenStatus.MERGED
            golden.merged_into = survivor_id
            golden.version += 1
            golden.updated_at = now
        model = GOLDEN_MODELS[domain]
        model.objects.filter(pk__in=merged_ids).update(
            record_status=GoldenStatus.MERGED,
            merged_into=survivor_id,
            version=F("version") + 1,
            updated_at=now,
        )
        write_history(
            model,
            retired,
            "~",
            origin,
            {g.pk: ["record_status", "merged_into"] for g in retired},
            when=now,
        )
        record_changes(
            domain,
            [
                (
                    golden,
                    EventNote(
                        EventType.MERGED,
                        {"survivor_id": str(survivor_id), "source_records": held[golden.pk]},
                    ),
                )
                for golden in retired
            ],
            origin,
            now,
        )
        _point_merged_ids_forward(domain, merged_ids, survivor_id)
        _answer_reviews_within(domain, survivor_id, origin, now)
        versions = apply_ownership(domain, [survivor_id], origin)
        _re_resolve_references(domain, moved, origin)
        return versions[survivor_id]


def _answer_reviews_within(
    domain: str, golden_id: uuid.UUID, origin: ChangeOrigin, now: dt.datetime
) -> None:
    """Open match reviews between two records that now share one golden record are answered
    by the merge: nothing is left for a steward to decide."""
    ids = list(
        SourceRecord.objects.filter(domain=domain, golden_id=golden_id).values_list("pk", flat=True)
    )
    MatchReview.objects.filter(
        status=ReviewStatus.OPEN, source_record_id__in=ids, candidate_record_id__in=ids
    ).update(
        status=ReviewStatus.OBSOLETE,
        decided_by=f"{origin.actor_type}:{origin.actor}",
        decided_at=now,
        note=f"Answered by the merge into {golden_id}"
        + (f" ({origin.reason})." if origin.reason else ".")[:400],
    )


def _point_merged_ids_forward(
    domain: str, merged_ids: Sequence[uuid.UUID], survivor_id: uuid.UUID
) -> None:
    """Golden ids merged earlier into a now-merged record resolve to the new survivor."""
    GOLDEN_MODELS[domain].objects.filter(merged_into__in=merged_ids).exclude(
        pk__in=merged_ids
    ).update(merged_into=survivor_id)


def unmerge(
    domain: str,
    golden_id: uuid.UUID,
    source_record_ids: Collection[int],
    origin: ChangeOrigin,
) -> uuid.UUID:
    """Split the given source records out of ``golden_id`` into a new golden record."""
    get_domain(domain)
    with transaction.atomic():
        _lock_active(domain, [golden_id])
        linked = list(SourceRecord.objects.filter(domain=domain, golden_id=golden_id))
        moving = [r for r in linked if r.pk in set(source_record_ids)]
        if len(moving) != len(set(source_record_ids)):
            raise MergeError(
                "source_record_not_linked",
                "Every source record to split out must be linked to this golden record.",
            )
        if not moving or len(moving) == len(linked):
            raise MergeError(
                "invalid_split",
                "Split out at least one source record and leave at least one behind.",
            )
        new_id = new_golden_id()
        _move_source_records(moving, new_id, "unmerge", origin)
        # Both records get a version and an event: subscribers learn which record appeared
        # (``created``, split from the original) and that the original lost members.
        apply_ownership(
            domain,
            [golden_id],
            origin,
            new_golden_ids=[new_id],
            notes={
                golden_id: EventNote(EventType.UNMERGED, {"split_into": [str(new_id)]}),
                new_id: EventNote(EventType.CREATED, {"split_from": str(golden_id)}),
            },
            touch=[golden_id],
        )
        _re_resolve_references(domain, moving, origin)
        # A steward who splits records apart has said they are different: matching must not
        # put them together again (until a compared attribute changes).
        staying = [r.pk for r in linked if r not in moving]
        remember_never_match(
            domain,
            [(a.pk, b) for a in moving for b in staying],
            f"{origin.actor_type}:{origin.actor}",
            f"unmerged from {golden_id}",
        )
        return new_id


def resolve_golden_id(domain: str, golden_id: uuid.UUID) -> uuid.UUID:
    """The active golden record a (possibly merged-away) id stands for today."""
    model = GOLDEN_MODELS[domain]
    row = model.objects.filter(pk=golden_id).values("record_status", "merged_into").first()
    if row and row["record_status"] == GoldenStatus.MERGED and row["merged_into"]:
        return row["merged_into"]
    return golden_id


def identifier_conflicts(domain: str, golden_ids: Collection[uuid.UUID]) -> dict[str, list[str]]:
    """The exclusive identifiers (tax id, DUNS, GTIN) on which ``golden_ids`` disagree: name →
    the different values. Records with two valid, different exclusive identifiers are two
    entities, however alike they are otherwise."""
    spec = get_domain(domain)
    names = spec.exclusive_identifiers
    if not names or len(golden_ids) < 2:
        return {}
    rows = GOLDEN_MODELS[domain].objects.filter(pk__in=golden_ids).values(*names)
    conflicts: dict[str, list[str]] = {}
    for name in names:
        attribute = spec.attribute(name)
        values = {
            attribute.match_value(row[name]): row[name]
            for row in rows
            if row[name] not in ("", None)
        }
        if len(values) > 1:
            conflicts[name] = sorted(str(v) for v in values.values())
    return conflicts
