"""run-subflow: a child execution whose trigger fires `incomingParent` with the parameters
at trigger.parent.parameters; the parent waits and leaves on `completed` with the child's
flow.variables flat under the widget's name, or `failed` (studio-flows.md §2.1)."""

from __future__ import annotations

from typing import Any

import httpx

from mockstudio.domain.models import ACTIVE, ENDED, Execution
from mockstudio.testing import MockStudioServer

from .support import (
    AC,
    CHILD_FW,
    CONTACT,
    FW,
    NUMBER,
    Harness,
    api_steps,
    definition,
    install_flow,
    rest_flow,
    say,
    settle,
    trigger,
    widget,
)
from .webapp import WebApp

GRANDCHILD_FW = "FW" + "d" * 32


def _parent(flow_sid: str = CHILD_FW, revision: str | None = None) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "flow_sid": flow_sid,
        "parameters": [
            {"key": "name", "value": "{{flow.data.name}}"},
            {"key": "greeting", "value": "Hello"},
        ],
    }
    if revision is not None:
        properties["flow_revision"] = revision
    return rest_flow(
        "sub",
        widget("sub", "run-subflow", {"completed": "done", "failed": "broken"}, **properties),
        say("done", "child said {{widgets.sub.shout}} / {{widgets.sub.answer}}"),
        say("broken", "subflow failed"),
    )


def _child(*, wait: bool = False) -> dict[str, Any]:
    first = "ask" if wait else "vars"
    return definition(
        trigger(incomingParent=first),
        widget(
            "ask",
            "send-and-wait-for-reply",
            {"incomingMessage": "vars", "timeout": "vars"},
            body="{{trigger.parent.parameters.greeting}} {{trigger.parent.parameters.name}}, anything to add?",
        ),
        widget(
            "vars",
            "set-variables",
            {"next": None},
            variables=[
                {"key": "shout", "value": "{{trigger.parent.parameters.name | upcase}}"},
                {"key": "answer", "value": "{{widgets.ask.inbound.Body | default: 'nothing'}}"},
            ],
        ),
    )


def _child_of(h: Harness, parent: Execution) -> Execution:
    (child,) = [e for e in h.account.executions.values() if e.flow_sid == CHILD_FW and e.initiated_by == parent.sid]
    return child


async def test_child_runs_and_parent_completes_with_its_variables() -> None:
    h = Harness(_parent(), flows={CHILD_FW: _child()})
    parent = await h.start({"name": "ada"})
    child = _child_of(h, parent)
    assert child.status == ENDED
    assert h.steps(child) == [("incomingParent", "Trigger", "vars"), ("next", "vars", "Ended")]
    assert parent.status == ENDED
    assert h.steps(parent) == [
        ("incomingRequest", "Trigger", "sub"),
        ("completed", "sub", "done"),
        ("sent", "done", "Ended"),
    ]
    # The child's flow.variables, flat under the widget's name.
    assert h.widgets(parent)["sub"] == {"shout": "ADA", "answer": "nothing"}
    assert h.messages(parent) == [("outbound", "child said ADA / nothing")]
    # The parent's own variables are untouched.
    assert h.variables(parent) == {}


async def test_child_context_has_the_parent_trigger() -> None:
    h = Harness(_parent(), flows={CHILD_FW: _child()})
    parent = await h.start({"name": "ada"})
    child = _child_of(h, parent)
    (sub_step,) = [s for s in h.step_objects(parent) if s.transitioned_from == "sub"]
    context = h.context(child)
    assert context["trigger"] == {
        "parent": {
            "parameters": {"name": "ada", "greeting": "Hello"},
            "execution_sid": parent.sid,
            "flow_sid": FW,
            "step_sid": sub_step.sid,
            "trigger_type": "request",
        }
    }
    assert context["flow"]["flow_sid"] == CHILD_FW
    assert context["flow"]["sid"] == child.sid
    assert context["contact"]["channel"]["address"] == CONTACT
    assert context["flow"]["channel"]["address"] == NUMBER


async def test_child_steps_carry_the_parent_step_sid() -> None:
    h = Harness(_parent(), flows={CHILD_FW: _child()})
    parent = await h.start({"name": "ada"})
    child = _child_of(h, parent)
    (sub_step,) = [s for s in h.step_objects(parent) if s.transitioned_from == "sub"]
    assert sub_step.type == "run-subflow"
    assert {s.parent_step_sid for s in h.step_objects(child)} == {sub_step.sid}
    assert {s.parent_step_sid for s in h.step_objects(parent)} == {None}


async def test_parent_waits_for_a_waiting_child() -> None:
    h = Harness(_parent(), flows={CHILD_FW: _child(wait=True)})
    parent = await h.start({"name": "ada"})
    child = _child_of(h, parent)
    assert (parent.status, child.status) == (ACTIVE, ACTIVE)
    assert h.parked_on(parent) == "sub"
    assert h.parked_on(child) == "ask"
    assert h.steps(parent) == [("incomingRequest", "Trigger", "sub")]  # no step while waiting
    assert h.messages() == [("outbound", "Hello ada, anything to add?")]
    # The contact's reply goes to the child, which ends and completes the parent.
    resumed, action = await h.inbound("all good")
    assert (resumed, action) == (child, "resumed")
    assert (parent.status, child.status) == (ENDED, ENDED)
    assert h.widgets(parent)["sub"] == {"shout": "ADA", "answer": "all good"}
    assert h.messages()[-1] == ("outbound", "child said ADA / all good")


