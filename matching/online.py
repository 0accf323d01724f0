"""Online matching: every new source record is matched before it is linked.

For a batch of new records (ingest runs set-wise, so does this):

1. standardise each record into features (the domain's active match rules say how);
2. find candidates through the blocking keys: each key is a 64-bit hash looked up in the
   BlockKey primary-key index, at most ``max_block_size`` rows per key (a key shared by more
   records says little and is skipped, and remembered as such by this process), so the cost
   does not grow with the number of golden records;
3. score every (record, candidate) pair at once (scoring.score_pairs), together with the pairs
   among the batch's own new records;
4. decide in arrival order: the best candidate golden record at or above auto-match → link;
   candidates between review and auto-match → the record gets its own golden record and one
   review per candidate; nothing above review → a new golden record.

The explanation of every decision with a candidate is kept (MatchDecision), and each review
carries the explanation of its pair.
"""

from __future__ import annotations

import functools
import hashlib
import json
import time
import uuid
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.db import connection

from golden_records import fastjson
from golden_records.lookups import array_literal
from golden_records.models import GOLDEN_MODELS, GoldenStatus, SourceRecord
from matching.blocking import blocking_keys
from matching.comparators import MULTI_FEATURE
from matching.features import Features, extract
from matching.frequencies import domain_frequencies
from matching.models import BlockKey, MatchProfile
from matching.rules import RuleSet
from matching.scoring import PairDetails, score_pair, score_pairs_explained

MAX_CANDIDATES = 25
"""Candidates scored per record: those sharing the most blocking keys with it."""
ONLINE_BLOCK_LIMIT = 40
"""Online, a fuzzy key shared by more records than this (or the rules' ``max_block_size``, if
smaller) is too common to find a record's duplicates: the candidates come from its rarer keys.
Identifier keys have no such limit (``IDENTIFIER_GOLDEN_LIMIT``)."""
IDENTIFIER_GOLDEN_LIMIT = MAX_CANDIDATES // 2
"""An identifier key (a blocking rule on one decisive or exclusive identifier: tax id, DUNS,
GTIN) is never too common: a large customer has dozens of accounts under one tax id, a GTIN
repeats across systems. Its candidates are one record per golden record holding it, the oldest
golden records first, at most this many (more golden records with one exclusive identifier
would be duplicates of each other; the oldest are the ones to link to), so that the fuzzy keys
still bring half of a record's candidates."""
EXPLAIN_ABOVE = 0.2
"""Decisions whose best candidate scores at least this share of the review threshold keep the
full explanation."""
MAX_REVIEWS = 3
"""Reviews raised per record: its most probable candidates in the review band."""

_SATURATED_LIMIT = 1_000_000
_SATURATED_TTL = 600.0
_saturated: dict[tuple[str, int, int], tuple[float, set[int]]] = {}
"""Keys this process has seen shared by more than ``max_block_size`` records, per rule set:
skipping them saves reading a full block per batch. Forgotten after ``_SATURATED_TTL`` seconds,
since records can leave a key (renamed, merged away) and rules can allow larger blocks."""


def _saturated_keys(rules: RuleSet) -> set[int]:
    scope = (rules.domain, rules.version, min(rules.max_block_size, ONLINE_BLOCK_LIMIT))
    now = time.monotonic()
    entry = _saturated.get(scope)
    if entry is None or now - entry[0] > _SATURATED_TTL:
        entry = _saturated[scope] = (now, set())
    return entry[1]


