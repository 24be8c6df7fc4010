"""Newest-first paging over sorted indexes, as Twilio pages its list resources
(https://www.twilio.com/docs/usage/twilios-response#pagination).

Pure: no HTTP. An index keeps integer sort keys ascending (older first) in an array beside
the items, so a page is found by bisection and slicing: O(log n + page size), never a scan.

Page tokens follow Twilio's visible convention (`PA…` for the next page, `PB…` for the
previous one) but carry the boundary item's sort key rather than its SID, so a page
resumes correctly even if that item was deleted meanwhile, plus a checksum of the filters
the token was issued with: a token replayed with other filters is rejected (21481).
"""

from __future__ import annotations

import zlib
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from ..errors import InvalidPageToken, InvalidParameter

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "MAX_PAGE",
    "MAX_PAGE_SIZE",
    "Page",
    "PageRequest",
    "SortedIndex",
    "parse_page_request",
]

T = TypeVar("T")

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
# `Page` is echoed into `meta.page` (and `Page+1` into `next_page_url`); an unbounded value
# overflows the JSON encoder's 64-bit integers, so larger values are a 400 like negative ones.
MAX_PAGE = 2**31 - 1
_NEXT = "PA"
_PREVIOUS = "PB"


@dataclass(frozen=True, slots=True)
class PageRequest:
    page_size: int = DEFAULT_PAGE_SIZE
    page: int = 0
    token: str | None = None


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    request: PageRequest
    next_token: str | None
    previous_token: str | None


def _parse_int(name: str, raw: str) -> int:
    try:
        return int(raw.strip())
    except ValueError:
        raise InvalidParameter(f"Invalid {name}: {raw!r} is not an integer") from None


def parse_page_request(page_size: str | None, page: str | None, token: str | None) -> PageRequest:
    """Validate the raw `PageSize`, `Page` and `PageToken` query values.

    `PageSize` above 1000 is clamped rather than rejected: twilio-python sends `list(limit=N)`
    as `PageSize=N` with no cap since it removed its own coercion, which only works
    against a server that clamps. Below 1 is a 400 (chosen: Twilio does not document it)."""
    size = DEFAULT_PAGE_SIZE
    if page_size is not None:
        size = _parse_int("PageSize", page_size)
        if size < 1:
            raise InvalidParameter("Invalid PageSize: it must be between 1 and 1000")
        size = min(size, MAX_PAGE_SIZE)
    number = 0
    if page is not None:
        number = _parse_int("Page", page)
        if number < 0 or number > MAX_PAGE:
            raise InvalidParameter(f"Invalid Page: it must be between 0 and {MAX_PAGE}")
    return PageRequest(size, number, token or None)


def _checksum(filters: str) -> str:
    return f"{zlib.crc32(filters.encode()):08x}"


def _encode_token(direction: str, key: int, filters: str) -> str:
    return f"{direction}{key:x}-{_checksum(filters)}"


def _decode_token(token: str, filters: str) -> tuple[str, int]:
    direction, body = token[:2], token[2:]
    key_hex, _, checksum = body.partition("-")
    if direction not in (_NEXT, _PREVIOUS) or checksum != _checksum(filters) or not key_hex:
        raise InvalidPageToken()
    try:
        key = int(key_hex, 16)
    except ValueError:
        raise InvalidPageToken() from None
    if key < 0 or len(key_hex) > 32:
        raise InvalidPageToken()
    return direction, key


def _without(array: list[Any], positions: list[int]) -> list[Any]:
    """`array` without the items at these ascending positions (slices copied at C speed)."""
    kept: list[Any] = []
    start = 0
    for at in positions:
        kept += array[start:at]
        start = at + 1
    kept += array[start:]
    return kept