async def test_child_timeout_then_completion() -> None:
    h = Harness(_parent(), flows={CHILD_FW: _child(wait=True)})
    parent = await h.start({"name": "ada"})
    await h.advance(3600)
    assert parent.status == ENDED
    assert h.widgets(parent)["sub"] == {"shout": "ADA", "answer": "nothing"}


async def test_unknown_flow_is_failed() -> None:
    h = Harness(_parent(flow_sid="FW" + "9" * 32))
    parent = await h.start({"name": "ada"})
    assert h.steps(parent)[1:] == [("failed", "sub", "broken"), ("sent", "broken", "Ended")]
    assert h.widgets(parent)["sub"] == {}
    assert len(h.account.executions) == 1


async def test_flow_sid_rendered_with_liquid() -> None:
    flow = _parent(flow_sid="{{flow.data.child}}")
    h = Harness(flow, flows={CHILD_FW: _child()})
    parent = await h.start({"name": "ada", "child": CHILD_FW})
    assert h.steps(parent)[1] == ("completed", "sub", "done")


async def test_draft_only_child_fails_unless_latest_draft_is_asked_for() -> None:
    h = Harness(_parent(), drafts={CHILD_FW: _child()})
    parent = await h.start({"name": "ada"})
    assert h.steps(parent)[1] == ("failed", "sub", "broken")

    h2 = Harness(_parent(revision="LatestDraft"), drafts={CHILD_FW: _child()})
    parent2 = await h2.start({"name": "ada"})
    assert h2.steps(parent2)[1] == ("completed", "sub", "done")


async def test_invalid_child_definition_is_failed_not_stuck() -> None:
    broken = {"description": "no trigger", "states": [say("x", "x")], "initial_state": "x"}
    h = Harness(_parent(revision="LatestDraft"), drafts={CHILD_FW: broken})
    parent = await h.start({"name": "ada"})
    assert parent.status == ENDED
    assert h.steps(parent)[1] == ("failed", "sub", "broken")


async def test_nested_subflow_is_failed() -> None:
    # A subflow cannot run another subflow (Studio's error 81024).
    child = definition(
        trigger(incomingParent="deeper"),
        widget("deeper", "run-subflow", {"completed": "ok", "failed": "nope"}, flow_sid=GRANDCHILD_FW),
        widget("ok", "set-variables", {"next": None}, variables=[{"key": "nested", "value": "ran"}]),
        widget("nope", "set-variables", {"next": None}, variables=[{"key": "nested", "value": "refused"}]),
    )
    grandchild = definition(trigger(incomingParent=None))
    h = Harness(_parent(), flows={CHILD_FW: child, GRANDCHILD_FW: grandchild})
    parent = await h.start({"name": "ada"})
    child_execution = _child_of(h, parent)
    assert h.steps(child_execution)[1] == ("failed", "deeper", "nope")
    assert h.widgets(parent)["sub"] == {"nested": "refused"}
    assert not [e for e in h.account.executions.values() if e.flow_sid == GRANDCHILD_FW]


async def test_child_does_not_block_a_new_rest_execution_for_the_contact() -> None:
    h = Harness(_parent(), flows={CHILD_FW: _child(wait=True)})
    await h.start({"name": "ada"})
    # The child is not exclusive, so the child flow can still be run by REST for this contact.
    other = await h.start(flow_sid=CHILD_FW)  # no ExecutionAlreadyActive
    assert h.steps(other) == [("incomingRequest", "Trigger", "Ended")]


async def test_unwired_incoming_parent_completes_with_no_variables() -> None:
    h = Harness(_parent(), flows={CHILD_FW: definition(trigger())})
    parent = await h.start({"name": "ada"})
    child = _child_of(h, parent)
    assert h.steps(child) == [("incomingParent", "Trigger", "Ended")]
    assert h.steps(parent)[1] == ("completed", "sub", "done")
    assert h.widgets(parent)["sub"] == {}


def test_subflow_runs_without_an_event_loop() -> None:
    # In-process use without asyncio (scripts, REPL): the child and the parent's resumption
    # both run before create_execution returns.
    h = Harness(_parent(), flows={CHILD_FW: _child()})
    parent = h.account.create_execution(FW, CONTACT, NUMBER, '{"name": "ada"}')
    assert parent.status == ENDED
    assert h.steps(parent)[1] == ("completed", "sub", "done")
    assert [m.account_sid for m in h.engine.messages.list(AC)] == [AC]


