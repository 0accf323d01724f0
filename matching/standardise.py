"""Standardisers: one per kind of attribute, each turning a raw value into the form records are
compared in. They never raise: a value that cannot be standardised comes back cleaned as far as
possible (a matcher must not drop a record because one field is odd). The raw value is kept
beside the standard one by the caller (matching/features.py).

The string → string standardisers are pure, so they are cached (``functools.lru_cache``, bounded):
exports repeat the same company, street, town and phone many times.
"""

from __future__ import annotations

import gettext
import re
import unicodedata
from bisect import bisect_right
from functools import lru_cache
from typing import Any

import phonenumbers
import pycountry
from cleanco import basename
from cleanco.clean import normalized, strip_punct, strip_tail
from stdnum import ean, get_cc_module
from stdnum.exceptions import ValidationError as StdnumValidationError

from golden_records.attributes import country_code

_NON_ALNUM = re.compile(r"[^0-9a-z]+")
_NOT_DIGIT = re.compile(r"[^0-9]+")
_SPACES = re.compile(r"\s+")
# Letters NFKD does not decompose into ASCII: without this "Straße" folds to "strae".
_FOLD_LETTERS = str.maketrans(
    {
        "ß": "ss",
        "ẞ": "ss",
        "æ": "ae",
        "Æ": "ae",
        "œ": "oe",
        "Œ": "oe",
        "ø": "o",
        "Ø": "o",
        "đ": "d",
        "Đ": "d",
        "ð": "d",
        "Ð": "d",
        "þ": "th",
        "Þ": "th",
        "ł": "l",
        "Ł": "l",
        "\u0131": "i",  # dotless i
    }
)


def fold(text: str) -> str:
    """Lower case, accents removed, every run of punctuation or space one space."""
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text.translate(_FOLD_LETTERS))
        text = text.encode("ascii", "ignore").decode()
    return _NON_ALNUM.sub(" ", text.lower()).strip()


def digits(raw: str) -> str:
    """The decimal digits of a value as ASCII digits ("٣٤٥" → "345"); other characters,
    superscripts and fractions included, are dropped."""
    if raw.isascii():
        return _NOT_DIGIT.sub("", raw)
    out = []
    for ch in raw:
        value = unicodedata.decimal(ch, None)
        if value is not None:
            out.append(str(value))
    return "".join(out)


# Legal forms, as words after folding; cleanco removes the common ones at the end of a name,
# this list also catches them anywhere ("Acme Inc Holdings") and in languages cleanco misses.
LEGAL_FORMS = frozenset(
    """inc incorporated corp corporation co company llc llp lp ltd limited plc gmbh mbh ag kg
    ohg ug sa sas sarl srl spa bv nv oy ab as aps asa oyj pty pte sdn bhd kk lda ltda sl sc
    cv sro zrt kft doo ad pvt pllc pc ltee cie et""".split()  # noqa: SIM905
)
# cleanco's legal forms (word lists, longest first), indexed by their last word: a name whose
# last word ends none of them keeps its words, and a name that may lose some need not be tried
# against all ~300 forms (what makes ``cleanco.basename`` slow).
_CLEANCO_TERMS: list[tuple[int, list[str]]] = basename.keywords["terms"]
_CLEANCO_BY_LAST_WORD: dict[str, list[int]] = {}
for _index, (_, _parts) in enumerate(_CLEANCO_TERMS):
    _CLEANCO_BY_LAST_WORD.setdefault(_parts[-1], []).append(_index)


def cleanco_basename(name: str) -> str:
    """``cleanco.basename(name)`` (suffixes only, its default), the same result without trying
    every legal form: it walks the forms in cleanco's order as cleanco does, but only those
    ending in the name's current last word."""
    name = strip_tail(name)
    words = name.split()
    # cleanco's normalisation (NFKD, case folding, accents off) is ``lower`` for ASCII text.
    normal_name = name.lower() if name.isascii() else normalized(name)
    normal = [strip_punct(part) for part in normal_name.split()]
    position = -1
    while normal:
        candidates = _CLEANCO_BY_LAST_WORD.get(normal[-1], ())
        for index in candidates[bisect_right(candidates, position) :]:
            size, parts = _CLEANCO_TERMS[index]
            if normal[-size:] == parts:
                del normal[-size:]
                del words[-size:]
                position = index
                break
        else:
            break
    return strip_tail(" ".join(words))


