"""Random but plausible field values of different lengths, drawn from one `random.Random`.

Values vary in length and word count on purpose (one-word and four-word company names, one- and two-line
addresses), because a model that only ever sees same-length values learns positions, not fields.
"""

from __future__ import annotations

import datetime as dt
import random

FIRST_NAMES = (
    "Anna",
    "Ben",
    "Chloé",
    "Dmitri",
    "Emeka",
    "Fatima",
    "Grace",
    "Hiroshi",
    "Ines",
    "Jamal",
    "Katarzyna",
    "Liam",
    "Mei",
    "Nikolaus",
    "Olu",
    "Priya",
    "Quentin",
    "Rosa",
    "Sven",
    "Tariq",
    "Uma",
    "Valentina",
    "Wei",
    "Xavier",
    "Yusuf",
    "Zoe",
    "Anne-Marie",
    "Jean-Luc",
)
LAST_NAMES = (
    "Smith",
    "Okafor",
    "García",
    "Nguyen",
    "Kowalski",
    "O'Brien",
    "Müller",
    "Rossi",
    "Tanaka",
    "Haddad",
    "Johansson",
    "Fernandes",
    "Papadopoulos",
    "Van der Berg",
    "Li",
    "Ivanova",
    "Mbeki",
    "Schwarzenegger",
    "Lee",
    "Andersen",
    "de la Cruz",
    "Kim",
)
COMPANY_WORDS = (
    "Contoso",
    "Fabrikam",
    "Northwind",
    "Tailspin",
    "Litware",
    "Proseware",
    "Adatum",
    "Woodgrove",
    "Alpine",
    "Blue Yonder",
    "Coho",
    "Lucerne",
    "Margie's",
    "Humongous",
    "Trey",
    "Wingtip",
    "Fourth Coffee",
)
COMPANY_KINDS = (
    "",
    "Ltd",
    "Inc.",
    "GmbH",
    "Traders",
    "Industries",
    "Supplies Co.",
    "Logistics",
    "Airlines",
    "Winery",
    "Research Institute",
    "Toys & Games",
    "Publishing",
)
STREETS = (
    "Main",
    "Oak",
    "Pine",
    "Maple",
    "Cedar",
    "Elm",
    "Washington",
    "Lake",
    "Hill",
    "Sunset",
    "Riverside",
    "Old Mill",
    "Martin Luther King Jr.",
    "Park",
    "Station",
)
STREET_KINDS = ("St", "Street", "Ave", "Avenue", "Rd", "Blvd", "Lane", "Way", "Drive")
CITIES = (
    ("Seattle", "WA"),
    ("Redmond", "WA"),
    ("Portland", "OR"),
    ("San Francisco", "CA"),
    ("Austin", "TX"),
    ("Boston", "MA"),
    ("Denver", "CO"),
    ("Chicago", "IL"),
    ("Salt Lake City", "UT"),
    ("Miami", "FL"),
    ("New York", "NY"),
    ("Raleigh", "NC"),
)
PRODUCTS = (
    "Widget",
    "Bracket, steel",
    "Cable 2m",
    "Office chair",
    "Paper A4 (500)",
    "Toner cartridge",
    "Monitor 27in",
    "Desk lamp",
    "USB hub",
    "Safety gloves",
    "Pallet wrap",
    "Coffee beans 1kg",
    "Bolts M8 x 40",
)
TERMS = ("Net 15", "Net 30", "Net 45", "Net 60", "Due on receipt", "2/10 Net 30")


def person(rng: random.Random) -> str:
    """First and last name; sometimes with a middle initial, so names have 2 to 4 words."""
    first = rng.choice(FIRST_NAMES)
    last = rng.choice(LAST_NAMES)
    if rng.random() < 0.25:
        return f"{first} {rng.choice('ABCDEFGHJKLMNPRSTW')}. {last}"
    return f"{first} {last}"


def company(rng: random.Random) -> str:
    kind = rng.choice(COMPANY_KINDS)
    return f"{rng.choice(COMPANY_WORDS)} {kind}".strip()


def street(rng: random.Random) -> str:
    line = f"{rng.randint(1, 98765)} {rng.choice(STREETS)} {rng.choice(STREET_KINDS)}"
    if rng.random() < 0.3:
        line += f", Suite {rng.randint(100, 2400)}"
    return line


def city_line(rng: random.Random) -> str:
    city, state = rng.choice(CITIES)
    return f"{city}, {state} {rng.randint(10000, 99999)}"


def phone(rng: random.Random) -> str:
    return f"{rng.randint(200, 989)}-{rng.randint(200, 989)}-{rng.randint(0, 9999):04d}"


def email(rng: random.Random, name: str) -> str:
    local = "".join(ch for ch in name.split()[0].lower() if ch.isascii() and ch.isalpha()) or "info"
    domain = "".join(ch for ch in rng.choice(COMPANY_WORDS).lower() if ch.isalpha())
    separator = rng.choice(["", ".", "_"])
    return f"{local}{separator}{rng.randint(1, 99)}@{domain}.{rng.choice(['com', 'org', 'net'])}"


def date(rng: random.Random, start_year: int = 2019, end_year: int = 2024) -> dt.date:
    start = dt.date(start_year, 1, 1).toordinal()
    end = dt.date(end_year, 12, 31).toordinal()
    return dt.date.fromordinal(rng.randint(start, end))


def amount(value: float) -> str:
    """Money as printed on US forms: thousands separators, two decimals."""
    return f"{value:,.2f}"


def reference(rng: random.Random, prefix: str) -> str:
    """An identifier such as `INV-004512` or `PO 88123-B` whose length varies."""
    digits = str(rng.randint(10 ** (rng.randint(3, 6)), 10**7 - 1))
    suffix = f"-{rng.choice('ABCDEF')}" if rng.random() < 0.3 else ""
    return f"{prefix}{digits}{suffix}"
