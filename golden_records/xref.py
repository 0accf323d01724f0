"""Cross-reference lookups: what a system's id stands for, and every system's ids for it.

Reads only; writes stay in ``golden_records/services``. A lookup names a domain and a key, either
a source system's id (``system``, ``source_id``) or a golden id (the reserved system code
``golden``), and answers with the golden record the key belongs to, its status, and the ids every
linked source record has for it, oldest link first.

Merges and unmerges: a merge moves the merged records' source records to the survivor, so a
source id resolves to the survivor; a golden id that was merged away resolves to the golden record
it was merged into (followed until an active or retired record), and the answer names the id it
was resolved from (``resolved_from``). An unmerge moves source records to a new golden record:
their ids resolve there.

Now (no ``as_of``): one SQL query per single lookup (the unique index on (system, domain,
source_id), then the (domain, golden_id) index for the other ids), three per batch of up to 1,000
keys (keys, merged ids, other ids), whatever its size. Hand-written SQL: the ORM's query building
costs more than the database on this path (bench/xref.py).

``as_of``: the answer as it was at that moment, read from history. The key's link is the source
record's latest history row at or before ``as_of`` (a record first received later is
``not_found_as_of``); the golden record's status and ``merged_into`` are those of its latest
history row at or before ``as_of`` (merged ones are followed as they were then); the other ids are
the source records whose latest history row at or before ``as_of`` links them to that golden
record, with the ``linked_at`` they had then. A fixed number of queries per batch, each on an
index of the history tables (``id``, ``golden_id``).
"""

from __future__ import annotations

import datetime as dt
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.db import connection

from golden_records.lookups import array_literal
from golden_records.models import GOLDEN_MODELS, GoldenStatus, SourceRecord, SourceSystem

GOLDEN = "golden"
"""The system code that stands for the hub's own golden ids in a lookup."""

MAX_BATCH = 1000
MAX_MERGE_HOPS = 20


@dataclass(frozen=True)
class XrefId:
    """One system's id for a golden record."""

    system: str
    source_id: str
    linked_at: dt.datetime
    link_rule: str

    def as_dict(self) -> dict[str, str]:
        return {
            "system": self.system,
            "source_id": self.source_id,
            "linked_at": self.linked_at.isoformat(),
            "link_rule": self.link_rule,
        }


@dataclass
class XrefAnswer:
    """What a key stands for: its golden record (after merges), its status, every system's ids."""

    golden_id: uuid.UUID
    status: str
    resolved_from: uuid.UUID | None = None
    xrefs: list[XrefId] = field(default_factory=list)

    def ids_in(self, system: str) -> list[XrefId]:
        return [x for x in self.xrefs if x.system == system]


