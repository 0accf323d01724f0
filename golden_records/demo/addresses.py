"""Addresses: drawn for a city, and written the way each system writes them (abbreviated,
upper-cased, region codes or names, the country's code or name)."""

from __future__ import annotations

from dataclasses import dataclass
from random import Random
from typing import Any

from golden_records.demo.randomness import chance
from golden_records.demo.spelling import apply_variants
from golden_records.demo.vocabulary.places import (
    ADDRESS_ABBREVIATIONS,
    COUNTRIES,
    EU,
    LINE2,
    STREETS,
    City,
)


@dataclass
class Address:
    country: str
    city: City
    street: str
    line2: str
    postal: str


def random_postal_code(rng: Random, country: str, city: City) -> str:
    if country == "US":
        return f"{rng.choice(city.postal)}{rng.randint(1, 99):02d}"
    if country == "CA":
        letters = "ABCEGHJKLMNPRSTVXY"
        outward = rng.choice(city.postal)
        return f"{outward} {rng.randint(0, 9)}{rng.choice(letters)}{rng.randint(0, 9)}"
    if country == "GB":
        letters = "ABDEFGHJLNPQRSTUWXYZ"
        outward = rng.choice(city.postal)
        return f"{outward} {rng.randint(1, 9)}{rng.choice(letters)}{rng.choice(letters)}"
    if country == "DE":
        low, high = city.postal
        return f"{rng.randint(low, high):05d}"
    if country == "FR":
        return rng.choice(city.postal)
    low, high = city.postal
    letters = "ABCEGHJKLMNPRTVWXZ"
    return f"{rng.randint(low, high)} {rng.choice(letters)}{rng.choice(letters)}"


def random_address(rng: Random, country: str, city: City | None = None) -> Address:
    """An address in ``city`` (a random city of ``country`` without one)."""
    city = city or rng.choice(COUNTRIES[country].cities)
    street = rng.choice(STREETS[country])
    number = rng.randint(1, 180) if country in (*EU, "GB") else rng.randint(100, 9800)
    if country in ("DE", "NL"):
        line1 = f"{street} {number}"
    elif country == "FR":
        line1 = f"{number} {street}"
    else:
        line1 = f"{number} {street}"
    line2 = ""
    if chance(rng, 0.3):
        line2 = rng.choice(LINE2[country]).format(
            n=rng.randint(1, 9) * 100 + rng.randint(0, 20),
            b=rng.choice("ABCDE"),
            d=rng.randint(1, 24),
            f=rng.randint(1, 6),
        )
    return Address(country, city, line1, line2, random_postal_code(rng, country, city))


def country_spelling(rng: Random, country: str, style: str) -> str:
    """``style``: code (the ISO code) or anything else (any of the spellings seen)."""
    spellings = COUNTRIES[country].spellings
    if style == "code":
        return spellings[0]
    return rng.choice(spellings)


def street_lines(
    rng: Random, address: Address, abbreviate: float, upper: bool = False
) -> tuple[str, str]:
    pairs = ADDRESS_ABBREVIATIONS[address.country]
    line1 = apply_variants(address.street, pairs, rng, abbreviate)
    line2 = apply_variants(address.line2, pairs, rng, abbreviate)
    if upper:
        line1, line2 = line1.upper(), line2.upper()
    return line1, line2


def region_name(address: Address, style: str) -> str:
    """``style``: code (where the country has region codes) or name."""
    city = address.city
    if style == "code" and city.region_code:
        return city.region_code
    return city.region_name


def address_fields(
    rng: Random,
    address: Address,
    *,
    abbreviate: float,
    upper: bool,
    region: str,
    country: str,
    drop: float = 0.0,
) -> dict[str, Any]:
    """The address attributes of a payload. ``abbreviate``: the chance of each abbreviation;
    ``region``/``country``: the style of each; ``drop``: the chance of leaving the region out
    (half of it for the postal code)."""
    line1, line2 = street_lines(rng, address, abbreviate, upper)
    city = address.city.name.upper() if upper else address.city.name
    return {
        "address_line1": line1,
        "address_line2": line2,
        "city": city,
        "region": "" if chance(rng, drop) else region_name(address, region),
        "postal_code": "" if chance(rng, drop / 2) else address.postal,
        "country": country_spelling(rng, address.country, country),
    }
