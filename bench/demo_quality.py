"""Demo quality: how well the hub's golden records reproduce the demo world's truth.

`seed_demo` draws a world (companies with ship-to sites, products, warehouses) and sends every
system's version of it through the ingest pipeline. This script draws the same world (same seed
and sizes), works out which world entity each payload (system, domain, source id) describes,
loads the demo into a fresh database and scores the hub's golden records against that truth,
per domain: pairwise precision, recall and F1 (every two source records with one golden id are
a predicted pair; every two describing one entity are a true pair), golden records against true
entities, the kinds of wrong merges and of missed links, and the worst of each, with the
records' attributes (SourceRecord.canonical) and how they were linked (link_rule).

The truth, per domain (from golden_records.demo: customers.py, items.py, locations.py,
prices.py):

* customer: a company; ERP `erp_id`, CRM `crm_id`, web shop `ecom_id`, EDI `edi_id`.
* item: a product; ERP `erp_id`, WMS `wms_id`, web shop `ecom_id`, EDI `832-0<gtin13>`.
* location: a company's bill-to (ERP `<erp_id>-BT`, its own entity even where it has the
  address of the main ship-to), a ship-to site (ERP `erp_code`, CRM `crm_id`, EDI
  `N1ST-<edi_id>-<nn>`), or a warehouse (ERP `WHnn` and WMS `FAC-00nn`; the WMS's cross-docks
  alone).
* price: an ERP price row; a web price is the ERP's 2025 list price of the item in its list.

    .venv/bin/python bench/demo_quality.py                  # seed_demo's defaults (~90 s)
    .venv/bin/python bench/demo_quality.py --sizes small    # 300 customers, 800 items
    .venv/bin/python bench/demo_quality.py --domains item location --examples 5
    DATABASE_URL=postgres://... .venv/bin/python bench/demo_quality.py   # an empty database

Without DATABASE_URL (or --database-url) the database is a new SQLite file in a temporary
folder, removed afterwards unless --keep.
"""

from __future__ import annotations

import argparse
import io
import os
import re
import shutil
import sys
import tempfile
import textwrap
import time
from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import Any

from match_quality import score_labels

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SIZES = {"default": (2000, 5000), "small": (300, 800)}
"""--sizes: (customers, items); the default is seed_demo's."""
DOMAINS = ("customer", "item", "location", "price")
SYSTEM_ORDER = ("erp", "crm", "wms", "ecom", "edi")
SHOWN = {
    "customer": ("name", "duns", "tax_id", "email", "address_line1", "city", "postal_code"),
    "item": ("sku", "gtin", "mpn", "manufacturer", "name", "uom"),
    "location": ("code", "name", "kind", "address_line1", "city", "postal_code", "customer"),
    "price": ("item", "price_list", "currency", "unit_price", "min_quantity", "valid_from"),
}
"""The canonical attributes printed for each record of an example."""
IDENTIFIERS = {
    "customer": ("duns", "tax_id", "email"),
    "item": ("gtin", "sku", "mpn"),
    "location": ("code",),
    "price": (),
}
"""Attributes a missed link is checked for sharing (compared upper-case, letters and digits)."""
MAX_ENTITIES_SHOWN = 6
MAX_RECORDS_SHOWN = 4

Key = tuple[str, str]
"""(system code, source id) within one domain."""
Entity = tuple[Any, ...]
"""A world entity: ("company", idx), ("product", idx), ("bill-to", idx), ("site", idx, n),
("warehouse", n), ("cross-dock", n), ("price", ERP source id)."""


# --- the truth --------------------------------------------------------------------------------


@dataclass
class Truth:
    """Domain → source record → entity, and what is known about every entity."""

    labels: dict[str, dict[Key, Entity]] = field(default_factory=lambda: defaultdict(dict))
    companies: dict[int, Any] = field(default_factory=dict)
    products: dict[int, Any] = field(default_factory=dict)
    prices: dict[str, dict[str, Any]] = field(default_factory=dict)
    """ERP price source id → its payload."""
    warehouses: dict[Entity, str] = field(default_factory=dict)
    item_golden: dict[str, Hashable] = field(default_factory=dict)
    """ERP item id → its golden id in the hub (filled after loading, for the price kinds)."""


