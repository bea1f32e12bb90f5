"""Reference data of the Global Superstore world: places that belong together and a catalog.

Every string here is Latin-1 encodable on purpose, so a file written with
encoding="latin-1" loses nothing (a real Latin-1 export would have turned
characters like "ồ" into "?", which is a different problem).
"""

from __future__ import annotations

from typing import NamedTuple


class Location(NamedTuple):
    market: str
    region: str
    country: str
    country_code: str  # prefix of Order IDs, e.g. "US-2012-000017"
    state: str
    city: str
    postal_codes: tuple[str, ...]  # US only: 5 digits, leading zeros kept; () elsewhere


# Share of order lines per market (Global Superstore proportions, roughly).
MARKET_WEIGHTS: dict[str, float] = {
    "APAC": 0.21, "EU": 0.19, "US": 0.20, "LATAM": 0.20, "EMEA": 0.10,
    "Africa": 0.09, "Canada": 0.01,
}  # fmt: skip

_US = (
    # region, state, city, postal codes
    ("East", "New York", "New York City", ("10024", "10035", "10009")),
    ("East", "Pennsylvania", "Philadelphia", ("19120", "19134")),
    ("East", "Massachusetts", "Boston", ("02134", "02115")),
    ("East", "Rhode Island", "Providence", ("02908",)),
    ("East", "Connecticut", "Hartford", ("06106",)),
    ("East", "New Jersey", "Newark", ("07102",)),
    ("East", "Vermont", "Burlington", ("05401",)),
    ("East", "Maine", "Portland", ("04101",)),
    ("East", "Ohio", "Columbus", ("43229",)),
    ("West", "California", "Los Angeles", ("90036", "90049")),
    ("West", "California", "San Francisco", ("94122", "94110")),
    ("West", "California", "San Diego", ("92024",)),
    ("West", "Washington", "Seattle", ("98105", "98103")),
    ("West", "Colorado", "Denver", ("80219",)),
    ("West", "Arizona", "Phoenix", ("85023",)),
    ("West", "Nevada", "Las Vegas", ("89115",)),
    ("Central", "Illinois", "Chicago", ("60653", "60610")),
    ("Central", "Texas", "Houston", ("77095", "77041")),
    ("Central", "Texas", "Dallas", ("75217",)),
    ("Central", "Texas", "San Antonio", ("78207",)),
    ("Central", "Michigan", "Detroit", ("48205",)),
    ("Central", "Minnesota", "Minneapolis", ("55407",)),
    ("Central", "Wisconsin", "Milwaukee", ("53209",)),
    ("South", "Florida", "Jacksonville", ("32216",)),
    ("South", "Florida", "Miami", ("33142",)),
    ("South", "Georgia", "Atlanta", ("30318",)),
    ("South", "Tennessee", "Nashville", ("37211",)),
    ("South", "North Carolina", "Charlotte", ("28205",)),
    ("South", "Kentucky", "Louisville", ("40214",)),
    ("South", "Virginia", "Richmond", ("23223",)),
)

