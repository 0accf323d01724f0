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
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F, OuterRef, Q, Subquery
from django.utils import timezone

from golden_records.bulk import bulk_insert, bulk_update_rows
from golden_records.domains import DOMAINS, get_domain
from golden_records.history import ChangeOrigin, history_rows
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
    records: Sequence[SourceRecord],
    target_of: Mapping[uuid.UUID, uuid.UUID],
    rule: str,
    origin_of: Mapping[uuid.UUID, ChangeOrigin],
) -> None:
    """Point each record at ``target_of[its golden id]``, its match keys too, with a history
    row in the origin of its target (``origin_of``)."""
    if not records:
        return
    now = timezone.now()
    by_target: dict[uuid.UUID, list[SourceRecord]] = defaultdict(list)
    for record in records:
        record.golden_id = target_of[record.golden_id]
        record.link_rule = rule
        record.linked_at = now
        by_target[record.golden_id].append(record)
    bulk_update_rows(SourceRecord, records, ["golden_id", "link_rule", "linked_at"])
    MatchKey.objects.filter(source_record_id__in=[r.pk for r in records]).update(
        golden_id=Subquery(
            SourceRecord.objects.filter(pk=OuterRef("source_record_id")).values("golden_id")[:1]
        )
    )
    rows = [
        row
        for target, moved in by_target.items()
        for row in history_rows(
            SourceRecord, moved, "~", origin_of[target], {r.pk: ["golden_id"] for r in moved}, now
        )
    ]
    bulk_insert(SourceRecord.history.model, rows)  # type: ignore[attr-defined]


def _re_resolve_references(
    domain: str, moved: Sequence[SourceRecord], origin: ChangeOrigin
) -> None:
    """Records elsewhere that refer to a moved source record now refer to its new golden."""
    if not moved:
        return
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


@dataclass(frozen=True)
class MergeGroup:
    """Golden records to merge into one survivor, and why (the history reason of its rows)."""

    survivor_id: uuid.UUID
    merged_ids: tuple[uuid.UUID, ...]
    reason: str = ""


def merge_golden(
    domain: str,
    survivor_id: uuid.UUID,
    merged_ids: Collection[uuid.UUID],
    origin: ChangeOrigin,
) -> int:
    """Merge ``merged_ids`` into ``survivor_id``; returns the survivor's new version."""
    merged = tuple(g for g in dict.fromkeys(merged_ids) if g != survivor_id)
    if not merged:
        raise MergeError("nothing_to_merge", "Name at least one other golden record to merge.")
    return merge_groups(domain, [MergeGroup(survivor_id, merged)], origin)[survivor_id]


def merge_groups(
    domain: str, groups: Sequence[MergeGroup], origin: ChangeOrigin
) -> dict[uuid.UUID, int]:
    """Several merges in one transaction and a fixed number of queries, however many groups
    (the catch-up repairs hundreds at once): each group's golden records into its survivor.
    No golden record may be in two groups. Returns each survivor's new version."""
    get_domain(domain)
    survivor_of = {merged: g.survivor_id for g in groups for merged in g.merged_ids}
    survivors = [g.survivor_id for g in groups]
    everyone = [*survivors, *survivor_of]
    if not survivor_of or any(not g.merged_ids for g in groups):
        raise MergeError("nothing_to_merge", "Name at least one other golden record to merge.")
    if len(set(everyone)) != len(everyone) or len(survivor_of) != sum(
        len(g.merged_ids) for g in groups
    ):
        raise MergeError("overlapping_merges", "A golden record is in more than one merge.")
    origin_of = {
        g.survivor_id: origin.with_reason(g.reason) if g.reason else origin for g in groups
    }
    with transaction.atomic():
        goldens = _lock_active(domain, everyone)
        moved = list(
            SourceRecord.objects.filter(
                domain=domain, golden_id__in=list(survivor_of)
            ).select_related("system")
        )
        # Which systems' records each retired golden record held: subscribers find their own
        # id for it in the merge event although those records now belong to the survivor.
        held: dict[uuid.UUID, list[dict[str, str]]] = defaultdict(list)
        for record in moved:
            held[record.golden_id].append(
                {"system": record.system.code, "source_id": record.source_id}
            )
        _move_source_records(moved, survivor_of, "merge", origin_of)
        _move_overrides(domain, survivor_of)

        now = timezone.now()
        retired = [goldens[g] for g in survivor_of]
        for golden in retired:
            golden.record_status = GoldenStatus.MERGED
            golden.merged_into = survivor_of[golden.pk]
            golden.version += 1
            golden.updated_at = now
        model = GOLDEN_MODELS[domain]
        bulk_update_rows(model, retired, ["record_status", "merged_into", "version", "updated_at"])
        changed = ["record_status", "merged_into"]
        bulk_insert(
            model.history.model,  # type: ignore[attr-defined]
            [
                row
                for golden in retired
                for row in history_rows(
                    model, [golden], "~", origin_of[golden.merged_into], {golden.pk: changed}, now
                )
            ],
        )
        record_changes(
            domain,
            [
                (
                    golden,
                    EventNote(
                        EventType.MERGED,
                        {
                            "survivor_id": str(golden.merged_into),
                            "source_records": held[golden.pk],
                        },
                    ),
                )
                for golden in retired
            ],
            origin,
            now,
        )
        _point_merged_ids_forward(domain, survivor_of)
        _answer_reviews_within(domain, survivors, origin, now)
        versions = apply_ownership(domain, survivors, origin)
        _re_resolve_references(domain, moved, origin)
        return {survivor: versions[survivor] for survivor in survivors}