class XrefNotFound(Exception):
    """A key with no answer; ``code`` is stable: ``unknown_system``, ``source_record_not_found``,
    ``not_found_as_of``, ``golden_record_not_found``, ``no_id_in_target_system``."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


# -- system codes --------------------------------------------------------------------------------

_codes_lock = threading.Lock()
_codes: frozenset[str] = frozenset()
_codes_loaded = 0.0


SYSTEM_CODES_MAX_AGE = 1.0


def is_system_code(code: str) -> bool:
    """Whether ``code`` names a source system (active or not). Cached per process; an unknown
    code reloads the list at most once per ``SYSTEM_CODES_MAX_AGE`` seconds, so a new system is
    known within a second."""
    global _codes, _codes_loaded
    if code in _codes:
        return True
    with _codes_lock:
        if time.monotonic() - _codes_loaded >= SYSTEM_CODES_MAX_AGE:
            _codes = frozenset(SourceSystem.objects.values_list("code", flat=True))
            _codes_loaded = time.monotonic()
        return code in _codes


def _unknown_key(domain: str, system: str, source_id: str) -> XrefNotFound:
    if not SourceSystem.objects.filter(code=system).exists():
        return XrefNotFound("unknown_system", f"No source system {system!r}.")
    return XrefNotFound(
        "source_record_not_found", f"No {domain} record {source_id!r} from system {system!r}."
    )


def no_id_in(target: str, domain: str, golden_id: uuid.UUID) -> XrefNotFound:
    return XrefNotFound(
        "no_id_in_target_system",
        f"no id in target system: {target!r} has no record linked to {domain} golden record "
        f"{golden_id}.",
    )


# -- database helpers ----------------------------------------------------------------------------


def _pg() -> bool:
    return connection.vendor == "postgresql"


def _uuid(value: object) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def _uuid_param(value: uuid.UUID) -> object:
    return value if _pg() else value.hex


def _aware(value: dt.datetime | str) -> dt.datetime:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _tables(domain: str) -> tuple[str, str, str]:
    return (
        GOLDEN_MODELS[domain]._meta.db_table,
        SourceRecord._meta.db_table,
        SourceSystem._meta.db_table,
    )


def _parse_golden_id(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


# -- now -----------------------------------------------------------------------------------------


def lookup(domain: str, system: str, source_id: str) -> XrefAnswer:
    """The answer for one key, now. Raises ``XrefNotFound``."""
    if system == GOLDEN:
        result = lookup_many(domain, [(system, source_id)])[0]
        if isinstance(result, XrefNotFound):
            raise result
        return result
    golden_table, source_table, system_table = _tables(domain)
    # One query: the key on the unique index, its golden record, and the golden record's source
    # records on the (domain, golden_id) index.
    sql = f"""
        SELECT g.golden_id, g.record_status, xs.code, x.source_id, x.linked_at, x.link_rule
        FROM {source_table} k
        JOIN {system_table} ks ON ks.id = k.system_id
        LEFT JOIN {golden_table} g ON g.golden_id = k.golden_id
        JOIN {source_table} x ON x.domain = k.domain AND x.golden_id = k.golden_id
        JOIN {system_table} xs ON xs.id = x.system_id
        WHERE ks.code = %s AND k.domain = %s AND k.source_id = %s
        ORDER BY x.linked_at, x.id
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [system, domain, source_id])
        rows = cursor.fetchall()
    if not rows:
        raise _unknown_key(domain, system, source_id)
    golden_id, status = rows[0][:2]
    if golden_id is None or status == GoldenStatus.MERGED:
        # Only between a merge's moves and its commit, or with a damaged link: resolve the way
        # a batch does.
        result = lookup_many(domain, [(system, source_id)])[0]
        if isinstance(result, XrefNotFound):
            raise result
        return result
    return XrefAnswer(
        golden_id=_uuid(golden_id),
        status=status,
        xrefs=[XrefId(r[2], r[3], _aware(r[4]), r[5]) for r in rows],
    )


def _keys_cte(pairs: Sequence[tuple[str, str]]) -> tuple[str, list[object]]:
    if _pg():
        return (
            "WITH k(code, sid) AS (SELECT * FROM unnest(%s::text[], %s::text[]))",
            [array_literal(p[0] for p in pairs), array_literal(p[1] for p in pairs)],
        )
    values = ", ".join(["(%s, %s)"] * len(pairs))
    return f"WITH k(code, sid) AS (VALUES {values})", [v for p in pairs for v in p]


def _in_uuids(column: str, ids: Sequence[uuid.UUID]) -> tuple[str, list[object]]:
    if _pg():
        return f"{column} = ANY(%s::uuid[])", [array_literal(ids)]
    return f"{column} IN ({', '.join(['%s'] * len(ids))})", [i.hex for i in ids]


def _golden_states(domain: str, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, tuple[str, object]]:
    ids = list(set(ids))
    if not ids:
        return {}
    golden_table = GOLDEN_MODELS[domain]._meta.db_table
    where, params = _in_uuids("golden_id", ids)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT golden_id, record_status, merged_into FROM {golden_table} WHERE {where}",
            params,
        )
        return {_uuid(r[0]): (r[1], r[2]) for r in cursor.fetchall()}


