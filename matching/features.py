"""Features: the standardised values a record is blocked and compared on.

Each attribute is standardised by its kind (declared in the domain's match rules) into one or
more named features: ``name`` gives ``name`` (the standard name), ``name.tokens``,
``name.initials``, ``name.phonetic``; ``address_line1`` gives ``address_line1`` and
``address_line1.number``; ``phone`` gives ``phone`` and ``phone.ext``. A record's features are a
flat dict of strings ("" when missing); the raw value stays in the record.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jellyfish

from matching import standardise as std

Features = dict[str, str]
STREET_SUFFIXES = frozenset(std.STREET_WORDS.values())


def _word_features(name: str, value: str, out: Features) -> None:
    """The value and the word-based keys names are blocked on."""
    words = value.split()
    out[name] = value
    out[f"{name}.initials"] = "".join(w[0] for w in words)
    out[f"{name}.first"] = words[0] if words else ""
    out[f"{name}.phonetic"] = jellyfish.metaphone(words[0])[:4] if words else ""
    out[f"{name}.prefix"] = value.replace(" ", "")[:3]


def _company_name(name: str, raw: str, record: dict[str, Any], out: Features) -> None:
    value = std.company_name(raw)
    _word_features(name, value, out)
    out[f"{name}.sorted"] = " ".join(sorted(value.split()))


def _text(name: str, raw: str, record: dict[str, Any], out: Features) -> None:
    _word_features(name, std.text(raw), out)


def _street(name: str, raw: str, record: dict[str, Any], out: Features) -> None:
    value = std.street(raw)
    number = std.house_number(value)
    rest = [w for w in value.split() if w != number]
    out[name] = value
    out[f"{name}.number"] = number
    out[f"{name}.first"] = rest[0] if rest else ""
    out[f"{name}.phonetic"] = jellyfish.metaphone(rest[0])[:4] if rest else ""
    # The street's own name: its longest word without digits that is not a suffix or unit
    # ("u4j4 Daisy Pl" and "24h4d Daisy Place" both give "daisy").
    words = [w for w in rest if w.isalpha() and w not in STREET_SUFFIXES]
    out[f"{name}.key"] = max(words, key=len) if words else ""


def _phone(name: str, raw: str, record: dict[str, Any], out: Features) -> None:
    e164, ext = std.phone(raw, _record_country(record))
    out[name] = e164
    out[f"{name}.ext"] = ext
    # Every digit, extension included, without leading 1s: survives regrouped, run-together
    # and doubled country codes ("+1 (13) 505-5501882258" = "+1-350-555-0188 x2258").
    out[f"{name}.digits"] = "".join(ch for ch in raw if ch.isdigit()).lstrip("1")


def _postal_code(name: str, raw: str, record: dict[str, Any], out: Features) -> None:
    value = std.postal_code(raw, _record_country(record))
    out[name] = value
    out[f"{name}.trimmed"] = value.lstrip("0")


def _gtin(name: str, raw: str, record: dict[str, Any], out: Features) -> None:
    value, valid = std.gtin(raw)
    out[name] = value
    out[f"{name}.valid"] = "1" if valid else ""


def _email(name: str, raw: str, record: dict[str, Any], out: Features) -> None:
    value = std.email(raw)
    out[name] = value
    out[f"{name}.domain"] = std.email_domain(value)


def _code(name: str, raw: str, record: dict[str, Any], out: Features) -> None:
    value = std.code(raw)
    half = len(value) // 2
    out[name] = value
    # A one-character typo leaves one half intact: both halves block.
    out[f"{name}.head"] = value[: half + 1] if len(value) >= 4 else ""
    out[f"{name}.tail"] = value[half:] if len(value) >= 4 else ""
    out[f"{name}.ends"] = value[:2] + value[-2:] if len(value) >= 5 else ""


def _simple(function: Callable[[str], str]) -> Callable[[str, str, dict[str, Any], Features], None]:
    def extract(name: str, raw: str, record: dict[str, Any], out: Features) -> None:
        out[name] = function(raw)

    return extract


def _location_kind(name: str, raw: str, record: dict[str, Any], out: Features) -> None:
    """The hub's location kinds (warehouse, ship_to, …) from any system's label for them."""
    from golden_records.attributes import AttributeValueError
    from golden_records.domains import LOCATION

    try:
        out[name] = LOCATION.attribute("kind").normalise(raw, record)
    except AttributeValueError:
        out[name] = std.label(raw)


def _record_country(record: dict[str, Any]) -> str | None:
    raw = record.get("country")
    return std.country(raw) if isinstance(raw, str) and raw.strip() else None


KINDS: dict[str, Callable[[str, str, dict[str, Any], Features], None]] = {
    "company_name": _company_name,
    "text": _text,
    "street": _street,
    "phone": _phone,
    "postal_code": _postal_code,
    "gtin": _gtin,
    "email": _email,
    "website": _simple(std.website_domain),
    "code": _code,
    "duns": _simple(std.duns),
    "tax_id": _simple(std.tax_id),
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
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            continue
        KINDS[kind](name, str(raw).strip(), record, out)
    return {k: v for k, v in out.items() if v}
