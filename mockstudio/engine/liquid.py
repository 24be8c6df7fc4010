"""Liquid configured like Studio's, on python-liquid
(https://www.twilio.com/docs/studio/user-guide/liquid-template-language).

- undefined paths render empty (the default lenient `Undefined`, never strict);
- objects and arrays render as JSON, so `{{flow.data}}` passes a whole object along;
- `json` and `to_json` filters, which render a missing value as `null` (as Shopify's
  `json` renders nil), so `{"memory": {{widgets.x.memory | to_json}}}` stays valid JSON;
  unknown filters are ignored rather than fatal;
- `date` uses Studio's time zone (America/Los_Angeles) and the injected clock for "now";
- loops are limited to 15 iterations (a template that exceeds it renders empty);
- what one render may produce or assign is limited (limits.MAX_RENDERED): a template
  that would exceed it, or fails to render in any other way, renders empty: its renderer
  raises `RenderFailed` so the widget can record why (`render_text` returns "");
- a template that does not parse renders as its literal text (real flows contain such
  typos, e.g. an unterminated `{{flow.variables.x`), and each source is parsed once.
"""

from __future__ import annotations

import datetime as dt
import functools
import inspect
import json
import logging
import re
import time
import weakref
from collections.abc import Callable, Iterable
from typing import Any, ClassVar, TextIO

from dateutil import parser as date_parser
from liquid import Environment, soft_str
from liquid.builtin.filters.array import join as _liquid_join
from liquid.builtin.filters.string import replace as _liquid_replace
from liquid.builtin.output import Output, OutputNode
from liquid.exceptions import (
    LiquidError,
    LocalNamespaceLimitError,
    LoopIterationLimitError,
    OutputStreamLimitError,
)
from liquid.filter import liquid_filter, with_environment
from liquid.undefined import is_undefined

from .limits import MAX_RENDERED, RenderFailed
from .text import STUDIO_TIME_ZONE, to_text

__all__ = ["STUDIO_TIME_ZONE", "StudioLiquid", "to_text"]

log = logging.getLogger("mockstudio.liquid")

_CACHE_LIMIT = 8192


def _too_long() -> RenderFailed:
    return RenderFailed(f"Liquid output limit reached (more than {MAX_RENDERED} characters)")


def _failure(exc: LiquidError) -> RenderFailed:
    if isinstance(exc, OutputStreamLimitError):
        return _too_long()
    if isinstance(exc, LocalNamespaceLimitError):
        return RenderFailed(f"Liquid variable limit reached (assigned values over {MAX_RENDERED} bytes)")
    if isinstance(exc, LoopIterationLimitError):
        return RenderFailed(f"Liquid loop limit reached (more than {StudioLiquid.loop_iteration_limit} iterations)")
    return RenderFailed(f"Liquid render error: {exc.message}")


@functools.lru_cache(maxsize=10)
def _to_date(value: object) -> dt.datetime | None:
    """What python-liquid's `date` filter reads as a date (its parser is private to it, so
    this is the same rules on the same library, dateutil): a datetime, a date, a string of
    digits (seconds since the epoch), any string dateutil parses, an int; otherwise None."""
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time.min)
    if isinstance(value, str):
        if value.isdigit():
            return dt.datetime.fromtimestamp(int(value))
        try:
            return date_parser.parse(value)
        except date_parser.ParserError:
            return None
    if isinstance(value, int):
        try:
            return dt.datetime.fromtimestamp(value)
        except (OverflowError, OSError):
            return None
    return None


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


# Outputs of the shape `{{ root.a.b | filter: 'x', 1 | ... }}`, with one of Studio's roots:
# by far the most common templates in real flows, and rendered without python-liquid's
# parser and render machinery (ten times faster), calling its own filter functions.
_OUTPUT = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_ROOT_PATH = re.compile(r"(?:flow|contact|trigger|widgets)(?:\.[A-Za-z0-9_-]+)*")
_FILTER_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_INTEGER = re.compile(r"-?\d+")
_FLOAT = re.compile(r"-?\d+\.\d+")
_QUOTED = re.compile(r"'[^'|,{}:]*'|\"[^\"|,{}:]*\"")
_LITERALS: dict[str, Any] = {"true": True, "false": False, "nil": None, "null": None}
_FALLBACK = object()
_LIST_PROPERTIES = frozenset({"size", "first", "last"})