def build_truth(seed: int, customers: int, items: int) -> Truth:
    """The world of ``seed_demo --seed --customers --items`` and the entity of every payload it
    sends. Raises when a payload is left without an entity (the generator changed)."""
    from golden_records.demo.payloads import DOMAIN_PAYLOADS, build_payloads, build_world
    from golden_records.demo.vocabulary.warehouses import WAREHOUSES, WMS_ONLY_WAREHOUSES

    world = build_world(seed, customers, items)
    # The payloads drawn from this world exactly as build_payloads draws them (one Random).
    payloads = {
        (domain, system): rows
        for domain, payloads_of in DOMAIN_PAYLOADS
        for system, rows in payloads_of(world).items()
    }
    truth = Truth()
    truth.companies = {c.idx: c for c in world.companies}
    truth.products = {p.idx: p for p in world.products}
    customer, item, location, price = (truth.labels[d] for d in DOMAINS)

    for c in world.companies:
        entity = ("company", c.idx)
        for system, source_id in (
            ("erp", c.erp_id),
            ("crm", c.crm_id),
            ("ecom", c.ecom_id),
            ("edi", c.edi_id),
        ):
            if source_id:
                customer[system, source_id] = entity
        if c.erp_id:
            location["erp", f"{c.erp_id}-BT"] = ("bill-to", c.idx)
        for site in c.sites:
            entity = ("site", c.idx, site.number)
            location["erp", site.erp_code] = entity
            if site.in_crm:
                location["crm", site.crm_id] = entity
            if site.in_edi:
                location["edi", f"N1ST-{c.edi_id}-{site.number:02d}"] = entity
    for p in world.products:
        entity = ("product", p.idx)
        item["erp", p.erp_id] = entity
        if p.in_wms:
            item["wms", p.wms_id] = entity
        if p.in_ecom:
            item["ecom", p.ecom_id] = entity
        if p.in_edi:
            item["edi", f"832-0{p.gtin13}"] = entity
    for n, warehouse in enumerate(WAREHOUSES, start=1):
        entity = ("warehouse", n)
        location["erp", f"WH{n:02d}"] = location["wms", f"FAC-{n:04d}"] = entity
        truth.warehouses[entity] = f"warehouse {warehouse[0]} {warehouse[2]}, {warehouse[4]}"
    for n, warehouse in enumerate(WMS_ONLY_WAREHOUSES, start=len(WAREHOUSES) + 1):
        entity = ("cross-dock", n)
        location["wms", f"FAC-{n:04d}"] = entity
        truth.warehouses[entity] = f"cross-dock {warehouse[0]} {warehouse[1]}, {warehouse[3]}"
    erp_item_of_ecom = {p.ecom_id: p.erp_id for p in world.products if p.ecom_id}
    for row in payloads.get(("price", "erp"), []):
        price["erp", row["source_id"]] = ("price", row["source_id"])
        truth.prices[row["source_id"]] = row
    for row in payloads.get(("price", "ecom"), []):
        erp_id = erp_item_of_ecom[row["item"]]
        price["ecom", row["source_id"]] = ("price", f"{row['price_list']}-{erp_id}-20250101-Q1")

    sent = {
        (domain, system, row["source_id"])
        for (domain, system), rows in payloads.items()
        for row in rows
    }
    known = {(d, s, i) for d, labels in truth.labels.items() for s, i in labels}
    if sent - known or known - sent:
        raise SystemExit(
            "The truth does not cover the demo's payloads (did the generator change?): "
            f"without an entity {sorted(sent - known)[:5]}, never sent {sorted(known - sent)[:5]}"
        )
    # Guard against this copy of build_payloads drifting from the real one.
    real = build_payloads(seed, customers, items)
    if {k: [r["source_id"] for r in v] for k, v in real.items()} != {
        k: [r["source_id"] for r in v] for k, v in payloads.items()
    }:
        raise SystemExit("build_payloads draws differently from this script's copy of it.")
    return truth


