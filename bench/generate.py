"""Synthetic customer records with known duplicates, for matcher benchmarks (standard library only).

About 35% of the entities get 1-3 duplicates, mostly from other source systems, carrying the
noise real exports have: typos, abbreviations, case changes, legal forms added or dropped,
"&" written "and", a leading "The", re-formatted phones, DUNS numbers and websites, state names
for codes, lost leading zeros in ZIP codes, blanked fields; a few duplicates come from a system
that still has the company's old address (it moved within its town: another street and ZIP).

Entities that are *not* duplicates of each other but look alike, as in real customer files:

* names come from small word lists, so unrelated companies often share a name or most of it
  ("Summit Supply", "Summit Industrial Supply"), also in the same town: more often than in a
  real file, where names are more varied (at 100,000 records, thousands of such pairs);
* about 4% are look-alikes of an earlier company: a neighbour at the same street address (same
  building, another name; mostly in another suite), a company with the same name elsewhere,
  or one with a similar name (one word changed) in the same town or ZIP code;
* about 1% of the entities start a chain: 3-12 branches with the chain's name (sometimes with a
  store number or the town), website and e-mail domain but their own address, phone and DUNS,
  a few of them in the same town. Each branch is its own customer (its own entity).

Addresses are US-style (with a few Canadian ones); names come from word lists. Columns:
source_system, source_id, name, duns, phone, email, website, address_line1, city, region,
postal_code, country, industry.

    .venv/bin/python bench/generate.py --records 100000 --out customers.csv
    # also writes customers.truth.csv (source_system, source_id, entity_id)

    from generate import generate_customers
    records, entities = generate_customers(100_000, seed=42)
"""

from __future__ import annotations

import argparse
import csv
import random
from pathlib import Path

COLUMNS = [
    "source_system", "source_id", "name", "duns", "phone", "email", "website", "address_line1",
    "city", "region", "postal_code", "country", "industry",
]  # fmt: skip
MAILBOXES = ["info", "sales", "office", "ap", "orders", "contact", "billing", "purchasing"]
FREE_MAIL = ["gmail.example", "yahoo.example", "outlook.example", "aol.example"]
SYSTEMS = ["crm", "erp", "ecom", "edi"]


def _words(text: str, sep: str | None = None) -> list[str]:
    """A word list written as text; "_" stands for a space inside an item."""
    return [w.strip().replace("_", " ") for w in text.split(sep) if w.strip()]


ADJECTIVES = _words("""Acorn Allied Apex Arrow Beacon Birchwood Blue_Ridge Bright Canyon Capstone
Cardinal Cedar Central Coastal Cobalt Continental Copper Cornerstone Crestview Delta Eagle Eastgate
Emerald Falcon Frontier Gateway Golden Granite Great_Lakes Harvest Heartland Highland Horizon Iron
Ivy Keystone Lakeshore Landmark Legacy Lone_Star Magnolia Maple Midland Midwest Mountain Northgate
Oakridge Orchard Pacific_Crest Paramount Patriot Pinnacle Prairie Quantum Redstone Riverbend
Sagebrush Sentinel Sierra Silver_Oak Southern_Star Sterling Summit Sunbelt Tidewater Trinity
Twin_Rivers Valley Vanguard Westfield Willow""")
SURNAMES = _words("""Abbott Alvarez Bauer Bennett Brennan Carver Chen Dalton Delgado Donovan
Ellison Fischer Fowler Garrison Gupta Hartman Hayes Hoffman Jensen Kaplan Keller Kowalski Larson
Lindqvist Maddox Marsh Mendoza Morrison Nakamura Novak Okafor Olsen Patel Pearson Quinn Ramirez
Reyes Sandoval Schaefer Shapiro Sullivan Tanaka Thornton Vasquez Walsh Whitaker Yamada Zimmerman""")
NOUNS = _words(
    """Supply;Industrial Supply;Foods;Food Service;Electric;Electrical Supply;Hardware;
Logistics;Packaging;Building Products;Janitorial Supply;Medical Supply;Auto Parts;Plumbing;
Lumber;Distributors;Distribution;Trading;Manufacturing;Machine Works;Fasteners;Tools;
Office Products;Paper;Chemicals;Plastics;Steel;Fabrication;Restaurant Supply;Provisions;
Farms;Dairy;Bakery;Beverages;Pharmacy;Health Systems;Hospitality Group;Construction;
Contractors;Builders;Landscaping;Marine;Aviation Services;Transport;Freight;Equipment;
Rentals;Services;Solutions;Enterprises;Holdings;Group;Brothers;International""",
    ";",
)
FORMS = ["Inc.", "Inc", "LLC", "L.L.C.", "Corp.", "Corporation", "Co.", "Company", "Ltd.", ""]
STREETS = _words("""Main Oak Maple Pine Cedar Elm Washington Lincoln Jefferson Madison Franklin
Jackson Park Lake Hill Church Market Center Mill River Spring Ridge Highland Sunset Meadow Forest
Cherry Walnut Chestnut Willow Prospect Union Commerce Industrial Railroad Harbor Bay Airport
Canal Orchard Valley Grove Bridge Broad Front High Water School Academy College Liberty
Pleasant Summit Fairview Hickory Poplar Sycamore Magnolia Dogwood Laurel Cypress""")
SUFFIXES = [("Street", "St"), ("Avenue", "Ave"), ("Road", "Rd"), ("Boulevard", "Blvd"),
            ("Drive", "Dr"), ("Lane", "Ln"), ("Place", "Pl"), ("Court", "Ct"), ("Way", "Way"),
            ("Parkway", "Pkwy"), ("Highway", "Hwy"), ("Circle", "Cir")]  # fmt: skip
