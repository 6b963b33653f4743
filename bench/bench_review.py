"""Benchmark: the review page's speed as a reviewer feels it, in Debian's Chromium driven by Playwright
against devhost serving the real app (Azurite and the engine as processes).

Targets (issue 20): the first page of a 10-page PDF visible ≤ 1 s after opening it; a click on a word
→ the field updated ≤ 100 ms; save → the next form shown ≤ 500 ms; the same with a 10-page form that
already has 200 labels. Baseline in the same run: fetching that first page's image alone (one HTTP GET
of /api/review/page), the floor for "first page visible". Times are taken inside the page
(performance.now(), up to the next frame painted). `.venv/bin/python bench/bench_review.py [--n 5]`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from formloop.stack import start_azurite, start_engine, stop  # noqa: E402
from tests.helpers.browser import CHROMIUM, CHROMIUM_ARGS, start_review_host  # noqa: E402
from tests.helpers.engine import make_pdf  # noqa: E402

FOLDER = "bench"
PAGES = 10


def ten_page_pdf(n: int) -> bytes:
    return make_pdf(
        [[f"Form {n} page {p} line {j} value {p * 100 + j}" for j in range(24)] for p in range(1, PAGES + 1)]
    )


def two_hundred_labels(view: dict) -> dict:
    """20 labels per page: each 'value N' word of lines 0-19 is a field."""
    fields = {}
    for page in view["pages"]:
        numbers = [w for w in page["words"] if w["text"].isdigit() and len(w["text"]) >= 3]
        for w in numbers[:20]:
            fields[f"F{w['text']}"] = {"words": [w["id"]]}
    return fields


OPEN_JS = """async doc => {
    const button = [...document.querySelectorAll('#form-list button')].find(b => b.dataset.doc === doc);
    const t0 = performance.now();
    button.click();
    while (document.body.dataset.pageShown !== doc + '#1') await new Promise(r => setTimeout(r, 2));
    await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
    return performance.now() - t0;
}"""
CLICK_JS = """async () => {
    const word = document.querySelector('#overlay .word:not(.assigned):not(.current)');
    const value = () => document.querySelector('#field-list button[aria-pressed="true"] .value').textContent;
    const before = value();
    const t0 = performance.now();
    const at = word.getBoundingClientRect();
    const opts = {bubbles: true, clientX: at.left + 2, clientY: at.top + 2, button: 0};
    word.dispatchEvent(new MouseEvent('mousedown', opts));
    window.dispatchEvent(new MouseEvent('mouseup', opts));
    while (value() === before) await new Promise(r => setTimeout(r, 1));
    await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
    return performance.now() - t0;
}"""
SAVE_JS = """async () => {
    const before = document.body.dataset.pageShown;
    const t0 = performance.now();
    document.getElementById('viewer').focus();
    document.dispatchEvent(new KeyboardEvent('keydown', {key: 'Enter', bubbles: true}));
    while (document.body.dataset.pageShown === before) await new Promise(r => setTimeout(r, 2));
    await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
    return performance.now() - t0;
}"""


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=5, help="forms per case (each opened, clicked, saved)")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        azurite = start_azurite(log_path=root / "azurite.log")
        engine = start_engine(root / "engine", log_path=root / "engine.log")
        host = start_review_host(azurite, engine, root)  # type: ignore[arg-type]
        try:
            names = [f"f{i:02d}.pdf" for i in range(2 * args.n + 2)]
            host.upload(
                f"{FOLDER}/fields.json",
                json.dumps(
                    {
                        "fields": [
                            {"fieldKey": f"F{p * 100 + j}", "fieldType": "string"}
                            for p in range(1, PAGES + 1)
                            for j in range(20)
                        ]
                    }
                ).encode(),
            )
            for i, name in enumerate(names):
                host.upload(f"{FOLDER}/{name}", ten_page_pdf(i))
            host.wait_for(
                "the OCR of every form",
                lambda: all(host.exists(f"{FOLDER}/{n}.ocr.json") for n in names),
                600,
            )
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.goto(host.login_url)
                page.wait_for_selector("body[data-page-shown]", timeout=30000)
                results: dict[str, dict[str, list[float]]] = {
                    "10-page PDF": {},
                    "10-page PDF, 200 labels": {},
                }
                labeled = names[args.n + 1 :]
                for doc in labeled:  # the second case's forms carry 200 labels already
                    view = page.request.get(f"{host.base}/api/review/form?folder={FOLDER}&doc={doc}").json()
                    saved = page.request.put(
                        f"{host.base}/api/review/labels?folder={FOLDER}&doc={doc}",
                        headers={"Origin": host.base},
                        data=json.dumps({"fields": two_hundred_labels(view)}),
                    )
                    assert saved.ok, saved.text()
                page.reload()
                page.wait_for_selector("body[data-page-shown]", timeout=30000)
                for case, docs in (
                    ("10-page PDF", names[1 : args.n + 1]),
                    ("10-page PDF, 200 labels", labeled[: args.n]),
                ):
                    times = results[case]
                    for doc in docs:
                        url = f"{host.base}/api/review/page?folder={FOLDER}&doc={doc}&page=1"
                        started = time.perf_counter()
                        assert page.request.get(url).ok  # baseline (this also warms the image cache:
                        times.setdefault("page image GET (baseline)", []).append(
                            (time.perf_counter() - started) * 1000
                        )  # so it is measured cold first)
                    for doc in docs:
                        # open it cold: a new blob version is not in the image cache
                        host.upload(f"{FOLDER}/{doc}", ten_page_pdf(1000 + names.index(doc)) + b"\n")
                        host.wait_for("the new OCR", lambda d=doc: host.exists(f"{FOLDER}/{d}.ocr.json"))
                    for doc in docs:
                        times.setdefault("open → first page visible", []).append(page.evaluate(OPEN_JS, doc))
                        page.keyboard.press("1")
                        times.setdefault("click word → field updated", []).append(page.evaluate(CLICK_JS))
                        times.setdefault("save → next form shown", []).append(page.evaluate(SAVE_JS))
                browser.close()
        finally:
            stop(host.proc)
            stop(engine.process)
            stop(azurite.process)
    targets = {
        "open → first page visible": 1000,
        "click word → field updated": 100,
        "save → next form shown": 500,
    }
    print("| case | step | median ms | max ms | target ms | n |\n|---|---|---|---|---|---|")
    for case, steps in results.items():
        for step, values in steps.items():
            target = targets.get(step)
            print(
                f"| {case} | {step} | {statistics.median(values):.0f} | {max(values):.0f} | "
                f"{target if target else '–'} | {len(values)} |"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