def describe(truth: Truth, entity: Entity) -> str:
    kind = entity[0]
    if kind == "company":
        c = truth.companies[entity[1]]
        group = f", subsidiary of #{c.parent.idx}" if c.parent is not None else ""
        return f"company #{c.idx} {c.name} ({c.country}, {c.address.city.name}{group})"
    if kind == "product":
        p = truth.products[entity[1]]
        return f"product #{p.idx} {p.sku} {p.manufacturer.name} | {p.name}"
    if kind == "bill-to":
        c = truth.companies[entity[1]]
        return f"bill-to of #{c.idx} {c.name} ({c.address.street}, {c.address.city.name})"
    if kind == "site":
        c = truth.companies[entity[1]]
        site = c.sites[entity[2] - 1]
        where = f"{site.address.street}, {site.address.city.name}"
        return f"ship-to {site.erp_code} {site.name} ({where})"
    if kind in ("warehouse", "cross-dock"):
        return truth.warehouses[entity]
    row = truth.prices[entity[1]]
    customer = f" customer {row['customer']}" if "customer" in row else ""
    return (
        f"price {entity[1]}: item {row['item']} {row['price_list']}{customer} "
        f"{row['unit_price']} {row['currency']} from {row['valid_from']} qty {row['min_quantity']}"
    )


# --- kinds of wrong merges ---------------------------------------------------------------------


def _related(a: Any, b: Any) -> str:
    """How two companies are related: "parent & subsidiary", "one group" or ""."""
    if a.parent is b or b.parent is a:
        return "parent & subsidiary"
    if a.parent is not None and a.parent is b.parent:
        return "subsidiaries of one group"
    return ""


def _words(name: str) -> set[str]:
    return {w for w in re.findall(r"[a-zäöüéèß]{3,}", name.lower())}


def merge_kind(truth: Truth, domain: str, a: Entity, b: Entity) -> str:
    """What two different entities merged into one golden record have in common."""
    if domain == "customer":
        ca, cb = truth.companies[a[1]], truth.companies[b[1]]
        related = _related(ca, cb)
        if related:
            return related
        common = []
        if _words(ca.base) & _words(cb.base):
            common.append("a name word")
        if ca.address.city.name == cb.address.city.name:
            common.append("the city")
        elif ca.country == cb.country:
            common.append("the country")
        return "unrelated companies sharing " + (" & ".join(common) or "nothing")
    if domain == "item":
        pa, pb = truth.products[a[1]], truth.products[b[1]]
        family = pa.family is pb.family
        maker = pa.manufacturer.name == pb.manufacturer.name
        if family and maker:
            return "variants of one family, same manufacturer"
        if family:
            return "one family, different manufacturers"
        if maker:
            return "different families, same manufacturer"
        return "different families and manufacturers"
    if domain == "location":
        return _location_kind(truth, a, b)
    ra, rb = truth.prices[a[1]], truth.prices[b[1]]
    if ra["item"] != rb["item"]:
        merged = truth.item_golden.get(ra["item"]) == truth.item_golden.get(rb["item"])
        return "prices of different items " + (
            "(the items' golden records merged)" if merged else "(items apart)"
        )
    if ra.get("customer") != rb.get("customer"):
        return "one item: list vs contract / different customers"
    if ra["price_list"] != rb["price_list"]:
        return "one item: different price lists"
    if ra["valid_from"] != rb["valid_from"]:
        return "one item and list: different validity"
    return "one item and list: different quantity tiers"


def _location_kind(truth: Truth, a: Entity, b: Entity) -> str:
    depots = ("warehouse", "cross-dock")
    if a[0] in depots and b[0] in depots:
        return "two warehouses"
    if a[0] in depots or b[0] in depots:
        return "warehouse & customer location"
    ca, cb = truth.companies[a[1]], truth.companies[b[1]]

    def address(entity: Entity) -> Any:
        company = truth.companies[entity[1]]
        return company.address if entity[0] == "bill-to" else company.sites[entity[2] - 1].address

    same_address = address(a) is address(b)
    same_city = address(a).city.name == address(b).city.name
    where = "same address" if same_address else "same city" if same_city else "different cities"
    if ca is cb:
        if "bill-to" in (a[0], b[0]):
            return f"bill-to & ship-to of one company, {where}"
        return f"ship-tos of one company, {where}"
    related = _related(ca, cb)
    if related:
        return f"locations of {related}, {where}"
    return f"locations of unrelated companies, {where}"


def _norm(value: Any) -> str:
    return re.sub(r"[^0-9A-Z]", "", str(value).upper())


