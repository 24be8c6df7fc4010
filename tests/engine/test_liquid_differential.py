"""The Liquid fast path (engine/liquid.py `_FastTemplate`) against python-liquid itself, on
generated templates: paths through dicts, lists, strings, nulls and missing keys (with
Liquid's `size`/`first`/`last`), chains of filters with literal and path arguments, and the
text around them. Both environments must render every template identically; the fast one
hands anything it does not take to python-liquid, so a difference is a fast-path bug."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockstudio.engine.liquid import StudioLiquid

CONTEXT: dict[str, Any] = {
    "flow": {
        "data": {
            "name": "Zeke",
            "blank": "",
            "spaced": "  x  ",
            "items": [1, 2, 3],
            "words": ["b", "a"],
            "none": None,
            "yes": True,
            "no": False,
            "zero": 0,
            "n": 41,
            "f": 2.5,
            "text_n": "7",
            "nested": {"k": [1, {"deep": "v"}], "size": 9},
            "first": "a key named first",
        },
        "variables": {"attempt": 1, "greeting": "Hi", "list": []},
        "channel": {"address": "+15550000000"},
    },
    "contact": {"channel": {"address": "+15551234567"}},
    "trigger": {"request": {"parameters": {"x": "1"}}},
    "widgets": {"http-1": {"parsed": {"ok": True, "count": 3}, "body": "{}"}},
}

_SEGMENTS = [
    "data", "variables", "channel", "address", "name", "blank", "spaced", "items", "words", "none", "yes",
    "no", "zero", "n", "f", "text_n", "nested", "k", "deep", "size", "first", "last", "missing", "attempt",
    "greeting", "list", "request", "parameters", "x", "http-1", "parsed", "ok", "count", "body",
]  # fmt: skip
_ROOTS = ["flow", "contact", "trigger", "widgets"]
_FILTERS = [
    "default", "upcase", "downcase", "capitalize", "plus", "minus", "times", "divided_by", "modulo", "round",
    "append", "prepend", "size", "join", "first", "last", "json", "to_json", "replace", "remove", "truncate",
    "split", "strip", "date", "abs", "ceil", "floor", "nosuchfilter", "escape", "url_encode", "slice",
]  # fmt: skip

paths = st.builds(
    lambda root, segments: ".".join([root, *segments]),
    st.sampled_from(_ROOTS),
    st.lists(st.sampled_from(_SEGMENTS), min_size=0, max_size=4),
)
literals = st.one_of(
    st.sampled_from(["'x'", '"y"', "'e'", "''", "', '", "1", "0", "-2", "2.5", "true", "false", "nil", "'%Y'"]),
    paths,
)
filters = st.builds(
    lambda name, args: name + (": " + ", ".join(args) if args else ""),
    st.sampled_from(_FILTERS),
    st.lists(literals, min_size=0, max_size=2),
)
outputs = st.builds(
    lambda path, chain, pad: "{{" + pad + " | ".join([path, *chain]) + pad + "}}",
    paths,
    st.lists(filters, min_size=0, max_size=3),
    st.sampled_from(["", " "]),
)
texts = st.sampled_from(["", "Hi ", ", ", " of 2", "x", "{", "}", "|", "{ }"])
templates = st.lists(st.one_of(outputs, texts), min_size=1, max_size=4).map("".join)

FAST = StudioLiquid(lambda: 1_700_000_000.0)
SLOW = StudioLiquid(lambda: 1_700_000_000.0, fast=False)


@settings(
    max_examples=400,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(templates)
def test_the_fast_path_renders_as_python_liquid(template: str) -> None:
    assert FAST.render_text(template, CONTEXT) == SLOW.render_text(template, CONTEXT), template
