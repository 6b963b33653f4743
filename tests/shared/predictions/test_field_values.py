"""Predicted fields (shared/predictions/field_values.py): v4.0 documents give the same field view as v2.x."""

from __future__ import annotations

from shared.predictions.field_values import compare, predicted_fields


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


# -- table fields (issue 18): one field per cell, named as the cell's label ---------------------------
def _v2_cell(text: str, value: object = None, kind: str = "string", confidence: float = 0.9) -> dict:
    key = {"string": "valueString", "number": "valueNumber"}[kind]
    return {"type": kind, key: text if value is None else value, "text": text, "page": 1,
            "boundingBox": [1, 2, 3, 2, 3, 4, 1, 4], "confidence": confidence}


def _v2_body(fields: dict) -> dict:
    return {"status": "succeeded", "analyzeResult": {"documentResults": [{"fields": fields}]}}


def test_a_v21_dynamic_table_becomes_one_field_per_cell_named_like_its_label() -> None:
    items = {"type": "array", "valueArray": [
        {"type": "object", "valueObject": {"Description": _v2_cell("Widget, steel"),
                                           "Quantity": _v2_cell("1,200", 1200.0, "number", 0.7)}},
        {"type": "object", "valueObject": {"Description": _v2_cell("Bolts"), "Quantity": None}},
    ]}
    fields = predicted_fields(_v2_body({"Items": items, "Total": _v2_cell("9.00", 9.0, "number"),
                                        "Empty": {"type": "array", "valueArray": []}, "Missing": None}))
    assert sorted(fields) == ["Items/0/Description", "Items/0/Quantity", "Items/1/Description",
                              "Items/1/Quantity", "Missing", "Total"]
    assert fields["Items/0/Description"] == {"value": "Widget, steel", "text": "Widget, steel",
                                             "confidence": 0.9, "page": 1,
                                             "boundingBox": [1, 2, 3, 2, 3, 4, 1, 4]}
    assert fields["Items/0/Quantity"]["value"] == 1200.0 and fields["Items/0/Quantity"]["text"] == "1,200"
    assert fields["Items/0/Quantity"]["confidence"] == 0.7
    # a cell the model did not find is there, empty, as a scalar it did not find; a table with no rows is not
    assert fields["Items/1/Quantity"] == {"value": None, "text": "", "confidence": None, "page": None,
                                          "boundingBox": None}
    assert fields["Missing"]["text"] == "" and fields["Total"]["value"] == 9.0


def test_a_v21_fixed_table_names_its_cells_table_row_column_with_names_escaped() -> None:
    fixed = {"type": "object", "valueObject": {
        "Net/Gross": {"type": "object", "valueObject": {"Price": _v2_cell("5.00", 5.0, "number")}},
        "Tax": {"type": "object", "valueObject": {"Rate~A": _v2_cell("7%"), "Due": None}},
    }}
    fields = predicted_fields(_v2_body({"Totals": fixed}))
    assert sorted(fields) == ["Totals/Net~1Gross/Price", "Totals/Tax/Due", "Totals/Tax/Rate~0A"]
    assert fields["Totals/Net~1Gross/Price"]["value"] == 5.0 and fields["Totals/Tax/Rate~0A"]["text"] == "7%"
    assert fields["Totals/Tax/Due"]["text"] == ""


def test_a_v40_table_gives_the_same_cells_with_content_as_their_text() -> None:
    def cell(content: str, **value: object) -> dict:
        return {**value, "content": content, "confidence": 0.8,
                "boundingRegions": [{"pageNumber": 2, "polygon": [0, 1, 2, 1, 2, 3, 0, 3]}],
                "spans": [{"offset": 10, "length": len(content)}]}

    body = {"status": "succeeded", "analyzeResult": {"documents": [{"docType": "m:m", "fields": {
        "Items": {"type": "array", "valueArray": [{"type": "object", "valueObject": {
            "Description": cell("Desk lamp", type="string", valueString="Desk lamp"),
            "Amount": cell("1,234.50", type="number", valueNumber=1234.5),
            "Quantity": {"type": "number"},  # not found: typed, no value
        }}]},
        "Parts": {"type": "object", "valueObject": {"Front/Back": {"type": "object", "valueObject": {
            "Count": cell("2", type="integer", valueInteger=2)}}}},
    }}]}}
    fields = predicted_fields(body)
    assert sorted(fields) == ["Items/0/Amount", "Items/0/Description", "Items/0/Quantity",
                              "Parts/Front~1Back/Count"]
    assert fields["Items/0/Amount"] == {"value": 1234.5, "text": "1,234.50", "confidence": 0.8, "page": 2,
                                        "boundingBox": [0, 1, 2, 1, 2, 3, 0, 3]}
    assert fields["Items/0/Description"]["value"] == "Desk lamp"
    assert fields["Items/0/Quantity"] == {"value": None, "text": "", "confidence": None, "page": None,
                                          "boundingBox": None}
    assert fields["Parts/Front~1Back/Count"]["value"] == 2


def test_labels_compare_with_a_predicted_table_cell_by_cell() -> None:
    items = {"type": "array", "valueArray": [
        {"type": "object", "valueObject": {"Description": _v2_cell("Widget"), "Quantity": _v2_cell("3")}},
        {"type": "object", "valueObject": {"Description": None, "Quantity": _v2_cell("4", confidence=0.5)}},
        {"type": "object", "valueObject": {"Description": _v2_cell("Page 2 of 2"), "Quantity": None}},
    ]}
    predicted = predicted_fields(_v2_body({"Items": items}))
    labeled = {"Items/0/Description": "WIDGET", "Items/0/Quantity": "8", "Items/1/Description": "Bolts",
               "Items/1/Quantity": "4"}
    result = compare(predicted, labeled, confident_at=0.8)
    assert result.agreed == ["Items/0/Description", "Items/1/Quantity"]  # case and spaces do not count
    assert result.corrected == [{"field": "Items/0/Quantity", "predicted": "3", "labeled": "8",
                                 "confidence": 0.9}]
    assert result.missed == ["Items/1/Description"]
    assert result.spurious == ["Items/2/Description"]  # a row the person did not label
    assert result.fields == 5  # the unlabeled, unpredicted Items/2/Quantity is no field of the review
    assert (result.confident_fields, result.confident_agreed) == (3, 1)