@functools.lru_cache(maxsize=1 << 15)
def key_hash(domain: str, rule: str, value: str) -> int:
    """A blocking key as a signed 64-bit integer (the BlockKey index holds these)."""
    digest = hashlib.blake2b(f"{domain}\x1f{rule}\x1f{value}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def record_keys(rules: RuleSet, features: Features) -> list[int]:
    return sorted(
        {key_hash(rules.domain, rule, value) for rule, value in blocking_keys(rules, features)}
    )


def identifier_rules(rules: RuleSet) -> frozenset[str]:
    """Names of the blocking rules on one identifier: decisive, exclusive, or declared one."""
    return _identifier_rules(
        rules.blocking, (*rules.decisive, *rules.exclusive, *rules.identifiers)
    )


@functools.lru_cache(maxsize=64)
def _identifier_rules(
    blocking: tuple[tuple[str, ...], ...], identifiers: tuple[str, ...]
) -> frozenset[str]:
    return frozenset(
        "+".join(rule) for rule in blocking if len(rule) == 1 and rule[0] in identifiers
    )


def record_identifier_keys(rules: RuleSet, features: Features) -> set[int]:
    """The record's blocking keys that are identifier keys (no block-size limit)."""
    # A one-feature rule is named after its feature and keyed by its value (blocking_keys).
    return {
        key_hash(rules.domain, name, features[name])
        for name in identifier_rules(rules)
        if features.get(name)
    }


def compared_attributes(rules: RuleSet) -> list[str]:
    return sorted({c.feature.split(".")[0] for c in rules.comparisons})


def fingerprint(rules: RuleSet, features: Features) -> str:
    """A hash of the features the rules compare: equal fingerprints, equal comparisons."""
    return _fingerprint(frozenset(compared_attributes(rules)), features)


def _fingerprint(bases: frozenset[str], features: Features) -> str:
    compared = {k: v for k, v in features.items() if k.partition(".")[0] in bases}
    text = json.dumps(compared, sort_keys=True, ensure_ascii=False)
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def features_of(rules: RuleSet, canonical: dict[str, Any]) -> Features:
    """Features from a source record's canonical attributes."""
    return extract(rules.attributes, {k: v for k, v in canonical.items() if v is not None})


@dataclass(frozen=True)
class Snapshot:
    """What a read could not have seen, from PostgreSQL's ``pg_current_snapshot``: rows whose
    writing transaction was not finished before the oldest one still running then (``xmin``).

    Rows of transactions older than ``xmin`` were committed (or rolled back) before the read;
    newer ones may have been in progress. The snapshot's list of running transactions would
    narrow this down, but it holds top-level ids only and a row written inside a savepoint
    carries its subtransaction's id, so every id from ``xmin`` on counts as possibly unseen,
    except the reading transaction's own (``own``).
    """

    xmin: int
    own: int | None

    @classmethod
    def current(cls) -> Snapshot | None:
        if connection.vendor != "postgresql":
            return None  # SQLite: one write transaction at a time, every read sees all
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_snapshot_xmin(pg_current_snapshot())::text, "
                "pg_current_xact_id_if_assigned()::text"
            )
            xmin, own = cursor.fetchone()
        return cls(int(xmin), int(own) if own else None)

    def as_dict(self) -> dict[str, Any]:
        return {"xmin": self.xmin, "own": self.own}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Snapshot:
        own = data.get("own")
        return cls(int(data["xmin"]), int(own) if own is not None else None)

    def saw(self, xmin: int) -> bool:
        """Whether the read surely saw a row written by transaction ``xmin`` (a row's 32-bit
        ``xmin`` column; the snapshot's ids are 64-bit: compared modulo 2**32)."""
        if xmin < 3:  # bootstrap and frozen rows: committed long ago
            return True
        if self.own is not None and xmin == self.own % 2**32:
            return True
        return (xmin - self.xmin % 2**32) % 2**32 >= 2**31  # older than the oldest running


@dataclass
class CandidateScore:
    golden_id: uuid.UUID
    probability: float
    record: int | None
    """The candidate's source record id; None for a record of the same batch (see ``peer``)."""
    peer: int | None = None
    """Index in the batch of the candidate when it arrived in the same batch."""
    features: Features = field(default_factory=dict)
    pair: int | None = None
    """Position of the pair in the batch's scoring (its explanation is kept there)."""


