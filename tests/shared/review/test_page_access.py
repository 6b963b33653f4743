"""The page for people who use a keyboard or a screen reader: every control has a role and a name, focus
is always visible, a form can be labeled and saved with the keyboard alone, and axe-core finds no
serious or critical violation (on the form view, the fields dialog and the models view)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from shared.predictions.field_values import labeled_values
from tests.helpers.browser import AXE, ReviewHost


def _axe(page: Any) -> list[dict[str, Any]]:
    if not page.evaluate("() => !!window.axe"):
        page.add_script_tag(path=str(AXE))
    result = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    return [v for v in result["violations"] if v["impact"] in ("serious", "critical")]


def _describe(violations: list[dict[str, Any]]) -> str:
    return json.dumps(
        [
            {"id": v["id"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"][:3]]}
            for v in violations
        ],
        indent=1,
    )


def test_axe_finds_no_serious_violation(review_host: ReviewHost, chromium: Any) -> None:
    review_host.upload_job_applications("ceo.pdf", "fullstack.pdf")
    context = chromium.new_context(viewport={"width": 1400, "height": 1000}, bypass_csp=True)  # to load axe
    page = context.new_page()
    review_host.open(page)
    assert not (found := _axe(page)), _describe(found)
    page.get_by_role("button", name="Edit fields").click()
    assert not (found := _axe(page)), _describe(found)
    page.get_by_role("button", name="Cancel").click()
    page.get_by_role("button", name="Models").click()
    page.get_by_role("table").wait_for()
    assert not (found := _axe(page)), _describe(found)
    context.close()


def test_controls_have_roles_and_names(review_host: ReviewHost, page: Any) -> None:
    review_host.upload_job_applications("ceo.pdf", "fullstack.pdf")
    review_host.open(page)
    for role, name in (
        ("combobox", "Folder"),
        ("list", "Forms in review order"),
        ("list", "Fields of this form"),
        ("tab", "Page 1"),
        ("button", "Save and next (Enter)"),
        ("button", "Next form (N)"),
        ("button", "Undo (Ctrl+Z)"),
        ("button", "Zoom in"),
        ("application", None),
    ):
        assert page.get_by_role(role, name=name).count() >= 1, (role, name)
    assert page.get_by_role("list", name="Fields of this form").get_by_role("button").count() == 8
    assert (
        page.get_by_role("button", name="Job Application Type: empty").get_attribute("aria-pressed") == "true"
    )


def test_a_form_is_labeled_and_saved_with_the_keyboard_alone(review_host: ReviewHost, page: Any) -> None:
    review_host.upload_job_applications("ceo.pdf", "fullstack.pdf")
    review_host.open(page)
    seen = []
    for _ in range(60):  # Tab through the page until the page view has the focus
        page.keyboard.press("Tab")
        focus = page.evaluate("""() => { const e = document.activeElement;
            return {id: e.id, outline: getComputedStyle(e).outlineStyle,
                    text: e.textContent.slice(0, 30)}; }""")
        seen.append(focus)
        assert focus["outline"] != "none", f"no visible focus on {focus}"
        if focus["id"] == "viewer":
            break
    assert seen[-1]["id"] == "viewer", seen
    page.keyboard.press("2")  # Name of Candidate
    words = page.evaluate("() => [...document.querySelectorAll('#overlay .word')].map(w => w.dataset.text)")
    jane = words.index("Jane")
    for _ in range(jane + 1):
        page.keyboard.press("]")
    assert "Jane" in page.locator("#status").text_content()
    page.keyboard.press(" ")
    page.keyboard.press("]")
    page.keyboard.press(" ")  # and the next word, "Doe"
    page.keyboard.press("Enter")
    review_host.wait_for("the labels", lambda: review_host.exists("jobs/ceo.pdf.labels.json"))
    assert labeled_values(review_host.read("jobs/ceo.pdf.labels.json")) == {"Name of Candidate": "Jane Doe"}
    page.wait_for_function("() => document.querySelector('#doc-name').textContent === 'fullstack.pdf'")


def test_screenshot_for_the_readme(review_host: ReviewHost, page: Any, tmp_path: Path) -> None:
    """The README's picture of the page is made here: REVIEW_SCREENSHOT=docs/images/review-page.png."""
    review_host.upload_job_applications("ceo.pdf", "fullstack.pdf")
    review_host.open(page)
    page.keyboard.press("2")
    page.locator('#overlay .word[data-text="Jane"]').click()
    page.locator('#overlay .word[data-text="Doe"]').click()
    target = Path(os.environ.get("REVIEW_SCREENSHOT") or tmp_path / "review-page.png")
    target.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(target))
    assert (
        target.stat().st_size > 10_000
        and page.get_by_role("button", name="Name of Candidate: Jane Doe").count()
    )