class _Path:
    __slots__ = ("segments",)

    def __init__(self, text: str) -> None:
        self.segments = text.split(".")


# A filter: its function, its arguments, and whether any argument is a path to resolve.
_Filter = tuple[Callable[..., Any], tuple[Any, ...], bool]


class _Output:
    __slots__ = ("filters", "path")

    def __init__(self, path: _Path, filters: list[_Filter]) -> None:
        self.path = path
        self.filters = filters


class _FastTemplate:
    """Text and simple outputs, rendered by dictionary lookups and python-liquid's own filter
    functions. Anything Liquid would treat specially (a `size`/`first`/`last` that is not a
    key, a path through an array or a string, a filter that raises) falls back to
    python-liquid, so the output is identical (tests compare the two)."""

    __slots__ = ("env", "parts")

    def __init__(self, env: Environment, parts: list[str | _Output]) -> None:
        self.env = env
        self.parts: list[Any] = parts  # (Any: render tells them apart by type(), not isinstance)

    @classmethod
    def compile(cls, env: Environment, source: str) -> _FastTemplate | None:
        if "{%" in source or "{{-" in source or "-}}" in source:
            return None
        pieces = _OUTPUT.split(source)
        parts: list[str | _Output] = []
        for index, piece in enumerate(pieces):
            if index % 2:
                output = _parse_output(env, piece)
                if output is None:
                    return None
                parts.append(output)
            elif "{{" in piece:
                return None
            elif piece:
                parts.append(piece)
        return cls(env, parts)

    def resolve(self, path: _Path, context: dict[str, Any]) -> Any:
        """The value at `path`: Liquid's undefined where a key is missing, _FALLBACK where
        python-liquid must decide (a `size`/`first`/`last` that is not a key, or a path
        through an array or a string, which have Liquid properties)."""
        value: Any = context
        for segment in path.segments:
            if type(value) is dict:  # exact dicts: contexts are built from JSON and our own dicts
                if segment in value:
                    value = value[segment]
                    continue
                if segment in _LIST_PROPERTIES:
                    return _FALLBACK
                return self.env.undefined(segment)
            if value is None or is_undefined(value):
                return self.env.undefined(segment)
            return _FALLBACK
        return value

    def render(self, context: dict[str, Any]) -> Any:
        """The text, or _FALLBACK when python-liquid must decide."""
        resolve = self.resolve
        out = []
        for part in self.parts:
            if type(part) is str:
                out.append(part)
                continue
            value = resolve(part.path, context)
            if value is _FALLBACK:
                return _FALLBACK
            for func, args, has_paths in part.filters:
                if has_paths:
                    args = tuple(resolve(arg, context) if type(arg) is _Path else arg for arg in args)
                    if any(arg is _FALLBACK for arg in args):
                        return _FALLBACK
                try:
                    value = func(value, *args)
                except Exception:  # python-liquid's own error handling decides (a limit: raises again)
                    return _FALLBACK
            out.append(value if type(value) is str else to_text(value))
        text = "".join(out)
        if len(text) > MAX_RENDERED:  # (each value is bounded, but their sum and filters' results are not)
            raise _too_long()
        return text

    def lone_path(self) -> _Path | None:
        """The path of a template that is `{{ a.b.c }}` alone (from, to, split inputs...)."""
        if len(self.parts) == 1:
            part = self.parts[0]
            if type(part) is _Output and not part.filters:
                return part.path
        return None