DIRECTIONS = [("North", "N"), ("South", "S"), ("East", "E"), ("West", "W")]
UNITS = ["Suite", "Ste", "Unit", "#", "Bldg", "Floor"]
# (city, state code, state name, first ZIP or FSA, area code)
US_CITIES = [
    ("Boston", "MA", "Massachusetts", "02108", "617"),
    ("Hartford", "CT", "Connecticut", "06103", "860"),
    ("Newark", "NJ", "New Jersey", "07102", "973"),
    ("Providence", "RI", "Rhode Island", "02903", "401"),
    ("Portland", "ME", "Maine", "04101", "207"),
    ("Albany", "NY", "New York", "12207", "518"),
    ("Buffalo", "NY", "New York", "14202", "716"),
    ("Pittsburgh", "PA", "Pennsylvania", "15222", "412"),
    ("Philadelphia", "PA", "Pennsylvania", "19103", "215"),
    ("Baltimore", "MD", "Maryland", "21201", "410"),
    ("Richmond", "VA", "Virginia", "23219", "804"),
    ("Charlotte", "NC", "North Carolina", "28202", "704"),
    ("Raleigh", "NC", "North Carolina", "27601", "919"),
    ("Columbia", "SC", "South Carolina", "29201", "803"),
    ("Atlanta", "GA", "Georgia", "30303", "404"),
    ("Savannah", "GA", "Georgia", "31401", "912"),
    ("Jacksonville", "FL", "Florida", "32202", "904"),
    ("Tampa", "FL", "Florida", "33602", "813"),
    ("Miami", "FL", "Florida", "33130", "305"),
    ("Birmingham", "AL", "Alabama", "35203", "205"),
    ("Nashville", "TN", "Tennessee", "37203", "615"),
    ("Memphis", "TN", "Tennessee", "38103", "901"),
    ("Louisville", "KY", "Kentucky", "40202", "502"),
    ("Columbus", "OH", "Ohio", "43215", "614"),
    ("Cleveland", "OH", "Ohio", "44113", "216"),
    ("Cincinnati", "OH", "Ohio", "45202", "513"),
    ("Indianapolis", "IN", "Indiana", "46204", "317"),
    ("Detroit", "MI", "Michigan", "48226", "313"),
    ("Grand Rapids", "MI", "Michigan", "49503", "616"),
    ("Milwaukee", "WI", "Wisconsin", "53202", "414"),
    ("Minneapolis", "MN", "Minnesota", "55401", "612"),
    ("Des Moines", "IA", "Iowa", "50309", "515"),
    ("Chicago", "IL", "Illinois", "60601", "312"),
    ("St. Louis", "MO", "Missouri", "63101", "314"),
    ("Kansas City", "MO", "Missouri", "64105", "816"),
    ("Omaha", "NE", "Nebraska", "68102", "402"),
    ("New Orleans", "LA", "Louisiana", "70112", "504"),
    ("Little Rock", "AR", "Arkansas", "72201", "501"),
    ("Oklahoma City", "OK", "Oklahoma", "73102", "405"),
    ("Dallas", "TX", "Texas", "75201", "214"),
    ("Fort Worth", "TX", "Texas", "76102", "817"),
    ("Houston", "TX", "Texas", "77002", "713"),
    ("San Antonio", "TX", "Texas", "78205", "210"),
    ("Austin", "TX", "Texas", "78701", "512"),
    ("Denver", "CO", "Colorado", "80202", "303"),
    ("Salt Lake City", "UT", "Utah", "84101", "801"),
    ("Phoenix", "AZ", "Arizona", "85004", "602"),
    ("Tucson", "AZ", "Arizona", "85701", "520"),
    ("Albuquerque", "NM", "New Mexico", "87102", "505"),
    ("Las Vegas", "NV", "Nevada", "89101", "702"),
    ("Los Angeles", "CA", "California", "90012", "213"),
    ("San Diego", "CA", "California", "92101", "619"),
    ("Fresno", "CA", "California", "93721", "559"),
    ("San Jose", "CA", "California", "95113", "408"),
    ("Sacramento", "CA", "California", "95814", "916"),
    ("Portland", "OR", "Oregon", "97204", "503"),
    ("Seattle", "WA", "Washington", "98101", "206"),
    ("Spokane", "WA", "Washington", "99201", "509"),
    ("Boise", "ID", "Idaho", "83702", "208"),
]
CA_CITIES = [
    ("Toronto", "ON", "Ontario", "M5V", "416"),
    ("Vancouver", "BC", "British Columbia", "V6B", "604"),
    ("Montreal", "QC", "Quebec", "H3B", "514"),
    ("Calgary", "AB", "Alberta", "T2P", "403"),
]
REGION_NAMES = {c[1]: c[2] for c in US_CITIES + CA_CITIES}
COUNTRY_NAMES = {"US": ["US", "USA", "United States", "us", "U.S."], "CA": ["CA", "Canada", "CAN"]}
INDUSTRIES = [
    ("Food & Beverage", "FOOD_AND_BEVERAGE", "Food and Beverage"),
    ("Construction", "CONSTRUCTION", "Building & Construction"),
    ("Healthcare", "HEALTHCARE", "Health Care"),
    ("Hospitality", "HOSPITALITY", "Hotels & Restaurants"),
    ("Manufacturing", "MANUFACTURING", "Industrial Manufacturing"),
    ("Retail", "RETAIL", "Retail Trade"),
    ("Education", "EDUCATION", "Schools & Education"),
    ("Government", "GOVERNMENT", "Public Sector"),
    ("Transportation", "TRANSPORTATION", "Transport & Logistics"),
    ("Automotive", "AUTOMOTIVE", "Auto Repair"),
    ("Agriculture", "AGRICULTURE", "Farming"),
    ("Property Management", "PROPERTY_MANAGEMENT", "Facilities"),
]
ABBREVIATIONS = {
    "International": "Intl", "Manufacturing": "Mfg", "Distributors": "Distrib",
    "Distribution": "Dist", "Services": "Svcs", "Brothers": "Bros", "Company": "Co",
    "Corporation": "Corp", "Equipment": "Equip", "Industrial": "Ind", "Supply": "Sply",
    "Electrical": "Elec", "Electric": "Elec", "Products": "Prods", "Construction": "Constr",
    "Mountain": "Mtn", "Saint": "St", "and": "&",
}  # fmt: skip