class SortedIndex(Generic[T]):
    """Items ordered by a unique integer key, listed newest (largest key) first.

    With `key` (a function reading an item's key, e.g. `attrgetter("key")`), only the items
    are stored and bisection reads keys through it: one array instead of two, which matters
    for the many small indexes (one per execution's steps). Without it, keys are kept in a
    parallel array."""

    __slots__ = ("_items", "_key", "_keys")

    def __init__(self, key: Callable[[T], int] | None = None) -> None:
        self._key = key
        self._keys: list[int] | None = None if key is not None else []
        self._items: list[T] = []

    def __len__(self) -> int:
        return len(self._items)

    def _key_at(self, index: int) -> int:
        if self._keys is not None:
            return self._keys[index]
        assert self._key is not None
        return self._key(self._items[index])

    def _left(self, key: int) -> int:
        if self._keys is not None:
            return bisect_left(self._keys, key)
        return bisect_left(self._items, key, key=self._key)  # type: ignore[arg-type,type-var]  # typeshed: key needs T

    def _right(self, key: int) -> int:
        if self._keys is not None:
            return bisect_right(self._keys, key)
        return bisect_right(self._items, key, key=self._key)  # type: ignore[arg-type,type-var]  # typeshed: key needs T

    def add(self, key: int, item: T) -> None:
        items, keys = self._items, self._keys
        if not items or key > (keys[-1] if keys is not None else self._key(items[-1])):  # type: ignore[misc]
            # The common case, time moving forward: append (one per step of every flow run).
            if keys is not None:
                keys.append(key)
            items.append(item)
            return
        at = self._left(key)
        if self._keys is not None:
            self._keys.insert(at, key)
        self._items.insert(at, item)

    def remove(self, key: int) -> None:
        at = self._left(key)
        if at < len(self._items) and self._key_at(at) == key:
            if self._keys is not None:
                del self._keys[at]
            del self._items[at]

    def remove_many(self, keys: Iterable[int]) -> None:
        """Remove the items with these keys (absent ones are ignored) with one pass over
        the array, whatever their number: O(k log n) to find them, then a single slice
        deletion when they are the oldest items (the common case for retention caps), or
        one copy of the survivors otherwise."""
        size = len(self._items)
        found = sorted({at for key in keys if (at := self._left(key)) < size and self._key_at(at) == key})
        if not found:
            return
        count = len(found)
        if found[-1] == count - 1:  # a prefix
            del self._items[:count]
            if self._keys is not None:
                del self._keys[:count]
            return
        self._items = _without(self._items, found)
        if self._keys is not None:
            self._keys = _without(self._keys, found)

    def clear(self) -> None:
        if self._keys is not None:
            self._keys.clear()
        self._items.clear()

    def newest_first(self) -> Iterator[T]:
        return reversed(self._items)

    def newest(self) -> T | None:
        return self._items[-1] if self._items else None

    def page(
        self,
        request: PageRequest,
        *,
        key_from: int | None = None,
        key_to: int | None = None,
        filters: str = "",
    ) -> Page[T]:
        """One page, newest first, of the items with `key_from <= key < key_to`.

        Without a token, `Page` selects the window by offset (O(1) on the array); with one,
        the window starts just past the boundary key it carries."""
        lo = 0 if key_from is None else self._left(key_from)
        hi = len(self._items) if key_to is None else self._left(key_to)
        size = request.page_size
        if request.token is None:
            end = max(lo, hi - request.page * size)
            start = max(lo, end - size)
        else:
            direction, key = _decode_token(request.token, filters)
            if direction == _NEXT:
                end = max(lo, min(hi, self._left(key)))
                start = max(lo, end - size)
            else:
                start = min(hi, max(lo, self._right(key)))
                end = min(hi, start + size)
        items = self._items[start:end]
        items.reverse()
        next_token = _encode_token(_NEXT, self._key_at(start), filters) if start > lo else None
        previous_token = None
        if request.page > 0 and end > start:
            previous_token = _encode_token(_PREVIOUS, self._key_at(end - 1), filters)
        return Page(items, request, next_token, previous_token)
