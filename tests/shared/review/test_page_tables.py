"""Table fields on the page, in Debian's Chromium against devhost serving the real app: a folder of
line-item invoices (formgen `invoice_items`, the table field `Items`, and a fixed table `Rates` whose names
need escaping) trains on five labeled forms, and two more are predicted. The grid shows the predicted rows;
a cell is corrected by clicking a word, a row is added and labeled with the keyboard, the Layout's table is
taken into the grids in one action; the labels file says `Items/<row>/<Column>` and `Rates/A~1B/x~0y`;
saving the fields keeps the tables and their definitions; axe finds nothing serious."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from formgen.generate import GeneratedForm, generate
from shared.predictions.field_values import labeled_values
from tests.helpers.browser import ReviewHost
from tests.shared.review.test_page import _wait_text, _word
from tests.shared.review.test_page_access import _axe, _describe

FOLDER = "items"
SEED = 9  # forms 6 and 7 have ruled tables: the Layout finds them
RATES = {"fieldKey": "Rates", "fieldType": "object", "fieldFormat": "not-specified", "itemType": None,
         "fields": [{"fieldKey": "A/B", "fieldType": "Rates_row", "fieldFormat": "not-specified"},
                    {"fieldKey": "Night", "fieldType": "Rates_row", "fieldFormat": "not-specified"}]}
RATES_ROW = {"fieldKey": "Rates_row", "fieldType": "object", "fieldFormat": "not-specified", "itemType": None,
             "fields": [{"fieldKey": "x~y", "fieldType": "string", "fieldFormat": "not-specified"}]}


def _cell(page: Any, name: str) -> Any:
    return page.locator(f'#field-list button[data-cell="{name}"]')


def _grid(page: Any) -> list[list[str]]:
    """The Items grid as shown: per row, each cell's value ('—' when empty)."""
    return page.evaluate("""() => [...document.querySelectorAll('#field-list [data-table="Items"] tbody tr')]
        .map(tr => [...tr.querySelectorAll('button.cell .value')].map(v => v.textContent))""")


def _items(host: ReviewHost, form: GeneratedForm) -> list[dict[str, str]]:
    """The saved labels' Items rows as {column: text}, rows in their order."""
    values = labeled_values(host.read(f"{FOLDER}/{form.path.name}.labels.json"))
    rows: dict[int, dict[str, str]] = {}
    for name, text in values.items():
        if name.startswith("Items/"):
            _table, row, column = name.split("/")
            rows.setdefault(int(row), {})[column] = text
    assert sorted(rows) == list(range(len(rows))), f"rows numbered with gaps: {sorted(rows)}"
    return [rows[r] for r in sorted(rows)]


def _trained_and_predicted(host: ReviewHost, tmp_path: Path) -> tuple[list[GeneratedForm], dict[str, Any]]:
    """Seven invoices: the first five labeled (the folder trains on them), the last two predicted; and
    the fields.json declared (formgen's, and `Rates`, which no form labels yet)."""
    forms = generate("invoice_items", 7, tmp_path / "items", seed=SEED, kind="pdf")
    declared = json.loads((tmp_path / "items" / "fields.json").read_bytes())
    declared["fields"].append(RATES)
    declared["definitions"]["Rates_row"] = RATES_ROW
    host.upload(f"{FOLDER}/fields.json", json.dumps(declared).encode())
    for form in forms[:5]:
        host.upload(f"{FOLDER}/{form.labels_path.name}", form.labels_path.read_bytes())
        host.upload(f"{FOLDER}/{form.path.name}", form.path.read_bytes())
    host.wait_for("the first model", lambda: host.records.current_model_id(FOLDER), 300)
    for form in forms[5:]:
        host.upload(f"{FOLDER}/{form.path.name}", form.path.read_bytes())
    for form in forms[5:]:
        host.wait_for(f"the prediction of {form.path.name}", lambda f=form: (
            host.records.prediction(FOLDER, f.path.name) or {}).get("status") == "succeeded")
    return forms, declared


def _open_form(page: Any, doc: str) -> None:
    page.get_by_role("list", name="Forms in review order").get_by_role("button", name=doc).click()
    _wait_text(page, "#doc-name", doc, exact=True)
    page.wait_for_function("doc => document.body.dataset.pageShown === doc + '#1'", arg=doc)


