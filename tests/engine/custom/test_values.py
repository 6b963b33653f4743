"""Value text and empty fields (issue 19 items 3, 4, 6): a value keeps the spaces of its words, a field left
empty gives no value rather than its printed caption, and a caption word beside a value is not taken into it.
Generated applicant forms (captions inside the boxes, optional fields) and the real tax returns, read by the
engine's own Layout in-process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.custom.labels import parse_fields, parse_labels
from engine.custom.matching import match_labels
from engine.custom.ocr_file import OcrDocument, parse_ocr
from engine.custom.scoring.features import TrainDoc, fix_text
from engine.custom.scoring.model import Pick, analyze_pages, train
from engine.custom.scoring.spans import index_document
from engine.layout.analyze import analyze_layout
from formgen import generate

IRS = Path(__file__).resolve().parents[2] / "data" / "irs-1040"


def test_a_split_token_is_rejoined_but_words_keep_their_space() -> None:
    one_token = {"type": "string", "nospace": True}
    assert fix_text(one_token, "jane@ example.com") == "jane@example.com"
    assert fix_text(one_token, "555- 0100") == "555-0100"
    assert fix_text(one_token, "12 345") == "12345"
    for words in ("United Kingdom", "family member", "bonuses, commissions", "Rose SR", "UX Designer"):
        assert fix_text(one_token, words) == words


class Forms:
    def __init__(self, folder: Path) -> None:
        self.forms = generate("applicant", 24, folder, seed=19, kind="pdf")
        self.types = parse_fields(json.loads((folder / "fields.json").read_text()))
        self.ocr = [parse_ocr(analyze_layout(f.path.read_bytes(), "application/pdf")) for f in self.forms]

    def model(self, indices: list[int]) -> dict:
        docs = []
        for i in indices:
            matched, _ = match_labels(parse_labels(json.loads(self.forms[i].labels_path.read_text())),
                                      self.ocr[i], self.types)
            docs.append(TrainDoc.build(self.forms[i].path.name, self.ocr[i], matched))
        return train(docs, self.types)[0]

    def picks(self, model: dict, i: int) -> dict[str, Pick]:
        return analyze_pages(model, index_document(self.ocr[i]))


@pytest.fixture(scope="module")
def applicant(tmp_path_factory: pytest.TempPathFactory) -> Forms:
    return Forms(tmp_path_factory.mktemp("applicant"))


def test_a_two_word_value_keeps_its_space_where_every_training_value_was_one_word(applicant: Forms) -> None:
    one_word = [i for i, f in enumerate(applicant.forms) if f.values["Relationship"] and
                " " not in f.values["Relationship"]]
    two_words = [i for i, f in enumerate(applicant.forms) if " " in f.values["Relationship"]]
    assert len(one_word) >= 5 and two_words
    model = applicant.model(one_word[:6])
    assert model["fields"]["Relationship"]["nospace"]
    for i in two_words:
        assert applicant.picks(model, i)["Relationship"].text == applicant.forms[i].values["Relationship"]


@pytest.mark.parametrize("field", ["Country", "ArrivalDate", "IncomeSource"])
def test_an_empty_box_gives_no_value_not_its_caption(applicant: Forms, field: str) -> None:
    filled = [i for i, f in enumerate(applicant.forms) if f.values[field]][:6]
    empty = [i for i, f in enumerate(applicant.forms) if not f.values[field]]
    assert len(filled) == 6 and empty
    model = applicant.model(filled)  # the field had a value on every training form
    for i in empty:
        pick = applicant.picks(model, i)[field]
        assert pick.span is None or pick.confidence < 0.5, (i, pick.text, pick.confidence)


def test_the_caption_before_a_value_is_not_part_of_it(applicant: Forms) -> None:
    model = applicant.model(list(range(6)))
    for i in range(6, 12):
        assert applicant.picks(model, i)["Occupation"].text == applicant.forms[i].values["Occupation"]


def _irs() -> tuple[list[TrainDoc], list[OcrDocument], dict[str, str]]:
    types = parse_fields(json.loads((IRS / "fields.json").read_text()))
    docs, ocrs = [], []
    for pdf in sorted(IRS.glob("*.pdf")):
        ocr = parse_ocr(analyze_layout(pdf.read_bytes(), "application/pdf"))
        labels = parse_labels(json.loads(Path(f"{pdf}.labels.json").read_text()))
        matched, _ = match_labels(labels, ocr, types)
        docs.append(TrainDoc.build(pdf.name, ocr, matched))
        ocrs.append(ocr)
    return docs, ocrs, types


def test_real_tax_return_empty_spouse_fields_and_two_word_occupation() -> None:
    """f1040_4 is filed single: its spouse boxes are empty and hold only their printed captions
    ("Last name", "Spouse's social security number"); f1040_7's spouse is a "UX Designer"."""
    docs, ocrs, types = _irs()
    names = [d.name for d in docs]
    four, seven = names.index("f1040_4.pdf"), names.index("f1040_7.pdf")
    model = train([d for i, d in enumerate(docs) if i != four], types)[0]
    picks = analyze_pages(model, index_document(ocrs[four]))
    for field in ("Spouse Last Name", "Spouse SSN"):
        assert picks[field].span is None or picks[field].confidence < 0.5, (field, picks[field].text)
    model = train([d for i, d in enumerate(docs) if i != seven], types)[0]
    assert analyze_pages(model, index_document(ocrs[seven]))["Spouse Occupation"].text == "UX Designer"
