"""Studio's guardrails (studio-flows.md §6.1, FAQ): an execution ends after 1,000 steps,
when the same widget would run 10 times in a row, and after 30 days active."""

from __future__ import annotations

from typing import Any

from mockstudio.domain.models import ACTIVE, ENDED
from mockstudio.engine.runner import MAX_ACTIVE_SECONDS, MAX_REPEATS, MAX_STEPS

from .support import CHILD_FW, Harness, definition, rest_flow, trigger, widget

DAY = 86400


def _bump(name: str, next_: str) -> dict[str, Any]:
    return widget(
        name,
        "set-variables",
        {"next": next_},
        variables=[{"key": "n", "value": "{{flow.variables.n | plus: 1}}"}],
    )


def test_the_limits_are_studios() -> None:
    assert (MAX_STEPS, MAX_REPEATS, MAX_ACTIVE_SECONDS) == (1000, 10, 30 * DAY)


async def test_an_endless_loop_ends_after_1000_steps() -> None:
    h = Harness(rest_flow("a", _bump("a", "b"), _bump("b", "a")))
    execution = await h.start()
    assert execution.status == ENDED
    steps = h.steps(execution)
    assert len(steps) == 1000
    assert steps[0] == ("incomingRequest", "Trigger", "a")
    # The last step is an ordinary transition: the execution was stopped, not ended by the flow.
    assert steps[-1] in (("next", "a", "b"), ("next", "b", "a"))
    assert "Ended" not in {to for _, _, to in steps}
    assert h.variables(execution) == {"n": 999}  # every step but the trigger's ran a widget


async def test_the_same_widget_may_not_run_ten_times_in_a_row() -> None:
    h = Harness(rest_flow("again", _bump("again", "again")))
    execution = await h.start()
    assert execution.status == ENDED
    # It ran nine times; the tenth run in a row stops the execution before it runs.
    assert h.variables(execution) == {"n": MAX_REPEATS - 1}
    assert h.steps(execution) == [("incomingRequest", "Trigger", "again")] + [("next", "again", "again")] * 9


async def test_alternating_widgets_are_not_repeats() -> None:
    # a -> b -> a -> ... is not "the same widget in a row": only the step limit stops it.
    h = Harness(rest_flow("a", _bump("a", "b"), _bump("b", "a")))
    execution = await h.start()
    assert len(h.steps(execution)) == MAX_STEPS


async def test_repeats_count_across_waits() -> None:
    # A re-prompt loop on one widget: each timeout re-enters it.
    flow = rest_flow(
        "ask",
        widget("ask", "send-and-wait-for-reply", {"timeout": "ask", "incomingMessage": None}, body="?", timeout="60"),
    )
    h = Harness(flow)
    execution = await h.start()
    for _ in range(MAX_REPEATS - 2):
        await h.advance(60)
        assert h.parked_on(execution) == "ask"
    await h.advance(60)
    assert execution.status == ENDED
    assert len(h.messages()) == MAX_REPEATS - 1


async def test_a_parked_execution_ends_after_30_days() -> None:
    forty_days = str(40 * DAY)
    flow = rest_flow(
        "ask",
        widget(
            "ask", "send-and-wait-for-reply", {"timeout": None, "incomingMessage": None}, body="?", timeout=forty_days
        ),
    )
    h = Harness(flow)
    execution = await h.start()
    await h.advance(30 * DAY - 1)
    assert execution.status == ACTIVE
    assert h.parked_on(execution) == "ask"
    assert await h.advance(1) == 1
    assert execution.status == ENDED
    # Stopped, not transitioned: no step for the widget.
    assert h.steps(execution) == [("incomingRequest", "Trigger", "ask")]
    # A late reply no longer reaches it.
    assert h.parked_on(execution) is None


async def test_30_days_count_from_creation_across_resumptions() -> None:
    flow = rest_flow(
        "first",
        widget("first", "send-and-wait-for-reply", {"incomingMessage": "second"}, body="1?", timeout=str(20 * DAY)),
        widget("second", "send-and-wait-for-reply", {"incomingMessage": None}, body="2?", timeout=str(20 * DAY)),
    )
    h = Harness(flow)
    execution = await h.start()
    await h.advance(15 * DAY)
    await h.inbound("one")
    assert h.parked_on(execution) == "second"
    await h.advance(15 * DAY - 1)
    assert execution.status == ACTIVE
    await h.advance(1)  # 30 days after creation, though only 15 on this widget
    assert execution.status == ENDED


async def test_a_subflow_parent_waits_at_most_30_days() -> None:
    child = definition(
        trigger(incomingParent="ask"),
        widget("ask", "send-and-wait-for-reply", {"timeout": "ask"}, body="?", timeout=str(29 * DAY)),
    )
    parent = rest_flow("sub", widget("sub", "run-subflow", {"completed": None}, flow_sid=CHILD_FW))
    h = Harness(parent, flows={CHILD_FW: child})
    execution = await h.start()
    await h.advance(30 * DAY)
    assert execution.status == ENDED
