"""Issue 19 item 10: Studio's `.ocr.json` in the v3/v4 layout format trains through v2.1 as it does
through v4.0's documentModels:build, and gives the same model as the v2 `.ocr.json` of the same forms."""

from __future__ import annotations

from pathlib import Path

from formloop.stack import AzuriteInfo, EngineInfo
from tests.helpers.custom_models import (
    analyze_with_model,
    purchase_orders,
    studio_files,
    train_model,
    training_container,
    wait_model,
)
from tests.helpers.paths import DATA_DIR

FORM = (DATA_DIR / "purchase-orders" / "Form_1.jpg").read_bytes()


def _train_v21(engine: EngineInfo, azurite: AzuriteInfo, files: dict[str, bytes]) -> tuple[dict, dict]:
    url = training_container(azurite, files)
    loc = train_model(engine, {"source": url, "useLabelFile": True})
    model = wait_model(engine, loc)
    result = analyze_with_model(engine, loc, FORM)
    fields = result["analyzeResult"]["documentResults"][0]["fields"]
    return model, {name: (f or {}).get("text") for name, f in fields.items()}


def test_a_studio_v3_ocr_file_trains_through_v21_like_the_v2_one(engine: EngineInfo, azurite: AzuriteInfo,
                                                                 tmp_path: Path) -> None:
    _v2_model, v2_fields = _train_v21(engine, azurite, purchase_orders())
    v3_model, v3_fields = _train_v21(engine, azurite, studio_files())
    assert v3_model["modelInfo"]["status"] == "ready", v3_model
    docs = v3_model["trainResult"]["trainingDocuments"]
    assert len(docs) == 5 and all(d["status"] == "succeeded" for d in docs), docs
    assert v3_model["trainResult"]["fields"] and v3_fields == v2_fields
    assert sum(bool(v) for v in v3_fields.values()) >= 14  # a form it trained on: its values come back
