"""The world's products: drawn from the product families, with their SKUs, GTINs, list prices,
and which systems know each of them."""

from __future__ import annotations

from collections import defaultdict

from golden_records.demo.formatting import money
from golden_records.demo.identifiers import gtin13_for
from golden_records.demo.randomness import chance, weighted
from golden_records.demo.vocabulary.places import EU
from golden_records.demo.vocabulary.products import FAMILIES, MANUFACTURERS
from golden_records.demo.world import Product, World


def add_products(world: World, count: int) -> None:
    """Add ``count`` different products (no manufacturer makes the same one twice)."""
    rng = world.rng
    families = [f for f, _ in FAMILIES]
    weights = [w for _, w in FAMILIES]
    seen: set[tuple[str, str]] = set()
    sku_numbers: dict[str, int] = defaultdict(lambda: 10000)
    item_refs: dict[str, int] = defaultdict(int)
    erp_number = 400000
    while len(world.products) < count:
        family = rng.choices(families, weights)[0]
        manufacturer = rng.choice(MANUFACTURERS[family.prefix])
        values = {k: rng.choice(v) for k, v in family.params.items()}
        name = family.template.format(**values)
        if (manufacturer.name, name) in seen:
            continue
        seen.add((manufacturer.name, name))
        idx = len(world.products) + 1
        sku_numbers[family.prefix] += rng.randint(1, 7)
        sku = f"{family.prefix}-{sku_numbers[family.prefix]}"
        item_refs[manufacturer.gs1_prefix] += 1
        reference = item_refs[manufacturer.gs1_prefix]
        gtin13 = gtin13_for(manufacturer.gs1_prefix, reference) if chance(rng, 0.95) else ""
        mpn = f"{manufacturer.mpn_prefix}-{rng.randint(1000, 99999)}"
        if chance(rng, 0.4):
            mpn += "-" + rng.choice(("BK", "WH", "RD", "BL", "10", "25", "100", "S", "L"))
        low, high = family.price
        price = money(low * (high / low) ** rng.random())
        scale = rng.uniform(0.6, 1.6)
        weight = money(family.weight * scale, 3) if chance(rng, 0.9) else None
        dims = (
            tuple(money(d * scale ** (1 / 3), 1) for d in family.dims) if chance(rng, 0.7) else None
        )
        erp_number += rng.randint(1, 5)
        product = Product(
            idx=idx,
            family=family,
            manufacturer=manufacturer,
            sku=sku,
            gtin13=gtin13,
            mpn=mpn,
            name=name,
            uom=family.uom,
            weight=weight,
            dims=dims,  # type: ignore[arg-type]
            lifecycle=weighted(rng, [("A", 88), ("EOL", 5), ("D", 3), ("NEW", 4)]),
            list_usd=price,
            erp_id=str(erp_number),
            sold_in_eu=manufacturer.country in EU or chance(rng, 0.45),
        )
        product.in_wms = product.lifecycle != "NEW" and chance(rng, 0.8)
        if product.in_wms:
            product.wms_id = f"ITM-{idx:06d}"
            product.wms_differs = chance(rng, 0.35)
        product.in_ecom = product.lifecycle in ("A", "EOL") and chance(rng, 0.4)
        if product.in_ecom:
            product.ecom_id = world.unique(lambda: f"prod_{rng.getrandbits(40):010x}")
            product.ecom_gtin = chance(rng, 0.8)
            product.ecom_sku = sku if chance(rng, 0.85) else f"W{sku.replace('-', '')}"
        product.in_edi = bool(gtin13) and chance(rng, 0.08)
        product.previous_price = chance(rng, 0.3)
        product.case_break = product.uom in ("EA", "BX", "PK") and chance(rng, 0.1)
        world.products.append(product)