def _strip_legal_suffixes(text: str) -> str:
    previous = None
    while text and text != previous:  # cleanco strips one legal form per call
        previous = text
        text = cleanco_basename(text)
    return text


@lru_cache(maxsize=65536)
def company_name(raw: str) -> str:
    """ "ACME Corp." and "Acme Corporation, Inc." → "acme"; "&" and "and" agree; "Müller GmbH &
    Co. KG" → "muller" (legal forms go first, so no "and" is left dangling)."""
    text = _strip_legal_suffixes(raw.replace("+", " & "))
    words = _join_initials(fold(text.replace("&", " and ")).split())
    kept = []
    for index, word in enumerate(words):
        if word in LEGAL_FORMS:
            continue
        if word == "and" and _joins_a_legal_form(words, index):
            continue
        kept.append(word)
    if kept and kept[0] == "the":
        kept = kept[1:]
    return " ".join(kept) or fold(raw)


def _join_initials(words: list[str]) -> list[str]:
    """Runs of one-letter words are one word: "S.à r.l." → "sarl", "J. B. Hunt" → "jb hunt"."""
    out: list[str] = []
    run = ""
    for word in words:
        if len(word) == 1 and word.isalpha():
            run += word
            continue
        if run:
            out.append(run)
            run = ""
        out.append(word)
    if run:
        out.append(run)
    return out


def _joins_a_legal_form(words: list[str], index: int) -> bool:
    """An "and" at either end, or next to a legal form ("GmbH & Co. KG", "Smith & Co")."""
    before = words[index - 1] if index > 0 else None
    after = words[index + 1] if index + 1 < len(words) else None
    return before is None or after is None or before in LEGAL_FORMS or after in LEGAL_FORMS


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
    # German "Straße" (folded "strasse") and its abbreviation "Str." are the same suffix.
    "strasse": "st",
    "mount": "mt",
    "fort": "ft",
    "saint": "st",
}
# German street names write the suffix into the word: "Hauptstraße" = "Hauptstr." = "Haupt Str".
_GERMAN_STREET = re.compile(r"^([a-z]{3,}?)(strasse|str)$")


def _street_word(word: str) -> str:
    standard = STREET_WORDS.get(word)
    if standard is not None:
        return standard
    compound = _GERMAN_STREET.match(word)
    return f"{compound.group(1)} st" if compound else word


@lru_cache(maxsize=65536)
def street(raw: str) -> str:
    """ "5609 Pleasant Way, Suite 4" → "5609 pleasant way ste 4"; "Hauptstraße 5" → "haupt st 5"."""
    text = raw.replace("#", " unit ")
    words = fold(text).split()
    for index in range(len(words) - 1):
        if words[index] == "p" and words[index + 1] == "o":  # "P.O. Box"
            words[index : index + 2] = ["po"]
            break
    return " ".join(_street_word(w) for w in words)


_RUN_TOGETHER = re.compile(r"(\d+)[a-z]{3,}")


def house_number(standard_street: str) -> str:
    """The first number of a standardised street line ("" when there is none): "12a" with its
    letter, "4359" of "4359church" (run together with the street's name), the digits of a
    garbled "4z96"."""
    for word in standard_street.split():
        if word[:1].isdigit():
            if _STREET_NUMBER.fullmatch(word):
                return word
            run_together = _RUN_TOGETHER.fullmatch(word)
            return run_together.group(1) if run_together else _NOT_DIGIT.sub("", word)
    return ""


_ZIP_PLUS_FOUR = re.compile(r"^\d{5}[\s-]\d{4}$")