@dataclass
class OnlineDecision:
    outcome: str
    """linked, review or new (MatchOutcome)."""
    golden_id: uuid.UUID | None
    """The golden record to link to (linked), else None: the caller creates one."""
    rule: str
    probability: float | None
    best: CandidateScore | None
    reviews: list[CandidateScore]
    candidates: list[CandidateScore]


class OnlineMatcher:
    """Matches a batch of new records against stored profiles and against each other."""

    def __init__(self, rules: RuleSet):
        self.rules = rules
        self.domain = rules.domain
        self.features: list[Features] = []
        self.keys: list[list[int]] = []
        self.pairs: dict[int, list[CandidateScore]] = defaultdict(list)
        self.peer_pairs: dict[int, list[tuple[int, float, int]]] = defaultdict(list)
        """Per record: (earlier record of the batch, probability, position in the scoring)."""
        self._explained: dict[tuple[int, int | None, int | None], dict[str, Any]] = {}
        self._details: PairDetails | None = None
        self.scored: dict[int, list[tuple[uuid.UUID, float]]] = defaultdict(list)
        """Every stored candidate scored per record: (golden id, probability)."""
        self.snapshot: Snapshot | None = None
        self.identifiers: set[int] = set()
        """The batch's identifier keys (never too common)."""

    # -- preparation: one round of queries and one vectorised scoring for the batch -------------

    def prepare(
        self,
        canonicals: Sequence[dict[str, Any]],
        updated: Sequence[tuple[int, uuid.UUID, dict[str, Any]]] = (),
    ) -> None:
        """Score the new records (``canonicals``) against their candidates.

        ``updated``: (source record id, golden id, new canonical) of records the same batch
        changes; they are candidates with their new values, not their stored ones.
        """
        self.features = [features_of(self.rules, c) for c in canonicals]
        self.keys = [record_keys(self.rules, f) for f in self.features]
        self.identifiers = {k for f in self.features for k in record_identifier_keys(self.rules, f)}
        stored = self._stored_candidates(exclude={record_id for record_id, _, _ in updated})
        self._add_updated(stored, updated)
        pool: list[Features] = list(self.features)
        left: list[int] = []
        right: list[int] = []
        owner: list[tuple[int, Any]] = []
        position: dict[int, int] = {}
        for index, candidates in stored.items():
            for record_id, golden_id, features in candidates:
                if record_id not in position:
                    position[record_id] = len(pool)
                    pool.append(features)
                left.append(index)
                right.append(position[record_id])
                owner.append((index, (record_id, golden_id)))
        for later, earlier in self._peer_pairs():
            left.append(later)
            right.append(earlier)
            owner.append((later, earlier))
        if not left:
            return
        # The explanations of the pairs a decision keeps come from this same scoring.
        probability, self._details = score_pairs_explained(
            self.rules,
            pool,
            np.asarray(left, dtype=np.int64),
            np.asarray(right, dtype=np.int64),
            frequencies=domain_frequencies(self.rules),
        )
        # Kept per record: every candidate in the review band or above, and the best one
        # below it (what the decision's explanation shows when nothing matched).
        review = self.rules.thresholds.review
        scores = probability.tolist()
        relevant = {
            other[1]
            for (_, other), p in zip(owner, scores, strict=True)
            if p >= review and isinstance(other, tuple)
        }
        # Only candidates that can matter are checked for being still active (not retired).
        active = _active_goldens(relevant, self.domain)
        best_below: dict[int, tuple[float, int]] = {}
        for position_in_pairs, ((index, other), p) in enumerate(zip(owner, scores, strict=True)):
            if isinstance(other, tuple):
                self.scored[index].append((other[1], p))
            if p < review:
                if isinstance(other, tuple) and p > best_below.get(index, (-1.0, 0))[0]:
                    best_below[index] = (p, position_in_pairs)
                if not isinstance(other, tuple):
                    self.peer_pairs[index].append((other, p, position_in_pairs))
                continue
            if isinstance(other, tuple):
                record_id, golden_id = other
                if golden_id in active:
                    self.pairs[index].append(
                        CandidateScore(
                            golden_id,
                            p,
                            record_id,
                            None,
                            pool[right[position_in_pairs]],
                            position_in_pairs,
                        )
                    )
            else:
                self.peer_pairs[index].append((other, p, position_in_pairs))
        for index, (p, position_in_pairs) in best_below.items():
            record_id, golden_id = owner[position_in_pairs][1]
            self.pairs[index].append(
                CandidateScore(
                    golden_id, p, record_id, None, pool[right[position_in_pairs]], position_in_pairs
                )
            )

    def _stored_candidates(
        self, exclude: set[int]
    ) -> dict[int, list[tuple[int, uuid.UUID, Features]]]:
        limit = block_limit(self.rules)
        saturated = _saturated_keys(self.rules)
        wanted = {k for keys in self.keys for k in keys} - saturated - self.identifiers
        # What this read cannot see (batches not committed yet): matching.catch_up looks there
        # once this batch has committed.
        self.snapshot = Snapshot.current()
        by_key = candidate_rows(sorted(wanted), limit, sorted(self.identifiers), exclude)
        for key, ids in by_key.items():
            too_common = len(ids) > limit and key not in self.identifiers
            if too_common and len(saturated) < _SATURATED_LIMIT:
                saturated.add(key)
        chosen: dict[int, list[int]] = {}
        for index, keys in enumerate(self.keys):
            ranked = top_candidates(keys, by_key, limit, exclude, self.identifiers)
            if ranked:
                chosen[index] = ranked
        profiles = _profiles(
            {r for ids in chosen.values() for r in ids}, scored_features(self.rules)
        )
        return {
            index: [(r, *profiles[r]) for r in ids if r in profiles]
            for index, ids in chosen.items()
        }

    def _add_updated(
        self,
        stored: dict[int, list[tuple[int, uuid.UUID, Features]]],
        updated: Sequence[tuple[int, uuid.UUID, dict[str, Any]]],
    ) -> None:
        """The batch's changed records, with their new features, as candidates of the new
        records that share a blocking key with them."""
        if not updated:
            return
        by_key: dict[int, list[tuple[int, uuid.UUID, Features]]] = defaultdict(list)
        for record_id, golden_id, canonical in updated:
            features = features_of(self.rules, canonical)
            for key in record_keys(self.rules, features):
                by_key[key].append((record_id, golden_id, features))
        for index, keys in enumerate(self.keys):
            seen = {r for r, _, _ in stored.get(index, ())}
            for key in keys:
                for candidate in by_key.get(key, ()):
                    if candidate[0] not in seen:
                        seen.add(candidate[0])
                        stored.setdefault(index, []).append(candidate)

    def _peer_pairs(self) -> Iterable[tuple[int, int]]:
        """(later, earlier) pairs of this batch's records that share a usable blocking key.

        A fuzzy block larger than the limit says little and is skipped; in an identifier's
        block, however large, each record is paired with the block's first ``limit`` records
        (the ones that decide which golden record the identifier's records join)."""
        limit = block_limit(self.rules)
        blocks: dict[int, list[int]] = defaultdict(list)
        for index, keys in enumerate(self.keys):
            for key in keys:
                blocks[key].append(index)
        seen: set[tuple[int, int]] = set()
        for key, members in blocks.items():
            if len(members) < 2 or (len(members) > limit and key not in self.identifiers):
                continue
            for i, later in enumerate(members):
                for earlier in members[: min(i, limit)]:
                    if (later, earlier) not in seen:
                        seen.add((later, earlier))
                        yield later, earlier

    # -- decisions, in arrival order --------------------------------------------------------------

    def decide(self, index: int, golden_of_peer: dict[int, uuid.UUID]) -> OnlineDecision:
        """The decision for the batch's record ``index``; ``golden_of_peer`` holds the golden
        ids already given to the batch's earlier records."""
        candidates = list(self.pairs.get(index, ()))
        for earlier, p, position in self.peer_pairs.get(index, ()):
            golden_id = golden_of_peer.get(earlier)
            if golden_id is not None:
                candidates.append(
                    CandidateScore(golden_id, p, None, earlier, self.features[earlier], position)
                )
        best_per_golden: dict[uuid.UUID, CandidateScore] = {}
        for candidate in candidates:
            current = best_per_golden.get(candidate.golden_id)
            if current is None or candidate.probability > current.probability:
                best_per_golden[candidate.golden_id] = candidate
        ranked = sorted(best_per_golden.values(), key=lambda c: (-c.probability, c.golden_id.int))
        thresholds = self.rules.thresholds
        if not ranked:
            return OnlineDecision("new", None, "new", None, None, [], [])
        best = ranked[0]
        if best.probability >= thresholds.auto_match:
            # Other golden records as strong as this one are probably duplicates of each
            # other: the steward sees them, nothing merges on its own.
            others = [c for c in ranked[1:] if c.probability >= thresholds.auto_match][:MAX_REVIEWS]
            return OnlineDecision(
                "linked", best.golden_id, "match", best.probability, best, others, ranked
            )
        reviews = [c for c in ranked if c.probability >= thresholds.review][:MAX_REVIEWS]
        if reviews:
            return OnlineDecision("review", None, "review", best.probability, best, reviews, ranked)
        return OnlineDecision("new", None, "new", best.probability, best, [], ranked)

    def explain(self, index: int, candidate: CandidateScore) -> dict[str, Any]:
        key = (index, candidate.record, candidate.peer)
        if key not in self._explained:
            if candidate.pair is not None and self._details is not None:
                self._explained[key] = self._details.explain(candidate.pair).as_dict()
                return self._explained[key]
            self._explained[key] = score_pair(
                self.rules,
                self.features[index],
                candidate.features,
                frequencies=domain_frequencies(self.rules),
            ).as_dict()
        return self._explained[key]


