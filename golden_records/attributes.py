"""Attribute kinds: how one attribute is normalised, validated, stored and compared.

A domain (golden_records/domains.py) is a list of attributes, each of one kind below. The kind
decides three things, once for every domain that uses it:

* ``normalise(raw, record)`` turns what a source system sent into the canonical JSON value, or
  raises ``AttributeValueError`` with a stable error code. ``record`` is the whole raw record, so
  that a phone number can take its default region from the record's country; when the record has
  none, the sending system's default country under ``DEFAULT_COUNTRY`` (golden_records/pipeline.py).
* ``warnings(canonical, record)``: what a source system should know about a value that was
  accepted (a tax id kept without a country), with stable codes; never a reason to refuse it.
* ``model_field()`` is the typed column on the golden record.
* ``to_python(canonical)`` / ``to_json(python)`` convert between the canonical JSON form (kept on
  source records and compared by survivorship) and the golden record's typed value.

Canonical values are JSON-safe: decimals are strings (never floats), dates ISO strings.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

import phonenumbers
import pycountry
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.db import models
from stdnum import ean
from stdnum.exceptions import ValidationError as StdnumValidationError
from stdnum.util import get_cc_module

EMPTY = (None, "")

DEFAULT_COUNTRY = "@default_country"
"""Key of the record a kind normalises against that holds the sending system's default country
(``SourceSystem.default_country``). The kinds that read the record's country read it when the
record has no country of its own. It is never part of the stored payload or canonical record, and
no attribute can have this name."""


class AttributeValueError(ValueError):
    """A value that cannot be accepted. ``code`` is stable and documented in the API."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class AttributeWarning:
    """A value accepted as it is, with something the sender should know. ``code`` is stable."""

    code: str
    message: str


def collapse_whitespace(value: str) -> str:
    return " ".join(value.split())


def as_text(raw: Any) -> str:
    if isinstance(raw, bool) or not isinstance(raw, str | int | float | Decimal):
        raise AttributeValueError("invalid_type", "Expected a string.")
    return collapse_whitespace(str(raw))


@dataclass(frozen=True, kw_only=True)
class Attribute:
    """One attribute of a domain. Subclasses are the kinds."""

    name: str
    required: bool = False
    identifier: bool = False
    """Strong identifier: equal values link source records to the same golden record."""
    label: str = ""
    help_text: str = ""

    json_type: str = field(default="string", init=False)

    def normalise(self, raw: Any, record: dict[str, Any]) -> Any:
        raise NotImplementedError

    def clean(self, raw: Any, record: dict[str, Any]) -> Any:
        """Canonical value for ``raw``; ``None`` when the source sent nothing."""
        if raw in EMPTY or (isinstance(raw, str) and not raw.strip()):
            return None
        return self.normalise(raw, record)

    def warnings(self, canonical: Any, record: dict[str, Any]) -> tuple[AttributeWarning, ...]:
        """What the sender should know about the accepted value ``canonical``; nothing for most
        kinds."""
        return ()

    def model_field(self) -> models.Field:
        raise NotImplementedError

    def to_python(self, canonical: Any) -> Any:
        return canonical

    def to_json(self, value: Any) -> Any:
        return value if value not in EMPTY else None

    def match_value(self, canonical: Any) -> Any:
        """The form two values are compared in when linking (e-mail local parts ignore case)."""
        return canonical

    @property
    def verbose_name(self) -> str:
        return self.label or self.name.replace("_", " ")


@dataclass(frozen=True, kw_only=True)
class Text(Attribute):
    max_length: int = 255
    multiline: bool = False

    def normalise(self, raw: Any, record: dict[str, Any]) -> str:
        if self.multiline:
            if not isinstance(raw, str):
                raise AttributeValueError("invalid_type", "Expected a string.")
            value = raw.strip()
        else:
            value = as_text(raw)
        if len(value) > self.max_length:
            raise AttributeValueError(
                "too_long", f"At most {self.max_length} characters ({len(value)} given)."
            )
        return value

    def model_field(self) -> models.Field:
        if self.multiline:
            return models.TextField(self.verbose_name, blank=True, default="")
        return models.CharField(
            self.verbose_name, max_length=self.max_length, blank=True, default=""
        )

    def to_python(self, canonical: Any) -> Any:
        return canonical if canonical is not None else ""


@dataclass(frozen=True, kw_only=True)
class Code(Text):
    """An identifier-like code (SKU, MPN, location code), stored upper-case."""

    max_length: int = 64

    def normalise(self, raw: Any, record: dict[str, Any]) -> str:
        return super().normalise(raw, record).upper()


