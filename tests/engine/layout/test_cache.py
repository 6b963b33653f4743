"""The Layout cache: a document read moments ago is not read again by a custom-model analysis."""

from __future__ import annotations

from engine.layout.analyze import analyze_layout
from engine.layout.cache import LAYOUT_CACHE, LayoutCache
from tests.helpers.paths import DATA_DIR

DATA = DATA_DIR / "purchase-orders"


def test_a_second_read_of_the_same_bytes_comes_from_the_cache_as_a_private_copy() -> None:
    data = (DATA / "Form_4.jpg").read_bytes()
    LAYOUT_CACHE.clear()
    hits = LAYOUT_CACHE.hits
    first = analyze_layout(data, "image/jpeg")
    first["readResults"][0]["lines"].clear()  # the caller's copy is its own
    second = analyze_layout(data, "image/jpeg")
    assert LAYOUT_CACHE.hits == hits + 1
    assert len(second["readResults"][0]["lines"]) > 10
    # other options are another reading
    analyze_layout(data, "image/jpeg", api_version="2.0")
    assert LAYOUT_CACHE.hits == hits + 1


def test_the_cache_is_bounded_in_entries_and_bytes_and_can_be_off() -> None:
    cache = LayoutCache(max_entries=2, max_bytes=1000)
    for i in range(3):
        cache.put(cache.key(bytes([i])), {"i": i})
    assert cache.get(cache.key(b"\x00")) is None and cache.get(cache.key(b"\x02")) == {"i": 2}
    cache.put(cache.key(b"big"), {"text": "x" * 2000})  # larger than the whole cache: not kept
    assert cache.get(cache.key(b"big")) is None
    off = LayoutCache(max_entries=0)
    off.put(off.key(b"a"), {"a": 1})
    assert off.get(off.key(b"a")) is None