def block_limit(rules: RuleSet) -> int:
    """Records a fuzzy blocking key may be shared by and still find candidates online."""
    return min(rules.max_block_size, ONLINE_BLOCK_LIMIT)


def top_candidates(
    keys: Iterable[int],
    by_key: dict[int, list[int]],
    limit: int,
    exclude: Collection[int],
    identifiers: Collection[int] = (),
) -> list[int]:
    """The records sharing an identifier key (``identifiers``: one per golden record, see
    ``candidate_rows``), then up to ``MAX_CANDIDATES`` in all sharing the most of ``keys``
    (fuzzy keys held by more than ``limit`` records say little and are skipped), older records
    first among equals."""
    shared: dict[int, int] = defaultdict(int)
    required: set[int] = set()
    for key in keys:
        ids = by_key.get(key, ())
        is_identifier = key in identifiers
        if len(ids) <= limit or is_identifier:
            for record_id in ids:
                if record_id not in exclude:
                    shared[record_id] += 1
                    if is_identifier:
                        required.add(record_id)
    first = sorted(required, key=lambda r: (-shared[r], r))[:IDENTIFIER_GOLDEN_LIMIT]
    rest = sorted((r for r in shared if r not in required), key=lambda r: (-shared[r], r))
    return [*first, *rest][:MAX_CANDIDATES]