@lru_cache(maxsize=65536)
def postal_code(raw: str, country: str | None = None) -> str:
    """Upper case without spaces; a US ZIP that lost its leading zeros gets them back and a
    ZIP+4 keeps its five-digit ZIP ("021341234" and "21341234", a ZIP+4 a spreadsheet stored
    as a number, → "02134"). Without a country only the unmistakable "02134-1234" is trimmed:
    elsewhere eight digits are a postal code of their own (Brazil's CEP)."""
    stripped = raw.strip()
    text = re.sub(r"[\s-]", "", stripped.upper())
    if country == "US" and text.isascii() and text.isdigit():
        if len(text) in (3, 4):
            text = text.zfill(5)
        elif len(text) in (8, 9):
            text = text.zfill(9)[:5]
    elif country is None and stripped.isascii() and _ZIP_PLUS_FOUR.match(stripped):
        text = text[:5]
    return text


# Number formats of North American (NANP) numbers that need no parser: "540-555-0173",
# "(540) 555.0173", "+1 540 555 0173", "1-540-555-0173" (an area code never starts with 0 or 1).
_NANP = re.compile(r"^(?:\+?1[\s.-]?)?\(?([2-9]\d\d)\)?[\s.-]?(\d{3})[\s.-]?(\d{4})$")
_NANP_REGIONS = frozenset({None, "US", "CA"})


@lru_cache(maxsize=131072)
def phone(raw: str, country: str | None = None) -> tuple[str, str]:
    """E.164 and extension; a number that does not parse keeps its digits."""
    if country in _NANP_REGIONS:
        plain = _NANP.match(raw.strip())
        if plain is not None:  # what phonenumbers gives, thirty times faster
            return "+1" + "".join(plain.groups()), ""
    try:
        number = phonenumbers.parse(raw, country or "US")
    except phonenumbers.NumberParseException:
        found = digits(raw)
        return (f"+{found}" if found else "", "")
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return e164, digits(number.extension or "").lstrip("0")


def email(raw: str) -> str:
    return raw.strip().lower()


@lru_cache(maxsize=65536)
def website_domain(raw: str) -> str:
    """ "https://WWW.Acme.example/contact" → "acme.example"."""
    text = raw.strip().lower()
    text = re.sub(r"^[a-z][a-z0-9+.-]*://", "", text)
    text = text.split("/", 1)[0].split("?", 1)[0].split("@")[-1].split(":", 1)[0]
    return text.removeprefix("www.").strip(".")


def email_domain(standard_email: str) -> str:
    return standard_email.rpartition("@")[2]


@lru_cache(maxsize=65536)
def gtin(raw: str) -> tuple[str, bool]:
    """GTIN-14 and whether its check digit is valid (UPC-A, EAN-8/13 and GTIN-14 agree)."""
    found = digits(raw)
    if len(found) in (8, 12, 13, 14):
        try:
            ean.validate(found)
            return found.zfill(14), True
        except StdnumValidationError:
            pass
    return found.zfill(14) if found else "", False


@lru_cache(maxsize=65536)
def code(raw: str) -> str:
    """SKU, MPN, location code: case and separators do not count ("ab-12/3" → "AB123")."""
    return re.sub(r"[\W_]+", "", raw.upper())


@lru_cache(maxsize=65536)
def duns(raw: str) -> str:
    found = digits(raw)
    return found.zfill(9) if 0 < len(found) <= 9 else found


def tax_id(raw: str, country: str | None = None) -> str:
    """Compact form with its country prefix: "de 136 695 976" → "DE136695976". Two countries'
    ids with the same digits stay apart (GB123456789 is not DE123456789).

    A value without a prefix takes ``country`` (the record's ISO country code) when there is
    one: "123456789" sent with country DE is "DE123456789", as the sender's "DE 123456789" is.
    It does so whether or not the check digits are right, so a mistyped id and the same typo
    sent with its prefix still agree. Without a prefix or a country it stays bare (the caller
    must not compare a bare id with prefixed ones as if it were one: features.py gives such a
    record no ``tax_id`` feature). "EL" (Greece's VAT prefix) is "GR".
    """
    return "".join(tax_id_parts(raw, country))


@lru_cache(maxsize=65536)
def tax_id_parts(raw: str, country: str | None = None) -> tuple[str, str]:
    """``tax_id`` as (country, national part); the country is "" when not known."""
    text = fold(raw).replace(" ", "").upper()
    prefix = _tax_prefix(text)
    if prefix:
        return prefix, text[2:]
    if text and country in _COUNTRY_CODES:
        return country, text
    return "", text


