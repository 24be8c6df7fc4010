"""mockstudio.domain.paging without HTTP: SortedIndex windows, page tokens and request parsing."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mockstudio.domain.paging import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE,
    MAX_PAGE_SIZE,
    PageRequest,
    SortedIndex,
    parse_page_request,
)
from mockstudio.errors import InvalidPageToken, InvalidParameter


def index_of(keys: list[int]) -> SortedIndex[str]:
    index: SortedIndex[str] = SortedIndex()
    for key in keys:
        index.add(key, f"item{key}")
    return index


def names(keys: list[int]) -> list[str]:
    return [f"item{key}" for key in keys]


def walk_next(
    index: SortedIndex[str], size: int, key_from: int | None = None, key_to: int | None = None
) -> list[list[str]]:
    """Every page, following next tokens from the first page."""
    pages = []
    request = PageRequest(size, 0, None)
    while True:
        page = index.page(request, key_from=key_from, key_to=key_to)
        pages.append(page.items)
        if page.next_token is None:
            return pages
        request = PageRequest(size, request.page + 1, page.next_token)


# -- SortedIndex basics -----------------------------------------------------------------------


def test_empty_index_gives_an_empty_first_page_without_tokens() -> None:
    page = index_of([]).page(PageRequest())
    assert page.items == []
    assert page.next_token is None
    assert page.previous_token is None
    assert page.request == PageRequest()


def test_newest_first_order() -> None:
    index = index_of([1, 2, 3, 4, 5])
    assert index.page(PageRequest()).items == names([5, 4, 3, 2, 1])
    assert list(index.newest_first()) == names([5, 4, 3, 2, 1])
    assert index.newest() == "item5"
    assert len(index) == 5


def test_newest_of_empty_index_is_none() -> None:
    assert index_of([]).newest() is None


def test_out_of_order_inserts_are_sorted() -> None:
    index = index_of([30, 10, 50, 20, 40, 5, 60])
    assert list(index.newest_first()) == names([60, 50, 40, 30, 20, 10, 5])
    assert index.page(PageRequest(3)).items == names([60, 50, 40])


def test_remove() -> None:
    index = index_of([1, 2, 3])
    index.remove(2)
    assert list(index.newest_first()) == names([3, 1])
    index.remove(99)  # absent: no error
    index.remove(0)
    assert len(index) == 2
    index.remove(3)
    index.remove(1)
    assert len(index) == 0
    assert index.page(PageRequest()).items == []


def test_clear() -> None:
    index = index_of([1, 2, 3])
    index.clear()
    assert len(index) == 0
    assert list(index.newest_first()) == []


# -- windows by offset ------------------------------------------------------------------------


def test_page_windows_by_offset() -> None:
    index = index_of(list(range(1, 8)))  # 7 items, pages of 3: [7 6 5] [4 3 2] [1]
    first = index.page(PageRequest(3, 0))
    second = index.page(PageRequest(3, 1))
    third = index.page(PageRequest(3, 2))
    beyond = index.page(PageRequest(3, 3))
    assert first.items == names([7, 6, 5])
    assert second.items == names([4, 3, 2])
    assert third.items == names([1])
    assert beyond.items == []
    assert first.next_token is not None and first.previous_token is None
    assert second.next_token is not None and second.previous_token is not None
    assert third.next_token is None and third.previous_token is not None
    assert beyond.next_token is None and beyond.previous_token is None


def test_exact_multiple_of_page_size_has_no_trailing_next_token() -> None:
    index = index_of(list(range(1, 7)))
    assert index.page(PageRequest(3, 0)).next_token is not None
    assert index.page(PageRequest(3, 1)).next_token is None


def test_single_page_has_no_tokens() -> None:
    page = index_of([1, 2, 3]).page(PageRequest(3, 0))
    assert page.items == names([3, 2, 1])
    assert page.next_token is None and page.previous_token is None


# -- windows by token -------------------------------------------------------------------------


def test_token_formats_follow_twilio_prefixes() -> None:
    index = index_of(list(range(1, 8)))
    second = index.page(PageRequest(3, 1))
    assert second.next_token is not None and second.next_token.startswith("PA")
    assert second.previous_token is not None and second.previous_token.startswith("PB")


def test_next_token_walks_every_item_once() -> None:
    keys = list(range(1, 11))
    pages = walk_next(index_of(keys), 3)
    assert pages == [names([10, 9, 8]), names([7, 6, 5]), names([4, 3, 2]), names([1])]


def test_token_pages_match_offset_pages() -> None:
    index = index_of(list(range(1, 11)))
    pages = walk_next(index, 4)
    for number, items in enumerate(pages):
        assert index.page(PageRequest(4, number)).items == items


def test_previous_token_returns_to_the_previous_window() -> None:
    index = index_of(list(range(1, 11)))
    first = index.page(PageRequest(3, 0))
    second = index.page(PageRequest(3, 1, first.next_token))
    third = index.page(PageRequest(3, 2, second.next_token))
    back_to_second = index.page(PageRequest(3, 1, third.previous_token))
    assert back_to_second.items == second.items
    back_to_first = index.page(PageRequest(3, 0, back_to_second.previous_token))
    assert back_to_first.items == first.items
    # Going back still offers the way forward; page 0 has no previous page.
    assert back_to_first.next_token is not None
    assert back_to_first.previous_token is None
    assert index.page(PageRequest(3, 1, back_to_first.next_token)).items == second.items


def test_previous_token_from_an_offset_page() -> None:
    index = index_of(list(range(1, 11)))
    second = index.page(PageRequest(3, 1))
    assert index.page(PageRequest(3, 0, second.previous_token)).items == names([10, 9, 8])


def test_token_survives_new_items_and_deleted_boundary() -> None:
    """Tokens carry the boundary key, not a position: new items and a deleted boundary item
    neither repeat nor skip anything."""
    index = index_of(list(range(10, 70, 10)))  # 10..60
    first = index.page(PageRequest(2, 0))
    assert first.items == names([60, 50])
    index.add(70, "item70")  # newer than everything: must not shift page 2
    index.remove(50)  # the boundary item itself
    second = index.page(PageRequest(2, 1, first.next_token))
    assert second.items == names([40, 30])


def test_token_with_other_page_size() -> None:
    index = index_of(list(range(1, 11)))
    first = index.page(PageRequest(3, 0))
    assert index.page(PageRequest(5, 1, first.next_token)).items == names([7, 6, 5, 4, 3])


# -- tokens tied to filters -------------------------------------------------------------------


def test_token_is_tied_to_its_filters() -> None:
    index = index_of(list(range(1, 11)))
    first = index.page(PageRequest(3, 0), filters="active||")
    assert first.next_token is not None
    assert index.page(PageRequest(3, 1, first.next_token), filters="active||").items == names([7, 6, 5])
    with pytest.raises(InvalidPageToken):
        index.page(PageRequest(3, 1, first.next_token), filters="ended||")
    with pytest.raises(InvalidPageToken):
        index.page(PageRequest(3, 1, first.next_token))  # no filters at all


def test_previous_token_is_tied_to_its_filters() -> None:
    index = index_of(list(range(1, 11)))
    second = index.page(PageRequest(3, 1), filters="x")
    assert second.previous_token is not None
    with pytest.raises(InvalidPageToken):
        index.page(PageRequest(3, 0, second.previous_token), filters="y")


@pytest.mark.parametrize(
    "token",
    [
        "garbage",
        "P",
        "PA",
        "PA-",
        "PAzz-00000000",
        "XX10-00000000",
        "pa10-00000000",
        "PA10",
        "PA10-",
        "PA10-zzzzzzzz",
        "PA-10-00000000",
        "PA" + "f" * 33 + "-00000000",
        "FN00000000000000000000000000000000",
    ],
)
def test_garbage_tokens_are_rejected(token: str) -> None:
    index = index_of([1, 2, 3])
    with pytest.raises(InvalidPageToken) as info:
        index.page(PageRequest(2, 1, token))
    assert info.value.code == 21481
    assert info.value.status == 400
    assert info.value.message == "Invalid PageToken"


def test_token_with_a_forged_checksum_of_the_right_filters_still_pages() -> None:
    """The checksum ties a token to filters; it is not a signature. Documented choice."""
    index = index_of(list(range(1, 8)))
    first = index.page(PageRequest(3, 0))
    assert first.next_token is not None
    checksum = first.next_token.partition("-")[2]
    forged = f"PA{6:x}-{checksum}"
    assert index.page(PageRequest(3, 1, forged)).items == names([5, 4, 3])


# -- key bounds -------------------------------------------------------------------------------


def test_key_from_is_inclusive_and_key_to_exclusive() -> None:
    index = index_of(list(range(1, 11)))
    page = index.page(PageRequest(50), key_from=3, key_to=7)
    assert page.items == names([6, 5, 4, 3])


def test_key_bounds_between_keys() -> None:
    index = index_of([10, 20, 30, 40])
    assert index.page(PageRequest(), key_from=15, key_to=35).items == names([30, 20])
    assert index.page(PageRequest(), key_from=15).items == names([40, 30, 20])
    assert index.page(PageRequest(), key_to=35).items == names([30, 20, 10])
    assert index.page(PageRequest(), key_from=41).items == []
    assert index.page(PageRequest(), key_to=10).items == []
    assert index.page(PageRequest(), key_from=30, key_to=30).items == []
    assert index.page(PageRequest(), key_from=40, key_to=10).items == []


def test_bounded_paging_by_offset_and_token_stays_in_bounds() -> None:
    index = index_of(list(range(1, 21)))
    pages = walk_next(index, 4, key_from=5, key_to=15)  # 5..14: ten items
    assert pages == [names([14, 13, 12, 11]), names([10, 9, 8, 7]), names([6, 5])]
    assert index.page(PageRequest(4, 2), key_from=5, key_to=15).items == names([6, 5])
    assert index.page(PageRequest(4, 3), key_from=5, key_to=15).items == []
    # Walking back from the last bounded page.
    last = index.page(PageRequest(4, 2), key_from=5, key_to=15)
    back = index.page(PageRequest(4, 1, last.previous_token), key_from=5, key_to=15)
    assert back.items == names([10, 9, 8, 7])
    top = index.page(PageRequest(4, 0, back.previous_token), key_from=5, key_to=15)
    assert top.items == names([14, 13, 12, 11])


@settings(max_examples=150, deadline=None)
@given(
    keys=st.lists(st.integers(0, 10_000), unique=True, max_size=60),
    size=st.integers(1, 12),
    key_from=st.none() | st.integers(0, 10_000),
    key_to=st.none() | st.integers(0, 10_000),
)
def test_paging_matches_a_naive_model(keys: list[int], size: int, key_from: int | None, key_to: int | None) -> None:
    """Following next tokens yields exactly the in-bounds items, newest first, in pages of
    `size`; offset pages agree; walking back with previous tokens retraces the same pages."""
    index = index_of(keys)
    expected = sorted(
        (k for k in keys if (key_from is None or k >= key_from) and (key_to is None or k < key_to)),
        reverse=True,
    )
    chunks = [names(expected[i : i + size]) for i in range(0, len(expected), size)] or [[]]
    pages = walk_next(index, size, key_from=key_from, key_to=key_to)
    assert pages == chunks
    for number, chunk in enumerate(chunks):
        assert index.page(PageRequest(size, number), key_from=key_from, key_to=key_to).items == chunk
    # Walk back from the last page.
    request = PageRequest(size, len(chunks) - 1)
    page = index.page(request, key_from=key_from, key_to=key_to)
    number = request.page
    while page.previous_token is not None:
        number -= 1
        page = index.page(PageRequest(size, number, page.previous_token), key_from=key_from, key_to=key_to)
        assert page.items == chunks[number]
    assert number == 0


# -- parse_page_request -----------------------------------------------------------------------


def test_parse_defaults() -> None:
    assert parse_page_request(None, None, None) == PageRequest(DEFAULT_PAGE_SIZE, 0, None)
    assert DEFAULT_PAGE_SIZE == 50


def test_parse_values() -> None:
    assert parse_page_request("20", "3", "PA1-0") == PageRequest(20, 3, "PA1-0")
    assert parse_page_request(" 7 ", "0", None) == PageRequest(7, 0, None)


def test_empty_token_means_no_token() -> None:
    assert parse_page_request(None, None, "").token is None


@pytest.mark.parametrize("raw", ["1000", "1001", "5000", str(10**30)])
def test_page_size_is_clamped_to_1000(raw: str) -> None:
    assert MAX_PAGE_SIZE == 1000
    assert parse_page_request(raw, None, None).page_size == 1000


def test_page_size_bounds_inside() -> None:
    assert parse_page_request("1", None, None).page_size == 1
    assert parse_page_request("999", None, None).page_size == 999


@pytest.mark.parametrize("raw", ["0", "-1", "-1000", "abc", "", "1.5", "10e2", "0x10"])
def test_bad_page_size_is_invalid_parameter(raw: str) -> None:
    with pytest.raises(InvalidParameter) as info:
        parse_page_request(raw, None, None)
    assert info.value.status == 400
    assert info.value.code == 20001
    assert "PageSize" in info.value.message


@pytest.mark.parametrize("raw", ["-1", "abc", "", "2.0", str(MAX_PAGE + 1), str(10**25)])
def test_bad_page_is_invalid_parameter(raw: str) -> None:
    with pytest.raises(InvalidParameter) as info:
        parse_page_request(None, raw, None)
    assert info.value.status == 400
    assert info.value.code == 20001
    assert "Page" in info.value.message


def test_largest_page_number_is_accepted() -> None:
    assert parse_page_request(None, str(MAX_PAGE), None).page == MAX_PAGE
