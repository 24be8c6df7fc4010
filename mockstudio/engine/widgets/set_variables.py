"""`set-variables`: renders each `{key, value}` and writes it to `flow.variables` (and
under the widget's name). A value that looks like a number becomes a number ("numeric if
you do not enclose it in quotation marks", studio-flows.md §2.1); the `parse_as_json`
option parses a JSON value."""

from __future__ import annotations

import json
import re
from typing import Any

from ..outcomes import Outcome
from ..text import to_text
from .base import Widget, WidgetRun

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


class SetVariables(Widget):
    type = "set-variables"

    async def run(self, turn: WidgetRun) -> Outcome:
        variables: dict[str, Any] = {}
        context = turn.context
        liquid = turn.engine.liquid
        for item in turn.properties.get("variables") or []:
            if not isinstance(item, dict) or "key" not in item:
                continue
            source = to_text(item.get("value", ""))
            if variables and "variables" in source:
                # Later variables of the same widget see the earlier ones.
                flow = dict(context["flow"])
                flow["variables"] = {**flow["variables"], **variables}
                context = {**context, "flow": flow}
            parse_json = bool(item.get("parse_as_json") or item.get("type") == "json")
            variables[str(item["key"])] = typed(liquid.render_text(source, context), parse_json)
        return Outcome("next", dict(variables), variables)
