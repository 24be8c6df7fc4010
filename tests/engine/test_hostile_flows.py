"""Hostile flows (valid definitions doing harmful work) against the engine's own limits
(mockstudio/engine/limits.py): a catastrophically backtracking regex condition, Liquid that
grows without bound, executions storing or receiving more than any real flow, and HTTP
responses that never end. Each must end quickly and say why in the step's outputs."""

from __future__ import annotations

import time
from typing import Any

from mockstudio.domain.models import ENDED
from mockstudio.engine.http import OutboundHttp
from mockstudio.engine.limits import (
    MAX_HTTP_BODY,
    MAX_MESSAGE_BODY,
    MAX_RENDERED,
    MAX_STORED_PER_EXECUTION,
    REGEX_TIME_LIMIT,
)
from mockstudio.engine.runner import MAX_STEPS

from .support import Harness, condition, rest_flow, say, split, widget
from .webapp import WebApp

# Backtracks exponentially on n `a`s (no `b`): 40 would take hours. (The `regex` engine
# sees at once that `(a+)+b` cannot match without a `b`, which took Python's `re` 6 s on 28.)
CATASTROPHIC = "(a|aa)+b"
MANY_AS = "a" * 40
DOUBLING = '{% assign s = "xxxxxxxxxxxxxxxx" %}' + "{% assign s = s | append: s %}" * 22 + "{{ s }}"


def _problems(h: Harness, execution: Any, name: str) -> list[str]:
    outputs = h.widgets(execution).get(name) or {}
    problems: list[str] = outputs.get("mockstudio_problems", [])
    return problems


async def _split_on(pattern: str, text: str, *, conditions: int = 1) -> tuple[Harness, Any, float]:
    flow = rest_flow(
        "check",
        split(
            "check",
            "{{flow.data.input}}",
            [("yes", [condition("regex", pattern)])] * conditions,
            no_match="no",
        ),
        say("yes", "matched"),
        say("no", "no match"),
    )
    h = Harness(flow)
    started = time.monotonic()
    execution = await h.start({"input": text})
    return h, execution, time.monotonic() - started


# -- regex conditions -----------------------------------------------------------------------


async def test_a_catastrophic_regex_times_out_as_no_match_and_the_step_says_why() -> None:
    h, execution, elapsed = await _split_on(CATASTROPHIC, MANY_AS)
    assert execution.status == ENDED
    assert elapsed < 10  # unbounded, this input takes hours
    assert h.steps(execution)[1] == ("noMatch", "check", "no")
    assert h.messages(execution) == [("outbound", "no match")]
    [problem] = _problems(h, execution, "check")
    assert CATASTROPHIC in problem and "timed out" in problem and "no match" in problem
    # The split's step keeps it in its context (the step context resource, over HTTP below).
    step = h.step_objects(execution)[1]
    assert step.widgets is not None and step.widgets["check"]["mockstudio_problems"] == [problem]


async def test_the_time_limit_is_shared_by_every_regex_condition_of_a_split() -> None:
    # 400 catastrophic conditions take the limit of one (0.05 s, plus the run), not 400
    # times it (20 s). The bound is half the latter: wide enough for a loaded machine, and
    # still failing if each condition had its own limit.
    h, execution, elapsed = await _split_on(CATASTROPHIC, MANY_AS, conditions=400)
    assert execution.status == ENDED
    assert elapsed < 200 * REGEX_TIME_LIMIT
    assert h.steps(execution)[1] == ("noMatch", "check", "no")
    assert len(_problems(h, execution, "check")) == 1  # the same condition: noted once


async def test_a_regex_that_finishes_in_time_still_matches() -> None:
    h, execution, _ = await _split_on(CATASTROPHIC, "a" * 40 + "b")
    assert h.steps(execution)[1] == ("match", "check", "yes")
    assert _problems(h, execution, "check") == []


