"""The distributor's own warehouses, as the ERP and the WMS know them."""

# fmt: off
WAREHOUSES: tuple[tuple[str, str, str, str, str, str, str, str, str, str], ...] = (
    # code, ERP name, WMS name, street, city, region, postal, country, latitude, longitude
    ("CHI1", "WHSE 01 CHICAGO", "Chicago DC", "800 Distribution Parkway", "Bolingbrook", "IL",
     "60440", "US", "41.698112", "-88.079002"),
    ("ATL1", "WHSE 02 ATLANTA", "Atlanta DC", "1450 Logistics Court", "McDonough", "GA",
     "30253", "US", "33.447301", "-84.146912"),
    ("DFW1", "WHSE 03 DALLAS", "Dallas-Fort Worth DC", "2200 Commerce Drive", "Lancaster", "TX",
     "75134", "US", "32.592104", "-96.756550"),
    ("EWR1", "WHSE 04 EDISON", "Northeast DC", "35 Industrial Road", "Edison", "NJ", "08837",
     "US", "40.518715", "-74.412095"),
    ("ONT1", "WHSE 05 ONTARIO CA", "West Coast DC", "4100 Enterprise Boulevard", "Ontario", "CA",
     "91761", "US", "34.063344", "-117.650888"),
    ("SEA1", "WHSE 06 KENT", "Pacific Northwest DC", "19800 Valley Parkway", "Kent", "WA",
     "98032", "US", "47.380935", "-122.234840"),
    ("YYZ1", "WHSE 11 MISSISSAUGA", "Toronto DC", "6750 Argentia Road", "Mississauga", "ON",
     "L5N 2T6", "CA", "43.606720", "-79.755230"),
    ("DAV1", "WHSE 21 DAVENTRY", "UK National DC", "Unit 7, Brunel Way", "Daventry",
     "Northamptonshire", "NN11 8YL", "GB", "52.272931", "-1.162530"),
    ("DUI1", "WHSE 31 DUISBURG", "Zentrallager Duisburg", "Am Hafen 12", "Duisburg",
     "Nordrhein-Westfalen", "47229", "DE", "51.389670", "6.735412"),
    ("LYS1", "WHSE 41 SAINT-PRIEST", "Entrepôt Lyon", "18 rue des Artisans", "Saint-Priest",
     "Auvergne-Rhône-Alpes", "69800", "FR", "45.696221", "4.943402"),
    ("VNL1", "WHSE 51 VENLO", "European DC Venlo", "Transportweg 40", "Venlo", "Limburg",
     "5928 PH", "NL", "51.397611", "6.134290"),
)
# Cross-docks the WMS runs that the ERP does not stock from.
WMS_ONLY_WAREHOUSES = (
    ("XCHI", "Chicago Cross-Dock", "1200 Railroad Avenue", "Elk Grove Village", "IL", "60007",
     "US", "42.003911", "-87.970621"),
    ("XRTM", "Rotterdam Cross-Dock", "Havenstraat 3", "Rotterdam", "ZH", "3011 AA", "NL",
     "51.905270", "4.466012"),
)
# fmt: on
