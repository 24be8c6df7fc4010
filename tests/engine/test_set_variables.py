"""set-variables: values rendered with Liquid into flow.variables (and widgets.<name>),
typed as numbers when they look like one, later variables seeing earlier ones, and the
counter-loop pattern of real flows (studio-flows.md §2.1, example #9)."""

from __future__ import annotations

from typing import Any

import pytest

from .support import START, Harness, condition, rest_flow, say, split, widget

COUNTER = "{%- if flow.variables.count -%}{{flow.variables.count | plus: 1}}{%- else -%}0{%- endif -%}"


def _vars(name: str, pairs: list[dict[str, Any]], next_: str | None = None) -> dict[str, Any]:
    return widget(name, "set-variables", {"next": next_}, variables=pairs)


async def test_variables_go_to_flow_variables_and_the_widget() -> None:
    flow = rest_flow(
        "set",
        _vars(
            "set",
            [
                {"key": "name", "value": "{{flow.data.first}} {{flow.data.last}}"},
                {"key": "endpoint", "value": "https://example.com/inbound"},
            ],
            "hello",
        ),
        say("hello", "Hi {{flow.variables.name}} ({{widgets.set.endpoint}})"),
    )
    h = Harness(flow)
    execution = await h.start({"first": "Ada", "last": "Lovelace"})
    assert h.steps(execution)[1] == ("next", "set", "hello")
    assert h.variables(execution) == {"name": "Ada Lovelace", "endpoint": "https://example.com/inbound"}
    assert h.widgets(execution)["set"] == {"name": "Ada Lovelace", "endpoint": "https://example.com/inbound"}
    assert h.context(execution)["flow"]["variables"]["name"] == "Ada Lovelace"
    assert h.messages() == [("outbound", "Hi Ada Lovelace (https://example.com/inbound)")]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("42", 42),
        ("-7", -7),
        ("0", 0),
        ("3.5", 3.5),
        (" 42 ", " 42 "),  # not as JSON would write it: the text, unchanged
        ("19.90", "19.90"),  # a price keeps its trailing zero
        ("12345678901234", 12345678901234),
        ("1234567890123456", "1234567890123456"),  # past 15 digits a number would lose digits
        ("007", "007"),  # a leading zero keeps it text (codes, zip codes)
        ("+15551234567", "+15551234567"),  # phone numbers stay text
        ("1e3", "1e3"),
        ("1,000", "1,000"),
        ("12abc", "12abc"),
        ("", ""),
        ("true", "true"),
    ],
)
async def test_untyped_values_written_as_numbers_become_numbers(raw: str, expected: Any) -> None:
    h = Harness(rest_flow("set", _vars("set", [{"key": "v", "value": "{{flow.data.v}}"}])))
    execution = await h.start({"v": raw})
    value = h.variables(execution)["v"]
    assert value == expected
    assert type(value) is type(expected)


async def test_later_variables_see_earlier_ones() -> None:
    flow = rest_flow(
        "set",
        _vars(
            "set",
            [
                {"key": "a", "value": "2"},
                {"key": "b", "value": "{{flow.variables.a | plus: 3}}"},
                {"key": "c", "value": "{{flow.variables.a}}-{{flow.variables.b}}"},
            ],
        ),
    )
    h = Harness(flow)
    execution = await h.start()
    assert h.variables(execution) == {"a": 2, "b": 5, "c": "2-5"}


async def test_a_later_widget_overwrites_and_keeps_other_variables() -> None:
    flow = rest_flow(
        "first",
        _vars("first", [{"key": "x", "value": "one"}, {"key": "y", "value": "kept"}], "second"),
        _vars("second", [{"key": "x", "value": "{{flow.variables.x}}+two"}]),
    )
    h = Harness(flow)
    execution = await h.start()
    assert h.variables(execution) == {"x": "one+two", "y": "kept"}
    assert h.widgets(execution)["first"] == {"x": "one", "y": "kept"}
    assert h.widgets(execution)["second"] == {"x": "one+two"}
    # Each step's context is the context as it stood after that step.
    first_step = h.step_objects(execution)[1]
    assert first_step.variables == {"x": "one", "y": "kept"}


async def test_counter_loop_pattern() -> None:
    # Example #9: count, then loop back through a split until the count reaches 3.
    flow = rest_flow(
        "count",
        _vars("count", [{"key": "count", "value": COUNTER}], "check"),
        split(
            "check",
            "{{flow.variables.count}}",
            [("count", [condition("less_than", "3", "{{flow.variables.count}}")])],
            "done",
        ),
        say("done", "counted to {{flow.variables.count}}"),
    )
    h = Harness(flow)
    execution = await h.start()
    assert execution.status == "ended"
    assert h.variables(execution) == {"count": 3}
    assert h.steps(execution) == [
        ("incomingRequest", "Trigger", "count"),
        ("next", "count", "check"),  # 0
        ("match", "check", "count"),
        ("next", "count", "check"),  # 1
        ("match", "check", "count"),
        ("next", "count", "check"),  # 2
        ("match", "check", "count"),
        ("next", "count", "check"),  # 3
        ("noMatch", "check", "done"),
        ("sent", "done", "Ended"),
    ]
    assert h.messages() == [("outbound", "counted to 3")]


