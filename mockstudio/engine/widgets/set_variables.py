"""`set-variables`: renders each `{key, value}` and writes it to `flow.variables` (and
under the widget's name). A value that looks like a number becomes a number ("numeric if
you do not enclose it in quotation marks", studio-flows.md §2.1); the `parse_as_json`
option parses a JSON value."""

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

__all__ = ["SetVariables", "typed"]

_NUMBER = re.compile(r"-?(0|[1-9]\d*)(\.\d+)?")


def typed(value: str, parse_json: bool = False) -> Any:
    stripped = value.strip()
    if parse_json:
        try:
            return json.loads(stripped)
        except ValueError:
            return value
    if _NUMBER.fullmatch(stripped):
        return float(stripped) if "." in stripped else int(stripped)
    return value


# One `{key, value}` as compiled: key, the value's renderer (None for plain text), the
# value itself for plain text (typed once), parse_as_json, and whether the template names
# `variables` (then it must see the ones set earlier in the same widget).
_Item = tuple[str, Callable[[dict[str, Any]], str] | None, Any, bool, bool]


def _compile(state: State, liquid: StudioLiquid) -> tuple[_Item, ...]:
    items: list[_Item] = []
    for item in state.properties.get("variables") or []:
        if not isinstance(item, dict) or "key" not in item:
            continue
        source = to_text(item.get("value", ""))
        parse_json = bool(item.get("parse_as_json") or item.get("type") == "json")
        if "{" in source:
            items.append((str(item["key"]), liquid.renderer(source), None, parse_json, "variables" in source))
        else:  # parsed JSON is made anew per run: it may be a mutable object
            items.append((str(item["key"]), None, source if parse_json else typed(source), parse_json, False))
    return tuple(items)


class SetVariables(Widget):
    type = "set-variables"

    def run(self, turn: WidgetRun) -> Outcome:
        variables: dict[str, Any] = {}
        context: dict[str, Any] | None = None
        for key, renderer, constant, parse_json, sees_earlier in turn.compiled("#variables", _compile):
            if renderer is None:
                variables[key] = typed(constant, True) if parse_json else constant
                continue
            if context is None:
                context = turn.context
            if sees_earlier and variables:
                # Later variables of the same widget see the earlier ones. The run's context
                # is its own (runner.RunState): the runner sets `flow.variables` to the new
                # layer when this step ends.
                flow = context["flow"]
                flow["variables"] = {**flow["variables"], **variables}
            variables[key] = typed(turn.rendered(renderer), parse_json)
        return Outcome("next", variables, variables)  # one dict: both layers are read-only
