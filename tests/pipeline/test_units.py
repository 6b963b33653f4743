"""Pure logic of shared/: settings, blob names, table keys, label validation, policy, model bodies."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shared.clients.formrecognizer import content_type_for, parse_training_body
from shared.clients.queues import BadMessage, make_message, parse_message
from shared.forms.label_format import validate_labels
from shared.names import BlobKind, classify, decode_key, encode_key, folder_of, folder_prefix
from shared.settings import SETTINGS_SPEC, SettingsError, load_settings
from shared.training.policy import LabeledSet, decide, pack_set, unpack_set

DATA = Path(__file__).resolve().parents[1] / "data"
BASE_ENV = {"FORMS_STORAGE": "UseDevelopmentStorage=true", "FORM_RECOGNIZER_ENDPOINT": "http://127.0.0.1:1/"}


def test_settings_defaults_follow_the_spec() -> None:
    s = load_settings(BASE_ENV)
    assert s.forms_container == "forms" and s.training_queue == "training-requests"
    assert s.poison_queue == "training-requests-poison"
    assert s.table_names == ("Documents", "TrainingRuns", "Models", "Fields", "TrainingDocuments",
                             "Predictions", "Reviews")
    assert s.prediction_queue == "prediction-requests" and s.review_confidence == 0.8
    assert s.training_threshold == 10 and s.retrain_min_new_labels == 1
    assert s.fr_api == "v2.1" and s.fr_endpoint == "http://127.0.0.1:1"
    assert s.poll_schedule == "*/30 * * * * *"
    assert not s.uses_identity
    # every default in the spec is what the parsed settings use
    assert SETTINGS_SPEC["TRAINING_THRESHOLD"] == "10" and SETTINGS_SPEC["FORM_RECOGNIZER_ENDPOINT"] is None


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"FORMS_STORAGE": "x"}, "FORM_RECOGNIZER_ENDPOINT is required"),
        ({"FORM_RECOGNIZER_ENDPOINT": "http://e"}, "storage is not configured"),
        ({**BASE_ENV, "TRAINING_THRESHOLD": "ten"}, "TRAINING_THRESHOLD must be an integer"),
        ({**BASE_ENV, "TRAINING_THRESHOLD": "0"}, "at least 1"),
        ({**BASE_ENV, "FORM_RECOGNIZER_API": "v3.0"}, "FORM_RECOGNIZER_API must be one of"),
        ({**BASE_ENV, "SAS_EXPIRY_MINUTES": "600"}, "at most 120"),
        ({**BASE_ENV, "FORMS_CONTAINER": "t"}, "FORMS_CONTAINER must be 3-63 lowercase"),
        ({**BASE_ENV, "FORMS_CONTAINER": "My_Forms"}, "FORMS_CONTAINER must be 3-63 lowercase"),
        ({**BASE_ENV, "FORMS_CONTAINER": "a--b"}, "single hyphens"),
        ({**BASE_ENV, "TRAINING_QUEUE": "-queue"}, "TRAINING_QUEUE must be"),
        ({**BASE_ENV, "MODELS_TABLE": "1models"}, "MODELS_TABLE must be 3-63 letters and digits"),
        ({**BASE_ENV, "FIELDS_TABLE": "field-s"}, "FIELDS_TABLE must be"),
    ],
)
def test_settings_reject_unusable_values(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        load_settings(env)


def test_settings_accept_storage_names_within_the_rules() -> None:
    ok = load_settings({**BASE_ENV, "FORMS_CONTAINER": "forms-2026", "TRAINING_QUEUE": "abc",
                        "DOCUMENTS_TABLE": "DocsV2"})
    assert (ok.forms_container, ok.training_queue, ok.documents_table) == ("forms-2026", "abc", "DocsV2")


def test_settings_accept_dialect_spellings() -> None:
    assert load_settings({**BASE_ENV, "FORM_RECOGNIZER_API": "2.1"}).fr_api == "v2.1"
    assert load_settings({**BASE_ENV, "FORM_RECOGNIZER_API": "v2.0-preview"}).fr_api == "2.0-preview"


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("po/Form_1.jpg", BlobKind.SOURCE),
        ("po/scan.TIFF", BlobKind.SOURCE),
        ("a.Pdf", BlobKind.SOURCE),
        ("po/x.bmp", BlobKind.SOURCE),
        ("po/x.jpeg", BlobKind.SOURCE),
        ("po/x.png", BlobKind.SOURCE),
        ("po/x.tif", BlobKind.SOURCE),
        ("po/Form_1.jpg.labels.json", BlobKind.LABELS),
        ("po/Form_1.jpg.ocr.json", BlobKind.OCR),
        ("po/fields.json", BlobKind.FIELDS),
        ("po/notes.txt", BlobKind.OTHER),
        ("po/x.docx", BlobKind.OTHER),
        ("po/notes.txt.labels.json", BlobKind.OTHER),
        ("po/Form_1.jpg.ocr.json.labels.json", BlobKind.OTHER),
    ],
)
def test_classify_never_treats_outputs_as_inputs(name: str, kind: BlobKind) -> None:
    assert classify(name) is kind


def test_folders_and_prefixes() -> None:
    assert folder_of("a/b/c.pdf") == "a/b" and folder_of("c.pdf") == ""
    assert folder_prefix("a") == "a/" and folder_prefix("") == ""


@pytest.mark.parametrize(
    "value",
    ["plain", "a/b", "back\\slash", "hash#tag", "what?", "100%", "tab\there", "ctl\x01\x7f", "ünïcødé/ß", ""],
)
def test_table_keys_round_trip_without_forbidden_characters(value: str) -> None:
    key = encode_key(value)
    assert not any(c in key for c in "/\\#?") and all(ord(c) >= 32 and not 127 <= ord(c) < 160 for c in key)
    assert decode_key(key) == value


def test_bundled_label_files_in_both_formats_are_valid() -> None:
    files = sorted(DATA.glob("*/*.labels.json"))
    assert len(files) >= 10
    for path in files:
        check = validate_labels(path.read_bytes())
        assert check.ok, (path, check.errors)
    v1 = validate_labels((DATA / "label-format-examples" / "Form_2.jpg.v1.labels.json").read_bytes())
    tool = validate_labels((DATA / "purchase-orders" / "Form_2.jpg.labels.json").read_bytes())
    assert v1.format == "v1.0" and tool.format == "labeling-tool"
    assert sorted(v1.field_names) == sorted(tool.field_names) and v1.label_count == 15


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        (b"", "empty"),
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "top level must be a JSON object"),
        (b'{"hello": 1}', "neither label format"),
        (b'{"document": "a.pdf", "labels": "x"}', "'labels' must be a list"),
        (b'{"document": "a.pdf", "labels": []}', "no labeled values"),
        (
            b'{"document": "a.pdf", "labels": [{"label": "A", "value": [{"page": 0, "text": "x", '
            b'"boundingBoxes": [[0,0,1,0,1,1,0,1]]}]}]}',
            "page must be a whole number",
        ),
        (
            b'{"document": "a.pdf", "labels": [{"label": "A", "value": [{"page": 1, "text": "x", '
            b'"boundingBoxes": [[0,0,1,0]]}]}]}',
            "8 numbers",
        ),
        (
            b'{"document": "a.pdf", "labels": [{"label": "A", "value": [{"page": 1, "text": "x", '
            b'"boundingBoxes": [[0,0,700,0,700,20,0,20]]}]}]}',
            "normalised",
        ),
        (b'{"document": "a.pdf", "labels": [{"value": []}]}', "'label' (the field name) is missing"),
        (
            b'{"version": "v1.0", "docName": "a.pdf", "labels": [{"fieldKey": "A", '
            b'"regions": [{"pageNumber": 1, "polygon": [0.1, 0.1]}]}]}',
            "8 numbers",
        ),
        (b'{"version": "v1.0", "labels": []}', "'docName' must name"),
    ],
)
def test_malformed_labels_are_explained(raw: bytes, error: str) -> None:
    check = validate_labels(raw)
    assert not check.ok
    assert error in check.message


def test_content_type_comes_from_magic_bytes_then_extension() -> None:
    assert content_type_for(b"%PDF-1.7", "x.jpg") == "application/pdf"
    assert content_type_for(b"\x89PNG\r\n", "x") == "image/png"
    assert content_type_for(b"II*\x00", "x") == "image/tiff"
    assert content_type_for(b"", "scan.TIF") == "image/tiff"
    assert content_type_for(b"garbage", "x.pdf") == "application/pdf"


def _labeled(n: int, version: str = "a") -> LabeledSet:
    return LabeledSet(docs={f"f{i}.pdf": f"{version}{i}" for i in range(n)})


def test_policy_threshold_fingerprint_new_labels_and_in_flight() -> None:
    s = load_settings({**BASE_ENV, "TRAINING_THRESHOLD": "10", "RETRAIN_MIN_NEW_LABELS": "3"})
    assert not decide(s, _labeled(9), None, False).train
    first = decide(s, _labeled(10), None, False)
    assert first.train and first.labeled_count == 10 and first.new_labels == 10
    state = {"lastFingerprint": first.fingerprint, **pack_set(_labeled(10).docs)}
    assert "unchanged" in decide(s, _labeled(10), state, False).reason
    two_more = decide(s, _labeled(12), state, False)
    assert not two_more.train and two_more.new_labels == 2
    assert decide(s, _labeled(13), state, False).train
    assert "in flight" in decide(s, _labeled(13), state, True).reason
    # a changed label file counts as new
    changed = _labeled(10)
    for i in range(3):
        changed.docs[f"f{i}.pdf"] = "changed"
    assert decide(s, changed, state, False).new_labels == 3


def test_fingerprint_depends_on_names_and_contents_only() -> None:
    assert _labeled(5).fingerprint == _labeled(5).fingerprint
    assert _labeled(5).fingerprint != _labeled(5, "b").fingerprint
    assert _labeled(5).fingerprint != _labeled(6).fingerprint


def test_labeled_set_survives_table_property_chunking() -> None:
    docs = {f"folder-document-{i:05d}.pdf": f"{i:016x}" for i in range(3000)}
    props = pack_set(docs)
    assert props["lastLabeledSetChunks"] > 1
    assert all(len(v) <= 30000 for k, v in props.items() if k != "lastLabeledSetChunks")
    assert unpack_set(props) == docs


def test_queue_messages() -> None:
    assert parse_message(make_message("purchase-orders")) == "purchase-orders"
    assert parse_message(make_message("f" * 1024)) == "f" * 1024
    for bad in ("not json", "[]", json.dumps({"folder": 3}), json.dumps({"other": "x"}),
                make_message("f" * 1025)):
        with pytest.raises(BadMessage):
            parse_message(bad)


def test_training_bodies_of_both_dialects_are_read_alike() -> None:
    v21 = parse_training_body(
        {
            "modelInfo": {
                "modelId": "m1",
                "status": "ready",
                "createdDateTime": "2021-01-01T00:00:00Z",
                "lastUpdatedDateTime": "2021-01-01T00:00:09Z",
                "modelName": "po",
            },
            "trainResult": {
                "averageModelAccuracy": 0.96,
                "fields": [{"fieldName": "Total", "accuracy": 0.99}],
                "trainingDocuments": [
                    {"documentName": "a.pdf", "pages": 1, "status": "succeeded", "errors": []}
                ],
                "errors": [],
            },
        }
    )
    legacy = parse_training_body(
        {
            "status": "Succeeded",
            "createdDateTime": "2019",
            "lastUpdatedDateTime": "2019",
            "trainResult": {
                "modelId": "m1",
                "trainingDocuments": [{"documentName": "a.pdf", "pages": 1, "status": "Success"}],
                "trainingFields": {
                    "fields": [{"fieldName": "Total", "accuracy": 0.99}],
                    "averageModelAccuracy": 0.96,
                },
                "errors": [],
            },
        }
    )
    for outcome in (v21, legacy):
        assert outcome.state == "ready" and outcome.finished and outcome.model_id == "m1"
        assert outcome.average_accuracy == 0.96 and outcome.fields == [("Total", 0.99)]
        assert outcome.documents[0]["status"] == "succeeded"
    invalid = parse_training_body(
        {
            "modelInfo": {"modelId": "m2", "status": "invalid"},
            "trainResult": {"errors": [{"code": "2014", "message": "too few"}]},
        }
    )
    assert invalid.state == "invalid" and invalid.errors == [{"code": "2014", "message": "too few"}]
    assert not parse_training_body({"modelInfo": {"modelId": "m3", "status": "creating"}}).finished


def test_a_large_prediction_fits_its_row_as_valid_json_and_is_read_whole_from_its_file() -> None:
    import json as _json

    from shared.predictions.field_values import stored_fields
    from shared.predictions.predict import MAX_FIELDS_CHARS, fields_property

    fields = {f"Field{i:03d}": {"value": "v" * 300, "text": "t" * 300, "confidence": 0.9, "page": 1,
                                "boundingBox": [0.1] * 8} for i in range(200)}
    stored = fields_property(fields)
    slim = _json.loads(stored)  # never cut mid-way
    assert len(stored) <= MAX_FIELDS_CHARS and 0 < len(slim) < len(fields)
    assert all("value" not in v and len(v["text"]) == 80 for v in slim.values())
    whole = {"analyzeResult": {"documentResults": [{"fields": {
        name: {k: v for k, v in f.items() if k not in ("value", "boundingBox")} | {"valueString": f["value"]}
        for name, f in fields.items()}}]}}
    read: list[str] = []

    def read_blob(name: str) -> bytes:
        read.append(name)
        return _json.dumps(whole).encode()

    got = stored_fields({"fields": stored, "blobName": "f/a.pdf"}, read_blob)
    assert read == ["f/a.pdf.prediction.json"] and len(got) == 200 and got["Field199"]["text"] == "t" * 300
    small = fields_property({"A": fields["Field000"]})
    assert stored_fields({"fields": small, "blobName": "f/a.pdf"}, read_blob)["A"]["value"] == "v" * 300
    assert len(read) == 1  # a whole row needs no file
