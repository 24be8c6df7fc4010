"""`set-variables`: renders each `{key, value}` and writes it to `flow.variables` (and
under the widget's name). Console exports give each item a `type`: `"json_object"` (the
"Parse as JSON object" option) parses the rendered value as JSON, `"string"` keeps the text
as rendered. An item without a type (older exports, hand-written flows) keeps the text too,
except a canonical number ("numeric if you do not enclose it in quotation marks"), which
becomes a number: see `typed`."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..definition import State
from ..outcomes import Outcome
from ..text import to_text
from .base import Widget, WidgetRun

if TYPE_CHECKING:
    from ..liquid import StudioLiquid

__all__ = ["JSON", "STRING", "SetVariables", "item_kind", "typed"]

# A number written as JSON would write it back: no leading zero, sign or spaces, no trailing
# zero after the point, so turning it into a number and rendering it again loses nothing
# ("19.90", " 1 " and "007" stay text). Integers stop at 15 digits (JSON numbers beyond
# 2**53 lose digits in JavaScript; tax IDs, account numbers and the like stay text).
_NUMBER = re.compile(r"-?(0|[1-9]\d{0,14})(\.\d*[1-9])?")

JSON = "json_object"
STRING = "string"
UNTYPED = ""


def item_kind(item: dict[str, Any]) -> str:
    """How a `{key, value, type}` item's rendered value is typed: JSON for the Console's
    `json_object` (and the older `parse_as_json: true` and `"json"` spellings), STRING for
    `"string"`, UNTYPED when the item says nothing."""
    kind = item.get("type")
    if kind in (JSON, "json") or item.get("parse_as_json") is True:
        return JSON
    if kind == STRING:
        return STRING
    return UNTYPED


def typed(value: str, kind: str = UNTYPED) -> Any:
    """The value a rendered item holds: parsed JSON (the text itself when it is not JSON),
    the text, or for an untyped item a canonical number as a number."""
    if kind == JSON:
        try:
            return json.loads(value)
        except ValueError:
            return value
    if kind == UNTYPED and _NUMBER.fullmatch(value):
        return float(value) if "." in value else int(value)
    return value


# One `{key, value}` as compiled: key, the value's renderer (None for plain text), the
# value itself for plain text (typed once unless JSON), its kind, and whether the template
# names `variables` (then it must see the ones set earlier in the same widget).
_Item = tuple[str, Callable[[dict[str, Any]], str] | None, Any, str, bool]


def _compile(state: State, liquid: StudioLiquid) -> tuple[_Item, ...]:
    items: list[_Item] = []
    for item in state.properties.get("variables") or []:
        if not isinstance(item, dict) or "key" not in item:
            continue
        source = to_text(item.get("value", ""))
        kind = item_kind(item)
        if "{" in source:
            items.append((str(item["key"]), liquid.renderer(source), None, kind, "variables" in source))
        else:  # parsed JSON is made anew per run: it may be a mutable object
            items.append((str(item["key"]), None, source if kind == JSON else typed(source, kind), kind, False))
    return tuple(items)


class SetVariables(Widget):
    type = "set-variables"

    def run(self, turn: WidgetRun) -> Outcome:
        variables: dict[str, Any] = {}
        context: dict[str, Any] | None = None
        for key, renderer, constant, kind, sees_earlier in turn.compiled("#variables", _compile):
            if renderer is None:
                variables[key] = typed(constant, JSON) if kind == JSON else constant
                continue
            if context is None:
                context = turn.context
            if sees_earlier and variables:
                # Later variables of the same widget see the earlier ones. The run's context
                # is its own (runner.RunState): the runner sets `flow.variables` to the new
                # layer when this step ends.
                flow = context["flow"]
                flow["variables"] = {**flow["variables"], **variables}
            variables[key] = typed(turn.rendered(renderer), kind)
        return Outcome("next", variables, variables)  # one dict: both layers are read-only