def test_a_table_field_is_reviewed_in_its_grid_and_taken_from_the_layout(
    review_host: ReviewHost, chromium: Any, tmp_path: Path
) -> None:
    host = review_host
    forms, declared = _trained_and_predicted(host, tmp_path)
    context = chromium.new_context(viewport={"width": 1400, "height": 1000}, bypass_csp=True)  # to load axe
    page = context.new_page()
    host.open(page)

    corrected = forms[5]
    _open_form(page, corrected.path.name)
    view = page.request.get(f"{host.base}/api/review/form?folder={FOLDER}&doc={corrected.path.name}").json()
    predicted = view["prediction"]["fields"]
    rows = 1 + max(int(name.split("/")[1]) for name in predicted if name.startswith("Items/"))
    columns = [c["name"] for c in view["schema"][4]["columns"]]
    assert columns == ["Description", "Quantity", "UnitPrice", "Amount"]
    assert _grid(page) == [[predicted[f"Items/{r}/{c}"]["text"] or "—" for c in columns] for r in range(rows)]
    assert rows == len(corrected.tables["Items"])  # the model found every row
    assert not (found := _axe(page)), _describe(found)

    page.keyboard.press("5")  # the fifth field is the table: its first cell
    assert _cell(page, "Items/0/Description").get_attribute("aria-pressed") == "true"
    _cell(page, "Items/0/Quantity").click()
    page.keyboard.press("Delete")
    other = corrected.tables["Items"][1]["UnitPrice"]  # the person says row 1's quantity is this number
    _word(page, other).click()
    assert _cell(page, "Items/0/Quantity").locator(".value").text_content() == other

    page.get_by_role("button", name="Add a row to Items").click()
    added = f"Items/{rows}/Description"
    assert _cell(page, added).get_attribute("aria-pressed") == "true"  # the new row's first cell
    customer = corrected.values["CustomerName"].split()[0]
    _word(page, customer).click()
    _cell(page, f"Items/{rows}/Quantity").click()  # and a word by keys: ] moves to it, Space takes it
    page.get_by_role("application").focus()
    words = page.evaluate("() => [...document.querySelectorAll('#overlay .word')].map(w => w.dataset.text)")
    for _ in range(words.index(corrected.values["InvoiceNumber"]) + 1):
        page.keyboard.press("]")
    page.keyboard.press(" ")
    page.keyboard.press("Enter")
    _wait_text(page, "#result", f"labels for {corrected.path.name}")
    saved = _items(host, corrected)
    assert saved[0]["Quantity"] == other
    assert saved[rows] == {"Description": customer, "Quantity": corrected.values["InvoiceNumber"]}
    assert saved[1:rows] == corrected.tables["Items"][1:]

    taken = forms[6]
    _open_form(page, taken.path.name)
    page.get_by_role("button", name="Take table 1 of page 1 (", exact=False).and_(
        page.get_by_role("button", name="into Items", exact=False)).click()
    truth = taken.tables["Items"]
    assert len(_grid(page)) == len(truth) + 1  # the Layout's table goes on to the Total line under it
    assert _grid(page)[-1][0] == "Total"
    page.get_by_role("button", name=f"Remove Items row {len(truth) + 1}").click()
    page.keyboard.press("Control+z")  # undo brings the row back, and again removes it
    assert len(_grid(page)) == len(truth) + 1
    page.get_by_role("button", name=f"Remove Items row {len(truth) + 1}").click()
    # a fixed table: the Layout's first column holds row names (none match: rows in order), its columns
    # no caption of Rates' (the first one in order)
    page.get_by_role("button", name="Take table 1 of page 1 (", exact=False).and_(
        page.get_by_role("button", name="into Rates", exact=False)).click()
    assert _cell(page, "Rates/A~1B/x~0y").locator(".value").text_content() == truth[0]["Quantity"]
    assert _cell(page, "Rates/Night/x~0y").locator(".value").text_content() == truth[1]["Quantity"]
    page.get_by_role("button", name="Save and next (Enter)").click()
    _wait_text(page, "#result", f"labels for {taken.path.name}")
    assert _items(host, taken) == truth
    rates = {k: v for k, v in labeled_values(host.read(f"{FOLDER}/{taken.path.name}.labels.json")).items()
             if k.startswith("Rates/")}
    assert rates == {"Rates/A~1B/x~0y": truth[0]["Quantity"], "Rates/Night/x~0y": truth[1]["Quantity"]}

    _open_form(page, corrected.path.name)  # a saved form opens with its labeled rows
    assert len(_grid(page)) == rows + 1 and _grid(page)[0][1] == other

    page.get_by_role("button", name="Edit fields").click()  # the fields saved on the page keep the table
    dialog = page.get_by_role("dialog", name="Fields of this folder")
    assert "table: Description, Quantity, UnitPrice, Amount" in dialog.text_content()
    assert "fixed table: rows A/B, Night; columns x~y" in dialog.text_content()
    assert not (found := _axe(page)), _describe(found)
    dialog.get_by_role("textbox", name="Field 3 name").fill("Customer")
    dialog.get_by_role("button", name="Save fields").click()
    dialog.wait_for(state="hidden")
    stored = json.loads(host.read(f"{FOLDER}/fields.json"))
    assert stored["fields"][4:] == declared["fields"][4:] and stored["definitions"] == declared["definitions"]
    assert stored["fields"][2]["fieldKey"] == "Customer"
    assert page.locator("#field-list .grid").count() == 2
    context.close()
