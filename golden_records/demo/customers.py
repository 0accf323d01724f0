"""Customer records: each system's version of the world's companies.

* ERP: upper-case legacy names (35 characters), abbreviated streets, the owner's credit terms.
* CRM: full legal forms, typos, the account hierarchy, its own (sometimes outdated) credit limit,
  prospects the ERP does not know.
* eCommerce: the customer as they typed themselves, with the shop's spending limit.
* EDI: trading partners by DUNS, upper case without punctuation.
"""

from __future__ import annotations

import re
from collections import defaultdict
from decimal import Decimal
from random import Random

from golden_records.demo.addresses import address_fields
from golden_records.demo.formatting import Payload, compact, money
from golden_records.demo.identifiers import dashed_duns
from golden_records.demo.randomness import chance
from golden_records.demo.spelling import apply_variants, typo
from golden_records.demo.vocabulary.companies import LEGAL_FORM_VARIANTS, WORD_VARIANTS
from golden_records.demo.world import Company, World


def customer_payloads(world: World) -> dict[str, list[Payload]]:
    """System → customer payloads, in the order they are sent."""
    rng = world.rng
    out: dict[str, list[Payload]] = defaultdict(list)
    for c in world.companies:
        erp = erp_customer(rng, c) if c.in_erp else None
        if erp is not None:
            out["erp"].append(erp)
        if c.in_crm:
            out["crm"].append(crm_customer(rng, c, erp))
        if c.in_ecom:
            out["ecom"].append(ecom_customer(rng, c))
        if c.in_edi:
            out["edi"].append(edi_customer(rng, c))
    return out


def name_variant(rng: Random, company: Company, system: str) -> str:
    """The company's name the way ``system`` spells it."""
    legal = company.legal_form
    if legal and legal in LEGAL_FORM_VARIANTS and chance(rng, 0.35):
        legal = rng.choice(LEGAL_FORM_VARIANTS[legal])
    base = company.base
    if system == "erp":
        base = apply_variants(base, WORD_VARIANTS, rng, 0.5)
        name = f"{base} {legal}".strip()
        if chance(rng, 0.4):
            name = name.upper()[:35].rstrip()  # the legacy field is 35 characters long
    elif system == "crm":
        if chance(rng, 0.15):
            base = apply_variants(base, WORD_VARIANTS, rng, 0.7)
        name = f"{base} {legal}".strip()
        if chance(rng, 0.1):
            name = typo(rng, name)
    elif system == "ecom":
        name = base if chance(rng, 0.45) else f"{base} {legal}".strip()
        if chance(rng, 0.15):
            name = name.lower()
        elif chance(rng, 0.1):
            name = typo(rng, name)
    else:  # edi
        base = apply_variants(base, WORD_VARIANTS, rng, 0.8)
        name = f"{base} {legal}".strip().upper()
        name = name.replace(".", "").replace(",", "")[:35].rstrip()
    return name


def website(rng: Random, company: Company, system: str) -> str:
    if system == "erp":
        return f"www.{company.domain}"
    return rng.choice(
        (
            f"https://www.{company.domain}/",
            f"http://{company.domain}",
            f"https://www.{company.domain}",
        )
    )


def erp_customer(rng: Random, c: Company) -> Payload:
    upper = chance(rng, 0.4)
    return compact(
        {
            "source_id": c.erp_id,
            "name": name_variant(rng, c, "erp"),
            "tax_id": c.tax_id if chance(rng, 0.95) else "",
            "duns": (c.duns if chance(rng, 0.7) else dashed_duns(c.duns))
            if chance(rng, 0.9) or not c.tax_id
            else "",
            "email": c.email if chance(rng, 0.85) else "",
            "phone": c.phone.render(rng, "national") if chance(rng, 0.9) else "",
            "website": website(rng, c, "erp") if chance(rng, 0.4) else "",
            **address_fields(
                rng, c.address, abbreviate=0.8, upper=upper, region="code", country="code"
            ),
            "industry": c.industry[1] if chance(rng, 0.6) else "",
            "credit_limit": f"{c.credit_limit:.2f}",
            "credit_currency": c.currency,
            "payment_terms": c.terms[0],
            "credit_hold": "Y" if c.credit_hold else "N",
            "status": {"active": "A", "inactive": "I", "blocked": "B"}[c.status],
        }
    )