# --- master records ---------------------------------------------------------------------------


def _company_name(rng: random.Random) -> str:
    shape = rng.random()
    if shape < 0.4:
        base = f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)}"
    elif shape < 0.75:
        base = f"{rng.choice(SURNAMES)} {rng.choice(NOUNS)}"
    elif shape < 0.9:
        base = f"{rng.choice(SURNAMES)} & {rng.choice(SURNAMES)}"
    else:
        base = f"{rng.choice(ADJECTIVES)} {rng.choice(SURNAMES)} {rng.choice(NOUNS)}"
    form = rng.choice(FORMS)
    return f"{base} {form}".strip()


def _street(rng: random.Random) -> str:
    number = str(rng.randint(1, 9999)) if rng.random() < 0.8 else str(rng.randint(100, 99999))
    direction = f"{rng.choice(DIRECTIONS)[0]} " if rng.random() < 0.15 else ""
    suffix = rng.choice(SUFFIXES)[rng.random() < 0.6]
    street = f"{number} {direction}{rng.choice(STREETS)} {suffix}"
    if rng.random() < 0.2:
        street += f" {rng.choice(UNITS)} {rng.randint(1, 40) * 10}"
    return street


def _place(rng: random.Random) -> tuple[dict, str]:
    """Address fields of a master record, and the area code of its phone numbers."""
    if rng.random() < 0.92:
        city, code, _, zip_base, area = rng.choice(US_CITIES)
        postal = f"{int(zip_base) + rng.randint(0, 30):05d}"
        country = "US"
    else:
        city, code, _, fsa, area = rng.choice(CA_CITIES)
        postal = f"{fsa} {rng.randint(1, 9)}{rng.choice('ABCEGHJKLMNPRSTVWXYZ')}{rng.randint(1, 9)}"
        country = "CA"
    fields = {"address_line1": _street(rng), "city": city, "region": code,
              "postal_code": postal, "country": country}  # fmt: skip
    return fields, area