def _parse_output(env: Environment, inner: str) -> _Output | None:
    head, *filter_texts = inner.split("|")
    head = head.strip()
    if not _ROOT_PATH.fullmatch(head):
        return None
    filters: list[_Filter] = []
    for text in filter_texts:
        name, colon, arg_text = text.partition(":")
        name = name.strip()
        func = env.filters.get(name) if _FILTER_NAME.fullmatch(name) else None
        if func is None or getattr(func, "with_context", False) or getattr(func, "with_environment", False):
            return None
        args: list[Any] = []
        if colon:
            for raw in arg_text.split(","):
                arg = _parse_argument(raw.strip())
                if arg is _FALLBACK:
                    return None
                args.append(arg)
        filters.append((func, tuple(args), any(type(arg) is _Path for arg in args)))
    return _Output(_Path(head), filters)


def _parse_argument(text: str) -> Any:
    if _QUOTED.fullmatch(text):
        return text[1:-1]
    if _INTEGER.fullmatch(text):
        return int(text)
    if _FLOAT.fullmatch(text):
        return float(text)
    if text in _LITERALS:
        return _LITERALS[text]
    if _ROOT_PATH.fullmatch(text):
        return _Path(text)
    return _FALLBACK


def _json_filter() -> Callable[..., str]:
    @liquid_filter
    def to_json(obj: object, indent: object = None) -> str:
        if is_undefined(obj):
            obj = None
        width = int(str(indent)) if indent not in (None, "") and str(indent).isdigit() else None
        return json.dumps(obj, indent=width, default=str)

    return to_json


def _bounded_replace() -> Callable[..., str]:
    """`replace`, refusing a result over MAX_RENDERED before making it: it multiplies
    (`{{ s | replace: "", s }}` is len(s) squared), so the output limit, which python-liquid
    checks when the result is written, would come too late."""

    def replace(val: object, seq: object = "", sub: object = "") -> str:
        text, old, new = soft_str(val), soft_str(seq), soft_str(sub)
        if len(new) > len(old) and len(text) + text.count(old) * (len(new) - len(old)) > MAX_RENDERED:
            raise OutputStreamLimitError("output stream limit reached", token=None)
        result: str = _liquid_replace(val, seq, sub)
        return result

    return replace


def _bounded_join() -> Callable[..., str]:
    """`join`, refusing a result over MAX_RENDERED before making it: its separator repeats
    once per item (`{{ s | split: "" | join: s }}` is len(s) squared)."""

    @with_environment
    def join(left: object, separator: object = " ", *, environment: Environment) -> str:
        if isinstance(left, list | tuple) and (len(left) - 1) * len(soft_str(separator)) > MAX_RENDERED:
            raise OutputStreamLimitError("output stream limit reached", token=None)
        result: str = _liquid_join(left, separator, environment=environment)
        return result

    return join


def _held_weakly(now: Callable[[], float]) -> Callable[[], float]:
    """`now`, without keeping its object alive. python-liquid caches a parser per
    environment (`functools.lru_cache`, 128 entries), and so keeps environments alive after
    their engine is gone; a strong reference to the clock would keep the whole Studio (every
    execution) alive too, and each garbage collection would walk it."""
    if not inspect.ismethod(now):
        return now
    method = weakref.WeakMethod(now)

    def current() -> float:
        bound = method()
        return bound() if bound is not None else time.time()  # only once the engine is gone

    return current


