"""The trigger widget: which event starts an execution, what the first step looks like and
what the trigger puts in the context (studio-flows.md §2.1 trigger, §4.1, §5.3)."""

from __future__ import annotations

from mockstudio.domain.models import ACTIVE, ENDED

from .support import CONTACT, FW, NUMBER, Harness, definition, rest_flow, say, trigger, widget


async def test_unwired_rest_trigger_ends_at_once_with_one_step() -> None:
    # The docs' Step fixture: incomingRequest, Trigger -> Ended.
    h = Harness(definition(trigger()))
    execution = await h.start({"name": "Zeke"})
    assert execution.status == ENDED
    assert h.steps(execution) == [("incomingRequest", "Trigger", "Ended")]
    (step,) = h.step_objects(execution)
    assert step.type == "trigger"
    assert step.parent_step_sid is None
    assert step.sid.startswith("FT")


async def test_rest_trigger_leads_to_its_widget() -> None:
    h = Harness(rest_flow("hello", say("hello", "Hi {{flow.data.name}}")))
    execution = await h.start({"name": "Zeke"})
    assert h.steps(execution) == [("incomingRequest", "Trigger", "hello"), ("sent", "hello", "Ended")]
    assert [s.type for s in h.step_objects(execution)] == ["trigger", "send-message"]
    assert h.messages(execution) == [("outbound", "Hi Zeke")]


async def test_only_the_rest_event_runs_for_a_rest_execution() -> None:
    # A flow wiring incomingMessage only: a REST execution takes the unwired incomingRequest.
    h = Harness(definition(trigger(incomingMessage="hello"), say("hello", "Hi")))
    execution = await h.start()
    assert h.steps(execution) == [("incomingRequest", "Trigger", "Ended")]
    assert h.messages() == []


async def test_rest_context_roots() -> None:
    h = Harness(definition(trigger()))
    execution = await h.start({"name": "Zeke", "appointment": {"time": "10:00"}}, to=CONTACT, from_=NUMBER)
    context = h.context(execution)
    assert set(context) == {"flow", "contact", "trigger", "widgets"}
    assert context["flow"]["flow_sid"] == FW
    assert context["flow"]["sid"] == execution.sid  # flow.sid is the *execution* SID
    assert context["flow"]["channel"] == {"address": NUMBER}
    assert context["flow"]["data"] == {"name": "Zeke", "appointment": {"time": "10:00"}}
    assert context["contact"] == {"channel": {"address": CONTACT}}
    assert context["trigger"] == {
        "request": {
            "from": NUMBER,
            "to": CONTACT,
            "parameters": {"name": "Zeke", "appointment": {"time": "10:00"}},
        }
    }
    assert context["widgets"] == {}


async def test_rest_execution_renders_message_trigger_paths_empty() -> None:
    # Exported send-message widgets carry {{trigger.message.InstanceSid}}: blank, not an error.
    flow = rest_flow(
        "hello",
        widget(
            "hello",
            "send-message",
            {"sent": None, "failed": None},
            body="[{{trigger.message.Body}}][{{trigger.parameters.name}}][{{trigger.request.parameters.name}}]",
            service="{{trigger.message.InstanceSid}}",
            channel="{{trigger.message.ChannelSid}}",
        ),
    )
    h = Harness(flow)
    execution = await h.start({"name": "Zeke"})
    assert h.messages(execution) == [("outbound", "[][][Zeke]")]


async def test_rest_execution_without_parameters_has_empty_flow_data() -> None:
    h = Harness(rest_flow("hello", say("hello", "Hi {{flow.data.name | default: 'there'}}")))
    execution = await h.start()
    assert h.context(execution)["flow"]["data"] == {}
    assert h.messages(execution) == [("outbound", "Hi there")]


async def test_incoming_message_starts_an_execution_on_a_bound_number() -> None:
    flow = definition(
        trigger(incomingMessage="echo", incomingRequest=None),
        say("echo", "You said {{trigger.message.Body}} from {{contact.channel.address}}"),
    )
    h = Harness(flow, numbers=(NUMBER,))
    execution, action = await h.inbound("hello", from_=CONTACT, to=NUMBER)
    assert action == "started"
    assert h.steps(execution) == [("incomingMessage", "Trigger", "echo"), ("sent", "echo", "Ended")]
    context = h.context(execution)
    # For inbound triggers the flow's address is the message's To, the contact its From.
    assert context["flow"]["channel"]["address"] == NUMBER
    assert context["contact"]["channel"]["address"] == CONTACT
    assert context["trigger"]["message"]["Body"] == "hello"
    assert context["trigger"]["message"]["From"] == CONTACT
    assert context["trigger"]["message"]["MessageSid"].startswith("SM")
    assert "request" not in context["trigger"]
    assert h.messages() == [("inbound", "hello"), ("outbound", f"You said hello from {CONTACT}")]
    assert execution.initiated_by == context["trigger"]["message"]["MessageSid"]


