"""Flows run end to end, driven through the real twilio-python SDK: execute the bundled demo
flow (and one created through the API), reply through the control plane, then read the
path back through Steps, Step Context and Execution Context as a user of the SDK would."""

from __future__ import annotations

import json

import httpx
from twilio.rest import Client  # type: ignore[import-untyped]

from ..conftest import DEMO_FLOW
from ..helpers import survey_flow
from .support import settle

CONTACT = "+15551230001"
FLOW_NUMBER = "+15005550006"


def test_demo_flow_through_the_sdk(sdk: Client, http: httpx.Client) -> None:
    flow = sdk.studio.v2.flows(DEMO_FLOW)
    execution = flow.executions.create(to=CONTACT, from_=FLOW_NUMBER, parameters={"name": "Zeke"})
    assert execution.sid.startswith("FN")
    assert execution.status == "active"
    assert execution.contact_channel_address == CONTACT

    # The demo greets and waits for a reply.
    state = settle(http, execution.sid)
    assert (state["status"], state["waiting_on"]) == ("active", "greet")
    outbox = http.get("/_mockstudio/messages", params={"execution_sid": execution.sid}).json()["messages"]
    assert [(m["direction"], m["to"], m["body"]) for m in outbox] == [
        ("outbound", CONTACT, "Hi Zeke! Would you like a callback? Reply YES or NO.")
    ]
    greeting_sid = outbox[0]["sid"]

    reply = http.post("/_mockstudio/messages", data={"From": CONTACT, "To": FLOW_NUMBER, "Body": "Yes"})
    assert reply.status_code == 200, reply.text
    assert reply.json()["action"] == "resumed"
    assert settle(http, execution.sid)["status"] == "ended"
    assert flow.executions(execution.sid).fetch().status == "ended"

    steps = flow.executions(execution.sid).steps.list()
    # Newest first, one per transition taken.
    assert [(s.name, s.transitioned_from, s.transitioned_to, s.type) for s in steps] == [
        ("sent", "confirm", "Ended", "send-message"),
        ("match", "check_reply", "confirm", "split-based-on"),
        ("incomingMessage", "greet", "check_reply", "send-and-wait-for-reply"),
        ("incomingRequest", "Trigger", "greet", "trigger"),
    ]
    assert all(s.sid.startswith("FT") and s.execution_sid == execution.sid for s in steps)
    assert all(s.parent_step_sid is None for s in steps)

    # The context as it stood after the greet step: the widget's outbound and inbound.
    greet_step = steps[2]
    step_context = flow.executions(execution.sid).steps(greet_step.sid).step_context().fetch()
    assert step_context.step_sid == greet_step.sid
    greet = step_context.context["widgets"]["greet"]
    assert greet["outbound"]["Sid"] == greeting_sid
    assert greet["outbound"]["Body"] == "Hi Zeke! Would you like a callback? Reply YES or NO."
    assert (greet["inbound"]["Body"], greet["inbound"]["From"], greet["inbound"]["To"]) == (
        "Yes",
        CONTACT,
        FLOW_NUMBER,
    )
    assert "confirm" not in step_context.context["widgets"]  # not run yet at that step
    first_context = flow.executions(execution.sid).steps(steps[3].sid).step_context().fetch().context
    assert first_context["widgets"] == {}

    # The execution's latest context has everything.
    context = flow.executions(execution.sid).execution_context().fetch().context
    assert context["flow"]["data"] == {"name": "Zeke"}
    assert context["flow"]["sid"] == execution.sid
    assert context["flow"]["flow_sid"] == DEMO_FLOW
    assert context["flow"]["channel"]["address"] == FLOW_NUMBER
    assert context["contact"]["channel"]["address"] == CONTACT
    assert context["trigger"]["request"]["parameters"] == {"name": "Zeke"}
    assert context["widgets"]["greet"]["inbound"]["Body"] == "Yes"
    assert context["widgets"]["confirm"]["outbound"]["Body"] == "Thanks Zeke, we will call you back."
    assert context["widgets"]["confirm"]["outbound"]["To"] == CONTACT
    json.dumps(context)  # plain JSON all the way down


def test_demo_flow_timeout_through_the_sdk(sdk: Client, http: httpx.Client) -> None:
    flow = sdk.studio.v2.flows(DEMO_FLOW)
    execution = flow.executions.create(to=CONTACT, from_=FLOW_NUMBER)
    settle(http, execution.sid)
    assert http.post("/_mockstudio/clock", data={"advance": "3600"}).json()["fired"] == 1
    settle(http, execution.sid)
    steps = flow.executions(execution.sid).steps.list()
    assert [(s.name, s.transitioned_from, s.transitioned_to) for s in steps] == [
        ("timeout", "greet", "Ended"),
        ("incomingRequest", "Trigger", "greet"),
    ]
    context = flow.executions(execution.sid).execution_context().fetch().context
    assert context["widgets"]["greet"]["outbound"]["Body"].startswith("Hi there!")
    assert "inbound" not in context["widgets"]["greet"]


def test_a_flow_created_through_the_api_runs_through_the_sdk(sdk: Client, http: httpx.Client) -> None:
    flow = sdk.studio.v2.flows.create(friendly_name="Survey", status="published", definition=survey_flow())
    executions = sdk.studio.v2.flows(flow.sid).executions
    execution = executions.create(to=CONTACT, from_=FLOW_NUMBER, parameters={"name": "Zeke"})
    assert execution.flow_version == 1 and execution.status == "active"

    assert settle(http, execution.sid)["waiting_on"] == "ask"
    reply = http.post("/_mockstudio/messages", data={"From": CONTACT, "To": FLOW_NUMBER, "Body": "yes"})
    assert reply.status_code == 200, reply.text
    assert reply.json()["action"] == "resumed" and reply.json()["execution_sid"] == execution.sid
    assert settle(http, execution.sid)["status"] == "ended"
    messages = http.get("/_mockstudio/messages", params={"execution_sid": execution.sid}).json()["messages"]
    assert [(m["direction"], m["body"]) for m in messages] == [
        ("outbound", "Hi Zeke, shall we call you? Reply yes or no."),
        ("inbound", "yes"),
        ("outbound", "Thanks Zeke, we will call you."),
    ]

    this = executions(execution.sid)
    assert this.fetch().status == "ended"
    steps = this.steps.list()
    assert [(s.transitioned_from, s.transitioned_to) for s in reversed(steps)] == [
        ("Trigger", "ask"),
        ("ask", "check"),
        ("check", "thanks"),
        ("thanks", "Ended"),
    ]
    context = this.execution_context().fetch().context
    assert context["flow"]["data"] == {"name": "Zeke"}
    assert context["contact"]["channel"]["address"] == CONTACT
    assert context["widgets"]["ask"]["inbound"]["Body"] == "yes"
    assert context["widgets"]["thanks"]["outbound"]["Body"] == "Thanks Zeke, we will call you."
    # The step that left `ask` saw the reply but not yet the confirmation.
    after_ask = next(s for s in steps if s.transitioned_from == "ask")
    step_context = this.steps(after_ask.sid).step_context().fetch()
    assert step_context.step_sid == after_ask.sid and step_context.flow_sid == flow.sid
    assert step_context.context["widgets"]["ask"]["inbound"]["Body"] == "yes"
    assert "thanks" not in step_context.context["widgets"]