def _master(rng: random.Random, used_duns: set[str]) -> dict:
    place, area = _place(rng)
    name = _company_name(rng)
    while True:
        duns = f"{rng.randint(10_000_000, 999_999_999):09d}"
        if duns not in used_duns:
            used_duns.add(duns)
            break
    base = [w for w in name.split() if w not in FORMS and w != "&"]
    slug = "".join(ch for ch in "".join(base).lower() if ch.isalnum())[:20]
    website = f"{slug}{rng.randint(1, 99)}.example"
    # Small companies often have no website and a free-mail address.
    if rng.random() < 0.25:
        website = ""
        email = f"{slug[:12]}{rng.randint(1, 999)}@{rng.choice(FREE_MAIL)}"
    else:
        email = f"{rng.choice(MAILBOXES)}@{website}"
    return {
        "name": name,
        "duns": duns,
        "phone": f"{area}{rng.randint(200, 999)}{rng.randint(0, 9999):04d}",
        "email": email,
        "website": website,
        **place,
        "industry": rng.randrange(len(INDUSTRIES)),
    }


# --- rendering a record as one system would export it ----------------------------------------


def _phone(rng: random.Random, digits: str) -> str:
    a, b, c = digits[:3], digits[3:6], digits[6:]
    text = rng.choice(
        [
            f"+1-{a}-{b}-{c}",
            f"({a}) {b}-{c}",
            f"{a}.{b}.{c}",
            f"+1{a}{b}{c}",
            f"1-{a}-{b}-{c}",
            f"{a}-{b}-{c}",
            f"+1 {a} {b} {c}",
        ]
    )
    if rng.random() < 0.08:
        text += rng.choice([" x", " ext. ", " ext "]) + str(rng.randint(10, 999))
    return text


def _render(rng: random.Random, entity: dict, keep: float) -> dict[str, str]:
    """One system's export of ``entity``; ``keep``: the chance an optional field is present."""
    duns = entity["duns"]
    website = entity["website"]
    return {
        "name": entity["name"],
        "duns": (f"{duns[:2]}-{duns[2:5]}-{duns[5:]}" if rng.random() < 0.5 else duns)
        if rng.random() < keep * 0.75 else "",
        "phone": _phone(rng, entity["phone"]) if rng.random() < keep * 0.9 else "",
        "email": (entity["email"].upper() if rng.random() < 0.1 else entity["email"])
        if rng.random() < keep * 0.5 else "",
        "website": rng.choice([website, f"www.{website}", f"https://www.{website}/",
                               f"http://{website}", f"WWW.{website.upper()}"])
        if website and rng.random() < keep * 0.7 else "",
        "address_line1": entity["address_line1"],
        "city": entity["city"],
        "region": (REGION_NAMES[entity["region"]] if rng.random() < 0.25 else entity["region"])
        if rng.random() < 0.9 else "",
        "postal_code": entity["postal_code"],
        "country": rng.choice(COUNTRY_NAMES[entity["country"]]) if rng.random() < 0.95 else "",
        "industry": rng.choice(INDUSTRIES[entity["industry"]]) if rng.random() < keep * 0.6 else "",
    }  # fmt: skip


# --- noise ------------------------------------------------------------------------------------