def _follow_merges(
    start: dict[uuid.UUID, tuple[str, object]],
    states_of,
) -> dict[uuid.UUID, tuple[uuid.UUID, str]]:
    """{golden id: (the id it resolves to, that record's status)}; one query per merge hop."""
    states = dict(start)
    resolved: dict[uuid.UUID, tuple[uuid.UUID, str]] = {}
    pending = {g: g for g in states}
    for _ in range(MAX_MERGE_HOPS):
        missing = []
        for origin, current in list(pending.items()):
            status, merged_into = states[current]
            if status == GoldenStatus.MERGED and merged_into:
                target = _uuid(merged_into)
                pending[origin] = target
                if target not in states:
                    missing.append(target)
            else:
                resolved[origin] = (current, status)
                del pending[origin]
        if not pending:
            break
        states.update(states_of(missing))
        for origin, current in list(pending.items()):
            if current not in states:  # merged into a record that is gone: stop there
                resolved[origin] = (current, GoldenStatus.MERGED)
                del pending[origin]
    for origin, current in pending.items():  # a cycle: should never happen
        resolved[origin] = (current, GoldenStatus.MERGED)
    return resolved


def _xrefs_of(domain: str, golden_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, list[XrefId]]:
    ids = list(set(golden_ids))
    found: dict[uuid.UUID, list[XrefId]] = defaultdict(list)
    if not ids:
        return found
    _, source_table, system_table = _tables(domain)
    columns = "x.golden_id, s.code, x.source_id, x.linked_at, x.link_rule"
    if _pg():  # one (domain, golden_id) index probe per id, as above
        sql = f"""SELECT {columns} FROM unnest(%s::uuid[]) AS u(golden_id)
                  CROSS JOIN LATERAL (SELECT * FROM {source_table}
                                      WHERE domain = %s AND golden_id = u.golden_id
                                      OFFSET 0) x
                  JOIN {system_table} s ON s.id = x.system_id
                  ORDER BY x.linked_at, x.id"""
        params: list[object] = [array_literal(ids), domain]
    else:
        where, in_params = _in_uuids("x.golden_id", ids)
        sql = f"""SELECT {columns}
                  FROM {source_table} x JOIN {system_table} s ON s.id = x.system_id
                  WHERE x.domain = %s AND {where}
                  ORDER BY x.linked_at, x.id"""
        params = [domain, *in_params]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for golden_id, code, source_id, linked_at, rule in cursor.fetchall():
            found[_uuid(golden_id)].append(XrefId(code, source_id, _aware(linked_at), rule))
    return found


def lookup_many(domain: str, pairs: Sequence[tuple[str, str]]) -> list[XrefAnswer | XrefNotFound]:
    """Answers for up to 1,000 keys, now, in their order; unknown keys get an ``XrefNotFound``."""
    golden_table, source_table, system_table = _tables(domain)
    source_pairs = list(dict.fromkeys(p for p in pairs if p[0] != GOLDEN))
    linked: dict[tuple[str, str], uuid.UUID] = {}
    states: dict[uuid.UUID, tuple[str, object]] = {}
    if source_pairs:
        cte, params = _keys_cte(source_pairs)
        # LATERAL keeps PostgreSQL on the unique index for every key (a hash join over the whole
        # table looks cheaper to its planner, and is not, for a thousand keys out of millions).
        source = (
            f"CROSS JOIN LATERAL (SELECT golden_id FROM {source_table} "
            "WHERE system_id = s.id AND domain = %s AND source_id = k.sid LIMIT 1) sr"
            if _pg()
            else f"JOIN {source_table} sr "
            "ON sr.system_id = s.id AND sr.domain = %s AND sr.source_id = k.sid"
        )
        with connection.cursor() as cursor:
            cursor.execute(
                f"""{cte}
                    SELECT k.code, k.sid, sr.golden_id, g.record_status, g.merged_into
                    FROM k
                    JOIN {system_table} s ON s.code = k.code
                    {source}
                    LEFT JOIN {golden_table} g ON g.golden_id = sr.golden_id""",
                [*params, domain],
            )
            for code, sid, golden_id, status, merged_into in cursor.fetchall():
                golden_id = _uuid(golden_id)
                linked[(code, sid)] = golden_id
                if status is not None:
                    states[golden_id] = (status, merged_into)
    asked = {g for p in pairs if p[0] == GOLDEN and (g := _parse_golden_id(p[1])) is not None}
    states.update(_golden_states(domain, asked - set(states)))
    resolved = _follow_merges(
        {g: states[g] for g in {*linked.values(), *asked} if g in states},
        lambda ids: _golden_states(domain, ids),
    )
    xrefs = _xrefs_of(domain, {target for target, _ in resolved.values()})
    return _answers(domain, pairs, linked, resolved, xrefs)


