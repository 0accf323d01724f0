"""Identifiers with correct check digits: GTINs, tax ids, DUNS numbers, Salesforce ids."""

from __future__ import annotations

import re
import string
from random import Random

from stdnum import luhn
from stdnum.iso7064 import mod_11_10
from stdnum.util import get_cc_module

BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
SF_SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"

# fmt: off
# Valid EIN prefixes (IRS campus assignments, as python-stdnum knows them).
EIN_PREFIXES = (
    "01", "02", "04", "05", "06", "10", "11", "12", "13", "14", "16", "20", "22", "23", "26",
    "27", "30", "31", "32", "33", "35", "36", "37", "38", "39", "41", "42", "43", "45", "46",
    "47", "48", "51", "52", "54", "56", "58", "59", "61", "62", "65", "71", "72", "74", "75",
    "76", "77", "81", "82", "84", "86", "87", "88", "91", "92", "93", "94", "95", "98", "99",
)
# fmt: on


def salesforce_id(rng: Random, prefix: str) -> str:
    """An 18-character Salesforce-style id ("0015g00000Xy3AbQAJ") with a correct checksum."""
    body = prefix + "5g00000" + "".join(rng.choice(BASE62) for _ in range(15 - len(prefix) - 7))
    suffix = ""
    for i in range(3):
        chunk = body[i * 5 : i * 5 + 5]
        suffix += SF_SUFFIX[sum(1 << j for j, c in enumerate(chunk) if c.isupper())]
    return body + suffix


def gs1_check_digit(body: str) -> str:
    """The GS1 check digit of a GTIN without it: weights 3, 1, 3, … from the right."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return str((10 - total % 10) % 10)


def gtin13_for(company_prefix: str, item_reference: int) -> str:
    """The GTIN-13 of a manufacturer's ``item_reference``-th product, with its check digit."""
    ref_digits = 12 - len(company_prefix)
    body = f"{company_prefix}{item_reference:0{ref_digits}d}"
    return body + gs1_check_digit(body)


def random_duns(rng: Random) -> str:
    return str(rng.randint(10_000_000, 999_999_999)).zfill(9)


def dashed_duns(duns: str) -> str:
    """A DUNS number as D&B prints it: 12-345-6789."""
    return f"{duns[:2]}-{duns[2:5]}-{duns[5:]}"


def random_tax_id(rng: Random, country: str) -> str | None:
    """A tax id valid for python-stdnum, as the owner would write it on an invoice; None when
    this draw did not give one (try again)."""
    if country == "US":
        value = f"{rng.choice(EIN_PREFIXES)}-{rng.randint(0, 9_999_999):07d}"
        module = get_cc_module("us", "tin")
    elif country == "CA":
        body = str(rng.randint(10_000_000, 99_999_999))
        value = f"{body}{luhn.calc_check_digit(body)}RT0001"
        module = get_cc_module("ca", "vat")
    elif country == "GB":
        digits = [rng.randint(1, 9)] + [rng.randint(0, 9) for _ in range(6)]
        total = sum(w * d for w, d in zip((8, 7, 6, 5, 4, 3, 2), digits, strict=True))
        body = "".join(map(str, digits)) + f"{(-total) % 97:02d}"
        value = f"GB{body[:3]} {body[3:7]} {body[7:]}"
        module = get_cc_module("gb", "vat")
    elif country == "DE":
        body = str(rng.randint(10_000_000, 99_999_999))
        value = f"DE{body}{mod_11_10.calc_check_digit(body)}"
        module = get_cc_module("de", "vat")
    elif country == "FR":
        body = str(rng.randint(10_000_000, 99_999_999))
        siren = body + luhn.calc_check_digit(body)
        value = f"FR{int(siren + '12') % 97:02d}{siren}"
        module = get_cc_module("fr", "vat")
    else:  # NL: a BSN-style number (eleven test) with a branch suffix
        digits = [rng.randint(1, 9)] + [rng.randint(0, 9) for _ in range(7)]
        check = sum((9 - i) * d for i, d in enumerate(digits)) % 11
        if check == 10:
            return None
        value = f"NL{''.join(map(str, digits))}{check}B01"
        module = get_cc_module("nl", "vat")
    return value if module.is_valid(value) else None


def tax_id_key(value: str) -> str:
    """The tax id without spaces and dashes, to tell whether two are the same."""
    return re.sub(r"[\s\-]", "", value)
