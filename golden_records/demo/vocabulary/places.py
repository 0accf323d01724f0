"""Places: the cities of each country with their regions, postal codes and phone prefixes,
streets, and the abbreviations systems use for them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class City:
    name: str
    region_code: str
    region_name: str
    postal: tuple[Any, ...]
    """US/FR: postal code prefixes or full codes; CA/GB: outward codes; DE/NL: (low, high)."""
    phone: str
    """US/CA/DE/NL: area code; GB/FR: the fixed part of a number reserved for drama/fiction."""


@dataclass(frozen=True)
class CountryInfo:
    code: str
    weight: int
    spellings: tuple[str, ...]
    """How systems write the country: code first, then the other forms seen in the wild."""
    currency: str
    cities: tuple[City, ...]


US_CITIES = (
    City("Chicago", "IL", "Illinois", ("606",), "312"),
    City("Joliet", "IL", "Illinois", ("604",), "815"),
    City("Houston", "TX", "Texas", ("770",), "713"),
    City("Dallas", "TX", "Texas", ("752",), "214"),
    City("San Antonio", "TX", "Texas", ("782",), "210"),
    City("Atlanta", "GA", "Georgia", ("303",), "404"),
    City("Columbus", "OH", "Ohio", ("432",), "614"),
    City("Cleveland", "OH", "Ohio", ("441",), "216"),
    City("Cincinnati", "OH", "Ohio", ("452",), "513"),
    City("Denver", "CO", "Colorado", ("802",), "303"),
    City("Phoenix", "AZ", "Arizona", ("850",), "602"),
    City("Minneapolis", "MN", "Minnesota", ("554",), "612"),
    City("Charlotte", "NC", "North Carolina", ("282",), "704"),
    City("Kansas City", "MO", "Missouri", ("641",), "816"),
    City("St. Louis", "MO", "Missouri", ("631",), "314"),
    City("Indianapolis", "IN", "Indiana", ("462",), "317"),
    City("Nashville", "TN", "Tennessee", ("372",), "615"),
    City("Memphis", "TN", "Tennessee", ("381",), "901"),
    City("Seattle", "WA", "Washington", ("981",), "206"),
    City("Milwaukee", "WI", "Wisconsin", ("532",), "414"),
    City("Pittsburgh", "PA", "Pennsylvania", ("152",), "412"),
    City("Philadelphia", "PA", "Pennsylvania", ("191",), "215"),
    City("Detroit", "MI", "Michigan", ("482",), "313"),
    City("Grand Rapids", "MI", "Michigan", ("495",), "616"),
    City("Louisville", "KY", "Kentucky", ("402",), "502"),
    City("Salt Lake City", "UT", "Utah", ("841",), "801"),
    City("Sacramento", "CA", "California", ("958",), "916"),
    City("San Diego", "CA", "California", ("921",), "619"),
    City("Portland", "OR", "Oregon", ("972",), "503"),
    City("Boston", "MA", "Massachusetts", ("021",), "617"),
    City("Newark", "NJ", "New Jersey", ("071",), "973"),
    City("Baltimore", "MD", "Maryland", ("212",), "410"),
    City("Tampa", "FL", "Florida", ("336",), "813"),
    City("Orlando", "FL", "Florida", ("328",), "407"),
    City("Omaha", "NE", "Nebraska", ("681",), "402"),
    City("Des Moines", "IA", "Iowa", ("503",), "515"),
    City("Birmingham", "AL", "Alabama", ("352",), "205"),
    City("Oklahoma City", "OK", "Oklahoma", ("731",), "405"),
    City("Richmond", "VA", "Virginia", ("232",), "804"),
    City("Buffalo", "NY", "New York", ("142",), "716"),
)
CA_CITIES = (
    City("Toronto", "ON", "Ontario", ("M5V", "M4W", "M6K", "M1B"), "416"),
    City("Mississauga", "ON", "Ontario", ("L5T", "L4W", "L5N"), "905"),
    City("Hamilton", "ON", "Ontario", ("L8N", "L8L"), "905"),
    City("Ottawa", "ON", "Ontario", ("K1P", "K2E"), "613"),
    City("London", "ON", "Ontario", ("N6A", "N5V"), "519"),
    City("Montréal", "QC", "Quebec", ("H3B", "H2X", "H4T"), "514"),
    City("Québec", "QC", "Quebec", ("G1K", "G1R"), "418"),
    City("Calgary", "AB", "Alberta", ("T2P", "T2E"), "403"),
    City("Edmonton", "AB", "Alberta", ("T5J", "T6E"), "780"),
    City("Vancouver", "BC", "British Columbia", ("V6B", "V5L"), "604"),
    City("Winnipeg", "MB", "Manitoba", ("R3C", "R2X"), "204"),
    City("Halifax", "NS", "Nova Scotia", ("B3H", "B3J"), "902"),
)
# Ofcom's numbers reserved for drama: no real subscriber is ever called.
GB_CITIES = (
    City(
        "London", "", "Greater London", ("EC1A", "EC2M", "SE1", "E14", "NW10", "W3"), "020 7946 0"
    ),
    City("Manchester", "", "Greater Manchester", ("M1", "M17", "M50"), "0161 496 0"),
    City("Birmingham", "", "West Midlands", ("B1", "B6", "B24"), "0121 496 0"),
    City("Leeds", "", "West Yorkshire", ("LS1", "LS10", "LS11"), "0113 496 0"),
    City("Sheffield", "", "South Yorkshire", ("S1", "S9"), "0114 496 0"),
    City("Nottingham", "", "Nottinghamshire", ("NG1", "NG2"), "0115 496 0"),
    City("Bristol", "", "Bristol", ("BS1", "BS2", "BS11"), "0117 496 0"),
    City("Glasgow", "", "Glasgow City", ("G1", "G40", "G52"), "0141 496 0"),
    City("Edinburgh", "", "City of Edinburgh", ("EH1", "EH6"), "0131 496 0"),
    City("Newcastle upon Tyne", "", "Tyne and Wear", ("NE1", "NE6"), "0191 498 0"),
    City("Cardiff", "", "Cardiff", ("CF10", "CF24"), "029 2018 0"),
)
DE_CITIES = (
    City("Berlin", "BE", "Berlin", (10115, 14199), "030"),
    City("Hamburg", "HH", "Hamburg", (20095, 22769), "040"),
    City("München", "BY", "Bayern", (80331, 81929), "089"),
    City("Köln", "NW", "Nordrhein-Westfalen", (50667, 51149), "0221"),
    City("Frankfurt am Main", "HE", "Hessen", (60306, 60599), "069"),
    City("Stuttgart", "BW", "Baden-Württemberg", (70173, 70629), "0711"),
    City("Düsseldorf", "NW", "Nordrhein-Westfalen", (40210, 40629), "0211"),
    City("Dortmund", "NW", "Nordrhein-Westfalen", (44135, 44388), "0231"),
    City("Duisburg", "NW", "Nordrhein-Westfalen", (47051, 47279), "0203"),
    City("Hannover", "NI", "Niedersachsen", (30159, 30669), "0511"),
    City("Nürnberg", "BY", "Bayern", (90402, 90491), "0911"),
    City("Leipzig", "SN", "Sachsen", (4103, 4357), "0341"),
    City("Bremen", "HB", "Bremen", (28195, 28779), "0421"),
    City("Mannheim", "BW", "Baden-Württemberg", (68159, 68309), "0621"),
)
# ARCEP's numbers reserved for fiction.
FR_CITIES = (
    City("Paris", "IDF", "Île-de-France", tuple(f"750{n:02d}" for n in range(1, 21)), "01 99 00"),
    City(
        "Lyon", "ARA", "Auvergne-Rhône-Alpes", tuple(f"6900{n}" for n in range(1, 10)), "04 65 71"
    ),
    City("Marseille", "PAC", "Provence-Alpes-Côte d'Azur", ("13001", "13002", "13008"), "04 65 71"),
    City("Toulouse", "OCC", "Occitanie", ("31000", "31100", "31200", "31300"), "05 36 49"),
    City("Montpellier", "OCC", "Occitanie", ("34000", "34070", "34080"), "04 65 71"),
    City("Lille", "HDF", "Hauts-de-France", ("59000", "59160", "59800"), "03 53 01"),
    City("Nantes", "PDL", "Pays de la Loire", ("44000", "44100", "44200"), "02 61 91"),
    City("Bordeaux", "NAQ", "Nouvelle-Aquitaine", ("33000", "33100", "33300"), "05 36 49"),
    City("Strasbourg", "GES", "Grand Est", ("67000", "67100", "67200"), "03 53 01"),
    City("Rennes", "BRE", "Bretagne", ("35000", "35200", "35700"), "02 61 91"),
    City("Rouen", "NOR", "Normandie", ("76000", "76100"), "02 61 91"),
)
NL_CITIES = (
    City("Amsterdam", "NH", "Noord-Holland", (1011, 1109), "020"),
    City("Rotterdam", "ZH", "Zuid-Holland", (3011, 3089), "010"),
    City("Den Haag", "ZH", "Zuid-Holland", (2491, 2597), "070"),
    City("Utrecht", "UT", "Utrecht", (3511, 3585), "030"),
    City("Eindhoven", "NB", "Noord-Brabant", (5611, 5658), "040"),
    City("Tilburg", "NB", "Noord-Brabant", (5011, 5049), "013"),
    City("Breda", "NB", "Noord-Brabant", (4811, 4839), "076"),
    City("Groningen", "GR", "Groningen", (9711, 9747), "050"),
    City("Venlo", "LI", "Limburg", (5911, 5928), "077"),
    City("Zwolle", "OV", "Overijssel", (8011, 8045), "038"),
    City("Arnhem", "GE", "Gelderland", (6811, 6846), "026"),
)

COUNTRIES: dict[str, CountryInfo] = {
    "US": CountryInfo("US", 55, ("US", "USA", "United States", "U.S.A."), "USD", US_CITIES),
    "CA": CountryInfo("CA", 10, ("CA", "CAN", "Canada"), "CAD", CA_CITIES),
    "GB": CountryInfo("GB", 10, ("GB", "UK", "United Kingdom", "GBR"), "GBP", GB_CITIES),
    "DE": CountryInfo("DE", 12, ("DE", "DEU", "Germany"), "EUR", DE_CITIES),
    "FR": CountryInfo("FR", 7, ("FR", "FRA", "France"), "EUR", FR_CITIES),
    "NL": CountryInfo("NL", 6, ("NL", "NLD", "Netherlands"), "EUR", NL_CITIES),
}
EU = ("DE", "FR", "NL")

# fmt: off
STREETS: dict[str, tuple[str, ...]] = {
    "US": (
        "West Fulton Street", "North Clark Street", "Industrial Parkway", "Commerce Drive",
        "Enterprise Boulevard", "Corporate Woods Parkway", "Main Street", "Oak Avenue",
        "Distribution Way", "Logistics Court", "Airport Road", "Harbor Boulevard",
        "Technology Drive", "Center Street", "Park Avenue", "Lakeview Drive", "Mill Road",
        "South Halsted Street", "East Washington Avenue", "Railroad Avenue",
    ),
    "CA": (
        "Front Street West", "King Street East", "Dundas Street", "Industrial Road",
        "Boulevard Saint-Laurent", "Rue Sainte-Catherine", "Macleod Trail", "Hastings Street",
        "Portage Avenue", "Commerce Court", "Argentia Road", "Meadowvale Boulevard",
    ),
    "GB": (
        "Trafford Park Road", "Station Road", "High Street", "Mill Lane", "Church Street",
        "Victoria Road", "Riverside Way", "Kingsway", "Enterprise Park", "London Road",
        "Manor Road", "Bridge Street", "Park Lane", "Brunel Way",
    ),
    "DE": (
        "Industriestraße", "Hauptstraße", "Gewerbepark", "Am Hafen", "Bahnhofstraße",
        "Carl-Benz-Straße", "Robert-Bosch-Straße", "Siemensstraße", "Lindenallee",
        "Mühlenweg", "Gutenbergstraße", "Daimlerstraße", "Im Gewerbegebiet", "Max-Planck-Straße",
    ),
    "FR": (
        "rue de la République", "avenue Jean Jaurès", "boulevard Voltaire", "rue du Commerce",
        "rue de l'Industrie", "chemin des Vignes", "allée des Tilleuls", "avenue de la Gare",
        "rue Pasteur", "boulevard de l'Europe", "rue des Artisans", "avenue du Général Leclerc",
    ),
    "NL": (
        "Westerstraat", "Industrieweg", "Havenstraat", "Kerkstraat", "Stationsweg",
        "Energieweg", "Nijverheidsweg", "Bedrijvenpark", "Handelsweg", "Ambachtsweg",
        "Edisonstraat", "Transportweg",
    ),
}
LINE2 = {
    "US": ("Suite {n}", "Building {b}", "Dock {d}", "Unit {n}", "Floor {f}"),
    "CA": ("Suite {n}", "Unit {d}", "Bureau {n}"),
    "GB": ("Unit {d}", "Building {b}", "Floor {f}"),
    "DE": ("Halle {d}", "Gebäude {b}", "{f}. OG"),
    "FR": ("Bâtiment {b}", "ZI Nord", "{f}e étage"),
    "NL": ("Unit {d}", "Hal {d}"),
}

# Whole-word forms systems abbreviate or spell out differently (full form first).
ADDRESS_ABBREVIATIONS: dict[str, tuple[tuple[str, str], ...]] = {
    "US": (
        ("Street", "St"), ("Avenue", "Ave"), ("Boulevard", "Blvd"), ("Drive", "Dr"),
        ("Parkway", "Pkwy"), ("Road", "Rd"), ("Court", "Ct"), ("Lane", "Ln"),
        ("North", "N"), ("South", "S"), ("East", "E"), ("West", "W"), ("Suite", "Ste"),
        ("Building", "Bldg"),
    ),
    "CA": (
        ("Street", "St"), ("Avenue", "Ave"), ("Boulevard", "Blvd"), ("Road", "Rd"),
        ("Court", "Crt"), ("East", "E"), ("West", "W"), ("Suite", "Ste"), ("Sainte", "Ste"),
        ("Saint", "St"),
    ),
    "GB": (("Road", "Rd"), ("Street", "St"), ("Lane", "Ln"), ("Building", "Bldg")),
    "DE": (("straße", "str."), ("Straße", "Str."), ("Gebäude", "Geb.")),
    "FR": (("avenue", "av."), ("boulevard", "bd"), ("Bâtiment", "Bât."), ("Général", "Gal")),
    "NL": (("straat", "str."),),
}
# fmt: on
