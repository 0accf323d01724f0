"""Companies: industries, segments, payment terms, sales reps, people's names, and what company
names are made of (places, patterns, legal forms and the ways systems spell them)."""

# fmt: off
INDUSTRIES: tuple[tuple[str, str, int], ...] = (
    # CRM label, ERP code, weight
    ("Food Service", "FOODSVC", 24),
    ("Industrial Manufacturing", "MFG", 22),
    ("Electrical Contracting", "ELEC", 18),
    ("Facilities & Construction", "FACIL", 14),
    ("Healthcare", "HLTH", 8),
    ("Education", "EDU", 6),
    ("Automotive", "AUTO", 8),
)
SEGMENTS: tuple[tuple[str, int, int, int], ...] = (
    # name, weight, credit limit range (in thousands)
    ("Strategic", 5, 250, 1000),
    ("Key Account", 15, 50, 250),
    ("Mid-Market", 40, 10, 50),
    ("Small Business", 40, 1, 10),
)
PAYMENT_TERMS: tuple[tuple[str, str, int], ...] = (
    # ERP code, CRM label, weight
    ("NET30", "Net 30", 50),
    ("NET45", "Net 45", 10),
    ("NET60", "Net 60", 12),
    ("NET15", "Net 15", 8),
    ("2%10NET30", "2% 10 Net 30", 12),
    ("CIA", "Cash in advance", 4),
    ("COD", "Cash on delivery", 4),
)
SALES_REPS: dict[str, tuple[str, ...]] = {
    "US": (
        "Jessica Moreno", "Tom Kowalski", "Brian O'Neill", "Latoya Jenkins", "Kevin Tran",
        "Megan Hughes", "Carlos Ramirez", "Amanda Pierce",
    ),
    "CA": ("Marc-André Tremblay", "Priya Sharma", "Connor MacLeod"),
    "GB": ("Oliver Bennett", "Sophie Clarke", "Rajesh Patel"),
    "DE": ("Katrin Vogel", "Jonas Weber", "Stefan Hartmann"),
    "FR": ("Julien Marchand", "Camille Lefèvre"),
    "NL": ("Sanne de Wit", "Daan Mulder"),
}
FIRST_NAMES = {
    "EN": ("James", "Mary", "Robert", "Linda", "Michael", "Sarah", "David", "Karen", "Daniel",
           "Emily", "Mark", "Laura", "Paul", "Rachel", "Steven", "Nicole", "Andrew", "Olivia"),
    "DE": ("Thomas", "Sabine", "Michael", "Andrea", "Markus", "Julia", "Frank", "Claudia",
           "Tobias", "Anna", "Jan", "Lena"),
    "FR": ("Pierre", "Marie", "Nicolas", "Sophie", "Laurent", "Isabelle", "Thomas", "Claire",
           "Antoine", "Julie"),
    "NL": ("Jeroen", "Anouk", "Bas", "Femke", "Thijs", "Lotte", "Ruben", "Eva", "Sander", "Iris"),
}
SURNAMES = {
    "EN": (
        "Anderson", "Baker", "Bennett", "Carter", "Collins", "Cooper", "Davis", "Edwards",
        "Fisher", "Foster", "Graham", "Hamilton", "Harris", "Henderson", "Hughes", "Jenkins",
        "Kelly", "Lawson", "Mitchell", "Morgan", "Murphy", "Nelson", "Parker", "Patterson",
        "Porter", "Reed", "Reynolds", "Russell", "Sanders", "Shaw", "Sullivan", "Taylor",
        "Thompson", "Turner", "Walker", "Ward", "Watson", "Wheeler", "Whitman", "Wilson",
        "Wright", "Young", "O'Brien", "McAllister", "Kowalski", "Nguyen", "Garcia", "Martinez",
        "Rossi", "Schultz", "Donovan", "Fletcher", "Gallagher", "Hartley", "Lindqvist",
    ),
    "DE": (
        "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker",
        "Schulz", "Hoffmann", "Koch", "Richter", "Klein", "Wolf", "Schröder", "Neumann",
        "Schwarz", "Zimmermann", "Braun", "Krüger", "Hartmann", "Lange", "Werner", "Krause",
        "Lehmann", "Köhler", "Maier", "Huber", "Kaiser", "Fuchs",
    ),
    "FR": (
        "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand",
        "Leroy", "Moreau", "Simon", "Laurent", "Lefebvre", "Michel", "Garnier", "David",
        "Bertrand", "Roux", "Vincent", "Fournier", "Morel", "Girard", "André", "Mercier",
        "Dupont", "Lambert", "Bonnet", "François", "Chevalier", "Rousseau",
    ),
    "NL": (
        "de Jong", "Jansen", "de Vries", "van den Berg", "van Dijk", "Bakker", "Janssen",
        "Visser", "Smit", "Meijer", "de Boer", "Mulder", "de Groot", "Bos", "Vos", "Peters",
        "Hendriks", "van Leeuwen", "Dekker", "Brouwer", "van der Linden", "Kuipers",
    ),
}
PLACES = {
    "US": (
        "Great Lakes", "Midwest", "Lakeshore", "Prairie", "Blue Ridge", "Gulf Coast",
        "Tri-County", "Tri-State", "Heartland", "Cascade", "Rocky Mountain", "Sunbelt",
        "Keystone", "Chesapeake", "Piedmont", "Ozark", "Bayou", "Pacific Crest", "Hudson Valley",
        "Red River", "Twin Cities", "Lone Star", "Magnolia", "Evergreen", "Cornerstone",
        "Liberty", "Patriot", "Summit", "Frontier", "Pinnacle", "Harbor", "Riverbend",
        "Northfield", "Westgate", "Southland", "Capitol", "Metro", "Golden Valley", "Iron Range",
        "Cumberland", "Allegheny", "Sierra", "Mesa", "Big Sky", "Bluegrass", "Coastal",
    ),
    "CA": (
        "Maple Leaf", "Northern", "Laurentian", "Prairie Sky", "Algonquin", "Niagara",
        "Fraser Valley", "Okanagan", "Rideau", "Muskoka", "Atlantic", "Dominion", "Boreal",
        "Great Lakes", "Pacific", "True North",
    ),
    "GB": (
        "Pennine", "Thames Valley", "Midlands", "Mersey", "Severn", "Cotswold", "Humber",
        "Clyde", "Tyne", "Chiltern", "Wessex", "Northumbria", "Albion", "Crown", "Britannia",
        "Solent", "Fenland", "Peak District",
    ),
    "DE": (
        "Rhein-Main", "Rhein-Ruhr", "Bodensee", "Nordsee", "Schwarzwald", "Havelland", "Isar",
        "Elbe", "Weser", "Spree", "Allgäu", "Taunus", "Harz", "Eifel", "Ostsee", "Franken",
    ),
    "FR": (
        "Rhône-Alpes", "Provence", "Atlantique", "Val de Loire", "Normandie", "Alsace",
        "Bretagne", "Côte d'Azur", "Languedoc", "Aquitaine", "Picardie", "Lorraine",
    ),
    "NL": (
        "Randstad", "Brabant", "Veluwe", "Twente", "Zeeland", "Limburg", "Holland", "Maas",
        "Rijnmond", "Waterland", "Kennemer", "Gooi",
    ),
}
# Patterns by language and industry: {S} surname, {P} place, {C} city.
NAME_PATTERNS: dict[str, dict[str, tuple[str, ...]]] = {
    "EN": {
        "FOODSVC": (
            "{P} Foods", "{S} Fine Foods", "{P} Catering", "{S} Bakery", "{P} Restaurant Group",
            "{P} Hospitality Group", "{S}'s Grill & Tavern", "{P} Provisions", "{S} Kitchens",
            "{P} Fresh Market", "{S} Brothers Pizza", "{P} Brewing Company", "{S} & Sons Deli",
            "{P} Food Service",
        ),
        "MFG": (
            "{P} Manufacturing", "{S} Machining", "{P} Metal Works", "{S} Fabrication",
            "{P} Plastics", "{S} Tool & Die", "{P} Precision Components", "{S} Castings",
            "{P} Packaging", "{S} Industries", "{P} Automation", "{S} Engineering",
        ),
        "ELEC": (
            "{P} Electric", "{S} Electrical Contractors", "{S} Electric", "{P} Electrical Services",
            "{P} Power & Lighting", "{S} Energy Systems", "{P} Controls", "{S} & {S2} Electric",
        ),
        "FACIL": (
            "{P} Construction", "{S} Builders", "{S} Mechanical", "{P} Facility Services",
            "{P} HVAC", "{S} Plumbing & Heating", "{P} Property Management", "{S} Maintenance",
        ),
        "HLTH": (
            "{P} Regional Medical Center", "{P} Senior Living", "{C} Community Hospital",
            "{P} Dental Group", "{S} Family Clinic",
        ),
        "EDU": ("{P} Unified School District", "{P} Community College", "{C} Academy",
                "{P} Christian School"),
        "AUTO": ("{S} Auto Parts", "{P} Collision Center", "{P} Fleet Services",
                 "{S} Truck & Trailer", "{S} Motors"),
    },
    "DE": {
        "FOODSVC": ("{S} Lebensmittel", "{P} Feinkost", "Bäckerei {S}", "Metzgerei {S}",
                    "{P} Gastronomie", "Gasthaus {S}", "{S} Catering", "{P} Großküchen"),
        "MFG": ("{S} Metallbau", "{P} Maschinenbau", "{S} Kunststofftechnik",
                "{S} Präzisionstechnik", "{P} Werkzeugbau", "{S} Verpackungen",
                "{P} Industrietechnik"),
        "ELEC": ("{S} Elektrotechnik", "Elektro {S}", "{P} Elektroinstallation",
                 "{S} Energietechnik", "{P} Lichttechnik"),
        "FACIL": ("{S} Haustechnik", "{P} Gebäudeservice", "{S} Bau", "{S} Sanitär und Heizung"),
        "HLTH": ("Seniorenresidenz {P}", "Pflegedienst {S}", "Praxisklinik {C}"),
        "EDU": ("Berufskolleg {C}", "Akademie {P}"),
        "AUTO": ("Autohaus {S}", "{S} Kfz-Technik", "{P} Nutzfahrzeuge"),
    },
    "FR": {
        "FOODSVC": ("Boulangerie {S}", "Traiteur {S}", "Restauration {P}", "{S} Alimentaire",
                    "Brasserie {S}", "Fromagerie {S}", "Établissements {S}"),
        "MFG": ("Mécanique {P}", "{S} Usinage", "Métallerie {S}", "Plasturgie {P}",
                "Emballages {S}", "Établissements {S} et Fils"),
        "ELEC": ("{S} Électricité", "Électricité Générale {P}", "{S} Éclairage",
                 "{S} et {S2} Électricité"),
        "FACIL": ("{S} Bâtiment", "Plomberie {S}", "Services Techniques {P}"),
        "HLTH": ("Clinique {P}", "Résidence {P}"),
        "EDU": ("Lycée Professionnel {C}", "Institut {P}"),
        "AUTO": ("Garage {S}", "{P} Poids Lourds"),
    },
    "NL": {
        "FOODSVC": ("Bakkerij {S}", "{S} Catering", "Horeca Groothandel {P}",
                    "{S} Vleeswaren", "Eetcafé {S}"),
        "MFG": ("{S} Metaalbewerking", "{P} Kunststoffen", "{S} Machinebouw",
                "{S} Verpakkingen", "{P} Precisietechniek"),
        "ELEC": ("{S} Elektrotechniek", "Installatiebedrijf {S}", "{P} Installatietechniek"),
        "FACIL": ("{S} Bouw", "{S} Facilitair", "Loodgietersbedrijf {S}"),
        "HLTH": ("Zorggroep {P}", "Tandartsenpraktijk {S}"),
        "EDU": ("ROC {P}",),
        "AUTO": ("Autobedrijf {S}", "{P} Truckservice"),
    },
}
LANGUAGE = {"US": "EN", "CA": "EN", "GB": "EN", "DE": "DE", "FR": "FR", "NL": "NL"}
LEGAL_FORMS: dict[str, tuple[tuple[str, int], ...]] = {
    "US": (("Inc.", 40), ("LLC", 25), ("Corp.", 10), ("Co.", 8), ("Corporation", 7),
           ("Incorporated", 5), ("", 5)),
    "CA": (("Inc.", 45), ("Ltd.", 35), ("Corp.", 10), ("Limited", 10)),
    "GB": (("Ltd", 70), ("Limited", 15), ("PLC", 5), ("LLP", 10)),
    "DE": (("GmbH", 60), ("GmbH & Co. KG", 20), ("AG", 5), ("KG", 8), ("e.K.", 7)),
    "FR": (("SAS", 50), ("SARL", 35), ("SA", 10), ("EURL", 5)),
    "NL": (("B.V.", 80), ("N.V.", 5), ("V.O.F.", 15)),
}
LEGAL_FORM_VARIANTS: dict[str, tuple[str, ...]] = {
    "Inc.": ("Inc", "Incorporated", "INC"),
    "Incorporated": ("Inc.", "Inc"),
    "Corp.": ("Corporation", "Corp"),
    "Corporation": ("Corp.", "Corp"),
    "Co.": ("Company", "Co"),
    "LLC": ("L.L.C.", "Llc"),
    "Ltd": ("Limited", "Ltd."),
    "Ltd.": ("Limited", "Ltd"),
    "Limited": ("Ltd", "Ltd."),
    "PLC": ("plc", "Public Limited Company"),
    "LLP": ("L.L.P.",),
    "GmbH": ("Gmbh", "G.m.b.H."),
    "GmbH & Co. KG": ("GmbH & Co KG", "GmbH u. Co. KG"),
    "AG": ("Aktiengesellschaft",),
    "KG": ("K.G.",),
    "e.K.": ("e. K.",),
    "SAS": ("S.A.S.", "Sas"),
    "SARL": ("S.A.R.L.", "Sarl"),
    "SA": ("S.A.",),
    "EURL": ("E.U.R.L.",),
    "B.V.": ("BV", "B.V"),
    "N.V.": ("NV",),
    "V.O.F.": ("VOF",),
}
WORD_VARIANTS: tuple[tuple[str, str], ...] = (
    (" & ", " and "),
    ("Établissements", "Ets"),
    (" und ", " u. "),
    (" et ", " & "),
    ("Company", "Co."),
    ("Brothers", "Bros."),
    ("Services", "Svcs"),
    ("Manufacturing", "Mfg"),
    ("Center", "Ctr"),
)
# fmt: on
