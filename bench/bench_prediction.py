"""What a prediction adds to a form's trip through the pipeline (issue 13: ≤ 20% of the OCR time of a
scanned page), side by side in one run on the real local stack (Azurite + engine processes).

For each scanned purchase order (pixels of the bundled samples, bytes made unique per trial with a
JPEG comment so no cache of an earlier trial helps), three trips through `on_blob`, the blob
function's body, interleaved:
- OCR alone: a folder with no model;
- OCR + prediction: a folder whose current model predicts the form after its OCR;
- the same against a second engine process on the same models with its Layout cache off
  (`ENGINE_LAYOUT_CACHE_ENTRIES=0`): what a prediction cost before the cache.
Upload-to-prediction is the upload plus the second trip.
"""

from __future__ import annotations

import io
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from machine_info import machine  # noqa: E402
from PIL import Image  # noqa: E402

from formloop.stack import start_azurite, start_engine, stop  # noqa: E402
from shared.clients.formrecognizer import FormRecognizerClient  # noqa: E402
from shared.clients.records import Records  # noqa: E402
from shared.clients.storage import blob_service, ensure_resources  # noqa: E402
from shared.settings import load_settings  # noqa: E402
from shared.training.poll import poll_training_runs  # noqa: E402
from shared.training.start import start_training_if_due  # noqa: E402
from shared.triggers.blob import on_blob  # noqa: E402

PO = ROOT / "tests" / "data" / "purchase-orders"
TRIALS = int(os.environ.get("BENCH_PREDICTION_TRIALS", "4"))


def _unique_jpeg(src: Path, tag: str) -> bytes:
    out = io.BytesIO()
    Image.open(src).save(out, "JPEG", quality=95, comment=tag.encode())
    return out.getvalue()


def _train(settings, client, records, container) -> str:  # type: ignore[no-untyped-def]
    for i in range(1, 6):
        stem = f"Form_{i}.jpg"
        for suffix in ("", ".ocr.json", ".labels.json"):
            container.get_blob_client(f"po/{stem}{suffix}").upload_blob((PO / f"{stem}{suffix}").read_bytes())
    container.get_blob_client("po/fields.json").upload_blob((PO / "fields.json").read_bytes())
    decision = start_training_if_due(settings, "po", client, records)
    assert decision.train, decision.reason
    deadline = time.monotonic() + 300
    while (run := records.run("po", decision.run_id)) and run["status"] not in ("succeeded", "failed"):
        assert time.monotonic() < deadline, "training did not finish"
        poll_training_runs(settings, client, records)
        time.sleep(0.5)
    assert run and run["status"] == "succeeded", run
    return str(run["modelId"])


def _trip(settings, client, records, container, name: str, data: bytes) -> tuple[float, str]:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    container.get_blob_client(name).upload_blob(data, overwrite=True)
    result = on_blob(settings, name, client, records)
    return time.perf_counter() - started, result.detail


def main() -> int:
    tmp = Path(tempfile.mkdtemp(prefix="bench-prediction-"))
    azurite = start_azurite()
    engine = start_engine(tmp / "engine")
    uncached = None
    try:
        env = {"FORMS_STORAGE": azurite.connection_string, "FORM_RECOGNIZER_ENDPOINT": engine.endpoint,
               "FORM_RECOGNIZER_KEY": engine.api_key, "TRAINING_THRESHOLD": "5"}
        settings = load_settings(env)
        ensure_resources(settings)
        records = Records(settings)
        client = FormRecognizerClient(engine.endpoint, engine.api_key, poll_interval=0.1, backoff=0.05)
        container = blob_service(settings).get_container_client(settings.forms_container)
        model_id = _train(settings, client, records, container)
        uncached = start_engine(tmp / "engine", api_key=engine.api_key,
                                extra_env={"ENGINE_LAYOUT_CACHE_ENTRIES": "0"})
        slow = FormRecognizerClient(uncached.endpoint, uncached.api_key, poll_interval=0.1, backoff=0.05)
        times: dict[str, list[float]] = {"ocr": [], "loop": [], "nocache": []}
        for trial in range(TRIALS):
            for i in range(1, 6):
                src = PO / f"Form_{i}.jpg"
                for kind, folder, engine_client in (("ocr", "plain", client), ("loop", "po", client),
                                                    ("nocache", "po", slow)):
                    name = f"{folder}/{kind}-{trial}-{i}.jpg"
                    seconds, detail = _trip(settings, engine_client, records, container, name,
                                            _unique_jpeg(src, f"{kind} {trial} {i}"))
                    if folder == "po":
                        assert detail.startswith(f"prediction predicted by {model_id}"), detail
                    times[kind].append(seconds)
        ocr, loop, nocache = (statistics.median(times[k]) for k in ("ocr", "loop", "nocache"))
        rows = [
            ("OCR alone (no model in the folder)", ocr, 0.0),
            ("OCR + prediction (Layout cache on)", loop, (loop - ocr) / ocr),
            ("OCR + prediction, engine without the Layout cache (baseline)", nocache, (nocache - ocr) / ocr),
        ]
        print(f"## Prediction cost per scanned page ({TRIALS * 5} pages per row, medians)\n")
        print(machine() + "\n")
        print("| trip (upload → on_blob done) | seconds | extra over OCR alone |")
        print("|---|---|---|")
        for label, seconds, extra in rows:
            print(f"| {label} | {seconds:.2f} | {extra:+.0%} |")
        print(f"\nUpload to prediction (one form, folder with a model): median {loop:.2f} s, "
              f"max {max(times['loop']):.2f} s. Target: the prediction adds ≤ 20% to the OCR time.")
        print("\n" + json.dumps({k: [round(v, 3) for v in vs] for k, vs in times.items()}))
        return 0
    finally:
        stop(uncached.process if uncached else None)
        stop(engine.process)
        stop(azurite.process)


if __name__ == "__main__":
    sys.exit(main())
