"""Phone numbers: drawn from numbers reserved for fiction, written the ways systems write them."""

from __future__ import annotations

from dataclasses import dataclass
from random import Random

from golden_records.demo.vocabulary.places import City


@dataclass
class Phone:
    country: str
    area: str
    number: str
    """US/CA: 7 digits; GB/FR: the digits after the fixed part; DE/NL: subscriber number."""

    def render(self, rng: Random, style: str) -> str:
        """``style``: national (needs the record's country), international or e164."""
        c, a, n = self.country, self.area, self.number
        if c in ("US", "CA"):
            if style == "e164":
                return f"+1{a}{n}"
            if style == "international":
                return f"+1 {a}-{n[:3]}-{n[3:]}"
            return rng.choice(
                (
                    f"({a}) {n[:3]}-{n[3:]}",
                    f"{a}-{n[:3]}-{n[3:]}",
                    f"{a}.{n[:3]}.{n[3:]}",
                    f"1-{a}-{n[:3]}-{n[3:]}",
                    f"({a}) {n[:3]}-{n[3:]} x{rng.randint(100, 499)}",
                )
            )
        if c == "GB":
            national = f"{a}{n}"
            digits = national.replace(" ", "")
            if style == "e164":
                return "+44" + digits[1:]
            if style == "international":
                return "+44 " + national[1:]
            return rng.choice((national, digits, national.replace(" ", "-", 1)))
        if c == "FR":
            national = f"{a} {n[:2]} {n[2:]}"
            digits = national.replace(" ", "")
            if style == "e164":
                return "+33" + digits[1:]
            if style == "international":
                return "+33 " + national[1:]
            return rng.choice((national, digits, national.replace(" ", ".")))
        if c == "DE":
            if style == "e164":
                return f"+49{a[1:]}{n}"
            if style == "international":
                return rng.choice((f"+49 {a[1:]} {n}", f"+49 (0){a[1:]} {n}"))
            return rng.choice((f"{a} {n}", f"{a}/{n}", f"({a}) {n[:4]} {n[4:]}", f"{a}-{n}"))
        # NL
        if style == "e164":
            return f"+31{a[1:]}{n}"
        if style == "international":
            return f"+31 {a[1:]} {n[:3]} {n[3:]}"
        return rng.choice((f"{a} {n[:3]} {n[3:]}", f"{a}-{n}", f"{a}{n}"))


def random_phone(rng: Random, country: str, city: City) -> Phone:
    """A number in ``city`` that no real subscriber has (555 numbers, Ofcom's and ARCEP's drama
    ranges, and random subscriber numbers elsewhere)."""
    if country in ("US", "CA"):
        line = rng.randint(100, 9999)
        if line == 1212:
            line = 1213
        return Phone(country, city.phone, f"555{line:04d}")
    if country == "GB":
        return Phone(country, city.phone, f"{rng.randint(0, 999):03d}")
    if country == "FR":
        return Phone(country, city.phone, f"{rng.randint(0, 9999):04d}")
    length = 8 if (country == "DE" and len(city.phone) == 3) else 7
    first = str(rng.randint(2, 9))
    rest = "".join(str(rng.randint(0, 9)) for _ in range(length - 1))
    return Phone(country, city.phone, first + rest)