def candidate_rows(
    keys: Sequence[int],
    limit: int,
    identifiers: Sequence[int] = (),
    exclude: Collection[int] = (),
) -> dict[int, list[int]]:
    """Source record ids under each key: at most ``limit + 1`` under a fuzzy key (one more
    than usable tells the key is too common), and under an identifier key one record per
    golden record holding it (not one of ``exclude``), at most ``IDENTIFIER_GOLDEN_LIMIT``
    golden records."""
    by_key: dict[int, list[int]] = defaultdict(list)
    for key, record_id in _rows_under_keys(keys, limit + 1):
        by_key[key].append(record_id)
    for key, record_id in _identifier_rows(identifiers, IDENTIFIER_GOLDEN_LIMIT, exclude):
        by_key[key].append(record_id)
    return by_key


def _is_split(matcher: OnlineMatcher, decision: OnlineDecision) -> bool:
    """Whether the stored golden records a linked record found as strong as its own are one
    entity made twice: every two of their records the decision weighed match at auto-match on
    their own, as they would have linked had their batches run one after the other. Otherwise
    (a record that bridges two look-alikes) a steward decides."""
    found = [decision.best, *decision.reviews] if decision.best is not None else []
    if len(found) < 2 or any(c.record is None for c in found):
        return False
    rules = matcher.rules
    frequencies = domain_frequencies(rules)
    return all(
        score_pair(rules, a.features, b.features, frequencies).probability
        >= rules.thresholds.auto_match
        for i, a in enumerate(found)
        for b in found[i + 1 :]
    )


