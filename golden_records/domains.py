"""The four mastered domains, declared once as data.

Everything that differs between customers, items, locations and prices lives here: attributes and
their kinds (how each is normalised and validated), strong identifier keys used for exact linking,
record-level validation, and the default ownership rules that the initial migration writes to the
database. The pipeline (golden_records/pipeline.py), the golden models, the API, the admin and the
import command are generic over these declarations.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import Any

from golden_records.attributes import (
    Attribute,
    AttributeValueError,
    Boolean,
    Choice,
    Code,
    Coordinate,
    Country,
    Currency,
    Date,
    Duns,
    Email,
    Gtin,
    Integer,
    Number,
    Phone,
    PostalCode,
    Reference,
    TaxId,
    Text,
    Website,
)

RecordValidator = Callable[[dict[str, Any]], dict[str, AttributeValueError]]


@dataclass(frozen=True)
class IdentifierKey:
    """A strong identifier: source records with equal, non-empty key values are the same entity.

    ``attributes`` has one name for a simple identifier (tax_id) and several for a composite one
    (a price: item, price list, customer, currency, minimum quantity, valid from). Reference
    attributes take part through the golden id they resolve to. ``required`` lists the parts that
    must be non-empty for the key to exist; the others may be empty (a price without customer).
    """

    name: str
    attributes: tuple[str, ...]
    required: tuple[str, ...] = ()
    exclusive: bool = False
    """Two different values mean two different entities (tax id, GTIN), so they never link."""

    def parts_required(self) -> tuple[str, ...]:
        return self.required or self.attributes


@dataclass(frozen=True)
class OwnershipDefault:
    """The rule a new installation starts with for one attribute (editable in the database)."""

    strategy: str = "most_recent"
    systems: tuple[str, ...] = ()
    fallback_to_any: bool = True


@dataclass(frozen=True)
class DomainSpec:
    name: str
    model_name: str
    label: str
    description: str
    attributes: tuple[Attribute, ...]
    identifier_keys: tuple[IdentifierKey, ...] = ()
    required_one_of: tuple[tuple[str, ...], ...] = ()
    record_validators: tuple[RecordValidator, ...] = ()
    ownership: dict[str, OwnershipDefault] = field(default_factory=dict)
    default_ownership: OwnershipDefault = OwnershipDefault()
    display: tuple[str, ...] = ("name",)
    overlap_key: tuple[str, ...] = ()
    """For dated domains (prices): records with the same values of these attributes must not
    have overlapping [valid_from, valid_to] ranges."""

    def attribute(self, name: str) -> Attribute:
        return self.attributes_by_name[name]

    @cached_property
    def attributes_by_name(self) -> dict[str, Attribute]:
        return {a.name: a for a in self.attributes}

    @cached_property
    def attribute_names(self) -> tuple[str, ...]:
        return tuple(a.name for a in self.attributes)

    @cached_property
    def references(self) -> tuple[Reference, ...]:
        return tuple(a for a in self.attributes if isinstance(a, Reference))

    @cached_property
    def exclusive_identifiers(self) -> tuple[str, ...]:
        """Attributes whose different values mean different entities (tax id, DUNS, GTIN)."""
        return tuple(
            name for key in self.identifier_keys if key.exclusive for name in key.attributes
        )

    def ownership_for(self, attribute: str) -> OwnershipDefault:
        return self.ownership.get(attribute, self.default_ownership)


ADDRESS_ATTRIBUTES: tuple[Attribute, ...] = (
    Text(name="address_line1", max_length=200),
    Text(name="address_line2", max_length=200),
    Text(name="city", max_length=100),
    Text(name="region", max_length=100),
    PostalCode(name="postal_code"),
    Country(name="country"),
)

ERP_OWNED = OwnershipDefault("source_priority", ("erp",), fallback_to_any=False)
CRM_FIRST = OwnershipDefault("source_priority", ("crm", "erp"))
ERP_FIRST = OwnershipDefault("source_priority", ("erp", "crm"))
WMS_FIRST = OwnershipDefault("source_priority", ("wms", "erp"))


def _valid_range(record: dict[str, Any]) -> dict[str, AttributeValueError]:
    start, end = record.get("valid_from"), record.get("valid_to")
    if start and end and end < start:
        return {
            "valid_to": AttributeValueError(
                "valid_to_before_valid_from", f"valid_to ({end}) is before valid_from ({start})."
            )
        }
    return {}


def _customer_only_for_billing_and_shipping(
    record: dict[str, Any],
) -> dict[str, AttributeValueError]:
    if record.get("customer") and record.get("kind") in ("warehouse", "store"):
        return {
            "customer": AttributeValueError(
                "customer_not_allowed",
                f"A {record['kind']} location does not belong to a customer.",
            )
        }
    return {}


CUSTOMER = DomainSpec(
    name="customer",
    model_name="Customer",
    label="customer",
    description="A customer account (sold-to), with its account hierarchy and credit terms.",
    attributes=(
        Text(name="name", max_length=200, required=True),
        TaxId(name="tax_id", identifier=True),
        Duns(name="duns", identifier=True),
        Email(name="email", identifier=True),
        Phone(name="phone"),
        Website(name="website"),
        *ADDRESS_ATTRIBUTES,
        Text(name="industry", max_length=100),
        Text(name="segment", max_length=100),
        Text(name="sales_owner", max_length=100),
        Number(name="credit_limit", min_value=Decimal(0), decimal_places=2),
        Currency(name="credit_currency"),
        Text(name="payment_terms", max_length=50),
        Boolean(name="credit_hold"),
        Reference(name="parent", domain="customer", related_name="children"),
        Choice(
            name="status",
            choices=("prospect", "active", "inactive", "blocked"),
            synonyms={
                "prospect": ("lead",),
                "active": ("a", "open", "enabled"),
                "inactive": ("i", "closed", "disabled", "dormant"),
                "blocked": ("b", "on hold", "hold", "suspended"),
            },
        ),
    ),
    identifier_keys=(
        IdentifierKey("tax_id", ("tax_id",), exclusive=True),
        IdentifierKey("duns", ("duns",), exclusive=True),
        IdentifierKey("email", ("email",)),
    ),
    ownership={
        "name": ERP_FIRST,
        "tax_id": ERP_FIRST,
        "duns": ERP_FIRST,
        "address_line1": ERP_FIRST,
        "address_line2": ERP_FIRST,
        "city": ERP_FIRST,
        "region": ERP_FIRST,
        "postal_code": ERP_FIRST,
        "country": ERP_FIRST,
        "industry": CRM_FIRST,
        "segment": CRM_FIRST,
        "sales_owner": OwnershipDefault("source_priority", ("crm",), fallback_to_any=False),
        "parent": OwnershipDefault("source_priority", ("crm",), fallback_to_any=False),
        "credit_limit": ERP_OWNED,
        "credit_currency": ERP_OWNED,
        "payment_terms": ERP_OWNED,
        "credit_hold": ERP_OWNED,
        "status": ERP_FIRST,
        "website": OwnershipDefault("longest"),
    },
)

ITEM = DomainSpec(
    name="item",
    model_name="Item",
    label="item",
    description="A product the distributor buys, stocks and sells.",
    attributes=(
        Code(name="sku", identifier=True),
        Gtin(name="gtin", identifier=True),
        Code(name="mpn"),
        Text(name="manufacturer", max_length=200),
        Text(name="name", max_length=255),
        Text(name="description", max_length=4000, multiline=True),
        Text(name="category", max_length=200),
        Code(name="uom", max_length=16, label="unit of measure"),
        Number(name="weight_kg", min_value=Decimal(0), decimal_places=3),
        Number(name="length_cm", min_value=Decimal(0), decimal_places=2),
        Number(name="width_cm", min_value=Decimal(0), decimal_places=2),
        Number(name="height_cm", min_value=Decimal(0), decimal_places=2),
        Choice(
            name="lifecycle_status",
            choices=("planned", "active", "phase_out", "discontinued"),
            synonyms={
                "planned": ("new", "pending", "introduction"),
                "active": ("a", "released", "current", "available"),
                "phase_out": ("phasing out", "end of life", "eol", "clearance"),
                "discontinued": ("d", "obsolete", "inactive", "retired"),
            },
        ),
    ),
    identifier_keys=(
        IdentifierKey("gtin", ("gtin",), exclusive=True),
        IdentifierKey("sku", ("sku",)),
    ),
    required_one_of=(("sku", "gtin"),),
    ownership={
        "weight_kg": WMS_FIRST,
        "length_cm": WMS_FIRST,
        "width_cm": WMS_FIRST,
        "height_cm": WMS_FIRST,
        "sku": ERP_FIRST,
        "gtin": ERP_FIRST,
        "mpn": ERP_FIRST,
        "manufacturer": ERP_FIRST,
        "name": ERP_FIRST,
        "uom": ERP_FIRST,
        "lifecycle_status": ERP_FIRST,
        "description": OwnershipDefault("longest"),
    },
    display=("name", "sku"),
)

LOCATION = DomainSpec(
    name="location",
    model_name="Location",
    label="location",
    description="A warehouse, store or site, or a customer's bill-to or ship-to address.",
    attributes=(
        Code(name="code", identifier=True),
        Text(name="name", max_length=200),
        Choice(
            name="kind",
            choices=("warehouse", "store", "ship_to", "bill_to", "site"),
            synonyms={
                "warehouse": ("wh", "whse", "dc", "distribution center", "depot"),
                "store": ("shop", "branch", "retail"),
                "ship_to": ("shipping", "ship", "delivery", "deliver to", "shipping address"),
                "bill_to": ("billing", "bill", "invoice", "invoicing", "billing address"),
                "site": ("office", "plant", "facility", "home", "work", "mailing", "other"),
            },
        ),
        *ADDRESS_ATTRIBUTES,
        Coordinate(name="latitude", min_value=Decimal(-90), max_value=Decimal(90)),
        Coordinate(name="longitude", min_value=Decimal(-180), max_value=Decimal(180)),
        Reference(name="customer", domain="customer", related_name="locations"),
        Phone(name="phone"),
        Email(name="email"),
    ),
    identifier_keys=(IdentifierKey("code", ("code",)),),
    required_one_of=(("code", "name", "address_line1"),),
    record_validators=(_customer_only_for_billing_and_shipping,),
    ownership={
        "code": ERP_FIRST,
        "name": WMS_FIRST,
        "kind": ERP_FIRST,
        "latitude": WMS_FIRST,
        "longitude": WMS_FIRST,
        "customer": ERP_FIRST,
        "address_line1": ERP_FIRST,
        "address_line2": ERP_FIRST,
        "city": ERP_FIRST,
        "region": ERP_FIRST,
        "postal_code": ERP_FIRST,
        "country": ERP_FIRST,
    },
    display=("name", "code", "address_line1"),
)

PRICE = DomainSpec(
    name="price",
    model_name="Price",
    label="price",
    description="A list or contract price of an item, valid for a period and a minimum quantity.",
    attributes=(
        Reference(name="item", domain="item", related_name="prices", required=True),
        Code(name="price_list", required=True),
        Reference(name="customer", domain="customer", related_name="contract_prices"),
        Currency(name="currency", required=True),
        Number(name="unit_price", min_value=Decimal(0), decimal_places=4, required=True),
        Integer(name="min_quantity", min_value=1),
        Date(name="valid_from", required=True),
        Date(name="valid_to"),
    ),
    identifier_keys=(
        IdentifierKey(
            "price_key",
            ("item", "price_list", "customer", "currency", "min_quantity", "valid_from"),
            required=("item", "price_list", "currency", "valid_from"),
        ),
    ),
    record_validators=(_valid_range,),
    # What the price is (item, list, customer, currency, quantity, validity) may come from any
    # system, ERP first; its amount only from ERP. An eCommerce-only price therefore exists as
    # a golden record with no approved unit price, and its amount shows as a discrepancy.
    ownership={"unit_price": ERP_OWNED},
    default_ownership=ERP_FIRST,
    display=("price_list", "currency", "unit_price"),
    overlap_key=("item", "price_list", "customer", "currency", "min_quantity"),
)

DOMAINS: dict[str, DomainSpec] = {d.name: d for d in (CUSTOMER, ITEM, LOCATION, PRICE)}
DOMAIN_CHOICES = [(name, spec.label) for name, spec in DOMAINS.items()]


def get_domain(name: str) -> DomainSpec:
    """The spec of a domain; ``KeyError`` for an unknown name."""
    return DOMAINS[name]
