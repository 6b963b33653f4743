"""The review page in a real browser (Debian's Chromium, Playwright) against devhost serving the real
app on Azurite and the engine: a folder started from scratch, labeled by clicks until it trains, a new
form predicted, corrected and reviewed; concurrent saves; hostile form text; no token, no entry."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from formgen.generate import GeneratedForm, generate
from shared.predictions.field_values import labeled_values
from tests.helpers.browser import JOBS, TOKEN, ReviewHost, field_value

FIELDS = [("InvoiceNumber", "string"), ("CustomerName", "string"), ("Total", "number")]
XSS = "<img src=x onerror=alert(1)>"


def _word(page: Any, text: str) -> Any:
    return page.locator(f'#overlay .word[data-text="{text}"]').first


def _drag_over(page: Any, first: Any, last: Any) -> None:
    a, b = first.bounding_box(), last.bounding_box()
    page.mouse.move(a["x"] + 1, a["y"] + 1)
    page.mouse.down()
    page.mouse.move((a["x"] + b["x"] + b["width"]) / 2, b["y"] + b["height"] / 2, steps=4)
    page.mouse.move(b["x"] + b["width"] - 1, b["y"] + b["height"] - 1, steps=4)
    page.mouse.up()


def _wait_text(page: Any, selector: str, text: str, exact: bool = False, timeout: float = 30000) -> None:
    """Wait until `selector`'s text has (or is) `text`; a failure says what the page showed instead."""
    check = "t === arg.text" if exact else "t.includes(arg.text)"
    try:
        page.wait_for_function(f"arg => {{ const t = document.querySelector(arg.sel)?.textContent || ''; "
                               f"return {check}; }}", arg={"sel": selector, "text": text}, timeout=timeout)
    except Exception as exc:
        shown = {s: page.locator(s).text_content() for s in (selector, "#alert", "#status", "#result")}
        raise AssertionError(f"waited for {text!r} in {selector}; the page shows {shown}") from exc


def _label_by_clicks(page: Any, form: GeneratedForm) -> None:
    values = form.values
    page.keyboard.press("1")
    _word(page, values["InvoiceNumber"]).click()
    page.keyboard.press("2")
    first, *_, last = values["CustomerName"].split()
    _drag_over(page, _word(page, first), _word(page, last))
    page.keyboard.press("3")
    _word(page, values["Total"]).click()
    assert field_value(page, "CustomerName") == values["CustomerName"]
    page.keyboard.press("Enter")
    _wait_text(page, "#result", f"Saved 3 labels for {form.path.name}")


def _review(host: ReviewHost, folder: str, doc: str) -> dict[str, Any] | None:
    prediction = host.records.prediction(folder, doc) or {}
    model = prediction.get("modelId")
    return host.records.get(host.records.reviews, str(model), doc) if model else None