def _candidate_list(
    matcher: OnlineMatcher, index: int, decision: OnlineDecision, limit: int = 20
) -> list[dict[str, Any]]:
    """Every candidate golden record considered (best pair each), most probable first."""
    best: dict[uuid.UUID, float] = {}
    scored = [(c.golden_id, c.probability) for c in decision.candidates]
    for golden_id, p in [*scored, *matcher.scored.get(index, ())]:
        if p > best.get(golden_id, -1.0):
            best[golden_id] = p
    ranked = sorted(best.items(), key=lambda item: (-item[1], item[0].int))[:limit]
    return [{"golden_id": str(g), "probability": round(p, 6)} for g, p in ranked]


def _rows_under_keys(keys: Sequence[int], limit: int) -> list[tuple[int, int]]:
    """(key, source record id) rows, at most ``limit`` per key, by index lookups only."""
    if not keys:
        return []
    table = connection.ops.quote_name(BlockKey._meta.db_table)
    rows: list[tuple[int, int]] = []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"SELECT k.key, b.source_record_id FROM unnest(%s::bigint[]) AS k(key) "
                f"CROSS JOIN LATERAL (SELECT source_record_id FROM {table} "
                f"WHERE key = k.key LIMIT %s) AS b",
                [array_literal(keys), limit],
            )
            return cursor.fetchall()
        for start in range(0, len(keys), 400):
            chunk = keys[start : start + 400]
            one = f"SELECT * FROM (SELECT key, source_record_id FROM {table} WHERE key = %s LIMIT {int(limit)})"  # noqa: E501
            parts = " UNION ALL ".join(one for _ in chunk)
            cursor.execute(parts, list(chunk))
            rows.extend(cursor.fetchall())
    return rows


def _identifier_rows(
    keys: Sequence[int], goldens: int, exclude: Collection[int] = ()
) -> list[tuple[int, int]]:
    """(key, source record id) with one record (the oldest not in ``exclude``) per golden
    record holding the key, the ``goldens`` oldest golden records per key. It reads every
    index entry of the key (the database's work grows with the accounts under one tax id),
    but returns a handful of candidates."""
    if not keys:
        return []
    block = connection.ops.quote_name(BlockKey._meta.db_table)
    source = connection.ops.quote_name(SourceRecord._meta.db_table)
    select = (
        f"SELECT b.key, s.golden_id, MIN(b.source_record_id) FROM {block} b "
        f"JOIN {source} s ON s.id = b.source_record_id WHERE "
    )
    group = " GROUP BY b.key, s.golden_id"
    excluded = sorted(exclude)
    rows: list[tuple[int, Any, int]] = []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                select
                + "b.key = ANY(%s::bigint[]) AND NOT b.source_record_id = ANY(%s::bigint[])"
                + group,
                [array_literal(keys), array_literal(excluded)],
            )
            rows = cursor.fetchall()
        else:
            # (NOT IN with no values would be NOT IN (NULL): never true.)
            skip = ", ".join("%s" for _ in excluded)
            unless = f" AND b.source_record_id NOT IN ({skip})" if excluded else ""
            for start in range(0, len(keys), 400):
                chunk = list(keys[start : start + 400])
                marks = ", ".join("%s" for _ in chunk)
                cursor.execute(select + f"b.key IN ({marks}){unless}" + group, [*chunk, *excluded])
                rows.extend(cursor.fetchall())
    per_key: dict[int, list[tuple[str, int]]] = defaultdict(list)
    for key, golden_id, record_id in rows:
        per_key[key].append((str(uuid.UUID(str(golden_id))), record_id))
    return [
        (key, record_id)
        for key, found in per_key.items()
        for _, record_id in sorted(found)[:goldens]
    ]