def crm_customer(rng: Random, c: Company, erp: Payload | None) -> Payload:
    """The CRM's account; ``erp``: the ERP's version of it, if the ERP knows the company."""
    duns = tax = email = ""
    if c.crm_links and erp is not None:
        # The integration copied the identifiers the ERP has (at least one of them).
        if "duns" in erp and chance(rng, 0.9):
            duns = c.duns
        if "tax_id" in erp and chance(rng, 0.4):
            tax = re.sub(r"^[A-Z]{2}", "", c.tax_id) if chance(rng, 0.5) else c.tax_id
        if not duns and not tax:
            if "duns" in erp:
                duns = c.duns
            elif "tax_id" in erp:
                tax = c.tax_id
            else:
                email = erp.get("email", "")
    elif erp is None and chance(rng, 0.6):
        duns = c.duns  # a prospect researched in D&B
    credit = ""
    if chance(rng, 0.6):
        credit = f"{c.credit_limit:,.0f}" if chance(rng, 0.5) else str(int(c.credit_limit))
        if chance(rng, 0.3):
            # The CRM still has last year's limit, or what the rep asked for: not the owner.
            factor = rng.choice((Decimal("0.5"), Decimal("0.8"), Decimal("1.5"), Decimal(2)))
            credit = str(int(money(c.credit_limit * factor, 0)))
    status = "Prospect" if c.status == "prospect" else rng.choice(("Active", "Customer"))
    if c.status == "inactive":
        status = "Inactive"
    if status == "Customer":
        status = "Active"
    return compact(
        {
            "source_id": c.crm_id,
            "name": name_variant(rng, c, "crm"),
            "duns": duns,
            "tax_id": tax,
            "email": email or (c.purchasing_email if chance(rng, 0.8) else ""),
            "phone": c.phone.render(rng, rng.choice(("national", "international", "e164")))
            if chance(rng, 0.85)
            else "",
            "website": website(rng, c, "crm") if chance(rng, 0.8) else "",
            **address_fields(
                rng,
                c.address,
                abbreviate=0.1,
                upper=False,
                region="name",
                country="name",
                drop=0.1,
            ),
            "industry": c.industry[0],
            "segment": c.segment,
            "sales_owner": c.sales_owner,
            "credit_limit": credit,
            "credit_currency": c.currency.lower() if credit else "",
            "payment_terms": c.terms[1] if chance(rng, 0.5) else "",
            "parent": c.parent.crm_id if c.parent is not None else "",
            "status": status,
        }
    )


def ecom_customer(rng: Random, c: Company) -> Payload:
    linked = c.ecom_links and c.in_erp
    tax = email = ""
    if linked:
        if c.tax_id and c.country not in ("US", "CA") and chance(rng, 0.8):
            tax = c.tax_id  # the VAT number typed at checkout
        else:
            email = c.email  # the shop login is the ERP's invoice address
    else:
        email = c.buyer_email
    credit = ""
    if chance(rng, 0.4):
        credit = str(int(c.credit_limit))
        if chance(rng, 0.5):
            credit = str(rng.choice((1000, 2500, 5000, 10000)))  # the shop's spending limit
    return compact(
        {
            "source_id": c.ecom_id,
            "name": name_variant(rng, c, "ecom"),
            "email": email,
            "tax_id": tax,
            "phone": c.phone.render(rng, rng.choice(("national", "e164")))
            if chance(rng, 0.7)
            else "",
            **address_fields(
                rng,
                c.address,
                abbreviate=0.4,
                upper=False,
                region="code",
                country="any",
                drop=0.2,
            ),
            "credit_limit": credit,
            "credit_currency": c.currency if credit else "",
            "status": "enabled" if c.status in ("active", "prospect") else "disabled",
        }
    )


def edi_customer(rng: Random, c: Company) -> Payload:
    return compact(
        {
            "source_id": c.edi_id,
            "name": name_variant(rng, c, "edi"),
            "duns": c.duns if chance(rng, 0.5) else dashed_duns(c.duns),
            **address_fields(
                rng, c.address, abbreviate=1.0, upper=True, region="code", country="any"
            ),
        }
    )
