"""Price records: the ERP's list and contract prices, and the web shop's prices.

* ERP (the owner of every price attribute): USD and EUR list prices, last year's list price for
  some items, case-break tiers, and contract prices for the larger customers.
* eCommerce: web prices (some promotional) for items whose web version links to the ERP's.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal
from random import Random

from golden_records.demo.formatting import Payload, compact, money
from golden_records.demo.randomness import chance
from golden_records.demo.world import Company, Product, World

# The product families (by SKU prefix) a customer's contract covers, by industry (ERP code).
CONTRACT_FAMILIES = {
    "FOODSVC": ("FOD", "JAN", "SAF"),
    "MFG": ("FAS", "BRG", "SAF", "TOL"),
    "ELEC": ("ELE", "TOL", "SAF"),
    "FACIL": ("PLB", "JAN", "FAS", "ELE"),
    "HLTH": ("JAN", "SAF", "FOD"),
    "EDU": ("JAN", "FOD"),
    "AUTO": ("TOL", "FAS", "SAF", "BRG"),
}
EXCHANGE_RATES = {
    "USD": Decimal(1),
    "CAD": Decimal("1.36"),
    "GBP": Decimal("0.79"),
    "EUR": Decimal("0.93"),
}


def price_payloads(world: World) -> dict[str, list[Payload]]:
    """System → price payloads, in the order they are sent."""
    rng = world.rng
    out: dict[str, list[Payload]] = defaultdict(list)
    active = [p for p in world.products if p.lifecycle in ("A", "EOL")]
    by_prefix: dict[str, list[Product]] = defaultdict(list)
    for p in active:
        by_prefix[p.family.prefix].append(p)
    for p in world.products:
        out["erp"].extend(erp_list_prices(rng, p))
    for c in world.companies:
        if c.in_erp and c.has_contract:
            pool = [p for prefix in CONTRACT_FAMILIES[c.industry[1]] for p in by_prefix[prefix]]
            out["erp"].extend(contract_prices(rng, c, pool or active))
    for p in world.products:
        # Web prices only for products whose web version links to the ERP's: an unlinked
        # one would be a price the ERP (the owner of every price attribute) never confirms.
        if p.in_ecom and p.ecom_links and chance(rng, 0.5):
            out["ecom"].extend(ecom_prices(rng, p))
    return out


def list_eur(p: Product) -> Decimal:
    return money(p.list_usd * Decimal("0.93"))


def erp_list_prices(rng: Random, p: Product) -> list[Payload]:
    rows = []

    def row(price_list: str, currency: str, price: Decimal, start: str, end: str, qty: int):
        return compact(
            {
                "source_id": f"{price_list}-{p.erp_id}-{start.replace('-', '')}-Q{qty}",
                "item": p.erp_id,
                "price_list": price_list,
                "currency": currency,
                "unit_price": f"{price:.2f}",
                "min_quantity": qty,
                "valid_from": start,
                "valid_to": end,
            }
        )

    if p.previous_price:
        old = money(p.list_usd / Decimal(str(round(rng.uniform(1.03, 1.09), 3))))
        rows.append(row("LIST-USD", "USD", old, "2024-01-01", "2024-12-31", 1))
    rows.append(row("LIST-USD", "USD", p.list_usd, "2025-01-01", "", 1))
    if p.case_break:
        rows.append(
            row("LIST-USD", "USD", money(p.list_usd * Decimal("0.95")), "2025-01-01", "", 12)
        )
    if p.sold_in_eu:
        rows.append(row("LIST-EUR", "EUR", list_eur(p), "2025-01-01", "", 1))
    return rows


def contract_prices(rng: Random, c: Company, products: Sequence[Product]) -> list[Payload]:
    """A year's contract for some of ``products``, in the customer's currency, some tiered."""
    rows = []
    count = {"Strategic": 15, "Key Account": 8}.get(c.segment, 5)
    start = rng.choice(("2025-01-01", "2025-04-01", "2025-07-01"))
    year, month, _ = (int(x) for x in start.split("-"))
    end = (dt.date(year + 1, month, 1) - dt.timedelta(days=1)).isoformat()
    rate = EXCHANGE_RATES[c.currency]
    for p in rng.sample(products, min(count, len(products))):
        discount = Decimal(str(round(rng.uniform(0.75, 0.93), 3)))
        price = p.list_usd * rate * discount
        tiers = [(1, price)]
        if chance(rng, 0.3):
            tiers.append((50, price * Decimal("0.95")))
        for qty, unit in tiers:
            places = 4 if unit < 1 else 2
            rows.append(
                {
                    "source_id": f"CP-{c.erp_id}-{p.erp_id}-{start.replace('-', '')}-Q{qty}",
                    "item": p.erp_id,
                    "price_list": "CONTRACT",
                    "customer": c.erp_id,
                    "currency": c.currency,
                    "unit_price": f"{money(unit, places)}",
                    "min_quantity": qty,
                    "valid_from": start,
                    "valid_to": end,
                }
            )
    return rows


def ecom_prices(rng: Random, p: Product) -> list[Payload]:
    rows = []
    lists = [("LIST-USD", "USD", p.list_usd)]
    if p.sold_in_eu:
        lists.append(("LIST-EUR", "EUR", list_eur(p)))
    for price_list, currency, price in lists:
        if chance(rng, 0.15):
            price = money(price * Decimal(str(rng.choice((0.8, 0.85, 0.9)))))  # web promotion
        rows.append(
            {
                "source_id": f"wp-{p.ecom_id}-{currency.lower()}",
                "item": p.ecom_id,
                "price_list": price_list,
                "currency": currency,
                "unit_price": f"{price:.2f}",
                "min_quantity": 1,
                "valid_from": "2025-01-01",
            }
        )
    return rows
