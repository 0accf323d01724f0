"""Item records: each system's version of the world's products.

* ERP: UPC-12 / EAN-13 GTINs, catalogue weights and dimensions, upper-case short names.
* WMS: GTIN-14, measured weights and dimensions (some differ from the ERP's).
* eCommerce: long names with the manufacturer, descriptions, the web shop's own SKUs.
* EDI: the supplier catalogue (832), by GTIN-14.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from random import Random

from golden_records.demo.formatting import Payload, compact, money
from golden_records.demo.randomness import chance
from golden_records.demo.vocabulary.products import UOM_WMS
from golden_records.demo.world import Product, World

ECOM_FEATURES = (
    "Stocked in our regional distribution centers for next-day delivery.",
    "Meets or exceeds applicable ANSI and OSHA requirements.",
    "Ideal for contractors, facilities and maintenance teams.",
    "Bulk pricing available for contract customers.",
    "Ships in recyclable packaging.",
)


def item_payloads(world: World) -> dict[str, list[Payload]]:
    """System → item payloads, in the order they are sent."""
    rng = world.rng
    out: dict[str, list[Payload]] = defaultdict(list)
    for p in world.products:
        out["erp"].append(erp_item(rng, p))
        if p.in_wms:
            out["wms"].append(wms_item(rng, p))
        if p.in_ecom:
            out["ecom"].append(ecom_item(rng, p))
        if p.in_edi:
            out["edi"].append(edi_item(p))
    return out


def erp_gtin(p: Product) -> str:
    return p.gtin13[1:] if p.gtin13.startswith("0") else p.gtin13  # UPC-A where it is one


def erp_item(rng: Random, p: Product) -> Payload:
    name = p.name
    if chance(rng, 0.4):
        name = name.upper().replace(", ", " ")[:40].rstrip()
    dims = p.dims or (None, None, None)
    return compact(
        {
            "source_id": p.erp_id,
            "sku": p.sku,
            "gtin": erp_gtin(p),
            "mpn": p.mpn,
            "manufacturer": p.manufacturer.name,
            "name": name,
            "category": p.family.category.upper(),
            "uom": p.uom,
            "weight_kg": str(p.weight) if p.weight is not None else "",
            "length_cm": str(dims[0]) if dims[0] is not None else "",
            "width_cm": str(dims[1]) if dims[1] is not None else "",
            "height_cm": str(dims[2]) if dims[2] is not None else "",
            "lifecycle_status": {"A": "Active", "EOL": "EOL", "D": "D", "NEW": "New"}[p.lifecycle],
        }
    )


def wms_item(rng: Random, p: Product) -> Payload:
    def measured(value: Decimal | None, nominal: float, places: int) -> str:
        base = value if value is not None else money(nominal, places)
        if p.wms_differs or value is None:
            base = base * Decimal(str(round(rng.uniform(0.9, 1.1), 3)))
        return str(money(base, places))

    family = p.family
    dims = p.dims or (None, None, None)
    return compact(
        {
            "source_id": p.wms_id,
            "sku": p.sku.lower() if chance(rng, 0.2) else p.sku,
            "gtin": f"0{p.gtin13}" if p.gtin13 else "",
            "name": p.name.upper()[:30].rstrip(),
            "uom": rng.choice(UOM_WMS.get(p.uom, (p.uom,))),
            "weight_kg": measured(p.weight, family.weight, 3),
            "length_cm": measured(dims[0], family.dims[0], 1),
            "width_cm": measured(dims[1], family.dims[1], 1),
            "height_cm": measured(dims[2], family.dims[2], 1),
        }
    )


def ecom_item(rng: Random, p: Product) -> Payload:
    description = f"{p.manufacturer.name} {p.name}. " + " ".join(rng.sample(ECOM_FEATURES, 2))
    return compact(
        {
            "source_id": p.ecom_id,
            "sku": p.ecom_sku,
            "gtin": p.gtin13 if p.ecom_gtin else "",
            "manufacturer": p.manufacturer.name,
            "mpn": p.mpn.replace("-", "") if chance(rng, 0.3) else p.mpn,
            "name": f"{p.manufacturer.name} {p.name}",
            "description": description,
            "category": p.family.category.replace("/", " > "),
            "uom": p.uom.lower(),
            "lifecycle_status": "available" if p.lifecycle == "A" else "clearance",
        }
    )


def edi_item(p: Product) -> Payload:
    gtin14 = f"0{p.gtin13}"
    return compact(
        {
            "source_id": f"832-{gtin14}",
            "gtin": gtin14,
            "mpn": p.mpn,
            "manufacturer": p.manufacturer.name.upper(),
            "name": p.name.upper()[:48].rstrip(),
            "uom": p.uom,
        }
    )