_WORLD = (
    # market, region, country, code, ((state, city), ...)
    ("Canada", "Canada", "Canada", "CA", (
        ("Ontario", "Toronto"), ("Quebec", "Montréal"), ("Quebec", "Québec"),
        ("British Columbia", "Vancouver"), ("Alberta", "Calgary"), ("Ontario", "Ottawa"))),
    ("LATAM", "Central America", "Mexico", "MX", (
        ("Chihuahua", "Juárez"), ("Distrito Federal", "Mexico City"),
        ("Jalisco", "Guadalajara"), ("Nuevo León", "Monterrey"))),
    ("LATAM", "Central America", "Guatemala", "GT", (("Guatemala", "Guatemala City"),)),
    ("LATAM", "Central America", "El Salvador", "SV", (("San Salvador", "San Salvador"),)),
    ("LATAM", "Central America", "Honduras", "HN", (("Francisco Morazán", "Tegucigalpa"),)),
    ("LATAM", "Caribbean", "Dominican Republic", "DO", (("Santo Domingo", "Santo Domingo"),)),
    ("LATAM", "Caribbean", "Cuba", "CU", (("Ciudad de la Habana", "Havana"),)),
    ("LATAM", "South America", "Brazil", "BR", (
        ("São Paulo", "São Paulo"), ("Rio de Janeiro", "Rio de Janeiro"),
        ("Minas Gerais", "Belo Horizonte"))),
    ("LATAM", "South America", "Argentina", "AR", (
        ("Buenos Aires", "Buenos Aires"), ("Córdoba", "Córdoba"))),
    ("LATAM", "South America", "Uruguay", "UY", (
        ("Paysandú", "Paysandú"), ("Montevideo", "Montevideo"))),
    ("LATAM", "South America", "Colombia", "CO", (("Bogotá", "Bogotá"), ("Antioquia", "Medellín"))),
    ("LATAM", "South America", "Chile", "CL", (("Santiago", "Santiago"),)),
    ("LATAM", "South America", "Peru", "PE", (("Lima", "Lima"),)),
    ("EU", "Western Europe", "France", "FR", (
        ("Ile-de-France", "Paris"), ("Auvergne-Rhône-Alpes", "Lyon"))),
    ("EU", "Western Europe", "Germany", "DE", (
        ("Berlin", "Berlin"), ("North Rhine-Westphalia", "Düsseldorf"), ("Bavaria", "München"))),
    ("EU", "Western Europe", "Switzerland", "CH", (("Zürich", "Zürich"), ("Geneva", "Genève"))),
    ("EU", "Western Europe", "Netherlands", "NL", (("North Holland", "Amsterdam"),)),
    ("EU", "Western Europe", "Austria", "AT", (("Vienna", "Wien"),)),
    ("EU", "Northern Europe", "United Kingdom", "GB", (
        ("England", "London"), ("England", "Manchester"), ("Scotland", "Glasgow"))),
    ("EU", "Northern Europe", "Sweden", "SE", (("Stockholm", "Stockholm"), ("Skåne", "Malmö"))),
    ("EU", "Northern Europe", "Denmark", "DK", (("Capital", "København"),)),
    ("EU", "Northern Europe", "Norway", "NO", (("Troms", "Tromsø"),)),
    ("EU", "Southern Europe", "Spain", "ES", (
        ("Madrid", "Madrid"), ("Catalonia", "Barcelona"), ("Andalusia", "Málaga"))),
    ("EU", "Southern Europe", "Italy", "IT", (("Lazio", "Roma"), ("Lombardy", "Milano"))),
    ("EU", "Southern Europe", "Portugal", "PT", (("Lisboa", "Lisboa"),)),
    ("EMEA", "Eastern Europe", "Poland", "PL", (
        ("Lesser Poland", "Kraków"), ("Masovia", "Warszawa"))),
    ("EMEA", "Eastern Europe", "Russia", "RU", (
        ("Moscow City", "Moscow"), ("Saint Petersburg", "Saint Petersburg"))),
    ("EMEA", "Eastern Europe", "Hungary", "HU", (("Budapest", "Budapest"),)),
    ("EMEA", "Eastern Europe", "Czech Republic", "CZ", (("Prague", "Praha"),)),
    ("EMEA", "Western Asia", "Turkey", "TR", (("Ankara", "Ankara"), ("Izmir", "Izmir"))),
    ("EMEA", "Western Asia", "Israel", "IL", (("Tel Aviv", "Tel Aviv"),)),
    ("EMEA", "Western Asia", "United Arab Emirates", "AE", (("Dubai", "Dubai"),)),
    ("EMEA", "Central Asia", "Kazakhstan", "KZ", (("Almaty", "Almaty"),)),
    ("Africa", "North Africa", "Egypt", "EG", (("Al Qahirah", "Cairo"),)),
    ("Africa", "North Africa", "Morocco", "MA", (("Grand Casablanca", "Casablanca"),)),
    ("Africa", "North Africa", "Tunisia", "TN", (("Tunis", "Tunis"),)),
    ("Africa", "Western Africa", "Nigeria", "NG", (("Lagos", "Lagos"),)),
    ("Africa", "Western Africa", "Senegal", "SN", (("Dakar", "Dakar"),)),
    ("Africa", "Western Africa", "Côte d'Ivoire", "CI", (("Lagunes", "Abidjan"),)),
    ("Africa", "Southern Africa", "South Africa", "ZA", (
        ("Gauteng", "Johannesburg"), ("Western Cape", "Cape Town"))),
    ("Africa", "Eastern Africa", "Kenya", "KE", (("Nairobi", "Nairobi"),)),
    ("Africa", "Eastern Africa", "Ethiopia", "ET", (("Addis Ababa", "Addis Ababa"),)),
    ("Africa", "Central Africa", "Cameroon", "CM", (("Littoral", "Douala"),)),
    ("APAC", "Oceania", "Australia", "AU", (
        ("New South Wales", "Sydney"), ("Victoria", "Melbourne"), ("Queensland", "Brisbane"))),
    ("APAC", "Oceania", "New Zealand", "NZ", (("Auckland", "Auckland"),)),
    ("APAC", "Southeastern Asia", "Indonesia", "ID", (("Jakarta", "Jakarta"),)),
    ("APAC", "Southeastern Asia", "Philippines", "PH", (("National Capital", "Manila"),)),
    ("APAC", "Southeastern Asia", "Vietnam", "VN", (("Hanoi", "Hanoi"),)),
    ("APAC", "Southeastern Asia", "Thailand", "TH", (("Bangkok", "Bangkok"),)),
    ("APAC", "Eastern Asia", "China", "CN", (("Beijing", "Beijing"), ("Shanghai", "Shanghai"))),
    ("APAC", "Eastern Asia", "Japan", "JP", (("Tokyo", "Tokyo"), ("Osaka", "Osaka"))),
    ("APAC", "Eastern Asia", "South Korea", "KR", (("Seoul", "Seoul"),)),
    ("APAC", "Southern Asia", "India", "IN", (
        ("Maharashtra", "Mumbai"), ("Delhi", "New Delhi"), ("Karnataka", "Bangalore"))),
    ("APAC", "Southern Asia", "Pakistan", "PK", (("Sindh", "Karachi"),)),
)  # fmt: skip