async def test_the_reported_pattern_no_longer_freezes() -> None:
    h, execution, elapsed = await _split_on("(a+)+b", "a" * 40)
    assert elapsed < 10  # (Python's `re`: hours)
    assert h.steps(execution)[1] == ("noMatch", "check", "no")


async def test_look_arounds_work() -> None:
    password = r"(?=.*\d)(?=.*[a-z]).{6,}"
    for pattern, text, matches in [
        (password, "abc123", True),
        (password, "abcdef", False),
        (r"(?<!un)happy.*", "happy days", True),
        (r".*(?<!un)happy", "unhappy", False),
        (r"(?!stop\b)\w+", "stop", False),
        (r"(?!stop\b)\w+", "start", True),
    ]:
        h, execution, _ = await _split_on(pattern, text)
        expected = ("match", "check", "yes") if matches else ("noMatch", "check", "no")
        assert h.steps(execution)[1] == expected, (pattern, text)
        assert _problems(h, execution, "check") == []


# -- Liquid -------------------------------------------------------------------------------------


async def test_a_doubling_template_renders_empty_and_the_step_says_why() -> None:
    flow = rest_flow("send", widget("send", "send-message", {"sent": None}, body=DOUBLING))
    h = Harness(flow)
    execution = await h.start()
    assert h.messages(execution) == [("outbound", "")]
    assert h.widgets(execution)["send"]["mockstudio_problems"] == [
        f"Liquid variable limit reached (assigned values over {MAX_RENDERED} bytes)"
    ]


