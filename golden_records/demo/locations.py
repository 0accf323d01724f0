"""Location records: the distributor's warehouses, the customers' bill-to and ship-to addresses.

* ERP: warehouses, a bill-to per customer, its ship-to numbers.
* CRM: some of the ship-tos, some with the ERP's ship-to number.
* WMS: the warehouses with coordinates, and cross-docks the ERP does not stock from.
* EDI: the trading partners' ship-tos (N1*ST segments).
"""

from __future__ import annotations

from collections import defaultdict
from random import Random

from golden_records.demo.addresses import address_fields
from golden_records.demo.formatting import Payload, compact
from golden_records.demo.randomness import chance
from golden_records.demo.vocabulary.warehouses import WAREHOUSES, WMS_ONLY_WAREHOUSES
from golden_records.demo.world import Company, World


def location_payloads(world: World) -> dict[str, list[Payload]]:
    """System → location payloads, in the order they are sent."""
    rng = world.rng
    out: dict[str, list[Payload]] = defaultdict(list)
    out["erp"].extend(erp_warehouses())
    out["wms"].extend(wms_warehouses(rng))
    for c in world.companies:
        if c.in_erp:
            out["erp"].extend(erp_locations(rng, c))
        if c.in_crm:
            out["crm"].extend(crm_locations(rng, c))
        if c.in_edi:
            out["edi"].extend(edi_locations(rng, c))
    return out


def erp_locations(rng: Random, c: Company) -> list[Payload]:
    """The customer's bill-to and its ship-tos."""
    upper = chance(rng, 0.4)
    rows = [
        compact(
            {
                "source_id": f"{c.erp_id}-BT",
                "code": f"{c.erp_id}-BT",
                "name": f"{c.name} (Bill-To)",
                "kind": rng.choice(("bill_to", "Billing", "BILL")),
                **address_fields(
                    rng, c.address, abbreviate=0.8, upper=upper, region="code", country="code"
                ),
                "customer": c.erp_id,
                "email": c.email,
            }
        )
    ]
    for site in c.sites:
        rows.append(
            compact(
                {
                    "source_id": site.erp_code,
                    "code": site.erp_code,
                    "name": site.name.upper() if upper else site.name,
                    "kind": rng.choice(("ship_to", "Shipping", "SHIP")),
                    **address_fields(
                        rng,
                        site.address,
                        abbreviate=0.8,
                        upper=upper,
                        region="code",
                        country="code",
                    ),
                    "customer": c.erp_id,
                    "phone": site.phone.render(rng, "national") if site.phone else "",
                }
            )
        )
    return rows


def crm_locations(rng: Random, c: Company) -> list[Payload]:
    rows = []
    for site in c.sites:
        if not site.in_crm:
            continue
        code = ""
        if site.crm_has_code:
            code = site.erp_code.lower() if chance(rng, 0.3) else site.erp_code
        rows.append(
            compact(
                {
                    "source_id": site.crm_id,
                    "code": code,
                    "name": site.name,
                    "kind": rng.choice(("Shipping Address", "Delivery", "ship_to")),
                    **address_fields(
                        rng,
                        site.address,
                        abbreviate=0.1,
                        upper=False,
                        region="name",
                        country="name",
                        drop=0.15,
                    ),
                    "customer": c.crm_id,
                    "phone": site.phone.render(rng, "international") if site.phone else "",
                }
            )
        )
    return rows


def edi_locations(rng: Random, c: Company) -> list[Payload]:
    rows = []
    for site in c.sites:
        if not site.in_edi:
            continue
        rows.append(
            compact(
                {
                    "source_id": f"N1ST-{c.edi_id}-{site.number:02d}",
                    "code": site.erp_code,
                    "name": site.name.upper()[:35].rstrip(),
                    "kind": "Ship To",
                    **address_fields(
                        rng,
                        site.address,
                        abbreviate=1.0,
                        upper=True,
                        region="code",
                        country="any",
                    ),
                    "customer": c.edi_id,
                }
            )
        )
    return rows


def erp_warehouses() -> list[Payload]:
    rows = []
    for n, warehouse in enumerate(WAREHOUSES, start=1):
        code, erp_name, _, street, city, region, postal, country, _, _ = warehouse
        rows.append(
            {
                "source_id": f"WH{n:02d}",
                "code": code,
                "name": erp_name,
                "kind": "WH",
                "address_line1": street.upper(),
                "city": city.upper(),
                "region": region,
                "postal_code": postal,
                "country": country,
            }
        )
    return rows


def wms_warehouses(rng: Random) -> list[Payload]:
    """The warehouses the ERP knows too (some codes in lower case), then the cross-docks."""
    rows = []
    for n, warehouse in enumerate(WAREHOUSES, start=1):
        code, _, wms_name, street, city, _, postal, country, lat, lon = warehouse
        rows.append(
            {
                "source_id": f"FAC-{n:04d}",
                "code": code.lower() if chance(rng, 0.5) else code,
                "name": wms_name,
                "kind": "Distribution Center",
                "address_line1": street,
                "city": city,
                "postal_code": postal,
                "country": country,
                "latitude": lat,
                "longitude": lon,
            }
        )
    for n, (code, name, street, city, region, postal, country, lat, lon) in enumerate(
        WMS_ONLY_WAREHOUSES, start=len(WAREHOUSES) + 1
    ):
        rows.append(
            {
                "source_id": f"FAC-{n:04d}",
                "code": code,
                "name": name,
                "kind": "depot",
                "address_line1": street,
                "city": city,
                "region": region,
                "postal_code": postal,
                "country": country,
                "latitude": lat,
                "longitude": lon,
            }
        )
    return rows