def _typo(rng: random.Random, text: str) -> str:
    if len(text) < 3:
        return text
    i = rng.randrange(1, len(text) - 1)
    op = rng.random()
    if op < 0.3:
        return text[:i] + text[i + 1 :]
    if op < 0.55:
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
    if op < 0.8:
        return text[:i] + rng.choice("abcdefghijklmnopqrstuvwxyz") + text[i + 1 :]
    return text[:i] + rng.choice("abcdefghijklmnopqrstuvwxyz") + text[i:]


def _noisy_name(rng: random.Random, name: str) -> str:
    words = name.split()
    if words[-1] in FORMS:
        if rng.random() < 0.3:
            words = words[:-1]  # legal form dropped
        elif rng.random() < 0.2:
            words[-1] = rng.choice(FORMS[:-1])  # or written another way
    elif rng.random() < 0.15:
        words.append(rng.choice(FORMS[:-1]))  # or one added
    if rng.random() < 0.25:
        words = [ABBREVIATIONS.get(w, w) for w in words]
    elif "&" in words and rng.random() < 0.3:
        words = ["and" if w == "&" else w for w in words]
    if rng.random() < 0.03:
        words.insert(0, "The")
    name = " ".join(words)
    if rng.random() < 0.03 and len(words) >= 2:
        return "".join(w[0] for w in words if w[0].isalpha()).upper()  # initials only
    if rng.random() < 0.3:
        name = _typo(rng, name)
    if rng.random() < 0.15:
        name = name.upper() if rng.random() < 0.7 else name.lower()
    return name


def _noisy_street(rng: random.Random, street: str) -> str:
    long_short = dict(SUFFIXES + DIRECTIONS)
    short_long = {v: k for k, v in long_short.items()}
    if rng.random() < 0.4:
        street = " ".join(long_short.get(w, short_long.get(w, w)) for w in street.split())
    if rng.random() < 0.2:
        street = _typo(rng, street)
    if rng.random() < 0.1:
        street = street.upper()
    return street


def _duplicate(rng: random.Random, entity: dict) -> dict[str, str]:
    if rng.random() < 0.04:
        # A system with the old address: the company moved within its town.
        entity = {**entity, "address_line1": _street(rng)}
        if entity["country"] == "US" and entity["postal_code"][:3].isdigit():
            entity["postal_code"] = (
                f"{int(entity['postal_code'][:3]) * 100 + rng.randint(0, 99):05d}"
            )
    record = _render(rng, entity, keep=0.8)
    record["name"] = _noisy_name(rng, record["name"])
    record["address_line1"] = _noisy_street(rng, record["address_line1"])
    if rng.random() < 0.05:
        record["address_line1"] = ""
    if rng.random() < 0.12:
        record["city"] = _typo(rng, record["city"])
    if rng.random() < 0.08:
        record["city"] = record["city"].upper()
    postal = record["postal_code"]
    if postal.startswith("0") and rng.random() < 0.5:
        postal = postal.lstrip("0")  # a spreadsheet ate the leading zero
    elif postal.isdigit() and rng.random() < 0.1:
        postal = f"{postal}-{rng.randint(0, 9999):04d}"
    record["postal_code"] = postal if rng.random() < 0.92 else ""
    if record["phone"] and rng.random() < 0.04:
        digits = list(record["phone"])
        spots = [i for i, ch in enumerate(digits) if ch.isdigit()]
        i = rng.choice(spots[-4:])
        digits[i] = str((int(digits[i]) + 1) % 10)
        record["phone"] = "".join(digits)
    return record


PLACE_FIELDS = ("city", "region", "postal_code", "country")


def _look_alike(rng: random.Random, other: dict, used_duns: set[str]) -> dict:
    """Another company that shares the address (a neighbour in the same building), the name
    (an unrelated company elsewhere) or a similar name and the town with ``other``."""
    entity = _master(rng, used_duns)
    shape = rng.random()
    if shape < 0.4:
        for field in ("address_line1", *PLACE_FIELDS):
            entity[field] = other[field]
        if rng.random() < 0.7:  # mostly in another suite of the building
            street = other["address_line1"].split()
            while street[-1].isdigit() and street[-2] in UNITS:
                street = street[:-2]
            entity["address_line1"] = " ".join(
                [*street, rng.choice(UNITS), str(rng.randint(1, 40) * 10)]
            )
        entity["phone"] = other["phone"][:3] + entity["phone"][3:]
    elif shape < 0.7:
        entity["name"] = other["name"]
    else:
        words = other["name"].split()
        i = rng.randrange(len(words))
        words[i] = rng.choice(NOUNS if i else ADJECTIVES + SURNAMES)
        entity["name"] = " ".join(words)
        for field in PLACE_FIELDS if rng.random() < 0.5 else ("city", "region", "country"):
            entity[field] = other[field]
        entity["phone"] = other["phone"][:3] + entity["phone"][3:]
    return entity