@dataclass(frozen=True, kw_only=True)
class Email(Text):
    max_length: int = 254

    def normalise(self, raw: Any, record: dict[str, Any]) -> str:
        value = super().normalise(raw, record)
        local, _, domain = value.rpartition("@")
        value = f"{local}@{domain.lower()}" if local else value
        try:
            EmailValidator()(value)
        except ValidationError as exc:
            raise AttributeValueError(
                "invalid_email", f"{value!r} is not an email address."
            ) from exc
        return value

    def model_field(self) -> models.Field:
        return models.EmailField(self.verbose_name, max_length=254, blank=True, default="")

    def match_value(self, canonical: Any) -> Any:
        return canonical.lower() if canonical else canonical


@dataclass(frozen=True, kw_only=True)
class Phone(Text):
    """A phone number in E.164, an extension kept as ``;ext=``; the region comes from the
    record's country when the number has no international prefix (else from the sending system's
    default country, else US)."""

    max_length: int = 40
    country_attribute: str = "country"

    def normalise(self, raw: Any, record: dict[str, Any]) -> str:
        value = super().normalise(raw, record)
        region = (
            country_code(record.get(self.country_attribute)) or record.get(DEFAULT_COUNTRY) or "US"
        )
        try:
            number = phonenumbers.parse(value, region)
        except phonenumbers.NumberParseException as exc:
            raise AttributeValueError("invalid_phone", f"{value!r} is not a phone number.") from exc
        if not phonenumbers.is_possible_number(number):
            raise AttributeValueError("invalid_phone", f"{value!r} is not a possible phone number.")
        e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        return f"{e164};ext={number.extension}" if number.extension else e164


@dataclass(frozen=True, kw_only=True)
class Website(Text):
    """A web address, stored with scheme and a lower-case host."""

    max_length: int = 255

    def normalise(self, raw: Any, record: dict[str, Any]) -> str:
        value = super().normalise(raw, record)
        if "://" not in value:
            value = f"https://{value}"
        scheme, _, rest = value.partition("://")
        host, sep, path = rest.partition("/")
        value = f"{scheme.lower()}://{host.lower()}{sep}{path}".rstrip("/")
        try:
            URLValidator(schemes=["http", "https"])(value)
        except ValidationError as exc:
            raise AttributeValueError("invalid_url", f"{raw!r} is not a web address.") from exc
        return value


@lru_cache(maxsize=4096)
def _country_lookup(text: str) -> str | None:
    try:
        return pycountry.countries.lookup(text).alpha_2
    except LookupError:
        return None


def country_code(raw: Any) -> str | None:
    """ISO 3166-1 alpha-2 code for a code (alpha-2/3, numeric) or English name; None if unknown."""
    if not isinstance(raw, str) or not raw.strip():
        return None
    text = collapse_whitespace(raw)
    aliases = {"UK": "GB", "USA": "US", "U.S.": "US", "U.S.A.": "US", "UNITED STATES": "US"}
    return aliases.get(text.upper()) or _country_lookup(text)


@dataclass(frozen=True, kw_only=True)
class Country(Attribute):
    def normalise(self, raw: Any, record: dict[str, Any]) -> str:
        code = country_code(as_text(raw))
        if code is None:
            raise AttributeValueError(
                "invalid_country", f"{raw!r} is not an ISO 3166-1 country code or name."
            )
        return code

    def model_field(self) -> models.Field:
        return models.CharField(self.verbose_name, max_length=2, blank=True, default="")

    def to_python(self, canonical: Any) -> Any:
        return canonical or ""


@lru_cache(maxsize=512)
def _currency_lookup(text: str) -> str | None:
    found = pycountry.currencies.get(alpha_3=text.upper()) if len(text) == 3 else None
    if found is None:
        try:
            found = pycountry.currencies.lookup(text)
        except LookupError:
            return None
    return found.alpha_3


@dataclass(frozen=True, kw_only=True)
class Currency(Attribute):
    def normalise(self, raw: Any, record: dict[str, Any]) -> str:
        code = _currency_lookup(as_text(raw))
        if code is None:
            raise AttributeValueError("invalid_currency", f"{raw!r} is not an ISO 4217 currency.")
        return code

    def model_field(self) -> models.Field:
        return models.CharField(self.verbose_name, max_length=3, blank=True, default="")

    def to_python(self, canonical: Any) -> Any:
        return canonical or ""


