"""Predicted fields (shared/predictions/field_values.py): v4.0 documents give the same field view as v2.x."""

from __future__ import annotations

from shared.predictions.field_values import predicted_fields


def test_v4_documents_give_the_same_field_view_as_v2() -> None:
    body = {"status": "succeeded", "analyzeResult": {"documents": [{"docType": "po-1", "fields": {
        "Total": {"type": "number", "valueNumber": 12.5, "content": "12.50", "confidence": 0.93,
                  "boundingRegions": [{"pageNumber": 1, "polygon": [1, 2, 3, 2, 3, 4, 1, 4]}]},
        "Signed": {"type": "selectionMark", "valueSelectionMark": "selected", "content": ":selected:",
                   "confidence": 0.8, "boundingRegions": [{"pageNumber": 2, "polygon": [0] * 8}]},
        "Missing": {"type": "string", "confidence": 0.1}}}]}}
    fields = predicted_fields(body)
    assert fields["Total"] == {"value": 12.5, "text": "12.50", "confidence": 0.93, "page": 1,
                               "boundingBox": [1, 2, 3, 2, 3, 4, 1, 4]}
    assert fields["Signed"]["value"] == "selected" and fields["Signed"]["page"] == 2
    assert fields["Missing"]["text"] == ""
