"""split-based-on: the 17 condition types, Studio's case-insensitive and trimmed string
comparisons, first match wins, noMatch, Liquid in `value`, several conditions AND-ed
(studio-flows.md §3)."""

from __future__ import annotations

from typing import Any

import pytest

from mockstudio.engine.catalogue import CONDITION_TYPES
from mockstudio.engine.widgets.split import CONDITIONS

from .support import FW, Harness, condition, rest_flow, say, split, widget

# The 17 written out again on purpose: the catalogue (validation) and CONDITIONS (the engine)
# are each checked against this list, not against each other.
ALL_TYPES = {
    "equal_to",
    "not_equal_to",
    "matches_any_of",
    "does_not_match_any_of",
    "is_blank",
    "is_not_blank",
    "regex",
    "contains",
    "does_not_contain",
    "starts_with",
    "does_not_start_with",
    "less_than",
    "greater_than",
    "is_before_time",
    "is_after_time",
    "is_before_date",
    "is_after_date",
}

# (condition type, condition value, the input, whether the branch matches)
CASES: list[tuple[str, str, Any, bool]] = [
    # equal_to / not_equal_to: case-insensitive, trimmed on both sides
    ("equal_to", "YES", "yes", True),
    ("equal_to", "yes", "  Yes  ", True),
    ("equal_to", " yes ", "YES", True),
    ("equal_to", "yes", "yes please", False),
    ("equal_to", "yes", "", False),
    ("equal_to", "", "", True),
    ("not_equal_to", "yes", "no", True),
    ("not_equal_to", "yes", " YES ", False),
    # matches_any_of: comma lists, items trimmed, empty items ignored
    ("matches_any_of", "1,BOCK,Bock,bock", "bock", True),
    ("matches_any_of", "Hours, Parking, Scheduling, Consultation, Other", "parking", True),
    ("matches_any_of", "Hours, Parking, Scheduling", " SCHEDULING ", True),
    ("matches_any_of", "START, Start, start,", "start", True),
    ("matches_any_of", "START, Start, start,", "", False),  # the trailing empty item is no item
    ("matches_any_of", "a,,b", "", False),
    ("matches_any_of", "Hours, Parking", "Park", False),
    ("matches_any_of", "Hours, Parking", "Hours, Parking", False),
    ("does_not_match_any_of", "a, b, c", "d", True),
    ("does_not_match_any_of", "a, b, c", " B ", False),
    ("does_not_match_any_of", "a, ,b", "", True),
    # is_blank / is_not_blank: whitespace counts as blank; the value is a placeholder
    ("is_blank", "Is Blank", "", True),
    ("is_blank", "Is Blank", "   ", True),
    ("is_blank", "Is Blank", "x", False),
    ("is_not_blank", "Is Not Blank", "x", True),
    ("is_not_blank", "Is Not Blank", " \t ", False),
    ("is_not_blank", "Is Not Blank", {"record": {"id": 1}}, True),  # an object renders as JSON
    # regex: whole string, case-insensitive (Twilio's catalogue; unverified)
    ("regex", r"^\d{5}$", "12345", True),
    ("regex", r"\d{5}", "123456", False),
    ("regex", r"\d+", "order 12", False),
    ("regex", r"order \d+", "ORDER 12", True),
    ("regex", "[a-z]+", "  abc  ", True),  # the input is trimmed
    ("regex", "(", "(", False),  # an invalid pattern never matches
    # contains / does_not_contain
    ("contains", "pizza", "I want PIZZA now", True),
    ("contains", " pizza ", "pizza", True),
    ("contains", "salad", "I want pizza", False),
    ("does_not_contain", "salad", "I want pizza", True),
    ("does_not_contain", "PIZZA", "pizza!", False),
    # starts_with / does_not_start_with
    ("starts_with", "hello", "  Hello there", True),
    ("starts_with", "there", "Hello there", False),
    ("does_not_start_with", "there", "Hello there", True),
    ("does_not_start_with", "HELLO", "hello there", False),
    # less_than / greater_than: numbers, never text order; non-numbers never match
    ("less_than", "10", "3", True),
    ("less_than", "10", "10", False),
    ("less_than", "3", " 2.5 ", True),
    ("less_than", "0", "-1", True),
    ("less_than", "10", "abc", False),
    ("less_than", "abc", "1", False),
    ("less_than", "10", "", False),
    ("less_than", "5", "Infinity", False),
    ("greater_than", "9", "10", True),
    ("greater_than", "1", 2, True),
    ("greater_than", "1.5", "1.25", False),
    ("greater_than", "1", "two", False),
    ("greater_than", "-1", "", False),
    ("greater_than", "5", "nan", False),
    ("greater_than", "5", "1_000", False),
    # is_before_time / is_after_time: HH:MM (24 h), also with seconds or AM/PM
    ("is_before_time", "13:00", "09:30", True),
    ("is_before_time", "13:00", "9:30", True),
    ("is_before_time", "13:00", "14:00", False),
    ("is_before_time", "13:00", "13:00", False),
    ("is_before_time", "13:00", "11:00 PM", False),
    ("is_before_time", "13:00", "not a time", False),
    ("is_after_time", "17:59", "18:00", True),
    ("is_after_time", "17:59", "17:59:30", True),
    ("is_after_time", "17:59", "08:00 am", False),
    # is_before_date / is_after_date: YYYY-MM-DD (also MM/DD/YYYY and ISO date-times)
    ("is_before_date", "2024-01-03", "2024-01-02", True),
    ("is_before_date", "2024-01-01", "2024-12-31", False),
    ("is_before_date", "2024-01-02", "2024-01-02", False),
    ("is_before_date", "2024-01-03", "yesterday", False),
    ("is_after_date", "2023-12-31", "01/15/2024", True),
    ("is_after_date", "2024-01-31", "2024-02-01", True),
    ("is_after_date", "2024-02-01", "2024-01-31", False),
    # An ISO date-time with an offset is read in Studio's time zone (America/Los_Angeles):
    # 05:00Z on the 3rd is still the 2nd there.
    ("is_after_date", "2024-01-02", "2024-01-03T05:00:00Z", False),
    ("is_after_date", "2024-01-02", "2024-01-03T12:00:00Z", True),
    ("is_after_date", "2024-01-02", "2024-01-03T05:00:00", True),  # naive: as written
]


