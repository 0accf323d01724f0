"""The world: the real customers, their sites and the products, before any system's view of
them, and the bookkeeping that keeps their names and identifiers unique.

``world_companies`` and ``world_products`` fill it; ``customers``, ``items``, ``locations`` and
``prices`` turn it into each system's records.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from random import Random

from golden_records.demo.addresses import Address
from golden_records.demo.identifiers import random_duns, random_tax_id, tax_id_key
from golden_records.demo.phones import Phone
from golden_records.demo.vocabulary.places import COUNTRIES
from golden_records.demo.vocabulary.products import Family, Manufacturer


@dataclass
class Site:
    """A customer's ship-to: one delivery address with the ERP's ship-to number."""

    number: int
    name: str
    address: Address
    phone: Phone | None
    erp_code: str = ""
    crm_id: str = ""
    in_crm: bool = False
    crm_has_code: bool = False
    in_edi: bool = False


@dataclass
class Company:
    idx: int
    country: str
    base: str
    legal_form: str
    industry: tuple[str, str, int]
    segment: str
    sales_owner: str
    credit_limit: Decimal
    terms: tuple[str, str, int]
    status: str
    credit_hold: bool
    duns: str
    tax_id: str
    domain: str
    email: str
    buyer_email: str
    purchasing_email: str
    phone: Phone
    address: Address
    parent: Company | None = None
    sites: list[Site] = field(default_factory=list)
    in_erp: bool = False
    in_crm: bool = False
    in_ecom: bool = False
    in_edi: bool = False
    crm_links: bool = True
    ecom_links: bool = True
    has_contract: bool = False
    erp_id: str = ""
    crm_id: str = ""
    ecom_id: str = ""
    edi_id: str = ""

    @property
    def name(self) -> str:
        return f"{self.base} {self.legal_form}".strip()

    @property
    def currency(self) -> str:
        return COUNTRIES[self.country].currency


@dataclass
class Product:
    idx: int
    family: Family
    manufacturer: Manufacturer
    sku: str
    gtin13: str
    mpn: str
    name: str
    uom: str
    weight: Decimal | None
    dims: tuple[Decimal, Decimal, Decimal] | None
    lifecycle: str
    list_usd: Decimal
    erp_id: str
    sold_in_eu: bool
    in_wms: bool = False
    wms_id: str = ""
    wms_differs: bool = False
    in_ecom: bool = False
    ecom_id: str = ""
    ecom_sku: str = ""
    ecom_gtin: bool = False
    in_edi: bool = False
    previous_price: bool = False
    case_break: bool = False

    @property
    def ecom_links(self) -> bool:
        """Whether the web shop's version shares an identifier with the ERP's (links exactly)."""
        return (self.ecom_gtin and bool(self.gtin13)) or self.ecom_sku == self.sku


class World:
    """The real customers, sites and products, generated from one ``Random``: every draw, from
    the first company to the last price, comes from ``rng``, in a fixed order."""

    def __init__(self, seed: int):
        self.rng = Random(seed)
        self.used_duns: set[str] = set()
        self.used_tax: set[str] = set()
        self.used_names: set[str] = set()
        self.used_domains: set[str] = set()
        self.used_ids: set[str] = set()
        self.companies: list[Company] = []
        self.products: list[Product] = []

    def unique(self, make: Callable[[], str]) -> str:
        """A value from ``make`` no other system id has."""
        for _ in range(1000):
            value = make()
            if value not in self.used_ids:
                self.used_ids.add(value)
                return value
        raise RuntimeError("Could not generate a unique id.")

    def duns(self) -> str:
        while True:
            value = random_duns(self.rng)
            if value not in self.used_duns:
                self.used_duns.add(value)
                return value

    def tax_id(self, country: str) -> str:
        """A valid tax id no other company has."""
        for _ in range(100):
            value = random_tax_id(self.rng, country)
            if value is not None and tax_id_key(value) not in self.used_tax:
                self.used_tax.add(tax_id_key(value))
                return value
        raise RuntimeError(f"Could not generate a valid tax id for {country}.")
