"""The world's customers: companies (some of them groups with subsidiaries), which systems know
each of them, and their ship-to sites."""

from __future__ import annotations

from decimal import Decimal

from golden_records.demo.addresses import random_address
from golden_records.demo.identifiers import salesforce_id
from golden_records.demo.phones import random_phone
from golden_records.demo.randomness import chance, weighted
from golden_records.demo.spelling import ascii_slug
from golden_records.demo.vocabulary.companies import (
    FIRST_NAMES,
    INDUSTRIES,
    LANGUAGE,
    LEGAL_FORMS,
    NAME_PATTERNS,
    PAYMENT_TERMS,
    PLACES,
    SALES_REPS,
    SEGMENTS,
    SURNAMES,
)
from golden_records.demo.vocabulary.places import COUNTRIES, City
from golden_records.demo.world import Company, Site, World


def add_companies(world: World, count: int) -> None:
    """Add ``count`` companies to the world, decide which systems know each, add their sites."""
    rng = world.rng
    while len(world.companies) < count:
        idx = len(world.companies) + 1
        company = new_company(world, idx)
        world.companies.append(company)
        # Some accounts are groups: a head office with regional subsidiaries (CRM hierarchy).
        if company.segment in ("Strategic", "Key Account") and chance(rng, 0.25):
            for _ in range(min(rng.randint(2, 4), count - len(world.companies))):
                child = new_company(world, len(world.companies) + 1, company.country, company)
                world.companies.append(child)

    parents = {c.parent.idx for c in world.companies if c.parent is not None}
    erp_number = 100000
    for company in world.companies:
        grouped = company.parent is not None or company.idx in parents
        roll = rng.random()
        if grouped or roll < 0.86:
            company.in_erp = company.in_crm = True
        elif roll < 0.94:
            company.in_erp = True
        else:
            company.in_crm = True  # a prospect the ERP does not know yet
            company.status = "prospect"
        company.crm_links = chance(rng, 0.88)
        erp_number += rng.randint(1, 9)
        if company.in_erp:
            company.erp_id = f"C{erp_number}"
            company.in_ecom = chance(rng, 0.25)
            company.in_edi = company.segment in ("Strategic", "Key Account") and chance(rng, 0.5)
            company.has_contract = company.status == "active" and chance(
                rng,
                {"Strategic": 1.0, "Key Account": 0.7, "Mid-Market": 0.1}.get(company.segment, 0.0),
            )
        elif chance(rng, 0.1):
            company.in_ecom = True  # signed up on the web shop, not set up in the ERP yet
        if company.in_crm:
            company.crm_id = world.unique(lambda: salesforce_id(rng, "001"))
        if company.in_ecom:
            company.ecom_id = world.unique(lambda: f"B2B-{rng.randint(10000, 99999)}")
            company.ecom_links = chance(rng, 0.8)
        if company.in_edi:
            company.edi_id = f"TP{company.duns}"
        add_sites(world, company)