def test_the_cases_cover_all_seventeen_types() -> None:
    assert set(CONDITIONS) == ALL_TYPES
    assert set(CONDITION_TYPES) == ALL_TYPES  # what the validator accepts (an unknown type is a 81022)
    assert {kind for kind, *_ in CASES} == ALL_TYPES


def _flow(*branches: tuple[str | None, list[dict[str, Any]]], no_match: str | None = "no") -> dict[str, Any]:
    return rest_flow(
        "check",
        split("check", "{{flow.data.input}}", list(branches), no_match=no_match),
        say("yes", "matched"),
        say("yes2", "matched second"),
        say("no", "no match"),
    )


@pytest.mark.parametrize(("kind", "value", "subject", "expected"), CASES)
async def test_condition(kind: str, value: str, subject: Any, expected: bool) -> None:
    h = Harness(_flow(("yes", [condition(kind, value)])))
    execution = await h.start({"input": subject})
    steps = h.steps(execution)
    assert steps[1] == (("match", "check", "yes") if expected else ("noMatch", "check", "no"))
    assert [s.type for s in h.step_objects(execution)][1] == "split-based-on"


async def test_first_matching_transition_wins() -> None:
    h = Harness(
        _flow(
            ("yes", [condition("contains", "pizza")]),
            ("yes2", [condition("contains", "pizza")]),
        )
    )
    execution = await h.start({"input": "pizza"})
    assert h.steps(execution)[1] == ("match", "check", "yes")
    assert h.messages() == [("outbound", "matched")]


async def test_later_transition_matches_when_earlier_does_not() -> None:
    h = Harness(
        _flow(
            ("yes", [condition("equal_to", "a")]),
            ("yes2", [condition("equal_to", "b")]),
        )
    )
    execution = await h.start({"input": "B"})
    assert h.steps(execution)[1] == ("match", "check", "yes2")


async def test_no_match_without_next_ends_the_execution() -> None:
    h = Harness(_flow(("yes", [condition("equal_to", "a")]), no_match=None))
    execution = await h.start({"input": "z"})
    assert execution.status == "ended"
    assert h.steps(execution)[-1] == ("noMatch", "check", "Ended")
    assert h.messages() == []


async def test_match_without_next_ends_the_execution() -> None:
    h = Harness(_flow((None, [condition("equal_to", "a")])))
    execution = await h.start({"input": "a"})
    assert h.steps(execution)[-1] == ("match", "check", "Ended")


async def test_liquid_in_value() -> None:
    # Example #7's shape: "value": "{{widgets.yesterday.inbound.Body}}".
    h = Harness(_flow(("yes", [condition("equal_to", "{{flow.data.expected | upcase}}")])))
    matched = await h.start({"input": "Blue", "expected": "blue"})
    assert h.steps(matched)[1] == ("match", "check", "yes")
    h2 = Harness(_flow(("yes", [condition("equal_to", "{{flow.data.expected}}")])))
    unmatched = await h2.start({"input": "Blue", "expected": "green"})
    assert h2.steps(unmatched)[1] == ("noMatch", "check", "no")


