"""Flow definition validation (Studio's error 81022, studio-flows.md §1.4): every rule
reports a problem with a JSON-pointer-style property_path."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from mockstudio.engine.catalogue import WIDGET_TYPES
from mockstudio.engine.definition import parse_definition

from .support import condition, rest_flow, say, split, widget


def _valid() -> dict[str, Any]:
    return rest_flow(
        "check",
        split("check", "{{flow.data.x}}", [("hello", [condition("equal_to", "a")])], no_match=None),
        say("hello", "Hi"),
    )


def _problems(raw: Any) -> list[tuple[str, str]]:
    parsed, problems = parse_definition(raw)
    if problems:
        assert parsed is None
    return [(p.property_path, p.message) for p in problems]


def _paths(raw: Any) -> list[str]:
    return [path for path, _ in _problems(raw)]


def test_valid_definition_parses() -> None:
    parsed, problems = parse_definition(_valid())
    assert problems == []
    assert parsed is not None
    assert parsed.initial_state == "Trigger"
    assert set(parsed.states) == {"Trigger", "check", "hello"}
    check = parsed.states["check"]
    assert check.type == "split-based-on"
    match = check.transitions[1]
    assert (match.event, match.next, match.conditions[0]["type"]) == ("match", "hello", "equal_to")
    assert check.transition("noMatch") is not None and check.transition("noMatch").next is None  # type: ignore[union-attr]
    assert check.transition("nope") is None


def test_empty_next_ends_like_a_missing_one() -> None:
    raw = _valid()
    raw["states"][0]["transitions"][3]["next"] = ""
    parsed, problems = parse_definition(raw)
    assert problems == [] and parsed is not None
    assert parsed.states["Trigger"].transition("incomingRequest").next is None  # type: ignore[union-attr]


def test_optional_keys() -> None:
    raw = _valid()
    del raw["flags"], raw["description"]
    raw["states"][2]["properties"].pop("offset")
    assert _problems(raw) == []


def _edit(change: Callable[[dict[str, Any]], Any]) -> dict[str, Any]:
    raw = copy.deepcopy(_valid())
    change(raw)
    return raw


RULES: list[tuple[str, Any, list[str]]] = [
    ("not an object", [], ["#"]),
    ("no initial_state", _edit(lambda d: d.pop("initial_state")), ["#/initial_state"]),
    ("empty initial_state", _edit(lambda d: d.update(initial_state="")), ["#/initial_state"]),
    ("unknown initial_state", _edit(lambda d: d.update(initial_state="Start")), ["#/initial_state"]),
    ("flags without allow_concurrent_calls", _edit(lambda d: d.update(flags={})), ["#/flags"]),
    ("flags not an object", _edit(lambda d: d.update(flags=True)), ["#/flags"]),
    ("no states", _edit(lambda d: d.pop("states")), ["#/states"]),
    ("empty states", _edit(lambda d: d.update(states=[])), ["#/states"]),
    ("states not an array", _edit(lambda d: d.update(states={})), ["#/states"]),
    ("a state not an object", _edit(lambda d: d["states"].append("x")), ["#/states/3"]),
    # (Then no widget is named "hello": the split's transition to it is reported too.)
    (
        "a state without name",
        _edit(lambda d: d["states"][2].pop("name")),
        ["#/states/2/name", "#/states/1/transitions/1/next"],
    ),
    (
        "an empty name",
        _edit(lambda d: d["states"][2].update(name="")),
        ["#/states/2/name", "#/states/1/transitions/1/next"],
    ),
    ("duplicate names", _edit(lambda d: d["states"].append(say("hello", "again"))), ["#/states/3/name"]),
    ("unknown type", _edit(lambda d: d["states"][2].update(type="send-fax")), ["#/states/2/type"]),
    ("no type", _edit(lambda d: d["states"][2].pop("type")), ["#/states/2/type"]),
    (
        "properties not an object",
        _edit(lambda d: d["states"][2].update(properties=[])),
        ["#/states/2/properties"],
    ),
    (
        "transitions not an array",
        _edit(lambda d: d["states"][2].update(transitions={})),
        ["#/states/2/transitions"],
    ),
    (
        "a transition without event",
        _edit(lambda d: d["states"][2]["transitions"].append({"next": "check"})),
        ["#/states/2/transitions/2"],
    ),
    (
        "an event the widget does not have",
        _edit(lambda d: d["states"][2]["transitions"].append({"event": "delivered"})),
        ["#/states/2/transitions/2/event"],
    ),
    (
        "run-function's fail is not make-http-request's failed",
        _edit(lambda d: d["states"].append(widget("fn", "run-function", {"failed": None}, url="https://x"))),
        ["#/states/3/transitions/0/event"],
    ),
    (
        "next not a string",
        _edit(lambda d: d["states"][2]["transitions"][0].update(next=3)),
        ["#/states/2/transitions/0/next"],
    ),
    (
        "next names no widget",
        _edit(lambda d: d["states"][2]["transitions"][0].update(next="nowhere")),
        ["#/states/2/transitions/0/next"],
    ),
    (
        "conditions not an array",
        _edit(lambda d: d["states"][1]["transitions"][1].update(conditions={})),
        ["#/states/1/transitions/1/conditions"],
    ),
    *[
        (
            f"a condition without {key}",
            _edit(lambda d, key=key: d["states"][1]["transitions"][1]["conditions"][0].pop(key)),  # type: ignore[misc]
            [f"#/states/1/transitions/1/conditions/0/{key}"],
        )
        for key in ("type", "value", "arguments", "friendly_name")
    ],
    (
        "an unknown condition type",
        _edit(lambda d: d["states"][1]["transitions"][1]["conditions"][0].update(type="sounds_like")),
        ["#/states/1/transitions/1/conditions/0/type"],
    ),
    (
        "a required property missing",
        _edit(lambda d: d["states"][2]["properties"].pop("body")),
        ["#/states/2/properties/body"],
    ),
    (
        "split without input",
        _edit(lambda d: d["states"][1]["properties"].pop("input")),
        ["#/states/1/properties/input"],
    ),
    ("no trigger", _edit(lambda d: d["states"][0].update(type="set-variables", transitions=[])), ["#/states"]),
    (
        "two triggers",
        _edit(lambda d: d["states"].append({**copy.deepcopy(d["states"][0]), "name": "Trigger2"})),
        ["#/states"],
    ),
]


@pytest.mark.parametrize(("rule", "raw", "paths"), RULES, ids=[rule for rule, _, _ in RULES])
def test_rule(rule: str, raw: Any, paths: list[str]) -> None:
    # The rule's own problem and nothing else: a broken widget is not also reported as
    # missing where other widgets transition to it.
    reported = _paths(raw)
    assert sorted(reported) == sorted(paths), reported
    assert parse_definition(raw)[0] is None
    for _, message in _problems(raw):
        assert message


def test_every_problem_is_reported_at_once() -> None:
    raw = _valid()
    raw.pop("initial_state")
    raw["flags"] = {}
    raw["states"][1]["transitions"][0]["next"] = "nowhere"
    raw["states"].append(say("hello", "dup"))
    raw["states"].append(widget("fn", "run-function", {"failed": None}, url="https://x"))
    assert sorted(_paths(raw)) == sorted(
        [
            "#/initial_state",
            "#/flags",
            "#/states/1/transitions/0/next",
            "#/states/3/name",
            "#/states/4/transitions/0/event",
        ]
    )


def test_problem_dicts_have_the_81022_shape() -> None:
    _, problems = parse_definition({"states": []})
    assert [p.as_dict() for p in problems] == [
        {"message": "initial_state is required and must be a non-empty string", "property_path": "#/initial_state"},
        {"message": "states is required and must be a non-empty array", "property_path": "#/states"},
    ]


@pytest.mark.parametrize("kind", sorted(WIDGET_TYPES))
def test_every_widget_type_validates_with_its_events(kind: str) -> None:
    widget_type = WIDGET_TYPES[kind]
    properties = {required: "x" for required in widget_type.required}
    state = widget("w", kind, {event: None for event in widget_type.events}, **properties)
    raw = rest_flow("w", state) if kind != "trigger" else rest_flow(None)
    assert _problems(raw) == []


def test_a_widget_nothing_leads_to_needs_no_required_property() -> None:
    # A real export carries a split without `input` that no transition reaches; Studio
    # published it, so it is valid. The same split, once reached, is not.
    raw = _valid()
    raw["states"].append(widget("leftover", "split-based-on", {"noMatch": None}))
    assert _problems(raw) == []
    raw["states"][0]["transitions"][0]["next"] = "leftover"
    assert [path for path, _ in _problems(raw)] == [f"#/states/{len(raw['states']) - 1}/properties/input"]


def test_hyphenated_and_unicode_names_are_fine() -> None:
    raw = rest_flow("get-datetime-parts", say("get-datetime-parts", "x", "étape_2"), say("étape_2", "y"))
    assert _problems(raw) == []