def _locations() -> tuple[Location, ...]:
    us = tuple(
        Location("US", region, "United States", "US", state, city, codes)
        for region, state, city, codes in _US
    )
    world = tuple(
        Location(market, region, country, code, state, city, ())
        for market, region, country, code, places in _WORLD
        for state, city in places
    )
    return us + world


LOCATIONS: tuple[Location, ...] = _locations()
LOCATIONS_BY_MARKET: dict[str, tuple[Location, ...]] = {
    market: tuple(loc for loc in LOCATIONS if loc.market == market) for market in MARKET_WEIGHTS
}

SEGMENT_WEIGHTS = {"Consumer": 0.52, "Corporate": 0.30, "Home Office": 0.18}
PRIORITY_WEIGHTS = {"Medium": 0.57, "High": 0.30, "Critical": 0.08, "Low": 0.05}
SHIP_MODE_WEIGHTS = {
    "Standard Class": 0.60, "Second Class": 0.20, "First Class": 0.15, "Same Day": 0.05,
}  # fmt: skip
# Days between order and ship date per ship mode (inclusive bounds; Same Day is 0).
SHIP_DAYS = {"Same Day": (0, 0), "First Class": (1, 3), "Second Class": (2, 5),
             "Standard Class": (4, 7)}  # fmt: skip
# Shipping cost as a share of sales per ship mode (before noise).
SHIP_COST_RATE = {"Same Day": 0.20, "First Class": 0.15, "Second Class": 0.10,
                  "Standard Class": 0.07}  # fmt: skip
