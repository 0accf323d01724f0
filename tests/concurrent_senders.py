"""Concurrent senders: ERP, CRM and eCommerce send the same new companies at the same time.

``entities(count)`` makes ``count`` distinct German companies and, for each of the systems erp,
crm and ecom, one payload per company. The three payloads of a company differ only in the
name's style ("Dornfeld Metallbau GmbH" / "DORNFELD METALLBAU GMBH." / "Dornfeld Metallbau")
and the street's spelling ("Lindenstrasse 12" / "Lindenstr. 12"); none carries an identifier
(no tax id, DUNS, e-mail, phone or website), so only the fuzzy match can tell that they are one
company. The companies are distinct enough that sending everything one system after the other
makes exactly ``count`` golden records and no review (tests/test_concurrent_senders.py; checked
for 60 up to 3,000 companies): within a town no two companies have a similar name or street, or
one house number, and nowhere do two have both a similar name and a similar street, as judged
by the matcher's own standardisers and comparators.

``send_concurrently`` POSTs them through the batch API, one thread per system, all systems
starting together (or one after the other): the scenario of bench/ingest.py
``--concurrent-systems``. It uses the standard library only, like bench/ingest.py's ``post``.
"""

from __future__ import annotations

import json
import random
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass, field

SYSTEMS = ("erp", "crm", "ecom")

# Name stems: German-sounding family and place names, a prefix and a suffix.
_PREFIXES = """Adler Ahrens Alten Bären Bern Birk Blum Brand Brenn Buch Dorn Eich Eisen Engel Falk
Fels Fried Gold Grün Hag Hahn Hart Heid Hirsch Hohen Holl Kling Kron Lang Lerch Lind Mar Mühl
Neu Ost Reich Ried Rosen Roth Sand Schön Schwarz Sieg Sonn Stern Strom Tann Voss Wald Weiß
Wester Wiesen Wolf Zell""".split()  # noqa: SIM905
_SUFFIXES = """bach berg brand brück dorf eck feld hagen hausen heim hof holz horst kamp lage mann
mayer meier ried ring stedt stein tal wald wedel werth""".split()  # noqa: SIM905
TRADES = """Metallbau Haustechnik Elektro Logistik Holzbau Dachdeckerei Fensterbau Maschinenbau
Sanitär Kältetechnik Stahlbau Zimmerei Landtechnik Spedition Druckerei Gartenbau Werkzeugbau
Kunststofftechnik Elektrotechnik Industrieservice Gebäudereinigung Bauunternehmung Messtechnik
Feinmechanik Antriebstechnik Verpackung Möbelwerkstätten Glaserei Schreinerei Malerbetrieb
""".split()  # noqa: SIM905
LEGAL_FORMS = ("GmbH", "GmbH", "GmbH", "AG", "KG", "GmbH & Co. KG")
STREETS = """Linden Birken Eichen Kastanien Ahorn Haupt Bahnhof Schul Kirch Garten Berg Feld Wiesen
Mühlen Industrie Gewerbe Hafen Markt Rosen Tulpen Goethe Schiller Mozart Beethoven Kant Lessing
Herder Friedrich Wilhelm Luisen Post Brunnen Burg Schloss Wald Heide Moor Dorf Kloster Sonnen
Tannen Fichten Buchen Erlen Weiden Pappel Holunder Flieder Nelken Lilien Veilchen Falken Adler
Meisen Lerchen Schwalben Kirschen Apfel Bismarck Humboldt Daimler Benz Diesel Siemens Röntgen
Einstein Planck Gauß Leibniz Händel Bach Wagner Dürer Lützow Moltke Blücher""".split()  # noqa: SIM905
# (street kind, share): only "strasse" has the systems' second spelling "str.".
STREET_KINDS = (("strasse", 0.7), ("weg", 0.15), ("ring", 0.1), ("allee", 0.05))
# Towns with a first postal code; a company gets one of a few codes near it.
TOWNS = (
    ("Aachen", 52062),
    ("Augsburg", 86150),
    ("Bamberg", 96047),
    ("Bielefeld", 33602),
    ("Bochum", 44787),
    ("Bonn", 53111),
    ("Braunschweig", 38100),
    ("Bremen", 28195),
    ("Chemnitz", 9111),
    ("Darmstadt", 64283),
    ("Dortmund", 44135),
    ("Dresden", 1067),
    ("Duisburg", 47051),
    ("Erfurt", 99084),
    ("Essen", 45127),
    ("Freiburg im Breisgau", 79098),
    ("Fulda", 36037),
    ("Göttingen", 37073),
    ("Hagen", 58095),
    ("Halle (Saale)", 6108),
    ("Hamm", 59065),
    ("Heilbronn", 74072),
    ("Ingolstadt", 85049),
    ("Jena", 7743),
    ("Kassel", 34117),
    ("Kiel", 24103),
    ("Koblenz", 56068),
    ("Krefeld", 47798),
    ("Leipzig", 4109),
    ("Lübeck", 23552),
    ("Magdeburg", 39104),
    ("Mainz", 55116),
    ("Mannheim", 68159),
    ("Münster", 48143),
    ("Oldenburg", 26122),
    ("Osnabrück", 49074),
    ("Paderborn", 33098),
    ("Potsdam", 14467),
    ("Regensburg", 93047),
    ("Rostock", 18055),
    ("Saarbrücken", 66111),
    ("Ulm", 89073),
    ("Würzburg", 97070),
)
# The lowest similarity levels of customer.json's name (0.8) and street (0.7) comparisons, with
# a margin: below them a pair of companies has no name or street evidence at all.
NAME_LIMIT = 0.78
STREET_LIMIT = 0.68


