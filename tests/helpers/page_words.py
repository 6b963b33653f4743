"""Words and boxes of a v2.x Layout page, normalised to the page (0-1), and how much of a word lies in a box
(used by the fillable-form tests in tests/engine/pdf/)."""

from __future__ import annotations


def norm_box(poly: list[float], width: float, height: float) -> tuple[float, float, float, float]:
    xs, ys = [v / width for v in poly[0::2]], [v / height for v in poly[1::2]]
    return min(xs), min(ys), max(xs), max(ys)


def inside_share(word: tuple[float, ...], box: tuple[float, ...]) -> float:
    w = min(word[2], box[2]) - max(word[0], box[0])
    h = min(word[3], box[3]) - max(word[1], box[1])
    area = max(1e-9, (word[2] - word[0]) * (word[3] - word[1]))
    return max(0.0, w) * max(0.0, h) / area


def page_words(page: dict) -> list[tuple[str, tuple[float, float, float, float]]]:
    return [(w["text"], norm_box(w["boundingBox"], page["width"], page["height"]))
            for line in page["lines"] for w in line["words"]]