async def test_ending_or_deleting_the_child_through_the_api_fails_the_parent() -> None:
    for how in ("end", "delete"):
        h = Harness(_parent(), flows={CHILD_FW: _child(wait=True)})
        parent = await h.start({"name": "zeke"})
        child = _child_of(h, parent)
        assert h.parked_on(parent) == "sub"
        if how == "end":
            h.account.update_execution(CHILD_FW, child.sid, ENDED)
        else:
            h.account.delete_execution(CHILD_FW, child.sid)
        await h.engine.drain()
        assert parent.status == ENDED, how
        assert ("failed", "sub", "broken") in h.steps(parent), how
        await h.close()


async def test_typed_parameters_reach_the_child_as_the_export_says() -> None:
    # A Console export types every parameter: a json_object one arrives as an object.
    parent = rest_flow(
        "sub",
        widget(
            "sub",
            "run-subflow",
            {"completed": None},
            flow_sid=CHILD_FW,
            flow_revision="LatestPublished",
            parameters=[
                {"key": "flow", "value": "{{flow}}", "type": "json_object"},
                {"key": "tax_id", "value": "{{flow.data.tax_id}}", "type": "string"},
                {"key": "price", "value": "19.90"},
            ],
        ),
    )
    child = definition(
        trigger(incomingParent="vars"),
        widget(
            "vars",
            "set-variables",
            {"next": None},
            variables=[
                {"key": "who", "value": "{{trigger.parent.parameters.flow.data.name}}", "type": "string"},
                {"key": "tax_id", "value": "{{trigger.parent.parameters.tax_id}}", "type": "string"},
            ],
        ),
    )
    h = Harness(parent, flows={CHILD_FW: child})
    execution = await h.start({"name": "Ada", "tax_id": "12345678000195"})
    parameters = h.context(_child_of(h, execution))["trigger"]["parent"]["parameters"]
    assert parameters["flow"]["data"] == {"name": "Ada", "tax_id": "12345678000195"}
    assert parameters["tax_id"] == "12345678000195"
    assert parameters["price"] == "19.90"
    assert h.widgets(execution)["sub"] == {"who": "Ada", "tax_id": "12345678000195"}


def test_a_parent_is_settled_only_when_its_child_is(live: MockStudioServer, http: httpx.Client, web: WebApp) -> None:
    # The child is in a slow HTTP call: the parent, parked on run-subflow, is not settled.
    parent = install_flow(live, "FW" + "5" * 32, _parent(flow_sid="FW" + "6" * 32))
    child = definition(
        trigger(incomingParent="call"),
        widget("call", "make-http-request", {"success": "vars", "failed": "vars"}, url=web.url("/slow")),
        widget("vars", "set-variables", {"next": None}, variables=[{"key": "shout", "value": "done"}]),
    )
    install_flow(live, "FW" + "6" * 32, child)
    created = http.post(f"/v2/Flows/{parent}/Executions", data={"To": CONTACT, "From": NUMBER})
    assert created.status_code == 201, created.text
    sid = created.json()["sid"]
    state = http.get(f"/_mockstudio/executions/{sid}/settled", params={"timeout": 0.5}).json()
    assert (state["settled"], state["status"], state["waiting_on"]) == (False, "active", "sub")
    web.release.set()
    state = settle(http, sid)
    assert state["status"] == "ended"
    assert ("completed", "sub", "done") in api_steps(http, parent, sid)


def test_a_parent_whose_child_waits_for_a_reply_is_settled(live: MockStudioServer, http: httpx.Client) -> None:
    parent = install_flow(live, "FW" + "5" * 32, _parent(flow_sid="FW" + "6" * 32))
    install_flow(live, "FW" + "6" * 32, _child(wait=True))
    created = http.post(f"/v2/Flows/{parent}/Executions", data={"To": CONTACT, "From": NUMBER})
    state = settle(http, created.json()["sid"])
    assert (state["status"], state["waiting_on"]) == ("active", "sub")


async def test_the_child_sees_the_parents_channel_as_trigger_type() -> None:
    # A shared subflow branching on how its parent was reached (message, call, conversation).
    sub = widget("sub", "run-subflow", {"completed": None}, flow_sid=CHILD_FW)
    parent = definition(trigger(incomingMessage="sub", incomingCall="sub", incomingConversationMessage="sub"), sub)
    child = definition(
        trigger(incomingParent="vars"),
        widget(
            "vars",
            "set-variables",
            {"next": None},
            variables=[{"key": "via", "value": "{{trigger.parent.trigger_type}}", "type": "string"}],
        ),
    )
    h = Harness(parent, flows={CHILD_FW: child}, numbers=(NUMBER,))
    seen = []
    for deliver in (
        lambda: h.account.receive_message(CONTACT, NUMBER, "hi"),
        lambda: h.account.receive_call(CONTACT, NUMBER),
        lambda: h.account.receive_conversation_message(CONTACT, NUMBER, "hi"),
    ):
        execution, action, _ = deliver()
        await h.engine.drain()
        assert action == "started" and execution.status == ENDED
        seen.append(h.widgets(execution)["sub"]["via"])
    assert seen == ["message", "call", "conversation"]
