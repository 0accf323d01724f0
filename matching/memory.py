"""Never-match memory: what stewards said is not the same entity stays apart.

A rejection is stored per pair of source records with each side's fingerprint (a hash of the
features the rules compare, MatchProfile.fingerprint). The memory holds while both
fingerprints are unchanged: once a compared attribute of either record changes, the pair is
matched again like any other, since the steward decided on other values.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from django.db.models import Q
from django.utils import timezone

from golden_records.bulk import bulk_insert
from matching.models import MatchProfile, NeverMatch

Pair = tuple[int, int]


def ordered(a: int, b: int) -> Pair:
    return (a, b) if a < b else (b, a)


def remember_never_match(
    domain: str, pairs: Iterable[Pair], decided_by: str, reason: str = ""
) -> int:
    """Store "never match" for each pair of source record ids; returns how many were new.

    A pair already remembered gets the current fingerprints (the steward decided again).
    """
    pairs = {ordered(a, b) for a, b in pairs if a != b}
    if not pairs:
        return 0
    ids = {i for pair in pairs for i in pair}
    prints = fingerprints(ids)
    existing = {
        (row.left_id, row.right_id): row
        for row in NeverMatch.objects.filter(
            left_id__in={a for a, _ in pairs}, right_id__in={b for _, b in pairs}
        )
    }
    now = timezone.now()
    new = []
    for left, right in sorted(pairs):
        row = existing.get((left, right))
        if row is not None:
            NeverMatch.objects.filter(pk=row.pk).update(
                left_fingerprint=prints.get(left, ""),
                right_fingerprint=prints.get(right, ""),
                decided_by=decided_by,
                reason=reason,
                created_at=now,
            )
            continue
        new.append(
            NeverMatch(
                domain=domain,
                left_id=left,
                right_id=right,
                left_fingerprint=prints.get(left, ""),
                right_fingerprint=prints.get(right, ""),
                decided_by=decided_by,
                reason=reason,
                created_at=now,
            )
        )
    bulk_insert(NeverMatch, new)
    return len(new)


def fingerprints(record_ids: Collection[int]) -> dict[int, str]:
    return dict(
        MatchProfile.objects.filter(source_record_id__in=record_ids).values_list(
            "source_record_id", "fingerprint"
        )
    )


def active_never_matches(record_ids: Collection[int] | None = None, domain: str = "") -> set[Pair]:
    """Remembered pairs (among ``record_ids``, or in ``domain``) whose fingerprints still hold."""
    rows = NeverMatch.objects.all()
    if record_ids is not None:
        ids = list(record_ids)
        if not ids:
            return set()
        rows = rows.filter(Q(left_id__in=ids) | Q(right_id__in=ids))
    if domain:
        rows = rows.filter(domain=domain)
    found = list(rows.values_list("left_id", "right_id", "left_fingerprint", "right_fingerprint"))
    prints = fingerprints({i for row in found for i in row[:2]})
    return {
        (left, right)
        for left, right, left_print, right_print in found
        if prints.get(left, "") == left_print and prints.get(right, "") == right_print
    }