def new_company(
    world: World, idx: int, country: str | None = None, parent: Company | None = None
) -> Company:
    """A company; with ``parent``, a subsidiary of it in the same country and industry."""
    rng = world.rng
    country = country or weighted(rng, [(c.code, c.weight) for c in COUNTRIES.values()])
    city = rng.choice(COUNTRIES[country].cities)
    industry = parent.industry if parent else weighted(rng, [(i, i[2]) for i in INDUSTRIES])
    segment_row = weighted(rng, [(s, s[1]) for s in SEGMENTS])
    if parent is not None:  # a subsidiary: its own, smaller credit line
        segment_row = next(s for s in SEGMENTS if s[0] == "Mid-Market")
    low, high = segment_row[2], segment_row[3]
    credit = Decimal(rng.randint(low * 2, high * 2) * 500)
    if parent is not None:
        base = f"{parent.base} - {city.name}"
        for suffix in ("North", "South", "East", "West", "Central", "Metro"):
            if base not in world.used_names:
                break
            base = f"{parent.base} - {city.name} {suffix}"
        world.used_names.add(base)
        legal_form = parent.legal_form
        domain = parent.domain
        local = f"{ascii_slug(city.name, '')}{idx}"
        email = f"ap.{local}@{domain}"
        purchasing = f"purchasing.{local}@{domain}"
    else:
        base = company_name(world, country, industry[1], city)
        legal_form = weighted(rng, LEGAL_FORMS[country])
        if industry[1] in ("HLTH", "EDU") and country == "US":
            legal_form = ""
        domain = domain_for(world, base)
        email = f"{rng.choice(('ap', 'accounts.payable', 'invoices', 'billing'))}@{domain}"
        purchasing = f"{rng.choice(('purchasing', 'orders', 'procurement', 'info'))}@{domain}"
    language = LANGUAGE[country]
    buyer = (
        f"{ascii_slug(rng.choice(FIRST_NAMES[language]), '')}."
        f"{ascii_slug(rng.choice(SURNAMES[language]), '')}{idx}@{domain}"
    )
    has_tax = chance(rng, {"US": 0.65, "CA": 0.6, "GB": 0.8}.get(country, 0.92))
    status = weighted(rng, [("active", 92), ("inactive", 5), ("blocked", 3)])
    return Company(
        idx=idx,
        country=country,
        base=base,
        legal_form=legal_form,
        industry=industry,
        segment=segment_row[0],
        sales_owner=rng.choice(SALES_REPS[country]),
        credit_limit=credit,
        terms=weighted(rng, [(t, t[2]) for t in PAYMENT_TERMS]),
        status=status,
        credit_hold=status == "blocked" or chance(rng, 0.02),
        duns=world.duns(),
        tax_id=world.tax_id(country) if has_tax else "",
        domain=domain,
        email=email,
        buyer_email=buyer,
        purchasing_email=purchasing,
        phone=random_phone(rng, country, city),
        address=random_address(rng, country, city),
        parent=parent,
    )


def company_name(world: World, country: str, industry: str, city: City) -> str:
    """A company name no other company in the world has, in the country's language."""
    rng = world.rng
    language = LANGUAGE[country]
    for _ in range(50):
        pattern = rng.choice(NAME_PATTERNS[language][industry])
        surname = rng.choice(SURNAMES[language])
        other = rng.choice([s for s in SURNAMES[language] if s != surname])
        name = pattern.format(S=surname, S2=other, P=rng.choice(PLACES[country]), C=city.name)
        name = name[0].upper() + name[1:]
        if name not in world.used_names:
            world.used_names.add(name)
            return name
    name = f"{name} {city.name}"
    world.used_names.add(name)
    return name


def domain_for(world: World, base: str) -> str:
    """An ``.example`` internet domain for a company name, unique in the world."""
    slug = ascii_slug(base)[:40].strip("-")
    domain = f"{slug}.example"
    n = 2
    while domain in world.used_domains:
        domain = f"{slug}{n}.example"
        n += 1
    world.used_domains.add(domain)
    return domain


def add_sites(world: World, company: Company) -> None:
    """The company's ship-to sites (only companies in the ERP have ship-to numbers)."""
    rng = world.rng
    if not company.in_erp:
        return
    count = {"Strategic": (3, 8), "Key Account": (2, 5), "Mid-Market": (1, 3)}.get(
        company.segment, (1, 1)
    )
    for number in range(1, rng.randint(*count) + 1):
        if number == 1 and chance(rng, 0.6):
            address, phone = company.address, company.phone
            label = "Main"
        else:
            address = random_address(rng, company.country)
            phone = random_phone(rng, company.country, address.city) if chance(rng, 0.6) else None
            label = address.city.name
        kind = rng.choice(("Plant", "Warehouse", "Receiving", "Kitchen", "Store", "Site"))
        site = Site(
            number=number,
            name=f"{company.base} - {label} {kind}",
            address=address,
            phone=phone,
            erp_code=f"{company.erp_id}-{number:02d}",
        )
        if company.in_crm and chance(rng, 0.55):
            site.in_crm = True
            site.crm_id = world.unique(lambda: salesforce_id(rng, "a0B"))
            site.crm_has_code = chance(rng, 0.75)
        site.in_edi = company.in_edi and chance(rng, 0.7)
        company.sites.append(site)