def _tax_prefix(text: str) -> str:
    """The country whose code starts ``text`` ("" when none does): two letters that are a
    country code, followed by a digit or making a valid tax id of that country."""
    if len(text) <= 2 or not text[:2].isalpha():
        return ""
    country = "GR" if text[:2] == "EL" else text[:2]
    if country not in _COUNTRY_CODES:
        return ""
    if text[2].isdigit():
        return country
    # Letters after the prefix ("ESB58378431", "CHE123456789MWST"): a prefix if python-stdnum
    # says so; otherwise the letters are the id's own ("SC123456" is no Seychelles id).
    module = _tax_module(country)
    return country if module is not None and module.is_valid(text) else ""


@lru_cache(maxsize=256)
def _tax_module(country: str) -> Any:
    """python-stdnum's VAT (else TIN) module for a country; None when it has neither."""
    for kind in ("vat", "tin"):
        try:
            module = get_cc_module(country.lower(), kind)
        except (ImportError, ValueError):
            module = None
        if module is not None:
            return module
    return None


_COUNTRY_CODES = frozenset(c.alpha_2 for c in pycountry.countries)
# Common names pycountry does not know (it has the English short and official names).
COUNTRY_ALIASES = {
    "america": "US",
    "united states of america": "US",
    "us of a": "US",
    "great britain": "GB",
    "britain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "northern ireland": "GB",
    "holland": "NL",
    "the netherlands": "NL",
    "russia": "RU",
    "korea": "KR",
    "turkey": "TR",
    "ivory coast": "CI",
    "burma": "MM",
    "macedonia": "MK",
    "swaziland": "SZ",
    "cape verde": "CV",
    "vatican": "VA",
    "vatican city": "VA",
    "czech republic": "CZ",
    "uae": "AE",
    "emirates": "AE",
    "prc": "CN",
}
# Languages whose names for countries a record may carry ("Deutschland", "Allemagne", "España").
_COUNTRY_NAME_LANGUAGES = """de fr es it nl pt pt_BR sv da nb_NO fi pl cs sk hu ro tr hr sl et
    lt lv el ru uk bg zh_CN ja ko""".split()  # noqa: SIM905


def _name_key(text: str) -> str:
    """Folded; names in other scripts (which fold to nothing) case-folded instead."""
    return fold(text) or _SPACES.sub(" ", text.casefold()).strip()


@lru_cache(maxsize=1)
def _country_names() -> dict[str, str]:
    """Folded country name in the languages above (and common aliases) → ISO alpha-2 code."""
    names = dict(COUNTRY_ALIASES)
    english = {}
    for c in pycountry.countries:
        for attr in ("name", "common_name", "official_name"):
            value = getattr(c, attr, None)
            if value:
                english[value] = c.alpha_2
                names.setdefault(_name_key(value), c.alpha_2)
    for language in _COUNTRY_NAME_LANGUAGES:
        try:
            catalog = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, [language])
        except OSError:
            continue
        for value, alpha_2 in english.items():
            local = catalog.gettext(value)
            if local != value:
                names.setdefault(_name_key(local), alpha_2)
    names.pop("", None)
    return names


@lru_cache(maxsize=4096)
def country(raw: str) -> str:
    """ISO 3166-1 alpha-2 code from a code, an English, common or local name ("Deutschland" →
    "DE"); an unknown country is folded, not dropped."""
    key = _name_key(raw)
    return country_code(raw) or _country_names().get(key) or key.upper()


