"""Query-parameter parsing shared by the layout and custom routes (pure functions, no process needed)."""

from __future__ import annotations

import pytest

from engine.errors import ApiError
from engine.layout.analyze import check_page_range, parse_pages
from engine.sources import check_source_url, host_allowed
from engine.v2.inputs import parse_bool

ALLOWED = ("127.0.0.1", "localhost", "*.blob.core.windows.net")


@pytest.mark.parametrize("value,expected", [("true", True), ("True", True), ("TRUE", True), ("false", False),
                                            ("False", False), ("FALSE", False), (None, False), ("", False)])
def test_booleans_in_any_case(value: str | None, expected: bool) -> None:
    assert parse_bool(value, "includeTextDetails") is expected


def test_bad_boolean_is_400() -> None:
    with pytest.raises(ApiError) as e:
        parse_bool("maybe", "includeTextDetails")
    assert (e.value.status, e.value.code) == (400, "InvalidParameter")


def test_pages_syntax() -> None:
    assert parse_pages("1-3,5") == [1, 2, 3, 5]
    assert parse_pages(" 2 , 2-3 ") == [2, 3]
    assert parse_pages(None) is None and parse_pages("") is None
    for bad in ("0", "1-", "a", "3-1", "1;2"):
        with pytest.raises(ApiError):
            parse_pages(bad)
    check_page_range([1, 2], 2)
    with pytest.raises(ApiError) as e:
        check_page_range([3], 2)
    assert e.value.code == "InvalidPageRange"


def test_allow_list_patterns() -> None:
    assert host_allowed("myaccount.blob.core.windows.net", ALLOWED)
    assert host_allowed("LOCALHOST", ALLOWED)
    assert not host_allowed("blob.core.windows.net.evil.com", ALLOWED)
    assert not host_allowed("127.0.0.2", ALLOWED)
    check_source_url("https://acct.blob.core.windows.net/c?sv=1&sig=x", ALLOWED)
    with pytest.raises(ApiError) as e:
        check_source_url("https://evil.com/?h=acct.blob.core.windows.net", ALLOWED)
    assert e.value.code == "2001"
