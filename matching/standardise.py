"""Standardisers: one per kind of attribute, each turning a raw value into the form records are
compared in. They never raise: a value that cannot be standardised comes back cleaned as far as
possible (a matcher must not drop a record because one field is odd). The raw value is kept
beside the standard one by the caller (matching/features.py).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import phonenumbers
import pycountry
from cleanco import basename
from stdnum import ean
from stdnum.exceptions import ValidationError as StdnumValidationError

from golden_records.attributes import country_code

_NON_ALNUM = re.compile(r"[^0-9a-z]+")
_SPACES = re.compile(r"\s+")


def fold(text: str) -> str:
    """Lower case, accents removed, every run of punctuation or space one space."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return _NON_ALNUM.sub(" ", ascii_text.lower()).strip()


# Legal forms, as words after folding; cleanco removes the common ones at the end of a name,
# this list also catches them anywhere ("Acme Inc Holdings") and in languages cleanco misses.
LEGAL_FORMS = frozenset(
    """inc incorporated corp corporation co company llc llp lp ltd limited plc gmbh mbh ag kg
    ohg ug sa sas sarl srl spa bv nv oy ab as aps asa oyj pty pte sdn bhd kk lda ltda sl sc
    cv sro zrt kft doo ad pvt pllc pc ltee cie et""".split()  # noqa: SIM905
)


@lru_cache(maxsize=65536)
def company_name(raw: str) -> str:
    """ "ACME Corp." and "Acme Corporation, Inc." → "acme"; "&" and "and" agree."""
    text = raw.replace("&", " and ").replace("+", " and ")
    previous = None
    while text and text != previous:  # cleanco strips one legal form per call
        previous = text
        text = basename(text)
    words = [w for w in fold(text).split() if w not in LEGAL_FORMS]
    if words and words[0] == "the":
        words = words[1:]
    return " ".join(words) or fold(raw)


# USPS Publication 28 suffixes and unit designators, with the spellings systems use.
STREET_WORDS = {
    "street": "st",
    "str": "st",
    "st": "st",
    "avenue": "ave",
    "av": "ave",
    "ave": "ave",
    "road": "rd",
    "rd": "rd",
    "boulevard": "blvd",
    "blvd": "blvd",
    "lane": "ln",
    "ln": "ln",
    "drive": "dr",
    "dr": "dr",
    "place": "pl",
    "pl": "pl",
    "court": "ct",
    "ct": "ct",
    "circle": "cir",
    "cir": "cir",
    "way": "way",
    "wy": "way",
    "parkway": "pkwy",
    "pkwy": "pkwy",
    "highway": "hwy",
    "hwy": "hwy",
    "terrace": "ter",
    "ter": "ter",
    "square": "sq",
    "sq": "sq",
    "trail": "trl",
    "trl": "trl",
    "crescent": "cres",
    "cres": "cres",
    "alley": "aly",
    "plaza": "plz",
    "plz": "plz",
    "expressway": "expy",
    "freeway": "fwy",
    "route": "rte",
    "north": "n",
    "south": "s",
    "east": "e",
    "west": "w",
    "northeast": "ne",
    "northwest": "nw",
    "southeast": "se",
    "southwest": "sw",
    "suite": "ste",
    "ste": "ste",
    "apartment": "apt",
    "apt": "apt",
    "unit": "unit",
    "floor": "fl",
    "fl": "fl",
    "building": "bldg",
    "bldg": "bldg",
    "room": "rm",
    "rm": "rm",
    "department": "dept",
    "dept": "dept",
    "po": "po",
    "box": "box",
    "strasse": "str",
    "straße": "str",
    "mount": "mt",
    "fort": "ft",
    "saint": "st",
}


@lru_cache(maxsize=65536)
def street(raw: str) -> str:
    """ "5609 Pleasant Way, Suite 4" → "5609 pleasant way ste 4"."""
    text = raw.replace("#", " unit ")
    return " ".join(STREET_WORDS.get(w, w) for w in fold(text).split())


def house_number(standard_street: str) -> str:
    """The first number of a standardised street line ("" when there is none)."""
    for word in standard_street.split():
        if word[:1].isdigit():
            return word
    return ""


def postal_code(raw: str, country: str | None = None) -> str:
    """Upper case without spaces; a US ZIP that lost its leading zeros gets them back."""
    text = re.sub(r"[\s-]", "", raw.upper())
    if country == "US" and text.isdigit():
        if len(text) in (3, 4):
            text = text.zfill(5)
        elif len(text) == 9:
            text = text[:5]
    return text


def phone(raw: str, country: str | None = None) -> tuple[str, str]:
    """E.164 and extension; a number that does not parse keeps its digits."""
    try:
        number = phonenumbers.parse(raw, country or "US")
    except phonenumbers.NumberParseException:
        digits = re.sub(r"\D", "", raw)
        return (f"+{digits}" if digits else "", "")
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return e164, (number.extension or "").lstrip("0")


def email(raw: str) -> str:
    return raw.strip().lower()


def website_domain(raw: str) -> str:
    """ "https://WWW.Acme.example/contact" → "acme.example"."""
    text = raw.strip().lower()
    text = re.sub(r"^[a-z][a-z0-9+.-]*://", "", text)
    text = text.split("/", 1)[0].split("?", 1)[0].split("@")[-1].split(":", 1)[0]
    return text.removeprefix("www.").strip(".")


def email_domain(standard_email: str) -> str:
    return standard_email.rpartition("@")[2]


def gtin(raw: str) -> tuple[str, bool]:
    """GTIN-14 and whether its check digit is valid (UPC-A, EAN-8/13 and GTIN-14 agree)."""
    digits = re.sub(r"\D", "", raw)
    if len(digits) in (8, 12, 13, 14):
        try:
            ean.validate(digits)
            return digits.zfill(14), True
        except StdnumValidationError:
            pass
    return digits.zfill(14) if digits else "", False


def code(raw: str) -> str:
    """SKU, MPN, location code: case and separators do not count ("ab-12/3" → "AB123")."""
    return re.sub(r"[\W_]+", "", raw.upper())


def duns(raw: str) -> str:
    digits = re.sub(r"\D", "", raw)
    return digits.zfill(9) if 0 < len(digits) <= 9 else digits


def tax_id(raw: str) -> str:
    """Compact form without a country prefix (the national part decides equality)."""
    text = re.sub(r"[\W_]+", "", raw.upper())
    if len(text) > 2 and text[:2].isalpha() and text[2:3].isdigit():
        text = text[2:]
    return text


def country(raw: str) -> str:
    return country_code(raw) or fold(raw).upper()


@lru_cache(maxsize=1)
def _subdivision_codes() -> dict[str, str]:
    """Folded subdivision name → its code without the country ("tennessee" → "TN")."""
    codes: dict[str, str] = {}
    for sub in pycountry.subdivisions:
        short = sub.code.split("-", 1)[1]
        codes.setdefault(fold(sub.name), short)
    return codes


@lru_cache(maxsize=16384)
def region(raw: str) -> str:
    """A region as its code where one is known ("Tennessee" and "TN" → "TN")."""
    folded = fold(raw)
    return _subdivision_codes().get(folded, folded.replace(" ", "").upper())


@lru_cache(maxsize=16384)
def label(raw: str) -> str:
    """A free label (industry, category, kind): "HOME_AND_GARDEN" and "Home & Garden" agree."""
    words = fold(raw.replace("&", " and ")).split()
    return " ".join(w for w in words if w != "and")


def text(raw: str) -> str:
    return _SPACES.sub(" ", fold(raw))
