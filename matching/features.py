"""Features: the standardised values a record is blocked and compared on.

Each attribute is standardised by its kind (declared in the domain's match rules) into one or
more named features: ``name`` gives ``name`` (the standard name), ``name.tokens``,
``name.initials``, ``name.phonetic``; ``address_line1`` gives ``address_line1`` and
``address_line1.number``; ``phone`` gives ``phone``, ``phone.ext`` and ``phone.digits``; ``tax_id``
gives ``tax_id`` with its country prefix (only when the country is known) and
``tax_id.national``. A record's features are a flat dict of strings ("" when missing); the raw
value stays in the record.

What a kind derives from one raw value (and the record's country, for the kinds that read it)
is cached: files repeat towns, streets, companies and phones, and extraction is the first cost
of matching a large file.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

import jellyfish

from matching import standardise as std

Features = dict[str, str]
STREET_SUFFIXES = frozenset(std.STREET_WORDS.values())
Parts = tuple[tuple[str, str], ...]
"""(suffix, value) pairs: the feature ``name + suffix`` has ``value`` ("" suffix: the value)."""
CACHE_SIZE = 65536


def _word_parts(value: str) -> Parts:
    """The value and the word-based keys names are blocked on."""
    words = value.split()
    return (
        ("", value),
        (".initials", "".join(w[0] for w in words)),
        (".first", words[0] if words else ""),
        (".phonetic", jellyfish.metaphone(words[0])[:4] if words else ""),
        (".prefix", value.replace(" ", "")[:3]),
    )


@lru_cache(maxsize=CACHE_SIZE)
def _company_name_parts(raw: str) -> Parts:
    value = std.company_name(raw)
    return (*_word_parts(value), (".sorted", " ".join(sorted(value.split()))))


@lru_cache(maxsize=CACHE_SIZE)
def _text_parts(raw: str) -> Parts:
    return _word_parts(std.text(raw))


@lru_cache(maxsize=CACHE_SIZE)
def _street_parts(raw: str) -> Parts:
    value = std.street(raw)
    number = std.house_number(value)
    rest = [w for w in value.split() if w != number]
    # The street's own name: its longest word without digits that is not a suffix or unit
    # ("u4j4 Daisy Pl" and "24h4d Daisy Place" both give "daisy").
    words = [w for w in rest if w.isalpha() and w not in STREET_SUFFIXES]
    return (
        ("", value),
        (".number", number),
        (".first", rest[0] if rest else ""),
        (".phonetic", jellyfish.metaphone(rest[0])[:4] if rest else ""),
        (".key", max(words, key=len) if words else ""),
    )


@lru_cache(maxsize=CACHE_SIZE)
def _phone_parts(raw: str, country: str | None) -> Parts:
    e164, ext = std.phone(raw, country)
    # Every digit, extension included, without leading 1s: survives regrouped, run-together
    # and doubled country codes ("+1 (13) 505-5501882258" = "+1-350-555-0188 x2258").
    return (("", e164), (".ext", ext), (".digits", std.digits(raw).lstrip("1")))


@lru_cache(maxsize=CACHE_SIZE)
def _postal_code_parts(raw: str, country: str | None) -> Parts:
    value = std.postal_code(raw, country)
    return (("", value), (".trimmed", value.lstrip("0")))


def _gtin_parts(raw: str) -> Parts:
    value, valid = std.gtin(raw)
    return (("", value), (".valid", "1" if valid else ""))


def _email_parts(raw: str) -> Parts:
    value = std.email(raw)
    return (("", value), (".domain", std.email_domain(value)))


@lru_cache(maxsize=CACHE_SIZE)
def _code_parts(raw: str) -> Parts:
    value = std.code(raw)
    half = len(value) // 2
    # A one-character typo leaves one half intact: both halves block.
    return (
        ("", value),
        (".head", value[: half + 1] if len(value) >= 4 else ""),
        (".tail", value[half:] if len(value) >= 4 else ""),
        (".ends", value[:2] + value[-2:] if len(value) >= 5 else ""),
    )


@lru_cache(maxsize=CACHE_SIZE)
def _tax_id_parts(raw: str, country: str | None) -> Parts:
    """``tax_id`` with its country prefix (the value's own, else the record's country) and
    ``tax_id.national`` without it. A value with neither a prefix nor a country has no
    ``tax_id``: it cannot tell GB123456789 from DE123456789, so it neither decides a match nor
    excludes one (rules may still block on ``tax_id.national``)."""
    prefix, national = std.tax_id_parts(raw, country)
    return (("", prefix + national if prefix else ""), (".national", national))


Extractor = Callable[[str, str, dict[str, Any], Features], None]


def _of_value(parts: Callable[[str], Parts]) -> Extractor:
    """An extractor for a kind whose features depend on the value alone."""

    def extract(name: str, raw: str, record: dict[str, Any], out: Features) -> None:
        for suffix, value in parts(raw):
            out[name + suffix] = value

    return extract


def _with_country(parts: Callable[[str, str | None], Parts]) -> Extractor:
    """An extractor for a kind whose features depend on the record's country too."""

    def extract(name: str, raw: str, record: dict[str, Any], out: Features) -> None:
        for suffix, value in parts(raw, _record_country(record)):
            out[name + suffix] = value

    return extract