# English and other names of subdivisions that pycountry (local official names, and a few
# English ones in its translations) does not have: ISO 3166-2 codes.
REGION_ALIASES = {
    "north rhine westphalia": "DE-NW",
    "lower saxony": "DE-NI",
    "thuringia": "DE-TH",
    "saxony": "DE-SN",
    "saxony anhalt": "DE-ST",
    "hesse": "DE-HE",
    "rhineland palatinate": "DE-RP",
    "mecklenburg western pomerania": "DE-MV",
    "mecklenburg west pomerania": "DE-MV",
    "vienna": "AT-9",
    "lower austria": "AT-3",
    "upper austria": "AT-4",
    "styria": "AT-6",
    "carinthia": "AT-2",
    "tyrol": "AT-7",
    "zurich": "CH-ZH",
    "geneva": "CH-GE",
    "bern": "CH-BE",
    "lucerne": "CH-LU",
    "grisons": "CH-GR",
    "lombardy": "IT-25",
    "tuscany": "IT-52",
    "piedmont": "IT-21",
    "sicily": "IT-82",
    "sardinia": "IT-88",
    "apulia": "IT-75",
    "catalonia": "ES-CT",
    "andalusia": "ES-AN",
    "basque country": "ES-PV",
    "balearic islands": "ES-IB",
    "canary islands": "ES-CN",
    "north holland": "NL-NH",
    "south holland": "NL-ZH",
    "north brabant": "NL-NB",
    "flanders": "BE-VLG",
    "wallonia": "BE-WAL",
    "brussels": "BE-BRU",
    "colombie britannique": "CA-BC",
    "terre neuve et labrador": "CA-NL",
    "nouvelle ecosse": "CA-NS",
    "nouveau brunswick": "CA-NB",
    "ile du prince edouard": "CA-PE",
    "territoires du nord ouest": "CA-NT",
}
_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"})


def _subdivision_name_variants(name: str) -> list[str]:
    """ "Madrid, Comunidad de" → also "comunidad de madrid" and "madrid"; "Catalunya
    [Cataluña]" → also "catalunya" and "cataluna"; "Thüringen" → also "thueringen"."""
    variants = [name]
    bracket = re.match(r"^(.*?)\s*\[(.*)\]$", name)
    if bracket:
        variants += [bracket.group(1), bracket.group(2)]
    for part in list(variants):
        variants += [p for p in re.split(r"\s*/\s*", part) if p]
        if "," in part:
            head, _, tail = part.partition(",")
            variants += [head, f"{tail} {head}"]
    variants += [v.translate(_UMLAUTS) for v in variants if v.translate(_UMLAUTS) != v]
    return variants


@lru_cache(maxsize=1)
def _subdivision_codes() -> dict[str, str]:
    """Folded subdivision name → its code without the country ("tennessee" → "TN", "bayern" and
    "bavaria" → "BY"). Where names collide the first found wins: pycountry's official names
    first, then the aliases, the variants and the English translations."""
    codes: dict[str, str] = {}
    subdivisions = list(pycountry.subdivisions)
    for sub in subdivisions:
        codes.setdefault(fold(sub.name), sub.code.split("-", 1)[1])
    for alias, iso in REGION_ALIASES.items():
        codes.setdefault(alias, iso.split("-", 1)[1])
    english = gettext.translation("iso3166-2", pycountry.LOCALES_DIR, ["en"], fallback=True)
    for sub in subdivisions:
        short = sub.code.split("-", 1)[1]
        names = _subdivision_name_variants(sub.name)
        translated = english.gettext(sub.name)
        if translated != sub.name:
            names += _subdivision_name_variants(translated)
        for variant in names:
            codes.setdefault(fold(variant), short)
    codes.pop("", None)
    return codes


@lru_cache(maxsize=16384)
def region(raw: str) -> str:
    """A region as its code where one is known ("Tennessee" and "TN" → "TN"; "Bayern" and
    "Bavaria" → "BY")."""
    folded = fold(raw)
    return _subdivision_codes().get(folded, folded.replace(" ", "").upper())


@lru_cache(maxsize=16384)
def label(raw: str) -> str:
    """A free label (industry, category, kind): "HOME_AND_GARDEN" and "Home & Garden" agree."""
    words = fold(raw.replace("&", " and ")).split()
    return " ".join(w for w in words if w != "and")