def scored_features(rules: RuleSet) -> list[str]:
    """The features scoring and explaining a pair read: each comparison's feature, the
    identifiers of the verdicts, and the companions comparators and verdicts read with them
    (a phone's digit string, a GTIN's check-digit validity)."""
    names = {c.feature for c in rules.comparisons}
    names.update(rules.decisive, rules.exclusive, (f for f, _ in rules.never_together))
    names.update(f"{c.feature}.digits" for c in rules.comparisons if c.comparator in MULTI_FEATURE)
    names.update(f"{f}.valid" for f in list(names) if rules.attributes.get(f) == "gtin")
    return sorted(names)


def _profiles(
    record_ids: set[int], features: Sequence[str] = ()
) -> dict[int, tuple[uuid.UUID, Features]]:
    """Golden id and features of each source record: on PostgreSQL only ``features`` (when
    given; a stored profile holds the blocking features too, about half of its size)."""
    if not record_ids:
        return {}
    if connection.vendor == "postgresql":
        # One array parameter instead of thousands of placeholders: psycopg parses the query
        # text in Python, and a long IN list costs more there than in the database.
        profile = connection.ops.quote_name(MatchProfile._meta.db_table)
        source = connection.ops.quote_name(SourceRecord._meta.db_table)
        selected = "p.features"
        params: list[Any] = []
        if features:
            pairs = ", ".join("%s::text, p.features -> %s::text" for _ in features)
            selected = f"jsonb_strip_nulls(jsonb_build_object({pairs}))"
            params = [name for feature in features for name in (feature, feature)]
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT p.source_record_id, s.golden_id, {selected} FROM {profile} p "
                f"JOIN {source} s ON s.id = p.source_record_id "
                "WHERE p.source_record_id = ANY(%s::bigint[])",
                [*params, array_literal(record_ids)],
            )
            # Django's connection hands jsonb over as text (its JSONField parses it).
            return {
                r: (g, fastjson.loads(f) if isinstance(f, str) else f)
                for r, g, f in cursor.fetchall()
            }
    rows = MatchProfile.objects.filter(source_record_id__in=record_ids).values_list(
        "source_record_id", "source_record__golden_id", "features"
    )
    return {r: (g, f) for r, g, f in rows}


def _active_goldens(golden_ids: set[uuid.UUID], domain: str) -> set[uuid.UUID]:
    if not golden_ids:
        return set()
    model = GOLDEN_MODELS[domain]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT golden_id FROM {connection.ops.quote_name(model._meta.db_table)} "
                "WHERE golden_id = ANY(%s::uuid[]) AND record_status = %s",
                [array_literal(golden_ids), GoldenStatus.ACTIVE],
            )
            return {row[0] for row in cursor.fetchall()}
    return set(
        model.objects.filter(pk__in=golden_ids, record_status=GoldenStatus.ACTIVE).values_list(
            "pk", flat=True
        )
    )