# Discount in tenths (0 .. 8 = 0.0 .. 0.8) and quantity 1..14 distributions.
DISCOUNT_TENTHS_WEIGHTS = (50, 10, 15, 5, 6, 5, 4, 3, 2)
QUANTITY_WEIGHTS = (18, 20, 17, 13, 10, 7, 5, 3, 2, 1.5, 1.2, 1, 0.8, 0.5)
LINES_PER_ORDER_WEIGHTS = (45, 25, 14, 8, 5, 3)

FIRST_NAMES = (
    "James", "Mary", "José", "María", "Zoë", "Björn", "Chloé", "François", "Jürgen", "Søren",
    "Inês", "João", "Renée", "Noël", "Ana", "Chen", "Wei", "Aiko", "Hiroshi", "Priya",
    "Arjun", "Fatima", "Omar", "Kwame", "Amara", "Olga", "Dmitri", "Giulia", "Luca", "Sofía",
    "Mateo", "Ingrid", "Lars", "Emma", "Liam", "Noah", "Olivia", "Ethan", "Sophie", "Lucas",
    "Hannah", "Ramón", "Agnès", "Jérôme", "Zoltán", "Ágnes", "Tomás", "Eva", "Kenji", "Nadia",
)  # fmt: skip
LAST_NAMES = (
    "Smith", "Johnson", "Núñez", "García", "Müller", "Schäfer", "Østergaard", "Lefèvre",
    "Gonçalves", "Peña", "Fernández", "O'Brien", "Nguyen", "Wang", "Tanaka", "Kim", "Patel",
    "Singh", "Okafor", "Mensah", "Ivanova", "Rossi", "Bianchi", "Johansson", "Dubois", "Brown",
    "Taylor", "Wilson", "Anderson", "Moore", "Martin", "Lee", "Walker", "Hall", "Young",
    "Kowalski", "Novák", "Horváth", "Sánchez", "Gómez", "Jiménez", "Weiß", "Andersen",
    "Virtanen", "Da Silva", "Van der Berg", "Ødegaard", "Çelik", "Brandão", "Ruiz",
)  # fmt: skip


class SubCategory(NamedTuple):
    category: str
    category_code: str
    name: str
    code: str
    price_range: tuple[float, float]  # unit price in dollars (drawn log-uniformly)
    base_margin: float  # profit share of sales at discounts up to 15%
    brands: tuple[str, ...]
    items: tuple[str, ...]


# Variants make product names; the ones with a comma force CSV quoting downstream.
VARIANTS = (
    "", ", Black", ", Blue", ", 10/Pack", ", Adjustable", " with Casters", ", Recycled",
    ", Set of 4", " Deluxe", ", Wireless", ", Ergonomic", ", Heavy Duty", " Pro", ", Large",
)  # fmt: skip
RENAME_SUFFIXES = (", Eco Edition", ", Redesigned", ", New Packaging", " (2nd Gen)")