def _answers(
    domain: str,
    pairs: Sequence[tuple[str, str]],
    linked: dict[tuple[str, str], uuid.UUID],
    resolved: dict[uuid.UUID, tuple[uuid.UUID, str]],
    xrefs: dict[uuid.UUID, list[XrefId]],
    as_of: dt.datetime | None = None,
    later: frozenset[tuple[str, str]] | set[tuple[str, str]] = frozenset(),
) -> list[XrefAnswer | XrefNotFound]:
    known_systems: set[str] | None = None
    out: list[XrefAnswer | XrefNotFound] = []
    for key in pairs:
        system, source_id = key
        start = _parse_golden_id(source_id) if system == GOLDEN else linked.get(key)
        if start is not None and start in resolved:
            target, status = resolved[start]
            out.append(
                XrefAnswer(
                    golden_id=target,
                    status=status,
                    resolved_from=start if start != target else None,
                    xrefs=list(xrefs.get(target, ())),
                )
            )
            continue
        when = f" as of {as_of.isoformat()}" if as_of else ""
        if system == GOLDEN:
            exists_now = (
                as_of is not None
                and start is not None
                and GOLDEN_MODELS[domain].objects.filter(pk=start).exists()
            )
            out.append(
                XrefNotFound(
                    "not_found_as_of" if exists_now else "golden_record_not_found",
                    f"No {domain} golden record {source_id}{when}.",
                )
            )
            continue
        if key in later:
            out.append(
                XrefNotFound(
                    "not_found_as_of",
                    f"{domain} record {source_id!r} from system {system!r} was first received "
                    f"after {as_of.isoformat() if as_of else 'now'}.",
                )
            )
            continue
        if known_systems is None:
            named = {p[0] for p in pairs}
            known_systems = set(
                SourceSystem.objects.filter(code__in=named).values_list("code", flat=True)
            )
        if system not in known_systems:
            out.append(XrefNotFound("unknown_system", f"No source system {system!r}."))
        else:
            out.append(
                XrefNotFound(
                    "source_record_not_found",
                    f"No {domain} record {source_id!r} from system {system!r}{when}.",
                )
            )
    return out


# -- as of a moment ------------------------------------------------------------------------------


def _latest(rows: Iterable[tuple]) -> dict:
    """The first row per key of rows ordered by key, then newest first."""
    latest: dict = {}
    for row in rows:
        latest.setdefault(row[0], row)
    return latest


def _golden_states_as_of(
    domain: str, ids: Iterable[uuid.UUID], as_of: dt.datetime
) -> dict[uuid.UUID, tuple[str, object]]:
    ids = set(ids)
    if not ids:
        return {}
    history = GOLDEN_MODELS[domain].history.model  # type: ignore[attr-defined]
    rows = (
        history.objects.filter(golden_id__in=ids, history_date__lte=as_of)
        .order_by("golden_id", "-history_date", "-history_id")
        .values_list("golden_id", "record_status", "merged_into")
    )
    states = {g: (status, merged) for g, status, merged in _latest(rows).values()}
    # A golden record whose first history row is a little later than the links that name it (the
    # same transaction stamps them separately): take its first state.
    early = ids - set(states)
    if early:
        first = (
            history.objects.filter(golden_id__in=early)
            .order_by("golden_id", "history_date", "history_id")
            .values_list("golden_id", "record_status", "merged_into")
        )
        linked_before = set(
            SourceRecord.history.filter(  # type: ignore[attr-defined]
                domain=domain, golden_id__in=early, history_date__lte=as_of
            ).values_list("golden_id", flat=True)
        )
        for g, status, merged in _latest(first).values():
            if g in linked_before:
                states[g] = (status, merged)
    return states