def test_a_folder_from_scratch_is_labeled_trained_predicted_and_reviewed(
    review_host: ReviewHost, page: Any, tmp_path: Path
) -> None:
    host = review_host
    forms = generate("invoice", 7, tmp_path / "invoices", seed=11)
    for form in forms[:5]:
        host.upload(f"scratch/{form.path.name}", form.path.read_bytes())
    host.wait_for("the OCR of 5 forms", lambda: all(host.exists(f"scratch/{f.path.name}.ocr.json")
                                                    for f in forms[:5]))
    host.open(page)
    dialog = page.get_by_role("dialog", name="Fields of this folder")
    assert dialog.is_visible()  # no fields.json yet: the page asks for the fields first
    for n, (name, ftype) in enumerate(FIELDS, start=1):
        if n > 1:
            dialog.get_by_role("button", name="Add field").click()
        dialog.get_by_role("textbox", name=f"Field {n} name").fill(name)
        dialog.get_by_role("combobox", name=f"Field {n} type").select_option(ftype)
    dialog.get_by_role("button", name="Save fields").click()
    dialog.wait_for(state="hidden")
    assert json.loads(host.read("scratch/fields.json"))["fields"][2] == {
        "fieldKey": "Total", "fieldType": "number", "fieldFormat": "not-specified"}

    for form in forms[:5]:
        _wait_text(page, "#doc-name", form.path.name, exact=True)
        _label_by_clicks(page, form)
    for form in forms[:5]:
        labeled = labeled_values(host.read(f"scratch/{form.path.name}.labels.json"))
        assert labeled == {name: form.values[name] for name, _ in FIELDS}

    model_id = host.wait_for("the first model", lambda: host.records.current_model_id("scratch"), 300)
    for form in forms[5:]:
        host.upload(f"scratch/{form.path.name}", form.path.read_bytes())
    for form in forms[5:]:
        host.wait_for(f"the prediction of {form.path.name}", lambda f=form: (
            host.records.prediction("scratch", f.path.name) or {}).get("status") == "succeeded")

    page.reload()
    page.wait_for_selector("body[data-page-shown]")
    queue = page.get_by_role("list", name="Forms in review order")
    assert queue.get_by_role("button").first.text_content().startswith(forms[5].path.name[:8])
    queue.get_by_role("button", name=forms[5].path.name).click()
    _wait_text(page, "#doc-name", forms[5].path.name, exact=True)
    target = forms[5]
    assert field_value(page, "InvoiceNumber") == target.values["InvoiceNumber"]  # pre-labeled
    page.keyboard.press("3")
    page.keyboard.press("Delete")
    _word(page, target.values["Tax"]).click()  # the person says the total is another number
    page.keyboard.press("Enter")
    _wait_text(page, "#result", "1 corrected")
    labeled = labeled_values(host.read(f"scratch/{target.path.name}.labels.json"))
    assert labeled["Total"] == target.values["Tax"]
    review = host.wait_for("the review row", lambda: _review(host, "scratch", target.path.name))
    assert (review["corrected"], review["agreed"], review["modelId"]) == (1, 2, model_id)

    page.get_by_role("button", name="Models").click()  # the model, its promotion and its first review
    row = page.get_by_role("row", name=model_id)
    row.wait_for()
    assert "current" in row.text_content() and "first" in row.text_content()
    assert "100.0 %" not in row.text_content() or "1 reviews" in row.text_content()
    page.get_by_role("button", name="Forms").click()

    accept = forms[6]  # the page opened the next form waiting: accept the prediction as it is
    _wait_text(page, "#doc-name", accept.path.name, exact=True)
    page.keyboard.press("Enter")
    review = host.wait_for("the second review", lambda: _review(host, "scratch", accept.path.name))
    assert (review["agreed"], review["corrected"], review["fields"]) == (3, 0, 3)


def _until_held(page: Any, held: dict[str, list[Any]], kind: str) -> None:
    """Wait until a held route caught its request: Playwright calls the route handlers only while the test
    waits in one of its calls, so a plain assert right after another wait can come before it."""
    for _ in range(1500):
        if held[kind]:
            return
        page.wait_for_timeout(20)
    raise AssertionError(f"no {kind} request was held: the page did not move on")


def test_the_form_moved_on_to_is_saved_while_its_page_loads_and_a_change_after_a_save_stays(
    review_host: ReviewHost, page: Any, tmp_path: Path
) -> None:
    """After a save the page opens the next form; the person labels it and presses Enter while its page
    image is still loading: that saves it (the Enter was dropped while the page moved on). An Enter on the
    saved form while the next one is fetched says so; a change to it meanwhile keeps it open."""
    host = review_host
    forms = generate("invoice", 3, tmp_path / "invoices", seed=11)
    declared = [{"fieldKey": n, "fieldType": t, "fieldFormat": "not-specified"} for n, t in FIELDS]
    host.upload("slow/fields.json", json.dumps({"fields": declared}).encode())
    for form in forms:
        host.upload(f"slow/{form.path.name}", form.path.read_bytes())
    host.wait_for("the OCR of 3 forms", lambda: all(host.exists(f"slow/{f.path.name}.ocr.json")
                                                    for f in forms))
    first, second, third = (f.path.name for f in forms)
    held: dict[str, list[Any]] = {"page": [], "form": []}

    def hold(kind: str, doc: str) -> Any:
        return lambda route: (held[kind].append(route) if f"doc={doc}" in route.request.url
                              else route.continue_())

    puts: list[str] = []
    page.on("request", lambda r: puts.append(r.url) if r.method == "PUT" and "/labels" in r.url else None)
    page.route("**/api/review/page?*", hold("page", second))  # the second form's page image: held
    page.route("**/api/review/form?*", hold("form", third))  # the third form itself: held
    host.open(page)
    _wait_text(page, "#doc-name", first, exact=True)
    _label_by_clicks(page, forms[0])

    _wait_text(page, "#doc-name", second, exact=True)
    _until_held(page, held, "page")  # the name shows before the image is asked for
    assert page.evaluate("document.body.dataset.pageShown") == f"{first}#1"
    _label_by_clicks(page, forms[1])  # its page image has not come: the Enter saves it all the same
    _until_held(page, held, "form")
    page.get_by_role("application").focus()
    page.keyboard.press("Enter")  # on the form just saved, while the next one is fetched
    _wait_text(page, "#status", f"{second} is saved; opening the next form")
    assert len(puts) == 2
    for route in held["page"]:
        route.continue_()
    page.wait_for_function("doc => document.body.dataset.pageShown === doc + '#1'", arg=second)
    _wait_text(page, "#status", f"{second} is saved; opening the next form")  # not "Opened": it is moving on
    page.keyboard.press("1")
    page.keyboard.press("Delete")  # a change to the saved form: it stays open
    page.unroute("**/api/review/form?*")
    for route in held["form"]:
        route.continue_()
    _wait_text(page, "#status", f"{second} changed after it was saved, so it stays open")
    assert page.locator("#doc-name").text_content() == second
    page.keyboard.press("Enter")
    _wait_text(page, "#result", f"Saved 2 labels for {second}")
    _wait_text(page, "#doc-name", third, exact=True)
    assert labeled_values(host.read(f"slow/{second}.labels.json")) == {
        "CustomerName": forms[1].values["CustomerName"], "Total": forms[1].values["Total"]}