def _move_overrides(domain: str, survivor_of: Mapping[uuid.UUID, uuid.UUID]) -> None:
    """Steward overrides of merged golden records move to their survivor, for the attributes
    the survivor has none of."""
    kept = set(
        AttributeOverride.objects.filter(
            domain=domain, golden_id__in=set(survivor_of.values())
        ).values_list("golden_id", "attribute")
    )
    for override in AttributeOverride.objects.filter(
        domain=domain, golden_id__in=list(survivor_of)
    ).order_by("pk"):
        target = (survivor_of[override.golden_id], override.attribute)
        if target not in kept:
            kept.add(target)
            AttributeOverride.objects.filter(pk=override.pk).update(golden_id=target[0])


def _answer_reviews_within(
    domain: str, golden_ids: Collection[uuid.UUID], origin: ChangeOrigin, now: dt.datetime
) -> None:
    """Open match reviews between two records that now share one golden record are answered
    by the merge: nothing is left for a steward to decide."""
    answered = MatchReview.objects.filter(
        status=ReviewStatus.OPEN,
        domain=domain,
        source_record__golden_id__in=list(golden_ids),
        candidate_record__golden_id=F("source_record__golden_id"),
    ).values_list("pk", "source_record__golden_id")
    by_golden: dict[uuid.UUID, list[int]] = defaultdict(list)
    for pk, golden_id in answered:
        by_golden[golden_id].append(pk)
    why = f" ({origin.reason})." if origin.reason else "."
    for golden_id, ids in by_golden.items():
        MatchReview.objects.filter(pk__in=ids).update(
            status=ReviewStatus.OBSOLETE,
            decided_by=f"{origin.actor_type}:{origin.actor}",
            decided_at=now,
            note=f"Answered by the merge into {golden_id}{why}"[:500],
        )


def _point_merged_ids_forward(domain: str, survivor_of: Mapping[uuid.UUID, uuid.UUID]) -> None:
    """Golden ids merged earlier into a now-merged record resolve to its survivor."""
    model = GOLDEN_MODELS[domain]
    earlier = list(
        model.objects.filter(merged_into__in=list(survivor_of))
        .exclude(pk__in=list(survivor_of))
        .values_list("pk", "merged_into")
    )
    by_survivor: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    for pk, merged_into in earlier:
        by_survivor[survivor_of[merged_into]].append(pk)
    for survivor, ids in by_survivor.items():
        model.objects.filter(pk__in=ids).update(merged_into=survivor)


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
        _move_source_records(moving, {golden_id: new_id}, "unmerge", {new_id: origin})
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


def exclusive_identifiers(
    domain: str, golden_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, dict[str, str]]:
    """Each golden record's exclusive identifiers (tax id, DUNS, GTIN) that are set, in the
    form they compare in (``match_value``). Two golden records with different values of one
    are two entities, however alike they are otherwise."""
    spec = get_domain(domain)
    names = spec.exclusive_identifiers
    if not names or not golden_ids:
        return {}
    rows = GOLDEN_MODELS[domain].objects.filter(pk__in=list(golden_ids)).values("pk", *names)
    return {
        row["pk"]: {
            name: str(spec.attribute(name).match_value(row[name]))
            for name in names
            if row[name] not in ("", None)
        }
        for row in rows
    }
