"""Document Intelligence v4.0 against v2.1 on the same engine (issue 14: the same speed), side by side
in one run: Layout of the same documents, a build/train of the same labeled set, and analyses of the
same forms with each dialect's model. The engine's Layout cache is off, so every call reads its
document; calls go through the pipeline's own client (`shared/clients/formrecognizer.py`) for both dialects.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from machine_info import machine  # noqa: E402

from formloop.stack import start_azurite, start_engine, stop  # noqa: E402
from shared.clients.formrecognizer import FormRecognizerClient, TrainingOutcome  # noqa: E402
from shared.clients.records import new_run_id  # noqa: E402
from shared.clients.sas import container_sas_url  # noqa: E402
from shared.clients.storage import blob_service, ensure_resources  # noqa: E402
from shared.settings import load_settings  # noqa: E402

PO = ROOT / "tests" / "data" / "purchase-orders"
DOCS = [PO / f"Form_{i}.jpg" for i in range(1, 6)] + [ROOT / "tests" / "data" / "job-application" / "ceo.pdf"]
ROUNDS = int(os.environ.get("BENCH_V4_ROUNDS", "3"))
DIALECTS = ("v2.1", "2024-11-30")


def _timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def _train(client: FormRecognizerClient, sas: str) -> tuple[float, TrainingOutcome]:
    started = time.perf_counter()
    url = client.begin_training(sas, "po/", model_name=f"po-{new_run_id()}")
    while not (outcome := client.get_training(url)).finished:
        time.sleep(0.1)
    return time.perf_counter() - started, outcome


def main() -> int:
    docs = [p for p in DOCS if p.exists()]
    tmp = Path(tempfile.mkdtemp(prefix="bench-v4-"))
    azurite = start_azurite()
    engine = start_engine(tmp / "engine", extra_env={"ENGINE_LAYOUT_CACHE_ENTRIES": "0"})
    try:
        settings = load_settings({"FORMS_STORAGE": azurite.connection_string,
                                  "FORM_RECOGNIZER_ENDPOINT": engine.endpoint})
        ensure_resources(settings)
        container = blob_service(settings).get_container_client(settings.forms_container)
        for path in PO.iterdir():  # forms, labels and fields; no .ocr.json: each build reads the forms
            if not path.name.endswith(".ocr.json") and path.name != "LICENSE":
                container.get_blob_client(f"po/{path.name}").upload_blob(path.read_bytes())
        sas = container_sas_url(settings)
        clients = {api: FormRecognizerClient(engine.endpoint, engine.api_key, api, poll_interval=0.05,
                                             backoff=0.05) for api in DIALECTS}
        layout: dict[str, list[float]] = {api: [] for api in DIALECTS}
        build: dict[str, list[float]] = {api: [] for api in DIALECTS}
        analyze: dict[str, list[float]] = {api: [] for api in DIALECTS}
        models: dict[str, str] = {}
        for _ in range(ROUNDS):
            for doc in docs:
                data, ctype = doc.read_bytes(), "application/pdf" if doc.suffix == ".pdf" else "image/jpeg"
                for api, client in clients.items():
                    layout[api].append(_timed(lambda c=client, d=data, t=ctype: c.analyze_layout(d, t)))
        for _ in range(2):
            for api, client in clients.items():
                seconds, outcome = _train(client, sas)
                assert outcome.state == "ready", (api, outcome.errors)
                build[api].append(seconds)
                models[api] = outcome.model_id
        for _ in range(ROUNDS):
            for doc in docs[:5]:
                data = doc.read_bytes()
                for api, client in clients.items():
                    analyze[api].append(_timed(
                        lambda c=client, m=models[api], d=data: c.analyze_custom(m, d, "image/jpeg")))
        print("## Document Intelligence v4.0 against v2.1, one engine, Layout cache off\n")
        print(machine() + "\n")
        print("| call | v2.1 median (s) | v4.0 median (s) | v4.0 / v2.1 | calls each |")
        print("|---|---:|---:|---:|---:|")
        for label, times in (("Layout (5 scans + 1 digital PDF)", layout), ("train / build (5 forms)", build),
                             ("custom analyze (5 scans)", analyze)):
            a, b = statistics.median(times["v2.1"]), statistics.median(times["2024-11-30"])
            print(f"| {label} | {a:.3f} | {b:.3f} | {b / a:.2f} | {len(times['v2.1'])} |")
        return 0
    finally:
        stop(engine.process)
        stop(azurite.process)


if __name__ == "__main__":
    sys.exit(main())