def test_a_concurrent_save_is_refused_with_who_and_nothing_is_lost(
    review_host: ReviewHost, chromium: Any, page: Any
) -> None:
    host = review_host
    host.upload_job_applications("ceo.pdf")
    other = chromium.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    for tab in (page, other):
        host.open(tab)
    page.keyboard.press("1")
    _word(page, "CEO").click()
    page.keyboard.press("Enter")
    _wait_text(page, "#result", "Saved 1 labels")
    mine = host.read("jobs/ceo.pdf.labels.json")
    other.keyboard.press("2")
    _word(other, "Jane").click()
    other.keyboard.press("Enter")
    alert = other.get_by_role("alert")
    alert.wait_for(state="visible")
    assert "token holder saved labels for this form" in alert.text_content()
    assert host.read("jobs/ceo.pdf.labels.json") == mine  # nothing overwritten
    assert field_value(other, "Name of Candidate") == "Jane"  # and the second person's edit is kept
    other.context.close()


def test_form_text_is_shown_as_text_never_run(review_host: ReviewHost, page: Any) -> None:
    host = review_host
    ocr = json.loads((JOBS / "ceo.pdf.ocr.json").read_bytes())
    ocr["analyzeResult"]["readResults"][0]["lines"][0]["words"][0]["text"] = XSS
    host.upload("hostile/ceo.pdf", (JOBS / "ceo.pdf").read_bytes())
    host.upload("hostile/ceo.pdf.ocr.json", json.dumps(ocr).encode())
    host.upload("hostile/fields.json", (JOBS / "fields.json").read_bytes())
    host.open(page)
    word = page.locator('#overlay .word[data-id="1.0"]')
    assert word.get_attribute("title") == XSS
    page.keyboard.press("1")
    word.click()
    assert field_value(page, "Job Application Type") == XSS
    assert page.locator("img[src='x']").count() == 0 and page.dialogs == []


def test_without_the_token_nobody_gets_in(review_host: ReviewHost, page: Any) -> None:
    host = review_host
    host.upload_job_applications("ceo.pdf")
    response = page.goto(host.page_url)
    assert response.status == 401 and "formloop up" in page.content()
    assert page.request.get(f"{host.base}/api/review/queue?folder=jobs").status == 401
    assert page.goto(f"{host.base}/api/review/?token=wrong-{TOKEN}").status == 401
    api = page.request.get(f"{host.base}/api/review/form?folder=jobs&doc=ceo.pdf",
                           headers={"Authorization": f"Bearer {TOKEN}"})
    assert api.status == 200 and api.json()["document"] == "ceo.pdf"  # a script with the token
    put = page.request.put(f"{host.base}/api/review/labels?folder=jobs&doc=ceo.pdf",
                           headers={"Cookie": f"formloop_review={TOKEN}", "Origin": "http://evil.example"},
                           data=json.dumps({"fields": {"Job Application Type": {"words": ["1.0"]}}}))
    assert put.status == 403 and not host.exists("jobs/ceo.pdf.labels.json")