@dataclass(frozen=True, kw_only=True)
class PostalCode(Text):
    max_length: int = 20

    def normalise(self, raw: Any, record: dict[str, Any]) -> str:
        return super().normalise(raw, record).upper()


def gtin14(raw: Any) -> str:
    """A GTIN-8/12/13/14 (UPC, EAN) as GTIN-14, check digit verified."""
    digits = re.sub(r"[\s-]", "", as_text(raw))
    if not digits.isdigit() or len(digits) not in (8, 12, 13, 14):
        raise AttributeValueError("invalid_gtin", f"{raw!r} is not a GTIN-8, -12, -13 or -14.")
    try:
        ean.validate(digits)
    except StdnumValidationError as exc:
        raise AttributeValueError("invalid_gtin", f"{raw!r} has a wrong check digit.") from exc
    return digits.zfill(14)


@dataclass(frozen=True, kw_only=True)
class Gtin(Attribute):
    def normalise(self, raw: Any, record: dict[str, Any]) -> str:
        return gtin14(raw)

    def model_field(self) -> models.Field:
        return models.CharField("GTIN-14", max_length=14, blank=True, default="")

    def to_python(self, canonical: Any) -> Any:
        return canonical or ""


@dataclass(frozen=True, kw_only=True)
class TaxId(Text):
    """A tax id. Where python-stdnum knows the country's VAT or TIN format, the check digits are
    verified; elsewhere the compact form (no spaces, dots, dashes; upper case) is kept.

    Its country is its own prefix, else the record's country, else the sending system's default
    country. A tax id without any of them is kept (compact, without a prefix), with the warning
    ``tax_id_without_country``: the matcher cannot tell it from the same digits of another
    country, so it does not match on it (matching/features.py)."""

    max_length: int = 32
    country_attribute: str = "country"

    def normalise(self, raw: Any, record: dict[str, Any]) -> str:
        value = re.sub(r"[\s.\-/]", "", super().normalise(raw, record)).upper()
        prefix = _tax_id_prefix(value)
        own = country_code(record.get(self.country_attribute))
        country = prefix or own or record.get(DEFAULT_COUNTRY)
        module = _tax_module(country) if country else None
        if module is None:
            if country and not prefix and not own and value[:1].isdigit():
                # The system's default country is not in the stored record, where the matcher
                # would read it (as it reads a record's own country): the value carries it.
                return f"{country}{value}"
            return value
        try:
            number = module.compact(module.validate(value))
        except StdnumValidationError as exc:
            raise AttributeValueError(
                "invalid_tax_id", f"{raw!r} is not a valid tax id for {country}."
            ) from exc
        # One form whether or not the sender wrote the country prefix: "DE136695976".
        return number if number[:2] == country else f"{country}{number}"

    def warnings(self, canonical: Any, record: dict[str, Any]) -> tuple[AttributeWarning, ...]:
        sent = record.get(self.country_attribute)
        if not (sent in EMPTY or (isinstance(sent, str) and not sent.strip())):
            return ()  # the record's country: the matcher reads it (or its error is reported)
        if _matchable_prefix(canonical):
            return ()
        default = record.get(DEFAULT_COUNTRY)
        if default:
            # Only a value starting with letters, of a country python-stdnum has no format for.
            why = (
                f"no prefix, no {self.country_attribute} in the record; the system's default "
                f"country {default} has no known tax id format to tell a prefix from the id's own "
                "letters"
            )
        else:
            why = (
                f"no prefix, no {self.country_attribute} in the record, no default country of "
                "the sending system"
            )
        return (
            AttributeWarning(
                "tax_id_without_country",
                f"{canonical!r} has no country ({why}): it is kept, but not used to match until "
                "a country, a prefix or the system's default country is known.",
            ),
        )

    def match_value(self, canonical: Any) -> Any:
        """The national part: a tax id stored with its country prefix (sent with a country) and
        the same number stored without (sent without one) are one identifier."""
        if (
            canonical
            and len(canonical) > 2
            and canonical[:2].isalpha()
            and canonical[2:3].isdigit()
        ):
            return canonical[2:]
        return canonical


def _tax_id_prefix(value: str) -> str | None:
    """The country a compact tax id starts with ("EL", Greece's VAT prefix, is GR); None when its
    first two characters are no country code."""
    if len(value) <= 2 or not value[:2].isalpha():
        return None
    return "GR" if value[:2] == "EL" else _country_lookup(value[:2])