class StudioLiquid(Environment):
    """One per engine. `now` gives the current time (the engine's clock)."""

    loop_iteration_limit: ClassVar[int | None] = 15  # Studio's (nested loops multiply)
    # What no real flow reaches (limits.MAX_RENDERED); a breach renders the template empty.
    output_stream_limit: ClassVar[int | None] = MAX_RENDERED
    local_namespace_limit: ClassVar[int | None] = MAX_RENDERED
    # Studio's Liquid has no `include`/`render` (flows have no template files): nothing
    # nests contexts deeper than a few levels.
    context_depth_limit: ClassVar[int] = 10

    def __init__(self, now: Callable[[], float], *, fast: bool = True) -> None:
        # Environment.__init__ sets `strict_filters` on the instance (default True), so a
        # class attribute would not take: pass it.
        super().__init__(strict_filters=False)
        self._now = _held_weakly(now)
        self.fast = fast  # False: python-liquid renders everything (the fast path's tests)
        self._templates: dict[str, Any] = {}
        self._renderers: dict[str, Callable[[dict[str, Any]], str]] = {}
        self.add_tag(_StudioOutput)
        to_json = _json_filter()
        self.add_filter("json", to_json)
        self.add_filter("to_json", to_json)
        self.add_filter("date", self._date_filter())
        self.add_filter("replace", _bounded_replace())
        self.add_filter("join", _bounded_join())

    def _date_filter(self) -> Callable[..., str]:
        @liquid_filter
        def date(value: object, fmt: object = None) -> str:
            if value is None or is_undefined(value):  # nil renders empty, as in Shopify's Liquid
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

    def render_text(self, source: str, context: dict[str, Any], failed: Callable[[str], None] | None = None) -> str:
        """`source` rendered; empty if it fails to render (`failed` is told why)."""
        if "{" not in source:  # the common case for plain text: no parse, no render
            return source
        renderer = self._renderers.get(source)
        if renderer is None:
            renderer = self.renderer(source)
        try:
            return renderer(context)
        except RenderFailed as exc:
            if failed is not None:
                failed(exc.reason)
            return ""

    def renderer(self, source: str) -> Callable[[dict[str, Any]], str]:
        """The function rendering `source` with a context (made once per template). It
        raises RenderFailed for a template that fails to render (which renders empty)."""
        renderer = self._renderers.get(source)
        if renderer is None:
            if len(self._renderers) >= _CACHE_LIMIT:
                self._renderers.clear()
            renderer = self._renderers[source] = self._compile(source)
        return renderer

    def _compile(self, source: str) -> Callable[[dict[str, Any]], str]:
        """A function rendering `source`, made once per template: the fast path's closure
        when `_FastTemplate` takes it (with python-liquid as its fallback), else
        python-liquid's parsed template."""
        template = self.template(source)
        if isinstance(template, _Literal):
            return lambda _: source

        def slow(context: dict[str, Any]) -> str:
            try:
                rendered: str = template.render(**context)
            except LiquidError as exc:
                log.info("Liquid template failed to render (%s); rendering it empty", exc.message)
                raise _failure(exc) from None
            return rendered

        # Only sources python-liquid itself parses (its grammar decides, e.g. keywords).
        fast = _FastTemplate.compile(self, source) if self.fast else None
        if fast is None:
            return slow
        path = fast.lone_path()
        if path is not None:
            resolve = fast.resolve

            def lone(context: dict[str, Any]) -> str:
                # `{{ a.b.c }}` alone, the commonest template: its value's text, nothing to join.
                value = resolve(path, context)
                if value is _FALLBACK:
                    return slow(context)
                return value if type(value) is str else to_text(value)  # (undefined: "")

            return lone

        def general(context: dict[str, Any]) -> str:
            rendered = fast.render(context)
            return slow(context) if rendered is _FALLBACK else str(rendered)

        return general

    def render_value(self, value: Any, context: dict[str, Any]) -> Any:
        """Render every string inside `value` (objects and arrays recursively)."""
        if isinstance(value, str):
            return self.render_text(value, context)
        if isinstance(value, dict):
            return {k: self.render_value(v, context) for k, v in value.items()}
        if isinstance(value, list):
            return [self.render_value(v, context) for v in value]
        return value

    def render_pairs(
        self, pairs: Iterable[Any], context: dict[str, Any], failed: Callable[[str], None] | None = None
    ) -> list[tuple[str, str]]:
        """`[{key, value}]` property lists (parameters, variables) rendered to pairs."""
        out = []
        for pair in pairs or ():
            if isinstance(pair, dict) and "key" in pair:
                out.append((str(pair["key"]), self.render_text(to_text(pair.get("value", "")), context, failed)))
        return out
