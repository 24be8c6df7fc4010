"""Liquid configured like Studio's (studio-flows.md §4.3, §8), on python-liquid.

- undefined paths render empty (the default lenient `Undefined`, never strict);
- objects and arrays render as JSON, so `{{flow.data}}` passes a whole object along;
- `json` and `to_json` filters; unknown filters are ignored rather than fatal;
- `date` uses Studio's time zone (America/Los_Angeles) and the injected clock for "now";
- loops are limited to 15 iterations (a template that exceeds it renders empty);
- a template that does not parse renders as its literal text (real flows contain such
  typos, e.g. an unterminated `{{flow.variables.x`), and each source is parsed once.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from collections.abc import Callable, Iterable
from typing import Any, ClassVar, TextIO

from liquid import Environment
from liquid.builtin.filters.misc import _to_date
from liquid.builtin.output import Output, OutputNode
from liquid.exceptions import LiquidError
from liquid.filter import liquid_filter
from liquid.undefined import is_undefined

from .text import STUDIO_TIME_ZONE, to_text

__all__ = ["STUDIO_TIME_ZONE", "StudioLiquid", "to_text"]

log = logging.getLogger("mockstudio.liquid")

_CACHE_LIMIT = 8192


class _StudioOutputNode(OutputNode):
    __slots__ = ()

    def render_to_output(self, context: Any, buffer: TextIO) -> int:
        return buffer.write(to_text(self.expression.evaluate(context)))


class _StudioOutput(Output):
    node_class = _StudioOutputNode


class _Literal:
    """Stands in for a template that did not parse: renders its source unchanged."""

    def __init__(self, source: str) -> None:
        self.source = source

    def render(self, **_: Any) -> str:
        return self.source


# `{{ root.a.b }}` with one of Studio's roots and plain segments: by far the most common
# template shape in real flows, and the only one rendered without python-liquid.
_SIMPLE_OUTPUT = re.compile(r"\{\{\s*((?:flow|contact|trigger|widgets)(?:\.[A-Za-z0-9_-]+)*)\s*\}\}")
_FALLBACK = object()
_LIST_PROPERTIES = frozenset({"size", "first", "last"})


class _Substitution:
    """A template made only of text and simple `{{ path }}` outputs, rendered by dictionary
    lookups. Anything Liquid would treat specially (a `size`/`first`/`last` that is not a
    key, or a path through a non-object) falls back to python-liquid, so output is identical."""

    __slots__ = ("parts",)

    def __init__(self, parts: list[str | list[str]]) -> None:
        self.parts = parts

    @classmethod
    def compile(cls, source: str) -> _Substitution | None:
        if "{%" in source or "{{-" in source or "-}}" in source:
            return None
        pieces = _SIMPLE_OUTPUT.split(source)
        parts: list[str | list[str]] = []
        for index, piece in enumerate(pieces):
            if index % 2:
                parts.append(piece.split("."))
            elif "{{" in piece:
                return None  # an output that is not a simple path
            elif piece:
                parts.append(piece)
        return cls(parts)

    def render(self, context: dict[str, Any]) -> Any:
        out = []
        for part in self.parts:
            if isinstance(part, str):
                out.append(part)
                continue
            value: Any = context
            for segment in part:
                if not isinstance(value, dict):
                    if value is None:  # nil.anything is nil: renders empty
                        break
                    return _FALLBACK
                if segment in value:
                    value = value[segment]
                elif segment in _LIST_PROPERTIES:
                    return _FALLBACK
                else:
                    value = None
                    break
            out.append(to_text(value))
        return "".join(out)


def _json_filter() -> Callable[..., str]:
    @liquid_filter
    def to_json(obj: object, indent: object = None) -> str:
        if is_undefined(obj):
            return ""
        width = int(str(indent)) if indent not in (None, "") and str(indent).isdigit() else None
        return json.dumps(obj, indent=width, default=str)

    return to_json


class StudioLiquid(Environment):
    """One per engine. `now` gives the current time (the engine's clock)."""

    loop_iteration_limit: ClassVar[int | None] = 15

    def __init__(self, now: Callable[[], float]) -> None:
        # Environment.__init__ sets `strict_filters` on the instance (default True), so a
        # class attribute would not take: pass it.
        super().__init__(strict_filters=False)
        self._now = now
        self._templates: dict[str, Any] = {}
        self._substitutions: dict[str, _Substitution | None] = {}
        self.add_tag(_StudioOutput)
        to_json = _json_filter()
        self.add_filter("json", to_json)
        self.add_filter("to_json", to_json)
        self.add_filter("date", self._date_filter())

    def _date_filter(self) -> Callable[..., str]:
        @liquid_filter
        def date(value: object, fmt: object = None) -> str:
            if is_undefined(value):
                return ""
            moment: dt.datetime | None
            if value in ("now", "today"):
                moment = dt.datetime.fromtimestamp(self._now(), STUDIO_TIME_ZONE)
            elif isinstance(value, int | float) and not isinstance(value, bool):
                moment = dt.datetime.fromtimestamp(value, STUDIO_TIME_ZONE)
            else:
                moment = _to_date(value)
                if moment is not None and moment.tzinfo is not None:
                    moment = moment.astimezone(STUDIO_TIME_ZONE)
            if moment is None:
                return str(value)
            if fmt is None or is_undefined(fmt):
                return str(value)
            try:
                return moment.strftime(str(fmt))
            except ValueError:
                return str(value)

        return date

    def template(self, source: str) -> Any:
        template = self._templates.get(source)
        if template is None:
            try:
                template = self.from_string(source)
            except LiquidError as exc:
                log.info("Liquid template does not parse, rendering it literally: %s", exc)
                template = _Literal(source)
            if len(self._templates) >= _CACHE_LIMIT:
                self._templates.clear()
            self._templates[source] = template
        return template

    def render_text(self, source: str, context: dict[str, Any]) -> str:
        if "{" not in source:  # the common case for plain text: no parse, no render
            return source
        substitution = self._substitutions.get(source, _FALLBACK)
        if substitution is _FALLBACK:
            if len(self._substitutions) >= _CACHE_LIMIT:
                self._substitutions.clear()
            substitution = self._substitutions[source] = _Substitution.compile(source)
        if substitution is not None:
            assert isinstance(substitution, _Substitution)
            rendered_fast = substitution.render(context)
            if rendered_fast is not _FALLBACK:
                return str(rendered_fast)
        try:
            rendered: str = self.template(source).render(**context)
        except LiquidError as exc:
            log.info("Liquid template failed to render (%s); rendering it empty", exc)
            return ""
        return rendered

    def render_value(self, value: Any, context: dict[str, Any]) -> Any:
        """Render every string inside `value` (objects and arrays recursively)."""
        if isinstance(value, str):
            return self.render_text(value, context)
        if isinstance(value, dict):
            return {k: self.render_value(v, context) for k, v in value.items()}
        if isinstance(value, list):
            return [self.render_value(v, context) for v in value]
        return value

    def render_pairs(self, pairs: Iterable[Any], context: dict[str, Any]) -> list[tuple[str, str]]:
        """`[{key, value}]` property lists (parameters, variables) rendered to pairs."""
        out = []
        for pair in pairs or ():
            if isinstance(pair, dict) and "key" in pair:
                out.append((str(pair["key"]), self.render_text(to_text(pair.get("value", "")), context)))
        return out