def miss_kind(domain: str, a: tuple[str, dict], b: tuple[str, dict]) -> str:
    """Two records of one entity in different golden records: their systems, and the
    identifiers they share (an exact link missed) or "no shared identifier"."""
    (sa, ra), (sb, rb) = sorted((a, b), key=lambda x: SYSTEM_ORDER.index(x[0]))
    shared = [
        name
        for name in IDENTIFIERS[domain]
        if ra.get(name) and rb.get(name) and _norm(ra[name]) == _norm(rb[name])
    ]
    return f"{sa}-{sb}, " + ("shared " + "+".join(shared) if shared else "no shared identifier")


# --- the analysis ------------------------------------------------------------------------------


@dataclass
class Record:
    pk: int
    key: Key
    golden: Hashable
    link_rule: str
    canonical: dict


@dataclass
class DomainResult:
    domain: str
    scores: dict
    goldens: int
    entities: int
    wrong_pairs: int
    missed_pairs: int
    merge_kinds: Counter
    miss_kinds: Counter
    wrong_links: list[tuple[str, Record, Record]]
    """(kind, record, partner): every record that brought another entity into a golden record,
    in the order they were written; the partner is the earlier record of the golden record the
    match decision compared it with (by the compared values; else the golden's first record)."""
    missed_links: int
    """Golden records an entity has beyond one."""
    worst_merges: list[tuple[int, Hashable, dict[Entity, list[Record]]]]
    worst_misses: list[tuple[int, Entity, dict[Hashable, list[Record]]]]
    link_rules: Counter
    unknown: int


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


def compared_record(explanation: dict, earlier: list[Record]) -> Record:
    """The earlier record a match decision most likely compared with: the one that has the most
    of the compared candidate values (``right``); the first on a tie or without a decision."""
    values = {
        _norm(c["right"]) for c in explanation.get("comparisons", []) if c.get("right") is not None
    }
    values.discard("")
    if not values:
        return earlier[0]

    def hits(record: Record) -> int:
        return sum(1 for v in record.canonical.values() if _norm(v) in values)

    return max(earlier, key=lambda r: (hits(r), -r.pk))


def analyse(truth: Truth, domain: str, records: list[Record], examples: int) -> DomainResult:
    labels = truth.labels[domain]
    known = [r for r in records if r.key in labels]
    scores = score_labels({r.key: r.golden for r in records}, labels)
    by_golden: dict[Hashable, dict[Entity, list[Record]]] = defaultdict(lambda: defaultdict(list))
    by_entity: dict[Entity, dict[Hashable, list[Record]]] = defaultdict(lambda: defaultdict(list))
    for r in known:
        by_golden[r.golden][labels[r.key]].append(r)
        by_entity[labels[r.key]][r.golden].append(r)

    merges = []
    merge_kinds: Counter = Counter()
    for golden, entities in by_golden.items():
        if len(entities) < 2:
            continue
        sizes = [len(rs) for rs in entities.values()]
        wrong = _pairs(sum(sizes)) - sum(_pairs(n) for n in sizes)
        merges.append((wrong, golden, entities))
        for (ea, ra), (eb, rb) in combinations(entities.items(), 2):
            merge_kinds[merge_kind(truth, domain, ea, eb)] += len(ra) * len(rb)
    misses = []
    miss_kinds: Counter = Counter()
    for entity, goldens in by_entity.items():
        if len(goldens) < 2:
            continue
        sizes = [len(rs) for rs in goldens.values()]
        missed = _pairs(sum(sizes)) - sum(_pairs(n) for n in sizes)
        misses.append((missed, entity, goldens))
        for ga, gb in combinations(goldens.values(), 2):
            for ra in ga:
                for rb in gb:
                    kind = miss_kind(domain, (ra.key[0], ra.canonical), (rb.key[0], rb.canonical))
                    miss_kinds[kind] += 1
    introductions = []
    for golden_records in by_golden.values():
        ordered = sorted((r for rs in golden_records.values() for r in rs), key=lambda r: r.pk)
        seen = {labels[ordered[0].key]}
        for n, r in enumerate(ordered[1:], start=1):
            if labels[r.key] not in seen:
                seen.add(labels[r.key])
                introductions.append((r, ordered[:n]))
    introductions.sort(key=lambda w: w[0].pk)
    decisions = decisions_of(r.pk for r, _ in introductions)
    wrong_links = []
    for r, earlier in introductions:
        partner = compared_record(decisions.get(r.pk, (None, {}))[1], earlier)
        kind = merge_kind(truth, domain, labels[partner.key], labels[r.key])
        wrong_links.append((kind, r, partner))
    merges.sort(key=lambda m: (-m[0], str(m[1])))
    misses.sort(key=lambda m: (-m[0], str(m[1])))
    return DomainResult(
        domain=domain,
        scores=scores,
        goldens=len({r.golden for r in known}),
        entities=len(set(labels.values())),
        wrong_pairs=scores["predicted_pairs"] - scores["correct_pairs"],
        missed_pairs=scores["true_pairs"] - scores["correct_pairs"],
        merge_kinds=merge_kinds,
        miss_kinds=miss_kinds,
        wrong_links=wrong_links,
        missed_links=sum(len(goldens) - 1 for goldens in by_entity.values()),
        worst_merges=merges[:examples],
        worst_misses=misses[:examples],
        link_rules=Counter(r.link_rule for r in known),
        unknown=len(records) - len(known),
    )