async def test_variables_are_per_execution() -> None:
    flow = rest_flow("count", _vars("count", [{"key": "count", "value": COUNTER}]))
    h = Harness(flow)
    first = await h.start(to="+15550000001")
    second = await h.start(to="+15550000002")
    assert h.variables(first) == {"count": 0}
    assert h.variables(second) == {"count": 0}


async def test_one_revision_sets_each_executions_own_values() -> None:
    # Compiled once per revision; values, and later ones seeing earlier ones, per execution.
    flow = rest_flow(
        "set",
        _vars(
            "set",
            [
                {"key": "name", "value": "{{flow.data.name}}"},
                {"key": "greeting", "value": "Hi {{flow.variables.name}}"},
                {"key": "n", "value": "{{flow.data.n | plus: 1}}"},
            ],
        ),
    )
    h = Harness(flow)
    first = await h.start({"name": "Ann", "n": 1}, to="+15550000001")
    second = await h.start({"name": "Bo", "n": 5}, to="+15550000002")
    assert h.variables(first) == {"name": "Ann", "greeting": "Hi Ann", "n": 2}
    assert h.variables(second) == {"name": "Bo", "greeting": "Hi Bo", "n": 6}
    assert h.widgets(first)["set"] == {"name": "Ann", "greeting": "Hi Ann", "n": 2}


async def test_a_json_constant_is_parsed_anew_for_each_execution() -> None:
    # Parsed objects are mutable: executions must not share one.
    flow = rest_flow("set", _vars("set", [{"key": "obj", "value": '{"a": [1]}', "parse_as_json": True}]))
    h = Harness(flow)
    first = await h.start(to="+15550000001")
    second = await h.start(to="+15550000002")
    assert h.variables(first)["obj"] == h.variables(second)["obj"] == {"a": [1]}
    assert h.variables(first)["obj"] is not h.variables(second)["obj"]


async def test_date_now_uses_the_clock_in_studio_time_zone() -> None:
    # START is 2023-11-14T22:13:20Z = 14:13 in Los Angeles.
    flow = rest_flow("set", _vars("set", [{"key": "today", "value": '{{ "now" | date: "%Y-%m-%d %H:%M" }}'}]))
    h = Harness(flow)
    h.clock.set(START)
    execution = await h.start()
    assert h.variables(execution) == {"today": "2023-11-14 14:13"}


async def test_parse_as_json() -> None:
    flow = rest_flow(
        "set",
        _vars(
            "set",
            [
                {"key": "obj", "value": '{"a": [1, 2], "b": "{{flow.data.b}}"}', "parse_as_json": True},
                {"key": "bad", "value": "{not json", "parse_as_json": True},
                {"key": "first", "value": "{{flow.variables.obj.a[0]}}"},
            ],
        ),
    )
    h = Harness(flow)
    execution = await h.start({"b": "bee"})
    assert h.variables(execution) == {"obj": {"a": [1, 2], "b": "bee"}, "bad": "{not json", "first": 1}


async def test_undefined_and_object_values() -> None:
    flow = rest_flow(
        "set",
        _vars(
            "set",
            [
                {"key": "missing", "value": "{{flow.data.nope}}"},
                {"key": "whole", "value": "{{flow.data}}"},
                {"key": "plain", "value": 12},
            ],
        ),
    )
    h = Harness(flow)
    execution = await h.start({"k": "v"})
    assert h.variables(execution) == {"missing": "", "whole": '{"k":"v"}', "plain": 12}


async def test_empty_variable_list_still_takes_next() -> None:
    flow = rest_flow("set", _vars("set", [], "hello"), say("hello", "hi"))
    h = Harness(flow)
    execution = await h.start()
    assert h.steps(execution)[1:] == [("next", "set", "hello"), ("sent", "hello", "Ended")]
    assert h.variables(execution) == {}


# Console exports (2022 on) type every item: what a real export looks like.
@pytest.mark.parametrize("raw", ["19.90", " 1 ", "12345678901234", "42", "true", '{"a": 1}'])
async def test_a_string_item_keeps_the_rendered_text(raw: str) -> None:
    item = {"key": "v", "value": "{{flow.data.v}}", "type": "string"}
    h = Harness(rest_flow("set", _vars("set", [item], "say"), say("say", "[{{flow.variables.v}}]")))
    execution = await h.start({"v": raw})
    assert h.variables(execution)["v"] == raw
    assert h.messages(execution) == [("outbound", f"[{raw}]")]


async def test_a_json_object_item_holds_the_parsed_value() -> None:
    flow = rest_flow(
        "set",
        _vars(
            "set",
            [
                {"key": "customer", "value": "{{flow.data.customer}}", "type": "json_object"},
                {"key": "constant", "value": '{"tier": "gold", "tags": ["a"]}', "type": "json_object"},
                {"key": "broken", "value": "{not json", "type": "json_object"},
                {"key": "older", "value": "[1, 2]", "parse_as_json": True},
            ],
            "say",
        ),
        say("say", "{{flow.variables.customer.name}} {{flow.variables.constant.tier}} {{flow.variables.older.size}}"),
    )
    h = Harness(flow)
    execution = await h.start({"customer": {"name": "Ada", "id": "12345678901234"}})
    variables = h.variables(execution)
    assert variables["customer"] == {"name": "Ada", "id": "12345678901234"}
    assert variables["constant"] == {"tier": "gold", "tags": ["a"]}
    assert variables["broken"] == "{not json"
    assert variables["older"] == [1, 2]
    assert h.messages(execution) == [("outbound", "Ada gold 2")]