@dataclass
class Company:
    stem: str
    trade: str
    legal_form: str
    trade_first: bool  # "Elektro Dornfeld GmbH" rather than "Dornfeld Elektro GmbH"
    street: str  # "Linden"
    street_kind: str  # "strasse", "weg", …
    house_number: int
    postal_code: str
    city: str

    @property
    def base_name(self) -> str:
        return f"{self.trade} {self.stem}" if self.trade_first else f"{self.stem} {self.trade}"

    def name(self, system: str) -> str:
        if system == "erp":
            return f"{self.base_name} {self.legal_form}"
        if system == "crm":
            return f"{self.base_name} {self.legal_form}.".upper()
        return self.base_name

    def street_line(self, system: str) -> str:
        kind = "str." if self.street_kind == "strasse" and system != "erp" else self.street_kind
        return f"{self.street}{kind} {self.house_number}"


class _Distinct:
    """Accepts a company only when the matcher cannot take it for one already accepted, judged
    with the matcher's own standardisers and comparators (customer.json's weights):

    * the standardised name is new;
    * in its town (the locality agrees: up to 14 bits) no company has a similar name or street,
      nor its house number;
    * anywhere, no company has both a similar name and a similar street (different towns cost
      about 8.5 bits; a similar name and street together outweigh that).
    """

    def __init__(self) -> None:
        from matching import comparators, standardise

        self.name_similarity = comparators.name
        self.company_name = standardise.company_name
        self.street = standardise.street
        self.names: list[str] = []
        self.taken: set[str] = set()
        self.streets: list[str] = []
        self.towns: list[str] = []
        self.numbers: set[tuple[str, int]] = set()

    def add(self, company: Company) -> bool:
        from rapidfuzz import process
        from rapidfuzz.distance import Levenshtein

        name = self.company_name(company.base_name)
        street = self.street(company.street_line("erp"))
        town = company.city
        if name in self.taken or (town, company.house_number) in self.numbers:
            return False
        similar_streets = {
            index
            for _, _, index in process.extract(
                street,
                self.streets,
                scorer=Levenshtein.normalized_similarity,
                score_cutoff=STREET_LIMIT,
                limit=None,
            )
        }
        for index, other in enumerate(self.names):
            same_town = self.towns[index] == town
            if not (same_town or index in similar_streets):
                continue
            if same_town and index in similar_streets:
                return False
            if self.name_similarity({"n": name}, {"n": other}, "n") >= NAME_LIMIT:
                return False
        self.names.append(name)
        self.taken.add(name)
        self.streets.append(street)
        self.towns.append(town)
        self.numbers.add((town, company.house_number))
        return True


@dataclass
class Scenario:
    companies: list[Company]
    payloads: dict[str, list[dict]]  # per system, in the companies' order
    truth: dict[tuple[str, str], int]  # (system, source_id) → company index

    @property
    def records(self) -> int:
        return sum(len(rows) for rows in self.payloads.values())


def source_id(system: str, number: int) -> str:
    """ "C1000123" / "ACC-000123" / "WEB-123" for company 123."""
    if system == "erp":
        return f"C{1_000_000 + number}"
    if system == "crm":
        return f"ACC-{number:06d}"
    return f"WEB-{number}"