def _xrefs_as_of(
    domain: str, golden_ids: Iterable[uuid.UUID], as_of: dt.datetime
) -> dict[uuid.UUID, list[XrefId]]:
    golden_ids = set(golden_ids)
    found: dict[uuid.UUID, list[XrefId]] = defaultdict(list)
    if not golden_ids:
        return found
    history = SourceRecord.history.model  # type: ignore[attr-defined]
    ever_linked = history.objects.filter(
        domain=domain, golden_id__in=golden_ids, history_date__lte=as_of
    ).values("id")
    rows = (
        history.objects.filter(id__in=ever_linked, history_date__lte=as_of)
        .order_by("id", "-history_date", "-history_id")
        .values_list("id", "golden_id", "system__code", "source_id", "linked_at", "link_rule")
    )
    current = sorted(
        (r for r in _latest(rows).values() if r[1] in golden_ids), key=lambda r: (r[4], r[0])
    )
    for _, golden_id, code, source_id, linked_at, rule in current:
        found[golden_id].append(XrefId(code, source_id, linked_at, rule))
    return found


def lookup_many_as_of(
    domain: str, pairs: Sequence[tuple[str, str]], as_of: dt.datetime
) -> list[XrefAnswer | XrefNotFound]:
    """Answers as they were at ``as_of`` (see the module docstring), in the keys' order."""
    source_pairs = list(dict.fromkeys(p for p in pairs if p[0] != GOLDEN))
    record_ids: dict[int, tuple[str, str]] = {}
    for code, source_id, pk in _current_records(domain, source_pairs):
        record_ids[pk] = (code, source_id)
    linked: dict[tuple[str, str], uuid.UUID] = {}
    if record_ids:
        history = SourceRecord.history.model  # type: ignore[attr-defined]
        rows = (
            history.objects.filter(id__in=list(record_ids), history_date__lte=as_of)
            .order_by("id", "-history_date", "-history_id")
            .values_list("id", "golden_id")
        )
        for pk, golden_id in _latest(rows).values():
            linked[record_ids[pk]] = golden_id
    # Keys received after as_of: known now, unknown then.
    later = {key for key in record_ids.values() if key not in linked}
    asked = {g for p in pairs if p[0] == GOLDEN and (g := _parse_golden_id(p[1])) is not None}
    states = _golden_states_as_of(domain, {*linked.values(), *asked}, as_of)
    resolved = _follow_merges(states, lambda ids: _golden_states_as_of(domain, ids, as_of))
    xrefs = _xrefs_as_of(domain, {target for target, _ in resolved.values()}, as_of)
    return _answers(domain, pairs, linked, resolved, xrefs, as_of, later)


def _current_records(domain: str, pairs: Sequence[tuple[str, str]]) -> list[tuple[str, str, int]]:
    """(system code, source id, record id) of the keys that exist now. Source records are
    never deleted, so a key that existed at any moment exists now, under the same id."""
    if not pairs:
        return []
    _, source_table, system_table = _tables(domain)
    cte, params = _keys_cte(pairs)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""{cte}
                SELECT k.code, k.sid, sr.id
                FROM k
                JOIN {system_table} s ON s.code = k.code
                JOIN {source_table} sr
                  ON sr.system_id = s.id AND sr.domain = %s AND sr.source_id = k.sid""",
            [*params, domain],
        )
        return cursor.fetchall()


def lookup_as_of(domain: str, system: str, source_id: str, as_of: dt.datetime) -> XrefAnswer:
    result = lookup_many_as_of(domain, [(system, source_id)], as_of)[0]
    if isinstance(result, XrefNotFound):
        raise result
    return result
