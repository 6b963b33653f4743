"""The review app's JSON API end to end on a real Azurite, as a script would use it (bearer token)."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from PIL import Image

from formloop.stack import AzuriteInfo
from shared.clients.records import Records
from shared.clients.storage import blob_service
from shared.forms.label_format import validate_labels
from shared.review.routes import handle
from shared.review.web import Request, Response
from shared.settings import load_settings
from tests.helpers.paths import DATA_DIR
from tests.helpers.pipeline import Stack
from tests.helpers.traffic import counted

TOKEN = "s" * 32
JOBS = DATA_DIR / "job-application"
XSS = "<img src=x onerror=alert(1)>"


class Api:
    def __init__(self, stack: Stack) -> None:
        self.stack = stack.with_settings(REVIEW_TOKEN=TOKEN)

    def call(
        self, method: str, path: str, body: Any = None, raw: bytes | None = None, **query: str
    ) -> Response:
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else b"")
        req = Request(
            method,
            path,
            query,
            {"authorization": f"Bearer {TOKEN}"},
            data,
            f"http://127.0.0.1:7071/api/review/{path}",
        )
        return handle(self.stack.settings, lambda _s: self.stack.records, req)

    def json(self, method: str, path: str, body: Any = None, status: int = 200, **query: str) -> Any:
        response = self.call(method, path, body, **query)
        assert response.status == status, response.body[:300]
        return json.loads(response.body)

    def blob(self, name: str) -> bytes:
        container = blob_service(self.stack.settings).get_container_client(
            self.stack.settings.forms_container
        )
        return container.get_blob_client(name).download_blob().readall()


@pytest.fixture
def api(stack: Stack) -> Api:
    a = Api(stack)
    for name in ("ceo.pdf", "ceo.pdf.ocr.json", "fields.json", "fullstack.pdf", "fullstack.pdf.ocr.json"):
        a.stack.upload(f"jobs/{name}", (JOBS / name).read_bytes())
    return a


def _word_ids(view: dict[str, Any], *texts: str) -> list[str]:
    words = [w for p in view["pages"] for w in p["words"]]
    out = []
    for text in texts:
        out.append(next(w["id"] for w in words if w["text"] == text and w["id"] not in out))
    return out


def test_queue_lists_the_folders_forms_with_counts_and_no_model(api: Api) -> None:
    folders = api.json("GET", "folders")["folders"]
    assert {"folder": "jobs", "forms": 2, "hasSchema": True} in folders
    queue = api.json("GET", "queue", folder="jobs")
    assert [f["document"] for f in queue["forms"]] == ["ceo.pdf", "fullstack.pdf"]
    assert queue["counts"] == {"needsReview": 0, "predicted": 0, "unlabeled": 2, "labeled": 0}
    assert queue["model"] is None
    assert api.json("GET", "queue", status=400, folder="jobs", state="bogus")["error"]["code"] == "BadState"


def test_form_view_has_normalised_words_and_the_schema(api: Api) -> None:
    view = api.json("GET", "form", folder="jobs", doc="ceo.pdf")
    page = view["pages"][0]
    assert page["unit"] == "inch" and len(page["words"]) > 50
    assert all(0 <= v <= 1 for w in page["words"] for v in w["box"])
    assert [f["name"] for f in view["schema"]][:2] == ["Job Application Type", "Name of Candidate"]
    assert view["labels"] is None and view["labelsEtag"] is None and view["prediction"] is None


def test_saved_labels_are_the_words_in_reading_order_and_pass_the_pipelines_check(api: Api) -> None:
    view = api.json("GET", "form", folder="jobs", doc="ceo.pdf")
    ids = _word_ids(view, "JOB", "APPLICATION")
    saved = api.json(
        "PUT",
        "labels",
        {"etag": None, "fields": {"Job Application Type": {"words": ids[::-1]}}},
        folder="jobs",
        doc="ceo.pdf",
    )
    raw = api.blob("jobs/ceo.pdf.labels.json")
    check = validate_labels(raw)
    assert check.ok and check.document == "ceo.pdf" and check.field_names == ["Job Application Type"]
    label = json.loads(raw)["labels"][0]
    assert [v["text"] for v in label["value"]] == ["JOB", "APPLICATION"]  # reading order, not click order
    words = {w["id"]: w for w in view["pages"][0]["words"]}
    x0, y0, x1, y1 = words[ids[0]]["box"]
    assert label["value"][0]["boundingBoxes"][0] == pytest.approx([x0, y0, x1, y0, x1, y1, x0, y1], abs=1e-6)
    again = api.json("GET", "form", folder="jobs", doc="ceo.pdf")
    assert again["labels"]["Job Application Type"]["words"] == ids and again["labelsEtag"] == saved["etag"]
    assert api.json("GET", "queue", folder="jobs")["counts"]["labeled"] == 1


def test_a_concurrent_save_gets_409_and_overwrites_nothing(api: Api) -> None:
    view = api.json("GET", "form", folder="jobs", doc="ceo.pdf")
    (a,), (b,) = _word_ids(view, "JOB"), _word_ids(view, "APPLICATION")
    first = api.json(
        "PUT",
        "labels",
        {"etag": None, "fields": {"Name of Candidate": {"words": [a]}}},
        folder="jobs",
        doc="ceo.pdf",
    )
    before = api.blob("jobs/ceo.pdf.labels.json")
    for stale in (None, '"0x8D000000000000"'):  # opened before the first save, or an older version
        refused = api.json(
            "PUT",
            "labels",
            {"etag": stale, "fields": {"Name of Candidate": {"words": [b]}}},
            status=409,
            folder="jobs",
            doc="ceo.pdf",
        )
        assert "token holder saved labels for this form" in refused["error"]["message"]
    assert api.blob("jobs/ceo.pdf.labels.json") == before
    api.json(
        "PUT",
        "labels",
        {"etag": first["etag"], "fields": {"Name of Candidate": {"words": [b]}}},
        folder="jobs",
        doc="ceo.pdf",
    )
    assert json.loads(api.blob("jobs/ceo.pdf.labels.json"))["labels"][0]["value"][0]["text"] == "APPLICATION"


def test_regions_and_clear_errors_for_bad_edits(api: Api) -> None:
    region = {"page": 1, "box": [0.5, 0.5, 0.6, 0.52], "text": XSS}
    api.json(
        "PUT", "labels", {"fields": {"Other Information": {"region": region}}}, folder="jobs", doc="ceo.pdf"
    )
    label = json.loads(api.blob("jobs/ceo.pdf.labels.json"))["labels"][0]
    assert label["labelType"] == "region" and label["value"][0]["text"] == XSS
    view = api.json("GET", "form", folder="jobs", doc="ceo.pdf")
    assert view["labels"]["Other Information"]["region"]["text"] == XSS  # data, never markup
    cases = [
        ({"fields": {"No Such Field": {"words": ["1.0"]}}}, 400, "UnknownField"),
        ({"fields": {"Name of Candidate": {"words": ["9.999"]}}}, 400, "UnknownWord"),
        (
            {"fields": {"Name of Candidate": {"region": {"page": 1, "box": [0.5, 0.5, 0.4, 0.6]}}}},
            400,
            "BadBox",
        ),
        ({"fields": {}}, 400, "NothingLabeled"),
        ([1, 2], 400, "BadLabels"),
    ]
    for body, status, code in cases:
        assert (
            api.json("PUT", "labels", body, status=status, folder="jobs", doc="fullstack.pdf")["error"][
                "code"
            ]
            == code
        )
    assert not any(n.startswith("jobs/fullstack.pdf.labels") for n in api.stack.blob_names())
    huge = api.call("PUT", "labels", raw=b" " * (8 * 1024 * 1024 + 1), folder="jobs", doc="fullstack.pdf")
    assert huge.status == 413


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ({"folder": "../other", "doc": "ceo.pdf"}, 400),
        ({"folder": "jobs", "doc": "../ceo.pdf"}, 400),
        ({"folder": "jobs", "doc": "a/b.pdf"}, 400),
        ({"folder": "jobs//x", "doc": "ceo.pdf"}, 400),
        ({"folder": "jobs", "doc": "missing.pdf"}, 404),
        ({"folder": "nowhere", "doc": "ceo.pdf"}, 404),
    ],
)
def test_names_must_exist_in_the_container(api: Api, query: dict[str, str], status: int) -> None:
    assert api.call("GET", "form", **query).status == status
    assert api.call("GET", "page", page="1", **query).status == status


def test_page_images_keep_the_forms_aspect_ratio(api: Api) -> None:
    response = api.call("GET", "page", folder="jobs", doc="ceo.pdf", page="1")
    assert response.status == 200 and response.headers["Content-Type"] == "image/png"
    image = Image.open(io.BytesIO(response.body))
    view = api.json("GET", "form", folder="jobs", doc="ceo.pdf")
    page = view["pages"][0]
    assert image.width / image.height == pytest.approx(page["width"] / page["height"], rel=0.01)
    assert (
        api.json("GET", "page", status=404, folder="jobs", doc="ceo.pdf", page="2")["error"]["code"]
        == "NoSuchPage"
    )


def test_multi_page_tiff_pages_are_its_frames(api: Api) -> None:
    frames = [Image.new("L", (300 + 100 * i, 400), 255) for i in range(3)]
    out = io.BytesIO()
    frames[0].save(out, "TIFF", save_all=True, append_images=frames[1:])
    api.stack.upload("jobs/scan.tiff", out.getvalue())
    for n in (1, 2, 3):
        png = api.call("GET", "page", folder="jobs", doc="scan.tiff", page=str(n))
        assert Image.open(io.BytesIO(png.body)).size == (300 + 100 * (n - 1), 400)
    assert api.call("GET", "page", folder="jobs", doc="scan.tiff", page="4").status == 404
    view = api.json("GET", "form", folder="jobs", doc="scan.tiff")
    assert view["ocr"]["ready"] is False and view["pageCount"] == 3


def test_a_folder_is_started_from_scratch_with_its_fields(api: Api) -> None:
    api.stack.upload("fresh/a.pdf", (JOBS / "ceo.pdf").read_bytes())
    assert api.json("GET", "fields", folder="fresh") == {"fields": None, "etag": None}
    fields = [
        {"name": "Name", "type": "string"},
        {"name": "Hired", "type": "selectionMark"},
        {"name": "Signed", "type": "signature"},
    ]
    made = api.json("PUT", "fields", {"etag": None, "fields": fields}, folder="fresh")
    stored = json.loads(api.blob("fresh/fields.json"))
    assert [(f["fieldKey"], f["fieldType"]) for f in stored["fields"]] == [
        ("Name", "string"),
        ("Hired", "selectionMark"),
        ("Signed", "signature"),
    ]
    assert api.json("PUT", "fields", {"etag": None, "fields": fields}, status=409, folder="fresh")
    renamed = [{"name": "Full name", "type": "string"}]
    assert (
        api.json("PUT", "fields", {"etag": made["etag"], "fields": renamed}, folder="fresh")["fields"]
        == renamed
    )
    for bad, code in (
        ([{"name": "x", "type": "money"}], "BadFieldType"),
        ([{"name": "a/b"}], "BadFieldName"),
        ([{"name": "A"}, {"name": "a"}], "DuplicateField"),
        ([], "BadSchema"),
    ):
        assert api.json("PUT", "fields", {"fields": bad}, status=400, folder="fresh")["error"]["code"] == code


def test_models_of_a_folder_without_any_and_make_current_refusals(api: Api) -> None:
    assert api.json("GET", "models", folder="jobs") == {"folder": "jobs", "models": [], "current": None}
    missing = api.json("POST", "promote", {"modelId": "nope"}, status=409, folder="jobs")
    assert (
        missing["error"]["code"] == "CannotPromote"
        and "no model 'nope' in folder 'jobs'" in missing["error"]["message"]
    )
    assert api.json("POST", "promote", {}, status=400, folder="jobs")["error"]["code"] == "MissingModel"
    assert api.json("GET", "nothing-here", status=404)["error"]["code"] == "NotFound"


def test_queue_order_needs_review_by_lowest_confidence_then_predicted_then_unlabeled_then_labeled(
    api: Api,
) -> None:
    for name in ("a.pdf", "b.pdf", "c.pdf", "d.pdf", "e.pdf"):
        api.stack.upload(f"order/{name}", (JOBS / "ceo.pdf").read_bytes())
    api.stack.upload("order/e.pdf.labels.json", b"{}")
    rows = {  # Predictions rows as the pipeline writes them
        "a.pdf": {"reviewStatus": "confident", "lowestConfidence": 0.95},
        "b.pdf": {"reviewStatus": "needsReview", "lowestConfidence": 0.41, "lowConfidenceNames": ["Total"]},
        "c.pdf": {"reviewStatus": "needsReview", "lowestConfidence": 0.12, "lowConfidenceNames": ["Date"]},
    }
    for doc, props in rows.items():
        api.stack.records.merge_prediction("order", doc, status="succeeded", modelId="m1", **props)
    queue = api.json("GET", "queue", folder="order")
    assert [(f["document"], f["state"]) for f in queue["forms"]] == [
        ("c.pdf", "needsReview"),
        ("b.pdf", "needsReview"),
        ("a.pdf", "predicted"),
        ("d.pdf", "unlabeled"),
        ("e.pdf", "labeled"),
    ]
    assert queue["counts"] == {"needsReview": 2, "predicted": 1, "unlabeled": 1, "labeled": 1}
    assert [f["document"] for f in api.json("GET", "queue", folder="order", field="Total")["forms"]] == [
        "b.pdf"
    ]
    assert [f["document"] for f in api.json("GET", "queue", folder="order", state="unlabeled")["forms"]] == [
        "d.pdf"
    ]


@pytest.mark.parametrize(("name", "data"), [("broken.pdf", b"%PDF-1.7\nnot really a pdf"),
                                            ("text.png", b"this is no image"), ("empty.jpg", b"")])
def test_a_form_that_cannot_be_drawn_gets_a_clear_error(api: Api, name: str, data: bytes) -> None:
    api.stack.upload(f"jobs/{name}", data)
    refused = api.json("GET", "page", status=415, folder="jobs", doc=name, page="1")
    assert refused["error"]["code"] == "CannotShow" and "cannot be shown" in refused["error"]["message"]
    view = api.json("GET", "form", folder="jobs", doc=name)
    assert view["pageCount"] == 0 and view["ocr"]["ready"] is False


def test_a_page_already_drawn_is_served_without_reading_the_form_again(
    azurite: AzuriteInfo, stack: Stack
) -> None:
    """Paging back and forth over a big form must not download it per page view: a kept page costs one
    properties request; a new version of the form is drawn again (bytes counted on the wire)."""
    big = (JOBS / "ceo.pdf").read_bytes() + b"\n%" + b"x" * (3 * 1024 * 1024)  # 3 MB of trailing comment
    with counted(azurite) as traffic:
        env = {**stack.env, "FORMS_STORAGE": traffic.azurite.connection_string}
        settings = load_settings(env)
        api = Api(Stack(settings, Records(settings), stack.client, env))
        api.stack.upload("big/ceo.pdf", big)
        traffic.reset()
        first = api.call("GET", "page", folder="big", doc="ceo.pdf", page="1")
        assert first.status == 200 and traffic.received > len(big)
        traffic.reset()
        again = api.call("GET", "page", folder="big", doc="ceo.pdf", page="1")
        assert again.body == first.body and traffic.total < 10_000
        api.stack.upload("big/ceo.pdf", big + b"x")
        traffic.reset()
        assert api.call("GET", "page", folder="big", doc="ceo.pdf", page="1").status == 200
        assert traffic.received > len(big)