def entities(count: int, seed: int = 13) -> Scenario:
    """``count`` distinct companies, and each one's payload from erp, crm and ecom."""
    rng = random.Random(seed)
    stems = [p + s for p in _PREFIXES for s in _SUFFIXES]
    rng.shuffle(stems)
    kinds, weights = zip(*STREET_KINDS, strict=True)
    distinct = _Distinct()
    companies: list[Company] = []
    attempts = 0
    while len(companies) < count:
        attempts += 1
        if attempts > 200 * count + 10_000:
            raise ValueError(f"cannot make {count} distinct companies from these word lists")
        town, first_code = rng.choice(TOWNS)
        company = Company(
            stem=rng.choice(stems),
            trade=rng.choice(TRADES),
            legal_form=rng.choice(LEGAL_FORMS),
            trade_first=rng.random() < 0.15,
            street=rng.choice(STREETS),
            street_kind=rng.choices(kinds, weights)[0],
            house_number=rng.randint(1, 180),
            postal_code=f"{first_code + rng.choice((0, 0, 1, 2, 3, 5, 7)):05d}",
            city=town,
        )
        if distinct.add(company):
            companies.append(company)

    payloads: dict[str, list[dict]] = {system: [] for system in SYSTEMS}
    truth: dict[tuple[str, str], int] = {}
    for index, company in enumerate(companies):
        for system in SYSTEMS:
            sid = source_id(system, index + 1)
            payloads[system].append(
                {
                    "source_id": sid,
                    "name": company.name(system),
                    "address_line1": company.street_line(system),
                    "postal_code": company.postal_code,
                    "city": company.city,
                    "country": "DE",
                }
            )
            truth[(system, sid)] = index
    return Scenario(companies, payloads, truth)


@dataclass
class SendResult:
    seconds: float  # from the first request to the last response
    actions: Counter = field(default_factory=Counter)  # the "action" of every result
    batch_seconds: list[tuple[str, int, float]] = field(default_factory=list)  # system, batch, s
    finished: float = 0.0  # time.perf_counter() at the last response


class SendError(RuntimeError):
    pass


def _post(url: str, token: str, records: list[dict]) -> dict:
    body = json.dumps({"on_error": "reject_failed", "records": records}).encode()
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=600) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as error:
        detail = error.read()[:2000].decode(errors="replace")
        raise SendError(f"POST {url}: HTTP {error.code}: {detail}") from error


def send_concurrently(
    base_url: str,
    tokens: dict[str, str],
    scenario: Scenario,
    batches: int,
    sequential: bool = False,
) -> SendResult:
    """Every system's payloads in ``batches`` equal batches to
    ``{base_url}/api/v1/sources/{system}/customer/batch``: one thread per system, all starting
    together (a barrier), or one system after the other (``sequential``). Raises ``SendError``
    on any answer that is not 2xx, and on a record the hub rejected."""
    base_url = base_url.rstrip("/")
    result = SendResult(seconds=0.0)
    lock = threading.Lock()
    errors: list[BaseException] = []
    systems = list(scenario.payloads)
    barrier = threading.Barrier(len(systems) + 1)

    def send(system: str) -> None:
        rows = scenario.payloads[system]
        size = -(-len(rows) // batches)  # ceiling
        url = f"{base_url}/api/v1/sources/{system}/customer/batch"
        for number, start in enumerate(range(0, len(rows), size), 1):
            began = time.perf_counter()
            answer = _post(url, tokens[system], rows[start : start + size])
            took = time.perf_counter() - began
            actions = Counter(r["action"] for r in answer["results"])
            with lock:
                result.actions.update(actions)
                result.batch_seconds.append((system, number, took))
                result.finished = max(result.finished, time.perf_counter())
            if actions["rejected"]:
                failed = [r for r in answer["results"] if r["action"] == "rejected"][:3]
                raise SendError(f"{system} batch {number}: records rejected: {failed}")

    def thread_body(system: str) -> None:
        try:
            barrier.wait(timeout=60)
            send(system)
        except BaseException as error:  # re-raised in the caller
            errors.append(error)

    started = time.perf_counter()
    if sequential:
        for system in systems:
            send(system)
    else:
        threads = [threading.Thread(target=thread_body, args=(s,), daemon=True) for s in systems]
        for thread in threads:
            thread.start()
        barrier.wait(timeout=60)
        started = time.perf_counter()
        for thread in threads:
            thread.join()
        if errors:
            raise errors[0]
    result.seconds = result.finished - started
    return result