async def test_output_past_the_limit_renders_empty_on_both_render_paths() -> None:
    half = "y" * (MAX_RENDERED // 2 + 1)
    flow = rest_flow(
        "vars",
        widget(
            "vars",
            "set-variables",
            {"next": None},
            variables=[
                # The fast path (simple outputs) and python-liquid (a tag) alike.
                {"key": "fast", "value": "{{flow.data.half}}{{flow.data.half}}"},
                {"key": "slow", "value": "{% if true %}{{flow.data.half}}{{flow.data.half}}{% endif %}"},
                # `replace` multiplies: refused before its result is made.
                {"key": "replace", "value": "{{flow.data.half | replace: 'y', 'zz'}}"},
                {"key": "join", "value": "{{flow.data.half | split: '' | join: flow.data.half}}"},
                {"key": "fine", "value": "{{flow.data.half | size}}"},
            ],
        ),
    )
    h = Harness(flow)
    execution = await h.start({"half": half})
    variables = h.variables(execution)
    assert (variables["fast"], variables["slow"], variables["replace"], variables["join"]) == ("", "", "", "")
    assert variables["fine"] == len(half)
    assert h.widgets(execution)["vars"]["mockstudio_problems"] == [
        f"Liquid output limit reached (more than {MAX_RENDERED} characters)"
    ]


async def test_nested_loops_count_together_against_studios_15() -> None:
    flow = rest_flow(
        "vars",
        widget(
            "vars",
            "set-variables",
            {"next": None},
            variables=[{"key": "x", "value": "{% for a in (1..4) %}{% for b in (1..4) %}x{% endfor %}{% endfor %}"}],
        ),
    )
    h = Harness(flow)
    execution = await h.start()
    assert h.variables(execution) == {"x": ""}
    problems = h.widgets(execution)["vars"]["mockstudio_problems"]
    assert problems == ["Liquid loop limit reached (more than 15 iterations)"]


async def test_a_flow_that_renders_well_notes_nothing() -> None:
    flow = rest_flow("send", widget("send", "send-message", {"sent": None}, body="Hi {{flow.data.name | upcase}}"))
    h = Harness(flow)
    execution = await h.start({"name": "zeke"})
    assert h.widgets(execution)["send"]["outbound"]["Body"] == "Hi ZEKE"
    assert "mockstudio_problems" not in h.widgets(execution)["send"]


# -- what one execution may store -------------------------------------------------------------


async def test_a_message_body_over_1600_characters_is_refused_as_twilio_refuses_it() -> None:
    flow = rest_flow(
        "send",
        widget("send", "send-message", {"sent": "ok", "failed": "bad"}, body="{{flow.data.text}}"),
        say("ok", "sent"),
        say("bad", "failed {{widgets.send.outbound.ErrorCode}}"),
    )
    h = Harness(flow)
    execution = await h.start({"text": "z" * (MAX_MESSAGE_BODY + 1)})
    first, second = h.messages(execution)
    assert first == ("outbound", "z" * MAX_MESSAGE_BODY)  # kept, cut to the limit
    assert second == ("outbound", "failed 21617")
    outbound = h.widgets(execution)["send"]["outbound"]
    assert outbound["Status"] == "failed" and outbound["ErrorCode"] == 21617

    h = Harness(flow)
    execution = await h.start({"text": "z" * MAX_MESSAGE_BODY})  # exactly the limit: sent
    assert h.messages(execution)[1] == ("outbound", "sent")


async def test_send_and_wait_with_an_over_long_body_takes_delivery_failure() -> None:
    flow = rest_flow(
        "ask",
        widget(
            "ask",
            "send-and-wait-for-reply",
            {"incomingMessage": None, "timeout": None, "deliveryFailure": "bad"},
            body="{{flow.data.text}}",
        ),
        say("bad", "failed {{widgets.ask.outbound.ErrorCode}}"),
    )
    h = Harness(flow)
    execution = await h.start({"text": "z" * 5000})
    assert execution.status == ENDED
    assert h.steps(execution)[1] == ("deliveryFailure", "ask", "bad")
    assert h.messages(execution)[1] == ("outbound", "failed 21617")


async def test_an_execution_ends_once_it_has_rendered_more_than_its_budget() -> None:
    # Two widgets in a loop, each storing a variable just under the per-render limit:
    # valid, but 1,000 steps of it would hold a gigabyte.
    big = "b" * (MAX_RENDERED - 1)

    def store(name: str, next_: str) -> dict[str, Any]:
        return widget(name, "set-variables", {"next": next_}, variables=[{"key": name, "value": "{{flow.data.big}}"}])

    h = Harness(rest_flow("a", store("a", "b"), store("b", "a")))
    execution = await h.start({"big": big})
    assert execution.status == ENDED
    steps = len(h.steps(execution))
    assert MAX_STORED_PER_EXECUTION // len(big) <= steps <= MAX_STORED_PER_EXECUTION // len(big) + 2
    assert steps < MAX_STEPS


# -- widget HTTP ----------------------------------------------------------------------------------


async def test_an_endless_http_response_is_refused_without_being_read(web: WebApp) -> None:
    flow = rest_flow(
        "call",
        widget("call", "make-http-request", {"success": "good", "failed": "bad"}, url=web.url("/endless")),
        say("good", "ok"),
        say("bad", "failed"),
    )
    h = Harness(flow, http=OutboundHttp(mode="live", timeout=30))
    try:
        execution = await h.start()
    finally:
        await h.close()
    assert h.steps(execution)[1] == ("failed", "call", "bad")
    assert h.widgets(execution)["call"] == {}
    # It stopped reading past the limit: the server could send little more than the
    # limit and what the sockets buffer (a few MB), not its 256 MB.
    with web.lock:
        assert web.streamed < 32 * 1024 * 1024
    assert MAX_HTTP_BODY == 64 * 1024


async def test_a_waiting_widget_keeps_the_reason_until_it_is_left() -> None:
    flow = rest_flow(
        "ask",
        widget("ask", "send-and-wait-for-reply", {"incomingMessage": None, "timeout": None}, body=DOUBLING),
    )
    h = Harness(flow)
    execution = await h.start()
    assert h.parked_on(execution) == "ask"
    await h.inbound("hello")
    outputs = h.widgets(execution)["ask"]
    assert outputs["inbound"]["Body"] == "hello" and outputs["outbound"]["Body"] == ""
    assert outputs["mockstudio_problems"] == [
        f"Liquid variable limit reached (assigned values over {MAX_RENDERED} bytes)"
    ]