def index_source_records(
    rules: RuleSet,
    records: Sequence[SourceRecord],
    features: Sequence[Features] | None = None,
    replace: bool = True,
    keys: Sequence[list[int]] | None = None,
) -> None:
    """Write the match profile and blocking keys of ``records`` (``replace``: rewrite them);
    ``features`` and ``keys``, when given, are the records' own (as the matcher computed them)."""
    from golden_records.bulk import bulk_insert, insert_rows

    if not records:
        return
    if features is None:
        features = [features_of(rules, r.canonical) for r in records]
    if replace:
        ids = [r.pk for r in records]
        MatchProfile.objects.filter(source_record_id__any=ids).delete()
        BlockKey.objects.filter(source_record_id__any=ids).delete()
    if keys is None:
        keys = [record_keys(rules, feats) for feats in features]
    profiles = []
    rows = []
    bases = frozenset(compared_attributes(rules))
    for record, feats, own_keys in zip(records, features, keys, strict=True):
        profiles.append(
            MatchProfile(
                source_record_id=record.pk,
                domain=rules.domain,
                features=feats,
                fingerprint=_fingerprint(bases, feats),
            )
        )
        rows.extend((k, record.pk) for k in own_keys)
    bulk_insert(MatchProfile, profiles)
    insert_rows(BlockKey, ["key", "source_record_id"], rows)


def record_decisions(
    matcher: OnlineMatcher,
    decisions: Sequence[tuple[int, OnlineDecision]],
    record_of: dict[int, SourceRecord],
    decided_by: str,
    now: Any,
    defer_splits: bool = False,
) -> list[tuple[int, int]]:
    """Store the decisions that had candidates, and a review per candidate in the review band.

    ``decisions``: (batch index, decision); ``record_of``: batch index → written source record.
    A linked record as close to other stored golden records as to its own may have found a
    split (``_is_split``: concurrent batches made one entity twice); with ``defer_splits`` those
    pairs (record, candidate record) are returned for the catch-up to merge instead of raising
    reviews.
    """
    from golden_records.bulk import bulk_insert
    from matching.memory import active_never_matches, ordered
    from matching.models import MatchDecision, MatchReview

    rows: list[MatchDecision] = []
    reviews: list[MatchReview] = []
    splits: list[tuple[int, int]] = []
    rules = matcher.rules
    # A record linked to one golden record and as close to another does not re-propose a pair
    # of golden records a steward has kept apart.
    linked_pairs = {
        (d.best.record, c.record)
        for _, d in decisions
        if d.outcome == "linked" and d.best is not None and d.best.record is not None
        for c in d.reviews
        if c.record is not None
    }
    never = (
        active_never_matches({r for pair in linked_pairs for r in pair}) if linked_pairs else set()
    )
    for index, decision in decisions:
        if decision.best is None:
            continue
        record = record_of[index]
        # A clear non-match (far below review) keeps its candidates and probabilities; the
        # comparison-by-comparison explanation is kept for links, reviews and near misses.
        near = decision.best.probability >= EXPLAIN_ABOVE * rules.thresholds.review
        explanation = matcher.explain(index, decision.best) if near else {}
        rows.append(
            MatchDecision(
                source_record_id=record.pk,
                domain=rules.domain,
                outcome=decision.outcome,
                golden_id=record.golden_id,
                probability=decision.probability,
                rule=record.link_rule,
                rule_version=rules.version,
                explanation=explanation,
                candidates=_candidate_list(matcher, index, decision),
                decided_by=decided_by,
                created_at=now,
            )
        )
        split = defer_splits and decision.outcome == "linked" and _is_split(matcher, decision)
        for candidate in decision.reviews:
            best_record = decision.best.record
            if (
                decision.outcome == "linked"
                and best_record is not None
                and candidate.record is not None
                and ordered(best_record, candidate.record) in never
            ):
                continue
            if split:
                splits.append((record.pk, candidate.record))  # type: ignore[arg-type]
                continue
            other = (
                candidate.record if candidate.record is not None else record_of[candidate.peer].pk  # type: ignore[index]
            )
            reviews.append(
                MatchReview(
                    domain=rules.domain,
                    source_record_id=record.pk,
                    candidate_record_id=other,
                    candidate_golden_id=candidate.golden_id,
                    probability=candidate.probability,
                    explanation=(
                        explanation
                        if candidate is decision.best
                        else matcher.explain(index, candidate)
                    ),
                    rule_version=rules.version,
                    raised_by=decided_by,
                    created_at=now,
                )
            )
    bulk_insert(MatchDecision, rows)
    bulk_insert(MatchReview, reviews)
    return splits