def _matchable_prefix(canonical: str) -> bool:
    """Whether the matcher reads a country prefix in ``canonical`` (the rule of
    matching.standardise.tax_id_parts): a country code followed by a digit, or by letters that
    make a valid tax id of that country ("ESB58378431")."""
    country = _tax_id_prefix(canonical)
    if country is None:
        return False
    if canonical[2].isdigit():
        return True
    module = _tax_module(country)
    return module is not None and module.is_valid(canonical)


@lru_cache(maxsize=256)
def _tax_module(country: str) -> Any:
    for kind in ("vat", "tin"):
        try:
            module = get_cc_module(country.lower(), kind)
        except (ImportError, ValueError):
            module = None
        if module is not None:
            return module
    return None


@dataclass(frozen=True, kw_only=True)
class Duns(Attribute):
    def normalise(self, raw: Any, record: dict[str, Any]) -> str:
        digits = re.sub(r"[\s-]", "", as_text(raw))
        if not digits.isdigit() or len(digits) != 9:
            raise AttributeValueError("invalid_duns", f"{raw!r} is not a 9-digit DUNS number.")
        return digits

    def model_field(self) -> models.Field:
        return models.CharField("DUNS", max_length=9, blank=True, default="")

    def to_python(self, canonical: Any) -> Any:
        return canonical or ""


THOUSANDS = re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d+)?")


def parse_decimal(raw: Any) -> Decimal:
    if isinstance(raw, bool):
        raise AttributeValueError("invalid_type", "Expected a number.")
    if isinstance(raw, float):
        # Floats lose cents (0.1 + 0.2); the JSON parser hands decimals, so a float here means a
        # caller bypassed it. Accept it through its shortest repr, never its binary value.
        raw = repr(raw)
    if isinstance(raw, int | Decimal):
        value = Decimal(raw)
    elif isinstance(raw, str):
        text = raw.strip()
        if "," in text:
            # Only thousands separators ("1,234.50"); a decimal comma ("12,50") is ambiguous and
            # would silently change the value, so it is refused.
            if not THOUSANDS.fullmatch(text):
                raise AttributeValueError(
                    "invalid_number", f"{raw!r} is not a number (use a decimal point)."
                )
            text = text.replace(",", "")
        try:
            value = Decimal(text)
        except InvalidOperation as exc:
            raise AttributeValueError("invalid_number", f"{raw!r} is not a number.") from exc
    else:
        raise AttributeValueError("invalid_type", "Expected a number.")
    if not value.is_finite():
        raise AttributeValueError("invalid_number", f"{raw!r} is not a finite number.")
    return value


@dataclass(frozen=True, kw_only=True)
class Number(Attribute):
    """A decimal quantity. ``min_value`` is inclusive; ``positive`` excludes zero."""

    max_digits: int = 15
    """15 significant digits: exact in every supported database (SQLite keeps doubles)."""
    decimal_places: int = 4
    min_value: Decimal | None = None
    max_value: Decimal | None = None
    positive: bool = False
    json_type: str = field(default="number", init=False)

    def normalise(self, raw: Any, record: dict[str, Any]) -> str:
        value = parse_decimal(raw)
        if value < 0 and self.min_value is not None and self.min_value >= 0:
            raise AttributeValueError("negative_value", f"Must not be negative ({value}).")
        if self.min_value is not None and value < self.min_value:
            raise AttributeValueError("min_value", f"Must be at least {self.min_value}.")
        if self.max_value is not None and value > self.max_value:
            raise AttributeValueError("max_value", f"Must be at most {self.max_value}.")
        if self.positive and value <= 0:
            raise AttributeValueError("not_positive", f"Must be greater than zero ({value}).")
        if value and value.adjusted() >= self.max_digits - self.decimal_places:
            raise AttributeValueError(
                "too_large",
                f"At most {self.max_digits - self.decimal_places} digits before the point.",
            )
        quantum = Decimal(1).scaleb(-self.decimal_places)
        if value != value.quantize(quantum):
            raise AttributeValueError(
                "too_many_decimals", f"At most {self.decimal_places} decimal places."
            )
        if len(value.quantize(quantum).as_tuple().digits) > self.max_digits:
            raise AttributeValueError("too_large", f"At most {self.max_digits} digits.")
        return format(value.normalize(), "f")

    def model_field(self) -> models.Field:
        return models.DecimalField(
            self.verbose_name,
            max_digits=self.max_digits,
            decimal_places=self.decimal_places,
            null=True,
            blank=True,
        )

    def to_python(self, canonical: Any) -> Any:
        return Decimal(canonical) if canonical is not None else None

    def to_json(self, value: Any) -> Any:
        return format(Decimal(value).normalize(), "f") if value is not None else None