async def test_one_revision_branches_on_each_executions_own_values() -> None:
    # The split is compiled once per revision; every execution renders its own input/value.
    h = Harness(_flow(("yes", [condition("equal_to", "{{flow.data.expected}}")])))
    matched = await h.start({"input": "Blue", "expected": "blue"}, to="+15550000001")
    unmatched = await h.start({"input": "Blue", "expected": "green"}, to="+15550000002")
    again = await h.start({"input": "green", "expected": "green"}, to="+15550000003")
    assert [h.steps(e)[1] for e in (matched, unmatched, again)] == [
        ("match", "check", "yes"),
        ("noMatch", "check", "no"),
        ("match", "check", "yes"),
    ]


async def test_several_conditions_are_and_ed() -> None:
    both = [condition("greater_than", "10"), condition("less_than", "20")]
    for subject, expected in (("15", ("match", "check", "yes")), ("25", ("noMatch", "check", "no"))):
        h = Harness(_flow(("yes", both)))
        execution = await h.start({"input": subject})
        assert h.steps(execution)[1] == expected


async def test_conditions_test_the_input_not_their_stale_arguments() -> None:
    # A duplicated survey question: the split's input was edited to the second gather, its
    # conditions' `arguments` still name the first (the Console's copy goes stale).
    flow = rest_flow(
        "q2",
        widget("q2", "set-variables", {"next": "check"}, variables=[{"key": "x", "value": "1"}]),
        split(
            "check",
            "{{flow.data.gather_2}}",
            [
                ("agree", [condition("equal_to", "1", arguments="{{flow.data.gather_1}}")]),
                ("disagree", [condition("equal_to", "2", arguments="{{flow.data.gather_1}}")]),
            ],
            no_match="again",
        ),
        say("agree", "agree"),
        say("disagree", "disagree"),
        say("again", "again"),
    )
    h = Harness(flow)
    execution = await h.start({"gather_1": "1", "gather_2": "2"})
    assert h.steps(execution)[2] == ("match", "check", "disagree")


async def test_a_split_without_input_tests_the_arguments() -> None:
    flow = rest_flow(
        "check",
        split("check", None, [("yes", [condition("equal_to", "gold", arguments="{{flow.data.tier}}")])], no_match="no"),
        say("yes", "yes"),
        say("no", "no"),
    )
    h = Harness(flow)
    execution = await h.start({"tier": "Gold"})
    assert h.steps(execution)[1] == ("match", "check", "yes")


async def test_condition_without_arguments_falls_back_to_input() -> None:
    h = Harness(_flow(("yes", [condition("equal_to", "x", arguments=None)])))
    execution = await h.start({"input": "X"})
    assert h.steps(execution)[1] == ("match", "check", "yes")


async def test_input_from_a_previous_widget_with_plus_zero() -> None:
    # The FAQ's numeric idiom: {{x | plus: 0}}.
    flow = rest_flow(
        "vars",
        widget("vars", "set-variables", {"next": "check"}, variables=[{"key": "n", "value": "{{flow.data.n}}"}]),
        split(
            "check",
            "{{flow.variables.n | plus: 0}}",
            [("yes", [condition("greater_than", "1", arguments="{{flow.variables.n | plus: 0}}")])],
            no_match="no",
        ),
        say("yes", "many"),
        say("no", "few"),
    )
    h = Harness(flow)
    execution = await h.start({"n": "3"})
    assert h.steps(execution)[2] == ("match", "check", "yes")


async def test_an_unknown_condition_type_makes_the_flow_invalid() -> None:
    # Not one of the 17: the validator's 81022 (only a fixture can load such a flow, as
    # invalid), so no split ever meets it; its executions end at once, sending nothing.
    h = Harness(_flow(("yes", [condition("sounds_like", "x")])))
    flow = h.account.flows[FW]
    assert not flow.valid
    assert [e["property_path"] for e in flow.errors] == ["#/states/1/transitions/1/conditions/0/type"]
    execution = await h.start({"input": "x"})
    assert execution.status == "ended"
    assert h.messages() == []


async def test_match_transition_without_conditions_never_matches() -> None:
    h = Harness(_flow(("yes", [])))
    execution = await h.start({"input": "x"})
    assert h.steps(execution)[1] == ("noMatch", "check", "no")


async def test_split_writes_no_widget_outputs() -> None:
    h = Harness(_flow(("yes", [condition("equal_to", "x")])))
    execution = await h.start({"input": "x"})
    assert "check" not in h.widgets(execution)
