"""Studio's stringification of values, and its time zone: shared by the Liquid layer and
the widgets without importing python-liquid (which loads only when a flow first renders)."""

from __future__ import annotations

import json
from typing import Any
from zoneinfo import ZoneInfo

__all__ = ["STUDIO_TIME_ZONE", "to_text"]

STUDIO_TIME_ZONE = ZoneInfo("America/Los_Angeles")  # Studio's Liquid dates are Pacific time


_CONTAINERS = (dict, list, tuple)  # (a tuple: `dict | list | tuple` would be built per call)


def to_text(value: Any) -> str:
    """Studio's stringification of an output value: JSON for objects and arrays; nil and
    Liquid's undefined (whose str() is empty) render empty."""
    kind = type(value)
    if kind is str:
        return value  # type: ignore[no-any-return]
    if kind is int or kind is float:  # (not bool: its type is bool)
        return str(value)
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, _CONTAINERS):
        return json.dumps(value, separators=(",", ":"), default=str)
    if isinstance(value, range):
        return f"{value.start}..{value.stop - 1}"
    return str(value)