@dataclass(frozen=True, kw_only=True)
class Integer(Attribute):
    min_value: int | None = None
    json_type: str = field(default="integer", init=False)

    def normalise(self, raw: Any, record: dict[str, Any]) -> int:
        if isinstance(raw, bool):
            raise AttributeValueError("invalid_type", "Expected a whole number.")
        value = parse_decimal(raw)
        if value != value.to_integral_value():
            raise AttributeValueError("invalid_integer", f"{raw!r} is not a whole number.")
        if value.adjusted() >= 18:
            raise AttributeValueError("too_large", "At most 18 digits.")
        number = int(value)
        if self.min_value is not None and number < self.min_value:
            code = "negative_value" if number < 0 else "min_value"
            raise AttributeValueError(code, f"Must be at least {self.min_value}.")
        return number

    def model_field(self) -> models.Field:
        return models.BigIntegerField(self.verbose_name, null=True, blank=True)


@dataclass(frozen=True, kw_only=True)
class Boolean(Attribute):
    json_type: str = field(default="boolean", init=False)

    TRUE = frozenset({"true", "t", "yes", "y", "1", "on", "x"})
    FALSE = frozenset({"false", "f", "no", "n", "0", "off"})

    def normalise(self, raw: Any, record: dict[str, Any]) -> bool:
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in self.TRUE:
            return True
        if text in self.FALSE:
            return False
        raise AttributeValueError("invalid_boolean", f"{raw!r} is not true or false.")

    def model_field(self) -> models.Field:
        return models.BooleanField(self.verbose_name, null=True, blank=True)


@dataclass(frozen=True, kw_only=True)
class Date(Attribute):
    def normalise(self, raw: Any, record: dict[str, Any]) -> str:
        text = as_text(raw)
        try:
            return dt.date.fromisoformat(text[:10] if "T" in text else text).isoformat()
        except ValueError as exc:
            raise AttributeValueError("invalid_date", f"{raw!r} is not an ISO 8601 date.") from exc

    def model_field(self) -> models.Field:
        return models.DateField(self.verbose_name, null=True, blank=True)

    def to_python(self, canonical: Any) -> Any:
        return dt.date.fromisoformat(canonical) if canonical else None

    def to_json(self, value: Any) -> Any:
        return value.isoformat() if value else None


def _choice_key(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", folded.lower())


@dataclass(frozen=True, kw_only=True)
class Choice(Attribute):
    """One of a closed list. ``synonyms`` maps each choice to the other labels systems use for it;
    case, spaces, dashes and underscores are not significant."""

    choices: tuple[str, ...] = ()
    synonyms: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def normalise(self, raw: Any, record: dict[str, Any]) -> str:
        key = _choice_key(as_text(raw))
        for choice in self.choices:
            labels = (choice, *self.synonyms.get(choice, ()))
            if key in {_choice_key(label) for label in labels}:
                return choice
        raise AttributeValueError(
            "invalid_choice", f"{raw!r} is not one of: {', '.join(self.choices)}."
        )

    def model_field(self) -> models.Field:
        return models.CharField(
            self.verbose_name,
            max_length=max(len(c) for c in self.choices),
            choices=[(c, c.replace("_", " ")) for c in self.choices],
            blank=True,
            default="",
        )

    def to_python(self, canonical: Any) -> Any:
        return canonical or ""


@dataclass(frozen=True, kw_only=True)
class Coordinate(Number):
    decimal_places: int = 6
    max_digits: int = 9


@dataclass(frozen=True, kw_only=True)
class Reference(Attribute):
    """A reference to another golden record, sent as the sending system's own id for it.

    The canonical value is that source id; survivorship works on the golden id it resolves to
    through the cross-reference (golden_records/references.py). Unknown ids wait as pending
    references until the referenced record arrives.
    """

    domain: str
    related_name: str

    def normalise(self, raw: Any, record: dict[str, Any]) -> str:
        value = as_text(raw)
        if len(value) > 255:
            raise AttributeValueError("too_long", "A source id has at most 255 characters.")
        return value

    def model_field(self) -> models.Field:
        from golden_records.domains import DOMAINS

        return models.ForeignKey(
            f"golden_records.{DOMAINS[self.domain].model_name}",
            verbose_name=self.verbose_name,
            null=True,
            blank=True,
            on_delete=models.PROTECT,
            related_name=self.related_name,
            db_constraint=True,
        )

    def to_python(self, canonical: Any) -> Any:
        return canonical

    def to_json(self, value: Any) -> Any:
        return str(value) if value else None
