"""The demo data for a seed: the world, then every system's records of it, domain by domain."""

from __future__ import annotations

from collections import defaultdict

from golden_records.demo.customers import customer_payloads
from golden_records.demo.formatting import Payload
from golden_records.demo.items import item_payloads
from golden_records.demo.locations import location_payloads
from golden_records.demo.prices import price_payloads
from golden_records.demo.world import World
from golden_records.demo.world_companies import add_companies
from golden_records.demo.world_products import add_products

DOMAIN_PAYLOADS = (
    ("customer", customer_payloads),
    ("item", item_payloads),
    ("location", location_payloads),
    ("price", price_payloads),
)
"""Each domain's payloads, in the order they are drawn (the order matters: one ``Random``)."""


def build_world(seed: int, customers: int, items: int) -> World:
    world = World(seed)
    add_companies(world, customers)
    add_products(world, items)
    return world


def build_payloads(seed: int, customers: int, items: int) -> dict[tuple[str, str], list[Payload]]:
    """The demo data: (domain, system) → payloads in the order they should be sent.
    Deterministic for the arguments."""
    world = build_world(seed, customers, items)
    out: dict[tuple[str, str], list[Payload]] = defaultdict(list)
    for domain, payloads_of in DOMAIN_PAYLOADS:
        for system, rows in payloads_of(world).items():
            out[domain, system] = rows
    return out