SUB_CATEGORIES: tuple[SubCategory, ...] = (
    SubCategory("Furniture", "FUR", "Bookcases", "BO", (50, 600), 0.12,
                ("Sauder", "Bush", "O'Sullivan", "Safco"),
                ("Library Bookcase", "Corner Bookcase", "Cubicle Shelf", "Barrister Bookcase")),
    SubCategory("Furniture", "FUR", "Chairs", "CH", (40, 600), 0.14,
                ("Hon", "Novimex", "Harbour Creations", "Global", "SAFCO"),
                ("Executive Leather Armchair", "Stacking Chairs, Rounded Back", "Task Chair",
                 "Swivel Stool", "Mesh Office Chair")),
    SubCategory("Furniture", "FUR", "Furnishings", "FU", (5, 150), 0.2,
                ("Eldon", "Tenex", "Deflect-O", "Howard Miller"),
                ("Wall Clock", "Desk Lamp", "Chair Mat", "Frame, Wood", "Cloth Organizer")),
    SubCategory("Furniture", "FUR", "Tables", "TA", (60, 900), 0.02,
                ("Bevis", "Chromcraft", "Barricks", "Lesro"),
                ("Conference Table", "Round Table", "Training Table, Foldable", "Computer Desk")),
    SubCategory("Office Supplies", "OFF", "Appliances", "AP", (10, 400), 0.18,
                ("Hoover", "Holmes", "Hamilton Beach", "Kensington"),
                ("Microwave", "Refrigerator", "Air Purifier", "Surge Protector", "Coffee Maker")),
    SubCategory("Office Supplies", "OFF", "Art", "AR", (2, 30), 0.25,
                ("Sanford", "Boston", "Binney & Smith", "Prismacolor"),
                ("Pencil Sharpener", "Markers", "Colored Pencils", "Highlighters")),
    SubCategory("Office Supplies", "OFF", "Binders", "BI", (2, 60), 0.25,
                ("Avery", "Wilson Jones", "Acco", "Cardinal", "GBC"),
                ('1" Round Ring Binder', "Binding Covers", "Clip Binder", "Presentation Binder")),
    SubCategory("Office Supplies", "OFF", "Envelopes", "EN", (3, 40), 0.3,
                ("Globe Weis", "Tyvek", "Jiffy", "Cameo"),
                ("Business Envelopes", "Mailers", "Clasp Envelope", "Interoffice Envelope")),
    SubCategory("Office Supplies", "OFF", "Fasteners", "FA", (1, 12), 0.22,
                ("Advantus", "Staples", "OIC", "Acco"),
                ("Paper Clips", "Push Pins", "Rubber Bands", "Binder Clips")),
    SubCategory("Office Supplies", "OFF", "Labels", "LA", (2, 20), 0.32,
                ("Avery", "Smead", "Dymo", "Brother"),
                ("Address Labels", "File Folder Labels", "Color Coding Labels")),
    SubCategory("Office Supplies", "OFF", "Paper", "PA", (3, 40), 0.32,
                ("Xerox", "Hammermill", "Eaton", "Southworth"),
                ("Copy Paper", "Cardstock", "Message Book, Wirebound", 'Easel Pad 27" x 34"')),
    SubCategory("Office Supplies", "OFF", "Storage", "ST", (8, 250), 0.12,
                ("Fellowes", "Eldon", "Smead", "Tennsco"),
                ("File Cart", "Storage Box", "Lockers", "Shelving, Industrial")),
    SubCategory("Office Supplies", "OFF", "Supplies", "SU", (3, 60), 0.08,
                ("Fiskars", "Acme", "Stiletto", "Premier"),
                ("Scissors", "Trimmer", "Letter Opener", "Ruler, Stainless Steel")),
    SubCategory("Technology", "TEC", "Accessories", "AC", (8, 250), 0.22,
                ("Logitech", "Memorex", "SanDisk", "Kingston", "Belkin"),
                ("Keyboard", "Mouse", "USB Flash Drive", "Headset", "Webcam")),
    SubCategory("Technology", "TEC", "Copiers", "CO", (150, 2500), 0.35,
                ("Canon", "Hewlett", "Sharp", "Brother"),
                ("Copier, Color", "Personal Copier", "Wireless Fax", "Laser Copier")),
    SubCategory("Technology", "TEC", "Machines", "MA", (40, 1500), 0.08,
                ("Okidata", "Epson", "Cisco", "Zebra", "StarTech"),
                ("Inkjet Printer", "Receipt Printer", "Shredder", "Calculator", "Projector")),
    SubCategory("Technology", "TEC", "Phones", "PH", (30, 900), 0.16,
                ("Apple", "Samsung", "Nokia", "Motorola", "Cisco"),
                ("Smart Phone", "Cordless Phone", "IP Phone", "Headset, Bluetooth")),
)  # fmt: skip
