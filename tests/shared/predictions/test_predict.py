"""A prediction's table row (shared/predictions/predict.py): a large one fits as valid JSON and is read
whole from its file."""

from __future__ import annotations

import json

from shared.predictions.field_values import stored_fields
from shared.predictions.predict import MAX_FIELDS_CHARS, fields_property


def test_a_large_prediction_fits_its_row_as_valid_json_and_is_read_whole_from_its_file() -> None:
    fields = {f"Field{i:03d}": {"value": "v" * 300, "text": "t" * 300, "confidence": 0.9, "page": 1,
                                "boundingBox": [0.1] * 8} for i in range(200)}
    stored = fields_property(fields)
    slim = json.loads(stored)  # never cut mid-way
    assert len(stored) <= MAX_FIELDS_CHARS and 0 < len(slim) < len(fields)
    assert all("value" not in v and len(v["text"]) == 80 for v in slim.values())
    whole = {"analyzeResult": {"documentResults": [{"fields": {
        name: {k: v for k, v in f.items() if k not in ("value", "boundingBox")} | {"valueString": f["value"]}
        for name, f in fields.items()}}]}}
    read: list[str] = []

    def read_blob(name: str) -> bytes:
        read.append(name)
        return json.dumps(whole).encode()

    got = stored_fields({"fields": stored, "blobName": "f/a.pdf"}, read_blob)
    assert read == ["f/a.pdf.prediction.json"] and len(got) == 200 and got["Field199"]["text"] == "t" * 300
    small = fields_property({"A": fields["Field000"]})
    assert stored_fields({"fields": small, "blobName": "f/a.pdf"}, read_blob)["A"]["value"] == "v" * 300
    assert len(read) == 1  # a whole row needs no file