# --- printing ----------------------------------------------------------------------------------


HEADER = (
    f"{'domain':9s} {'records':>8s} {'entities':>8s} {'goldens':>8s} {'precision':>9s} "
    f"{'recall':>7s} {'F1':>7s} {'pred pairs':>10s} {'true pairs':>10s} {'wrong l.':>8s} "
    f"{'missed l.':>9s}"
)
LEGEND = (
    "(pairs: two source records in one golden record (pred) / of one entity (true); wrong l.: "
    "records linked\n into a golden record none of their entity's records were in; missed l.: "
    "golden records an entity has beyond one)"
)


def table_row(result: DomainResult) -> str:
    s = result.scores
    return (
        f"{result.domain:9s} {s['records']:8,} {result.entities:8,} {result.goldens:8,} "
        f"{s['precision']:9.4f} {s['recall']:7.4f} {s['f1']:7.4f} {s['predicted_pairs']:10,} "
        f"{s['true_pairs']:10,} {len(result.wrong_links):8,} {result.missed_links:9,}"
    )


def record_line(domain: str, record: Record) -> str:
    shown = [
        f"{name}={record.canonical[name]}" for name in SHOWN[domain] if record.canonical.get(name)
    ]
    rule = record.link_rule or "-"
    return f"{record.key[0]:4s} {record.key[1]:22s} {rule:16s} " + " | ".join(shown)


def decisions_of(pks: Iterable[int]) -> dict[int, tuple[float | None, dict]]:
    """The latest match decision of each source record: (probability, explanation)."""
    try:
        from matching.models import MatchDecision
    except ImportError:  # a hub without online matching
        return {}
    out: dict[int, tuple[float | None, dict]] = {}
    pks = list(pks)
    for start in range(0, len(pks), 500):
        rows = MatchDecision.objects.filter(source_record_id__in=pks[start : start + 500])
        for pk, probability, explanation in rows.order_by("created_at", "id").values_list(
            "source_record_id", "probability", "explanation"
        ):
            out[pk] = (probability, explanation or {})
    return out


def print_evidence(result: DomainResult) -> None:
    """How each comparison came out in the wrong links' decisions: what made them match."""
    decisions = decisions_of(r.pk for _, r, _ in result.wrong_links)
    if not decisions:
        return
    levels: dict[str, Counter] = defaultdict(Counter)
    for _, explanation in decisions.values():
        for c in explanation.get("comparisons", []):
            contribution = c.get("contribution") or 0.0
            levels[c.get("comparison")][f"{c.get('level')} {contribution:+.1f}"] += 1
    print(f"  comparison outcomes in the {len(decisions):,} wrong links' match decisions:")
    for comparison, counts in levels.items():
        shown = ", ".join(f"{level} {n:,}" for level, n in counts.most_common(6))
        print(
            textwrap.fill(
                f"{comparison}: {shown}", 110, initial_indent="    ", subsequent_indent="      "
            )
        )


