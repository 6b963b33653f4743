"""The form layouts: which fields each has, how their values are made, and where they are drawn.

Each layout is one pre-printed form (fixed captions and lines) filled in with different values. Values are
made first (from one seeded `random.Random`), then drawn; optional fields are sometimes left empty, and an
empty field has no label, as in a labeling tool.

Why it is long: it is a catalogue, one short function per layout, each read on its own.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from formgen import values as gen
from formgen.canvas import FormCanvas
from formgen.tables import draw_table, make_table


@dataclass(frozen=True)
class FieldSpec:
    key: str
    type: str  # fields.json fieldType: string | number | date | selectionMark


@dataclass
class FormData:
    """Field values as printed ("" = left empty) plus unlabeled filler the drawing needs (e.g. line items)."""

    values: dict[str, str]
    extras: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Layout:
    name: str
    fields: tuple[FieldSpec, ...]
    make: Callable[[random.Random], FormData]
    draw: Callable[[FormCanvas, FormData], None]


LEFT = 50.0
RIGHT = 562.0


# ---------------------------------------------------------------- invoice (one page and two pages)

INVOICE_FIELDS = (
    FieldSpec("InvoiceNumber", "string"),
    FieldSpec("InvoiceDate", "date"),
    FieldSpec("DueDate", "date"),
    FieldSpec("PONumber", "string"),
    FieldSpec("CustomerName", "string"),
    FieldSpec("CustomerCompany", "string"),
    FieldSpec("CustomerAddress", "string"),
    FieldSpec("Subtotal", "number"),
    FieldSpec("Tax", "number"),
    FieldSpec("Total", "number"),
    FieldSpec("PaymentTerms", "string"),
)
INVOICE_MULTIPAGE_FIELDS = (
    *INVOICE_FIELDS,
    FieldSpec("BankAccount", "string"),
    FieldSpec("ApprovedBy", "string"),
)


def make_invoice(rng: random.Random) -> FormData:
    issued = gen.date(rng)
    items = []
    for _ in range(rng.randint(1, 6)):
        qty = rng.randint(1, 120)
        price = round(rng.uniform(0.5, 600), 2)
        items.append((rng.choice(gen.PRODUCTS), qty, price, round(qty * price, 2)))
    subtotal = round(sum(item[3] for item in items), 2)
    tax = round(subtotal * rng.choice((0.05, 0.07, 0.0825, 0.1)), 2)
    v = {
        "InvoiceNumber": gen.reference(rng, rng.choice(("INV-", "", "A"))),
        "InvoiceDate": issued.isoformat(),
        "DueDate": (issued + dt.timedelta(days=rng.choice((15, 30, 45, 60)))).isoformat(),
        "PONumber": gen.reference(rng, "PO") if rng.random() < 0.65 else "",
        "CustomerName": gen.person(rng),
        "CustomerCompany": gen.company(rng) if rng.random() < 0.7 else "",
        "CustomerAddress": f"{gen.street(rng)}\n{gen.city_line(rng)}",
        "Subtotal": gen.amount(subtotal),
        "Tax": gen.amount(tax),
        "Total": gen.amount(subtotal + tax),
        "PaymentTerms": rng.choice(gen.TERMS),
        "BankAccount": f"GB{rng.randint(10, 99)} WOOD {rng.randint(1000, 9999)} {rng.randint(1000, 9999)} "
        f"{rng.randint(1000, 9999)} {rng.randint(10, 99)}",
        "ApprovedBy": gen.person(rng),
    }
    return FormData(v, {"items": items})


def _multiline(
    c: FormCanvas, name: str, x: float, baseline: float, text: str, width: float, step: float = 14
) -> None:
    c.multiline(name, x, baseline, text, step, width)


def _invoice_page_one(c: FormCanvas, d: FormData) -> None:
    v = d.values
    c.text(LEFT, 70, "Formloop Sample Supplies", 15, "sans-bold")
    c.text(LEFT, 86, "100 Example Road, Springfield, OR 97477")
    c.text(LEFT, 98, "billing@formloop.example  |  541-555-0100")
    c.text(430, 72, "INVOICE", 22, "sans-bold")
    captions = (
        ("Invoice No:", "InvoiceNumber"),
        ("Invoice Date:", "InvoiceDate"),
        ("Due Date:", "DueDate"),
        ("PO Number:", "PONumber"),
    )
    for i, (caption, key) in enumerate(captions):
        baseline = 130 + i * 18
        c.text(360, baseline, caption)
        c.value(key, 440, baseline, v[key], width=120)
    c.line(LEFT, 205, RIGHT, 205)
    c.text(LEFT, 225, "BILL TO", 10, "sans-bold")
    c.text(LEFT, 245, "Name:")
    c.value("CustomerName", 110, 245, v["CustomerName"], width=450)
    c.text(LEFT, 263, "Company:")
    c.value("CustomerCompany", 110, 263, v["CustomerCompany"], width=450)
    c.text(LEFT, 281, "Address:")
    _multiline(c, "CustomerAddress", 110, 281, v["CustomerAddress"], 450)
    # Line items: a fixed table with room for six rows; the values are not labeled (they are filler).
    top = 330
    c.box(LEFT, top, RIGHT - LEFT, 140)
    for x, caption in ((LEFT + 6, "Description"), (330, "Qty"), (390, "Unit price"), (480, "Amount")):
        c.text(x, top + 14, caption, 9, "sans-bold")
    c.line(LEFT, top + 20, RIGHT, top + 20)
    for i, (desc, qty, price, total) in enumerate(d.extras["items"]):
        baseline = top + 36 + i * 18
        c.text(LEFT + 6, baseline, desc, 9.5, "mono")
        c.text(330, baseline, str(qty), 9.5, "mono")
        c.text(390, baseline, gen.amount(price), 9.5, "mono")
        c.text(480, baseline, gen.amount(total), 9.5, "mono")


def _invoice_totals(c: FormCanvas, v: dict[str, str], top: float) -> None:
    for i, (caption, key) in enumerate(
        (("Subtotal:", "Subtotal"), ("Tax:", "Tax"), ("Total (USD):", "Total"))
    ):
        c.text(380, top + i * 18, caption, 9.5, "sans-bold" if key == "Total" else "sans")
        c.value(key, 460, top + i * 18, v[key], width=100)
    c.text(LEFT, top, "Payment terms:")
    c.value("PaymentTerms", 130, top, v["PaymentTerms"], width=240)


def draw_invoice(c: FormCanvas, d: FormData) -> None:
    _invoice_page_one(c, d)
    _invoice_totals(c, d.values, 500)
    c.text(LEFT, 740, "Thank you for your business. Please quote the invoice number with your payment.", 8)


def draw_invoice_multipage(c: FormCanvas, d: FormData) -> None:
    _invoice_page_one(c, d)
    c.text(LEFT, 740, "Continued on page 2", 8)
    c.new_page()
    c.text(LEFT, 70, "Formloop Sample Supplies", 12, "sans-bold")
    c.text(430, 70, "INVOICE  page 2", 10, "sans-bold")
    c.text(LEFT, 120, "PAYMENT DETAILS", 11, "sans-bold")
    c.line(LEFT, 128, RIGHT, 128)
    _invoice_totals(c, d.values, 160)
    c.text(LEFT, 250, "Bank account:")
    c.value("BankAccount", 130, 250, d.values["BankAccount"], width=420)
    c.text(LEFT, 330, "Approved by:")
    c.value("ApprovedBy", 130, 330, d.values["ApprovedBy"], width=270)
    c.line(130, 336, 400, 336)
    c.text(LEFT, 740, "Late payments incur interest of 1% per month.", 8)


# ---------------------------------------------------------------- purchase order

PO_FIELDS = (
    FieldSpec("PONumber", "string"),
    FieldSpec("OrderDate", "date"),
    FieldSpec("VendorName", "string"),
    FieldSpec("VendorAddress", "string"),
    FieldSpec("ShipToName", "string"),
    FieldSpec("ShipToAddress", "string"),
    FieldSpec("DeliveryDate", "date"),
    FieldSpec("Quantity", "number"),
    FieldSpec("UnitPrice", "number"),
    FieldSpec("Total", "number"),
    FieldSpec("RequestedBy", "string"),
    FieldSpec("Notes", "string"),
)

NOTE_WORDS = (
    "deliver",
    "to",
    "loading",
    "dock",
    "before",
    "noon",
    "call",
    "on",
    "arrival",
    "fragile",
    "keep",
    "dry",
    "partial",
    "shipments",
    "accepted",
    "invoice",
    "separately",
    "gate",
    "B",
)


def make_purchase_order(rng: random.Random) -> FormData:
    ordered = gen.date(rng)
    qty = rng.randint(1, 5000)
    price = round(rng.uniform(0.1, 450), 2)
    notes = " ".join(rng.choice(NOTE_WORDS) for _ in range(rng.randint(2, 9))) if rng.random() < 0.6 else ""
    v = {
        "PONumber": gen.reference(rng, rng.choice(("", "PO-", "P"))),
        "OrderDate": ordered.strftime("%m/%d/%Y"),
        "VendorName": gen.company(rng),
        "VendorAddress": f"{gen.street(rng)}\n{gen.city_line(rng)}",
        "ShipToName": gen.person(rng),
        "ShipToAddress": f"{gen.street(rng)}\n{gen.city_line(rng)}",
        "DeliveryDate": (ordered + dt.timedelta(days=rng.randint(3, 40))).strftime("%m/%d/%Y"),
        "Quantity": f"{qty:,}",
        "UnitPrice": gen.amount(price),
        "Total": gen.amount(qty * price),
        "RequestedBy": gen.person(rng),
        "Notes": notes,
    }
    return FormData(v)


def draw_purchase_order(c: FormCanvas, d: FormData) -> None:
    v = d.values
    c.text(LEFT, 66, "PURCHASE ORDER", 20, "sans-bold")
    c.text(LEFT, 84, "Northwind Procurement Services  -  Form NP-7", 9)
    c.box(380, 45, RIGHT - 380, 50)
    c.text(388, 62, "P.O. No.")
    c.value("PONumber", 450, 62, v["PONumber"], width=104)
    c.text(388, 84, "Date")
    c.value("OrderDate", 450, 84, v["OrderDate"], width=104)
    for x, title, name_key, addr_key in (
        (LEFT, "VENDOR", "VendorName", "VendorAddress"),
        (310, "SHIP TO", "ShipToName", "ShipToAddress"),
    ):
        c.box(x, 120, 252, 100)
        c.text(x + 8, 136, title, 9, "sans-bold")
        c.value(name_key, x + 8, 158, v[name_key], width=236)
        _multiline(c, addr_key, x + 8, 176, v[addr_key], 236)
    c.text(LEFT, 250, "Requested delivery date:")
    c.value("DeliveryDate", 170, 250, v["DeliveryDate"], width=200)
    c.box(LEFT, 270, RIGHT - LEFT, 70)
    for x, caption in ((LEFT + 8, "Quantity"), (200, "Unit price (USD)"), (380, "Line total (USD)")):
        c.text(x, 288, caption, 9, "sans-bold")
    c.line(LEFT, 296, RIGHT, 296)
    c.value("Quantity", LEFT + 8, 322, v["Quantity"], width=135)
    c.value("UnitPrice", 200, 322, v["UnitPrice"], width=170)
    c.value("Total", 380, 322, v["Total"], width=175)
    c.text(LEFT, 372, "Notes:")
    c.value("Notes", 100, 372, v["Notes"], width=460)
    c.line(100, 378, RIGHT, 378)
    c.text(LEFT, 430, "Requested by:")
    c.value("RequestedBy", 130, 430, v["RequestedBy"], width=230)
    c.line(130, 436, 360, 436)
    c.text(
        LEFT,
        740,
        "All goods remain subject to inspection on receipt. Quote the P.O. number on every invoice.",
        8,
    )


# ---------------------------------------------------------------- registration form with check boxes

REGISTRATION_FIELDS = (
    FieldSpec("FirstName", "string"),
    FieldSpec("LastName", "string"),
    FieldSpec("DateOfBirth", "date"),
    FieldSpec("Email", "string"),
    FieldSpec("Phone", "string"),
    FieldSpec("Street", "string"),
    FieldSpec("CityStateZip", "string"),
    FieldSpec("Employer", "string"),
    FieldSpec("MembershipBasic", "selectionMark"),
    FieldSpec("MembershipPremium", "selectionMark"),
    FieldSpec("MembershipFamily", "selectionMark"),
    FieldSpec("Newsletter", "selectionMark"),
    FieldSpec("TermsAccepted", "selectionMark"),
    FieldSpec("SignatureDate", "date"),
)


def _mark(checked: bool) -> str:
    return "selected" if checked else "unselected"


def make_registration(rng: random.Random) -> FormData:
    first, last = rng.choice(gen.FIRST_NAMES), rng.choice(gen.LAST_NAMES)
    name = f"{first} {last}"
    plan = rng.choice(("MembershipBasic", "MembershipPremium", "MembershipFamily"))
    v = {
        "FirstName": first,
        "LastName": last,
        "DateOfBirth": gen.date(rng, 1940, 2006).strftime("%b %d, %Y"),
        "Email": gen.email(rng, name),
        "Phone": gen.phone(rng) if rng.random() < 0.7 else "",
        "Street": gen.street(rng),
        "CityStateZip": gen.city_line(rng),
        "Employer": gen.company(rng) if rng.random() < 0.5 else "",
        "MembershipBasic": _mark(plan == "MembershipBasic"),
        "MembershipPremium": _mark(plan == "MembershipPremium"),
        "MembershipFamily": _mark(plan == "MembershipFamily"),
        "Newsletter": _mark(rng.random() < 0.5),
        "TermsAccepted": _mark(rng.random() < 0.9),
        "SignatureDate": gen.date(rng).strftime("%b %d, %Y"),
    }
    return FormData(v)


def draw_registration(c: FormCanvas, d: FormData) -> None:
    v = d.values
    c.text(LEFT, 66, "MEMBERSHIP REGISTRATION", 18, "sans-bold")
    c.text(LEFT, 84, "Lakeside Community Sports Club - please print clearly", 9)
    c.line(LEFT, 96, RIGHT, 96)
    rows = (
        ("First name", "FirstName", LEFT, 130),
        ("Last name", "LastName", 310, 130),
        ("Date of birth", "DateOfBirth", LEFT, 175),
        ("Phone", "Phone", 310, 175),
        ("Email", "Email", LEFT, 220),
        ("Street address", "Street", LEFT, 265),
        ("City, state, ZIP", "CityStateZip", LEFT, 310),
        ("Employer (optional)", "Employer", LEFT, 355),
    )
    for caption, key, x, top in rows:
        length = 240 if x > LEFT or key in ("FirstName", "DateOfBirth") else RIGHT - LEFT
        c.text(x, top, caption, 8)
        c.value(key, x + 2, top + 20, v[key], width=length - 4)
        c.line(x, top + 25, x + length, top + 25)
    c.text(LEFT, 410, "MEMBERSHIP TYPE (tick one)", 10, "sans-bold")
    for i, (caption, key) in enumerate(
        (("Basic", "MembershipBasic"), ("Premium", "MembershipPremium"), ("Family", "MembershipFamily"))
    ):
        x = LEFT + i * 150
        c.checkbox(key, x, 424, v[key] == "selected", group="Membership", export=caption)
        c.text(x + 16, 433, caption, 10)
    c.checkbox("Newsletter", LEFT, 470, v["Newsletter"] == "selected")
    c.text(LEFT + 16, 479, "Send me the monthly newsletter by email", 10)
    c.checkbox("TermsAccepted", LEFT, 494, v["TermsAccepted"] == "selected")
    c.text(LEFT + 16, 503, "I accept the club rules and the privacy notice", 10)
    c.text(LEFT, 560, "Date signed")
    c.value("SignatureDate", 120, 560, v["SignatureDate"], width=178)
    c.line(120, 566, 300, 566)
    c.text(330, 560, "Signature")
    c.line(380, 566, RIGHT, 566)
    c.text(LEFT, 740, "Office use only: ____________", 8)


# ---------------------------------------------------------------- tax form with comb boxes and a pick list

TAX_FIELDS = (
    FieldSpec("Name", "string"),
    FieldSpec("BusinessName", "string"),
    FieldSpec("TaxClassification", "string"),
    FieldSpec("ExemptPayee", "selectionMark"),
    FieldSpec("Address", "string"),
    FieldSpec("ZipCode", "string"),
    FieldSpec("TaxpayerId", "string"),
    FieldSpec("Certified", "selectionMark"),
    FieldSpec("SignatureDate", "date"),
)
TAX_CLASSIFICATIONS = (
    "Individual/sole proprietor",
    "C Corporation",
    "S Corporation",
    "Partnership",
    "Trust/estate",
    "Limited liability company",
)


@dataclass(frozen=True)
class CombBox:
    """A row of printed cells, one character each (a ZIP code, a 9-digit taxpayer number)."""

    x: float
    top: float
    cells: int
    cell_width: float
    height: float


TAX_ZIP = CombBox(LEFT, 292, 5, 18, 20)
TAX_TIN = CombBox(LEFT, 364, 9, 20, 22)


def make_tax_form(rng: random.Random) -> FormData:
    city, state = rng.choice(gen.CITIES)
    v = {
        "Name": gen.person(rng),
        "BusinessName": gen.company(rng) if rng.random() < 0.4 else "",
        "TaxClassification": rng.choice(TAX_CLASSIFICATIONS),
        "ExemptPayee": _mark(rng.random() < 0.25),
        "Address": f"{gen.street(rng)}\n{city}, {state}",
        "ZipCode": f"{rng.randint(1000, 99999):05d}",
        "TaxpayerId": f"{rng.randint(1, 999_999_999):09d}",
        "Certified": _mark(rng.random() < 0.85),
        "SignatureDate": gen.date(rng).strftime("%m/%d/%Y"),
    }
    return FormData(v)


def draw_tax_form(c: FormCanvas, d: FormData) -> None:
    v = d.values
    c.text(LEFT, 64, "REQUEST FOR TAXPAYER IDENTIFICATION NUMBER", 15, "sans-bold")
    c.text(
        LEFT,
        80,
        "Form TX-9 (synthetic)  -  give this form to the requester, do not send it to the tax office",
        8,
    )
    c.line(LEFT, 90, RIGHT, 90)
    c.text(LEFT, 108, "1  Name (as shown on your income tax return)", 8)
    c.value("Name", LEFT + 6, 126, v["Name"], width=RIGHT - LEFT - 10)
    c.line(LEFT, 131, RIGHT, 131)
    c.text(LEFT, 148, "2  Business name, if different from above", 8)
    c.value("BusinessName", LEFT + 6, 166, v["BusinessName"], width=RIGHT - LEFT - 10)
    c.line(LEFT, 171, RIGHT, 171)
    c.text(LEFT, 188, "3  Federal tax classification (choose one)", 8)
    c.box(LEFT, 193, 240, 18)
    c.choice("TaxClassification", LEFT + 6, 206, v["TaxClassification"], TAX_CLASSIFICATIONS, width=230)
    c.text(330, 188, "4  Exemptions", 8)
    c.checkbox("ExemptPayee", 330, 197, v["ExemptPayee"] == "selected")
    c.text(346, 206, "Exempt payee (see instructions)", 9)
    c.text(LEFT, 228, "5  Address (number, street, and apt. or suite no.; city, state)", 8)
    c.multiline("Address", LEFT + 6, 246, v["Address"], 14, width=RIGHT - LEFT - 10)
    c.line(LEFT, 265, RIGHT, 265)
    c.text(LEFT, 286, "6  ZIP code", 8)
    c.comb("ZipCode", TAX_ZIP.x, TAX_ZIP.top, v["ZipCode"], TAX_ZIP.cells, TAX_ZIP.cell_width, TAX_ZIP.height)
    c.text(LEFT, 340, "Part I   Taxpayer Identification Number (TIN)", 10, "sans-bold")
    c.text(LEFT, 356, "Social security number or employer identification number, one digit per box", 8)
    c.comb(
        "TaxpayerId",
        TAX_TIN.x,
        TAX_TIN.top,
        v["TaxpayerId"],
        TAX_TIN.cells,
        TAX_TIN.cell_width,
        TAX_TIN.height,
    )
    c.text(LEFT, 420, "Part II   Certification", 10, "sans-bold")
    c.text(
        LEFT, 436, "Under penalties of perjury, I certify that the number shown on this form is my correct", 8
    )
    c.text(LEFT, 447, "taxpayer identification number and that I am not subject to backup withholding.", 8)
    c.checkbox("Certified", LEFT, 458, v["Certified"] == "selected")
    c.text(LEFT + 16, 467, "I certify that the information above is correct", 10)
    c.text(LEFT, 520, "Date")
    c.value("SignatureDate", 90, 520, v["SignatureDate"], width=160)
    c.line(90, 526, 260, 526)
    c.text(300, 520, "Signature")
    c.line(350, 526, RIGHT, 526)
    c.text(
        LEFT, 740, "Keep a copy for your records. The requester must not send this form to the tax office.", 8
    )


# ---------------------------------------------------------------- service report with ruled tables

TABLES_FIELDS = (
    FieldSpec("ReportNumber", "string"),
    FieldSpec("ReportDate", "date"),
    FieldSpec("AccountNumber", "string"),
    FieldSpec("Approved", "selectionMark"),
)
TABLE_CAPTIONS = ("Work performed", "Parts used", "Schedule", "Deliveries", "Charges")
REMARKS = ("All work checked by the supervisor.", "Customer to confirm the next visit by phone.",
           "Old parts returned to the customer.", "Invoice follows separately.")
ACCOUNT = CombBox(LEFT, 112, 8, 18, 20)


def make_ruled_tables(rng: random.Random) -> FormData:
    v = {
        "ReportNumber": gen.reference(rng, rng.choice(("SR-", "R"))),
        "ReportDate": gen.date(rng).strftime("%m/%d/%Y"),
        "AccountNumber": f"{rng.randint(0, 99_999_999):08d}",
        "Approved": _mark(rng.random() < 0.6),
    }
    count = 2 if rng.random() < 0.6 else 1
    tables = [make_table(rng, max_body=8 if count == 1 else 5) for _ in range(count)]
    captions = rng.sample(TABLE_CAPTIONS, count)
    return FormData(v, {"tables": tables, "captions": captions, "remarks": rng.choice(REMARKS)})


def draw_ruled_tables(c: FormCanvas, d: FormData) -> None:
    """A service report: header fields, a comb, one or two ruled tables, a remarks box and a check box.
    The comb (one row of cells), the remarks box (one cell) and the check box are not tables."""
    v = d.values
    c.text(LEFT, 62, "SERVICE REPORT", 16, "sans-bold")
    c.text(330, 62, "Report no.")
    c.value("ReportNumber", 390, 62, v["ReportNumber"], width=170)
    c.text(330, 80, "Date")
    c.value("ReportDate", 390, 80, v["ReportDate"], width=170)
    c.text(LEFT, 104, "Account number", 8)
    c.comb("AccountNumber", ACCOUNT.x, ACCOUNT.top, v["AccountNumber"], ACCOUNT.cells, ACCOUNT.cell_width,
           ACCOUNT.height)
    top = 165.0
    for table, caption in zip(d.extras["tables"], d.extras["captions"], strict=True):
        c.text(LEFT, top, caption, 10, "sans-bold")
        top = draw_table(c, table, LEFT, top + 8, RIGHT - LEFT) + 28
    if top < 700:
        c.text(LEFT, top, "Remarks", 8)
        c.box(LEFT, top + 5, RIGHT - LEFT, 30)
        c.text(LEFT + 6, top + 24, d.extras["remarks"])
    c.checkbox("Approved", LEFT, 745, v["Approved"] == "selected")
    c.text(LEFT + 16, 754, "Approved by the customer", 9)


# ---------------------------------------------------------------- applicant form: captions inside the boxes

APPLICANT_FIELDS = (
    FieldSpec("FamilyName", "string"),
    FieldSpec("GivenNames", "string"),
    FieldSpec("DateOfBirth", "date"),
    FieldSpec("Country", "string"),
    FieldSpec("Relationship", "string"),
    FieldSpec("IncomeSource", "string"),
    FieldSpec("Occupation", "string"),
    FieldSpec("ArrivalDate", "date"),
    FieldSpec("RequesterAddress", "string"),
)
# Mostly one word, sometimes two: a model trained on one-word values must keep the space of a two-word one.
COUNTRIES = ("Germany", "France", "Canada", "Mexico", "Spain", "Italy", "Japan", "Ireland", "United Kingdom",
             "New Zealand", "South Africa")
RELATIONSHIPS = ("spouse", "child", "parent", "sibling", "family member", "guardian")
INCOME_SOURCES = ("salary", "pension", "savings", "bonuses, commissions", "rental income", "benefits")
OCCUPATIONS = ("Teacher", "Engineer", "Nurse", "Accountant", "Electrician", "Chef", "Pharmacist")


def make_applicant(rng: random.Random) -> FormData:
    """Several optional fields, so empty boxes (only their printed caption) are common."""
    born = gen.date(rng, 1950, 2004)
    arrived = gen.date(rng, 2015, 2024)
    requester = f"{gen.company(rng)}\n{gen.street(rng)}\n{gen.city_line(rng)}"
    v = {
        "FamilyName": rng.choice(gen.LAST_NAMES),
        "GivenNames": rng.choice(gen.FIRST_NAMES) + (f" {rng.choice(gen.FIRST_NAMES)}" if rng.random() < 0.3
                                                     else ""),
        "DateOfBirth": born.strftime("%m/%d/%Y"),
        "Country": rng.choice(COUNTRIES) if rng.random() < 0.7 else "",
        "Relationship": rng.choice(RELATIONSHIPS) if rng.random() < 0.6 else "",
        "IncomeSource": rng.choice(INCOME_SOURCES) if rng.random() < 0.7 else "",
        "Occupation": rng.choice(OCCUPATIONS),
        "ArrivalDate": arrived.strftime("%m/%d/%Y") if rng.random() < 0.6 else "",
        "RequesterAddress": requester if rng.random() < 0.5 else "",
    }
    return FormData(v)


def draw_applicant(c: FormCanvas, d: FormData) -> None:
    """Each value sits in a box whose caption is printed small in its top-left corner: on a form left
    empty, the caption is the only text where the value would be. Occupation follows "See instructions"
    on its row."""
    v = d.values
    c.text(LEFT, 64, "APPLICATION FOR A RESIDENCE PERMIT", 15, "sans-bold")
    c.text(LEFT, 80, "Part 1. Information about the applicant", 9)
    boxes = (
        ("Family name", "FamilyName", LEFT, 100, 250),
        ("Given names", "GivenNames", 306, 100, 256),
        ("Date of birth (MM/DD/YYYY)", "DateOfBirth", LEFT, 140, 160),
        ("Country", "Country", 216, 140, 170),
        ("Relationship to the sponsor", "Relationship", 392, 140, 170),
        ("Source of income", "IncomeSource", LEFT, 180, 250),
        ("Date (MM/DD/YYYY)", "ArrivalDate", 306, 180, 256),
    )
    for caption, key, x, top, width in boxes:
        c.box(x, top, width, 34)
        c.text(x + 3, top + 9, caption, 7)
        c.value(key, x + 6, top + 27, v[key], width=width - 10)
    c.text(LEFT, 240, "Occupation", 9, "sans-bold")
    c.text(LEFT + 110, 240, "See instructions", 9)
    c.value("Occupation", LEFT + 190, 240, v["Occupation"], width=200)
    c.line(LEFT + 188, 244, LEFT + 400, 244)
    c.box(LEFT, 262, 300, 70)
    c.text(LEFT + 3, 271, "Requester's name and address (optional)", 7)
    c.multiline("RequesterAddress", LEFT + 6, 288, v["RequesterAddress"], step=13, width=288)
    c.text(LEFT, 360, "I declare that the information given is true and complete.", 9)
    c.text(LEFT, 740, "Form RP-1 (rev. 2024)", 7)


LAYOUTS: dict[str, Layout] = {
    layout.name: layout
    for layout in (
        Layout("invoice", INVOICE_FIELDS, make_invoice, draw_invoice),
        Layout("invoice_multipage", INVOICE_MULTIPAGE_FIELDS, make_invoice, draw_invoice_multipage),
        Layout("purchase_order", PO_FIELDS, make_purchase_order, draw_purchase_order),
        Layout("registration", REGISTRATION_FIELDS, make_registration, draw_registration),
        Layout("tax_form", TAX_FIELDS, make_tax_form, draw_tax_form),
        Layout("ruled_tables", TABLES_FIELDS, make_ruled_tables, draw_ruled_tables),
        Layout("applicant", APPLICANT_FIELDS, make_applicant, draw_applicant),
    )
}