def _branches(rng: random.Random, used_duns: set[str]) -> list[dict]:
    """A chain: branches with one name, website and e-mail domain, each its own customer."""
    head = _master(rng, used_duns)
    while not head["website"]:
        head = _master(rng, used_duns)
    branches = []
    for _ in range(rng.randint(3, 12)):
        branch = _master(rng, used_duns)
        if branches and rng.random() < 0.3:  # another branch in a town the chain is already in
            neighbour = rng.choice(branches)
            for field in PLACE_FIELDS:
                branch[field] = neighbour[field]
            branch["phone"] = neighbour["phone"][:3] + branch["phone"][3:]
        name = head["name"]
        shape = rng.random()
        if shape < 0.3:
            name = f"{name} #{rng.randint(1, 999)}"
        elif shape < 0.45:
            name = f"{name} - {branch['city']}"
        mailbox = rng.choice(MAILBOXES)
        branch.update(
            name=name,
            website=head["website"],
            email=f"{mailbox}{rng.randint(1, 99)}@{head['website']}",
            industry=head["industry"],
        )
        branches.append(branch)
    return branches


# --- the data set -----------------------------------------------------------------------------


def generate_customers(
    records: int,
    seed: int = 42,
    duplicate_share: float = 0.35,
    look_alike_share: float = 0.04,
    chain_share: float = 0.01,
) -> tuple[list[dict[str, str]], list[str]]:
    """``records`` customer rows (COLUMNS) in random order, and each row's entity id."""
    rng = random.Random(seed)
    used_duns: set[str] = set()
    used_ids: set[str] = set()
    rows: list[dict[str, str]] = []
    entities: list[str] = []
    masters: list[dict] = []
    pending: list[dict] = []
    number = 0
    while len(rows) < records:
        number += 1
        if pending:
            entity = pending.pop()
        elif masters and rng.random() < look_alike_share:
            entity = _look_alike(rng, rng.choice(masters), used_duns)
        elif rng.random() < chain_share:
            pending = _branches(rng, used_duns)
            entity = pending.pop()
        else:
            entity = _master(rng, used_duns)
        masters.append(entity)
        copies = 1
        if rng.random() < duplicate_share:
            copies += rng.choices([1, 2, 3], weights=[60, 30, 10])[0]
        systems = rng.sample(SYSTEMS, len(SYSTEMS))
        for copy in range(copies):
            # Mostly a different system per copy; sometimes twice in the same one.
            system = systems[copy % len(systems)] if rng.random() < 0.9 else systems[0]
            record = _render(rng, entity, keep=0.9) if copy == 0 else _duplicate(rng, entity)
            while True:
                source_id = f"{rng.getrandbits(40):010x}"
                if source_id not in used_ids:
                    used_ids.add(source_id)
                    break
            rows.append({"source_system": system, "source_id": source_id, **record})
            entities.append(f"E{number:07d}")
            if len(rows) == records:
                break
    order = list(range(len(rows)))
    rng.shuffle(order)
    return [rows[i] for i in order], [entities[i] for i in order]


def write_csv(rows: list[dict[str, str]], entities: list[str], path: str | Path) -> Path:
    """The records to ``path`` and the truth to ``<stem>.truth.csv`` beside it."""
    path = Path(path)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    truth = path.with_name(f"{path.stem}.truth.csv")
    with open(truth, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["source_system", "source_id", "entity_id"])
        for row, entity in zip(rows, entities, strict=True):
            writer.writerow([row["source_system"], row["source_id"], entity])
    return truth


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", required=True, help="CSV to write (truth beside it).")
    args = parser.parse_args()
    rows, entities = generate_customers(args.records, args.seed)
    truth = write_csv(rows, entities, args.out)
    print(f"{len(rows):,} records of {len(set(entities)):,} entities → {args.out}, {truth}")


if __name__ == "__main__":
    main()