def _clip(value: Any, width: int = 40) -> str:
    text = str(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def explanation_line(probability: float | None, explanation: dict) -> str:
    """The comparisons that counted: "name a|b close +5.2; …"."""
    parts = []
    for c in explanation.get("comparisons", []):
        contribution = c.get("contribution") or 0.0
        if not contribution:
            continue
        values = f"{_clip(c.get('left'))}|{_clip(c.get('right'))}"
        parts.append(f"{c.get('comparison')} {values} {c.get('level')} {contribution:+.1f}")
    shown = f"p={probability:.3f}" if probability is not None else "p=?"
    return f"{shown}: " + "; ".join(parts)


def print_link_examples(truth: Truth, result: DomainResult, per_kind: int) -> None:
    """The first ``per_kind`` wrong links of each kind: the record, the record it was compared
    with, and why the matcher linked them."""
    if not result.wrong_links or per_kind <= 0:
        return
    chosen: dict[str, list[tuple[Record, Record]]] = defaultdict(list)
    for kind, record, first in result.wrong_links:
        if len(chosen[kind]) < per_kind:
            chosen[kind].append((record, first))
    decisions = decisions_of(r.pk for pairs in chosen.values() for r, _ in pairs)
    labels = truth.labels[result.domain]
    print(f"  wrong links, the first {per_kind} of each kind:")
    for kind, pairs in sorted(chosen.items(), key=lambda k: -len(k[1])):
        print(f"  - {kind}")
        for record, first in pairs:
            print(f"      {describe(truth, labels[record.key])}")
            print(f"        {record_line(result.domain, record)}")
            print(f"      linked to the golden record of {describe(truth, labels[first.key])}")
            print(f"        {record_line(result.domain, first)}")
            if record.pk in decisions:
                line = explanation_line(*decisions[record.pk])
                print(textwrap.fill(line, 110, initial_indent=" " * 8, subsequent_indent=" " * 10))


def print_kinds(title: str, kinds: Counter, total: int) -> None:
    if not kinds:
        return
    print(f"  {title}:")
    for kind, n in kinds.most_common():
        print(f"    {n:9,} {n / total:6.1%}  {kind}")


def print_details(truth: Truth, result: DomainResult, link_examples: int) -> None:
    domain = result.domain
    print()
    print(f"=== {domain}: {result.goldens:,} golden records for {result.entities:,} entities")
    rules = ", ".join(f"{rule or '-'} {n:,}" for rule, n in result.link_rules.most_common())
    print(f"  link rules: {rules}")
    if result.unknown:
        print(f"  {result.unknown:,} source records the demo did not send (left out)")
    links = result.wrong_links
    if links:
        print(
            f"  wrong links: {len(links):,} records linked into a golden record of another "
            "entity (kind: against the record it was compared with)"
        )
        by_rule = Counter(f"{r.key[0]} {r.link_rule or '-'}" for _, r, _ in links)
        print("    by system and link rule: " + ", ".join(f"{k} {n:,}" for k, n in by_rule.items()))
    print_kinds("wrong links by kind", Counter(kind for kind, _, _ in links), len(links))
    print_kinds("wrong-merge pairs by kind", result.merge_kinds, max(result.wrong_pairs, 1))
    print_kinds("missed pairs by systems", result.miss_kinds, max(result.missed_pairs, 1))
    print_evidence(result)
    print_link_examples(truth, result, link_examples)
    if result.worst_merges:
        print(f"  worst wrong merges ({len(result.worst_merges)}):")
    for wrong, golden, entities in result.worst_merges:
        size = sum(len(rs) for rs in entities.values())
        print(
            f"  - golden {golden}: {size} records of {len(entities)} entities, "
            f"{wrong:,} wrong pairs"
        )
        ordered = sorted(entities.items(), key=lambda e: (-len(e[1]), str(e[0])))
        for entity, records in ordered[:MAX_ENTITIES_SHOWN]:
            print(f"      {describe(truth, entity)}")
            for record in records[:MAX_RECORDS_SHOWN]:
                print(f"        {record_line(domain, record)}")
            if len(records) > MAX_RECORDS_SHOWN:
                print(f"        … {len(records) - MAX_RECORDS_SHOWN} more records")
        if len(ordered) > MAX_ENTITIES_SHOWN:
            print(f"      … {len(ordered) - MAX_ENTITIES_SHOWN} more entities")
    if result.worst_misses:
        print(f"  worst missed links ({len(result.worst_misses)}):")
    for missed, entity, goldens in result.worst_misses:
        size = sum(len(rs) for rs in goldens.values())
        print(
            f"  - {describe(truth, entity)}: {size} records in {len(goldens)} golden records, "
            f"{missed:,} missed pairs"
        )
        for golden, records in sorted(goldens.items(), key=lambda g: (-len(g[1]), str(g[0]))):
            print(f"      golden {golden}")
            for record in records[:MAX_RECORDS_SHOWN]:
                print(f"        {record_line(domain, record)}")


# --- running the demo --------------------------------------------------------------------------


def setup_django(database_url: str | None, tmp: Path) -> str:
    """Point Django at the benchmark's database (before any model is imported); its label."""
    if database_url:
        os.environ["DATABASE_URL"] = database_url
        label = database_url.split("://", 1)[0]
    else:
        os.environ["DATABASE_URL"] = f"sqlite:///{tmp / 'mdm.sqlite3'}"
        label = f"sqlite {tmp / 'mdm.sqlite3'}"
    os.environ["MDM_VAR_DIR"] = str(tmp)  # the Celery broker folder and the like
    os.environ.setdefault("MDM_LOG_LEVEL", "WARNING")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mdm.settings")
    import django

    django.setup()
    return label


def load_records(domains: Iterable[str]) -> dict[str, list[Record]]:
    from golden_records.models import SourceRecord

    out: dict[str, list[Record]] = defaultdict(list)
    rows = SourceRecord.objects.filter(domain__in=list(domains)).values_list(
        "pk", "domain", "system__code", "source_id", "golden_id", "link_rule", "canonical"
    )
    for pk, domain, system, source_id, golden, rule, canonical in rows.iterator(chunk_size=5000):
        out[domain].append(Record(pk, (system, source_id), golden, rule, canonical or {}))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--sizes",
        choices=sorted(SIZES),
        default="default",
        help="default: 2,000 customers and 5,000 items (seed_demo's); small: 300 and 800.",
    )
    parser.add_argument("--customers", type=int, help="Customer companies (overrides --sizes).")
    parser.add_argument("--items", type=int, help="Products (overrides --sizes).")
    parser.add_argument("--seed", type=int, default=42, help="Random seed (seed_demo's: 42).")
    parser.add_argument(
        "--domains", nargs="+", choices=DOMAINS, default=list(DOMAINS), help="Domains to score."
    )
    parser.add_argument(
        "--examples", type=int, default=10, help="Worst wrong merges and misses shown per domain."
    )
    parser.add_argument(
        "--link-examples", type=int, default=2, help="Wrong links shown per kind (default 2)."
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL"),
        help="An empty database to use (default: $DATABASE_URL, else a temporary SQLite file).",
    )
    parser.add_argument(
        "--keep", action="store_true", help="Keep the temporary folder (and its SQLite database)."
    )
    args = parser.parse_args()
    customers, items = SIZES[args.sizes]
    customers = args.customers or customers
    items = args.items or items

    tmp = Path(tempfile.mkdtemp(prefix="mdm-demo-quality-"))
    try:
        label = setup_django(args.database_url, tmp)
        run(args, customers, items, label)
    finally:
        if args.keep:
            print(f"\nKept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def run(args: argparse.Namespace, customers: int, items: int, label: str) -> None:
    from django.core.management import call_command

    from golden_records.models import SourceRecord

    print(f"demo quality: seed {args.seed}, {customers:,} customers, {items:,} items; {label}")
    timings = {}
    started = time.perf_counter()
    truth = build_truth(args.seed, customers, items)
    timings["truth"] = time.perf_counter() - started

    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    timings["migrate"] = time.perf_counter() - started
    if SourceRecord.objects.exists():
        print("warning: the database has source records already; scoring what is there.")

    started = time.perf_counter()
    out = io.StringIO()
    call_command("seed_demo", seed=args.seed, customers=customers, items=items, stdout=out)
    timings["seed_demo"] = time.perf_counter() - started
    print(out.getvalue().rstrip(), flush=True)

    started = time.perf_counter()
    records = load_records({*args.domains, "item"})
    truth.item_golden = {r.key[1]: r.golden for r in records["item"] if r.key[0] == "erp"}
    results = [analyse(truth, d, records.get(d, []), args.examples) for d in args.domains]
    timings["scoring"] = time.perf_counter() - started

    print()
    print(HEADER)
    for result in results:
        print(table_row(result))
    print(LEGEND)
    print("timings: " + ", ".join(f"{name} {seconds:.1f}s" for name, seconds in timings.items()))
    for result in results:
        print_details(truth, result, args.link_examples)
    print()
    print(HEADER)
    for result in results:
        print(table_row(result))


if __name__ == "__main__":
    main()
