"""JSON text from outside (request fields, request bodies, HTTP responses of widgets),
parsed with a nesting limit. Everything parsed here may be rendered back as JSON later, and
orjson refuses to encode more than 255 levels: a value nested deeper would be accepted now
and make every later read of it fail. One limit, applied where the text is parsed."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson

__all__ = ["MAX_DEPTH", "JSONDecodeError", "NotAnObject", "TooDeep", "loads", "loads_object"]

MAX_DEPTH = 100
JSONDecodeError = orjson.JSONDecodeError


class TooDeep(ValueError):
    def __init__(self) -> None:
        super().__init__(f"the JSON value is nested more than {MAX_DEPTH} levels deep")


def loads(text: str | bytes) -> Any:
    """orjson.loads, raising TooDeep for a value nested more than MAX_DEPTH levels."""
    value = orjson.loads(text)
    # Nesting needs brackets, so only a text with many of them can be too deep.
    brackets = text.count("{") + text.count("[") if isinstance(text, str) else text.count(b"{") + text.count(b"[")
    if brackets > MAX_DEPTH and _nested_deeper_than(value, MAX_DEPTH):
        raise TooDeep()
    return value


class NotAnObject(ValueError):
    """Text that had to hold a JSON object does not; the message says why, in words a 400
    can carry after its own prefix ("Invalid Parameters: ...")."""


def loads_object(text: str | bytes) -> dict[str, Any]:
    """`loads` for text that must hold a JSON object (Parameters, control-plane bodies)."""
    try:
        value = loads(text)
    except JSONDecodeError:
        raise NotAnObject("the value is not valid JSON") from None
    except TooDeep as exc:
        raise NotAnObject(str(exc)) from None
    if not isinstance(value, dict):
        raise NotAnObject("the JSON value must be an object")
    return value


def _nested_deeper_than(value: Any, limit: int) -> bool:
    """Whether objects/arrays nest more than `limit` levels (the top-level value is 1)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: Iterable[Any] = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False