async def test_rest_execution_is_initiated_by_a_request_sid() -> None:
    h = Harness(definition(trigger()))
    execution = await h.start()
    assert execution.initiated_by is not None and execution.initiated_by.startswith("RQ")


async def test_an_edge_back_into_the_trigger_ends_the_execution() -> None:
    # Studio's editor has no such edge; a hand-written one ends there, on a step "reentered".
    flow = rest_flow("again", widget("again", "set-variables", {"next": "Trigger"}, variables=[]))
    h = Harness(flow)
    execution = await h.start()
    assert execution.status == ENDED
    assert h.steps(execution) == [
        ("incomingRequest", "Trigger", "again"),
        ("next", "again", "Trigger"),
        ("reentered", "Trigger", "Ended"),
    ]


async def test_execution_is_active_until_the_flow_ends() -> None:
    flow = rest_flow("ask", widget("ask", "send-and-wait-for-reply", {"incomingMessage": None}, body="?"))
    h = Harness(flow)
    execution = await h.start()
    assert execution.status == ACTIVE
    assert h.steps(execution) == [("incomingRequest", "Trigger", "ask")]


async def test_incoming_call_starts_an_execution_with_trigger_call() -> None:
    h = Harness(
        definition(trigger(incomingCall="greet"), widget("greet", "say-play", {"audioComplete": None})),
        numbers=(NUMBER,),
    )
    execution, action, call_sid = h.account.receive_call(CONTACT, NUMBER)
    await h.engine.drain()
    assert action == "started" and call_sid.startswith("CA")
    assert execution.initiated_by == call_sid
    assert h.steps(execution) == [("incomingCall", "Trigger", "greet"), ("audioComplete", "greet", "Ended")]
    call = h.context(execution)["trigger"]["call"]
    assert (call["From"], call["To"], call["CallSid"], call["Direction"]) == (CONTACT, NUMBER, call_sid, "inbound")
    assert h.context(execution)["contact"] == {"channel": {"address": CONTACT}}
    assert h.context(execution)["flow"]["channel"] == {"address": NUMBER}


async def test_concurrent_calls_follow_the_flow_flag() -> None:
    waiting = widget("menu", "gather-input-on-call", {"keypress": None, "speech": None, "timeout": None})
    for allow, expected in ((True, "started"), (False, "ignored")):
        flow = definition(trigger(incomingCall="menu"), waiting)
        flow["flags"] = {"allow_concurrent_calls": allow}
        h = Harness(flow, numbers=(NUMBER,))
        first, _, _ = h.account.receive_call(CONTACT, NUMBER)
        await h.engine.drain()
        second, action, _ = h.account.receive_call(CONTACT, NUMBER)
        await h.engine.drain()
        assert action == expected, allow
        assert (second is first) is (not allow)


async def test_incoming_conversation_message_starts_then_resumes() -> None:
    flow = definition(
        trigger(incomingConversationMessage="ask"),
        widget(
            "ask", "send-and-wait-for-reply", {"incomingMessage": "echo"}, body="You said {{trigger.conversation.Body}}"
        ),
        say("echo", "Then: {{widgets.ask.inbound.Body}}"),
    )
    h = Harness(flow, numbers=(NUMBER,))
    execution, action, sid = h.account.receive_conversation_message(CONTACT, NUMBER, "hello")
    await h.engine.drain()
    assert action == "started" and sid.startswith("IM")
    conversation = h.context(execution)["trigger"]["conversation"]
    assert conversation["Body"] == "hello" and conversation["ConversationSid"].startswith("CH")
    assert h.parked_on(execution) == "ask"
    resumed, action, _ = h.account.receive_conversation_message(CONTACT, NUMBER, "more")
    await h.engine.drain()
    assert (resumed, action) == (execution, "resumed")
    assert execution.status == ENDED
    assert h.messages(execution)[-1] == ("outbound", "Then: more")