def _simple(function: Callable[[str], str]) -> Extractor:
    def extract(name: str, raw: str, record: dict[str, Any], out: Features) -> None:
        out[name] = function(raw)

    return extract


# Labels systems give a postal address's role that the hub's kind synonyms do not list: like
# "home", "work" and "mailing" they are sites (a role, not a warehouse, bill-to or ship-to).
SITE_LABELS = frozenset(
    {
        "residential",
        "residence",
        "private",
        "personal",
        "business",
        "commercial",
        "corporate",
        "mail",
        "postal",
        "post",
        "mailing address",
        "postal address",
        "po box",
        "head office",
        "headquarters",
        "hq",
        "main office",
        "physical",
        "physical address",
        "street address",
        "business address",
        "home address",
    }
)


def _location_kind(name: str, raw: str, record: dict[str, Any], out: Features) -> None:
    """The hub's location kinds (warehouse, ship_to, …) from any system's label for them;
    the other names of a site's role ("residential", "business", "postal") are sites."""
    from golden_records.attributes import AttributeValueError
    from golden_records.domains import LOCATION

    try:
        out[name] = LOCATION.attribute("kind").normalise(raw, record)
    except AttributeValueError:
        label = std.label(raw)
        out[name] = "site" if label in SITE_LABELS else label


def _record_country(record: dict[str, Any]) -> str | None:
    raw = record.get("country")
    return std.country(raw) if isinstance(raw, str) and raw.strip() else None


KINDS: dict[str, Extractor] = {
    "company_name": _of_value(_company_name_parts),
    "text": _of_value(_text_parts),
    "street": _of_value(_street_parts),
    "phone": _with_country(_phone_parts),
    "postal_code": _with_country(_postal_code_parts),
    "gtin": _of_value(_gtin_parts),
    "email": _of_value(_email_parts),
    "website": _simple(std.website_domain),
    "code": _of_value(_code_parts),
    "duns": _simple(std.duns),
    "tax_id": _with_country(_tax_id_parts),
    "country": _simple(std.country),
    "region": _simple(std.region),
    "label": _simple(std.label),
    "location_kind": _location_kind,
}


def extract(attributes: dict[str, str], record: dict[str, Any]) -> Features:
    """Features of one record; ``attributes`` maps attribute name → kind."""
    out: Features = {}
    for name, kind in attributes.items():
        raw = record.get(name)
        if raw is None:
            continue
        text = raw.strip() if isinstance(raw, str) else str(raw).strip()
        if text:
            KINDS[kind](name, text, record, out)
    return {k: v for k, v in out.items() if v}