# Free text keeps what makes a number: "2.5 mm" stays "2.5 mm" (a point between digits is no
# separator), "30,000 lm" is "30000 lm", "2,5 mm" is "2.5 mm", and a fraction of inches is its
# decimal ("1/2 in" and "0.5 in" agree; "1-1/2" and "1 1/2" are "1.5"; "½" is "1/2").
_NON_ALNUM_KEEP_DECIMALS = re.compile(r"(?:[^0-9a-z.]|(?<![0-9])\.|\.(?![0-9]))+")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?![\d,.]))")
_DECIMAL_COMMA = re.compile(r"(?<![\d,.])(\d{1,3}),(\d{1,2})(?![\d,.])")
_FRACTION = re.compile(
    r"(?<![\d./])(?:(\d{1,3})(?:\s+|-))?(\d{1,2})\s*[/\u2044]\s*(\d{1,2})(?![\d/])"
)
_FRACTION_DENOMINATORS = frozenset({2, 3, 4, 8, 16, 32, 64})
_VULGAR_FRACTIONS = str.maketrans(
    {
        "½": " 1/2",
        "⅓": " 1/3",
        "⅔": " 2/3",
        "¼": " 1/4",
        "¾": " 3/4",
        "⅛": " 1/8",
        "⅜": " 3/8",
        "⅝": " 5/8",
        "⅞": " 7/8",
    }
)


def _decimal(match: re.Match[str]) -> str:
    whole, numerator, denominator = match.group(1), int(match.group(2)), int(match.group(3))
    if denominator not in _FRACTION_DENOMINATORS or not 0 < numerator < denominator:
        return match.group(0)
    value = (int(whole) if whole else 0) + numerator / denominator
    return f"{value:.4f}".rstrip("0").rstrip(".")


def _numbers_written_out(raw: str) -> str:
    """Fractions as decimals, thousands separators dropped, decimal commas as points."""
    if not raw.isascii():
        raw = raw.translate(_VULGAR_FRACTIONS)
    if "/" in raw or "\u2044" in raw:
        raw = _FRACTION.sub(_decimal, raw)
    if "," in raw:
        raw = _DECIMAL_COMMA.sub(r"\1.\2", _THOUSANDS.sub("", raw))
    return raw


@lru_cache(maxsize=65536)
def text(raw: str) -> str:
    """Folded free text (a product name, a town) whose numbers keep their value: "Screw #10 x
    1/2\", 1,000 pcs" → "screw 10 x 0.5 1000 pcs"."""
    value = _numbers_written_out(raw)
    if not value.isascii():
        value = unicodedata.normalize("NFKD", value.translate(_FOLD_LETTERS))
        value = value.encode("ascii", "ignore").decode()
    return _NON_ALNUM_KEEP_DECIMALS.sub(" ", value.lower()).strip()


_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def _number_value(token: str) -> str:
    """A number written one way: "05" → "5", "2.50" → "2.5", "6.0" → "6"."""
    whole, _, fraction = token.partition(".")
    whole = whole.lstrip("0") or "0"
    fraction = fraction.rstrip("0")
    return f"{whole}.{fraction}" if fraction else whole


@lru_cache(maxsize=65536)
def numbers(standard: str) -> tuple[str, ...]:
    """The numbers of a standardised text or street, in order, each written one way: sizes,
    gauges, model and house numbers ("m8 x 40" → ("8", "40"); "no 05" → ("5",))."""
    return tuple(_number_value(token) for token in _NUMBER.findall(standard))


_STREET_NUMBER = re.compile(r"(\d+)[a-z]{0,2}")


@lru_cache(maxsize=65536)
def street_numbers(standard_street: str) -> tuple[str, ...]:
    """The numbers of a standardised street line (house, suite, unit numbers) without leading
    zeros: "12a", "12" and "012" are 12 (the letter, a unit, is compared as text), as "1st"
    is 1. A word with letters before or among its digits ("4z96", "b12") is a garbled number or
    a road's name ("a1"): no number anyone could rely on, so it is left out."""
    out = []
    for word in standard_street.split():
        if word[:1].isdigit():
            found = _STREET_NUMBER.fullmatch(word)
            if found:
                out.append(found.group(1).lstrip("0") or "0")
    return tuple(out)


@lru_cache(maxsize=65536)
def code_numbers(standard_code: str) -> str:
    """The digits of a standardised code without leading zeros ("SAF010026" → "10026", "WH12"
    and "FAC0012" → "12"); "" when it has none."""
    found = _NOT_DIGIT.sub("", standard_code)
    return found.lstrip("0") or ("0" if found else "")
