"""The Flow operations through the real, unmodified twilio-python SDK, and one execution run
end to end on a flow created through the API: message out, a reply through the control
plane, a split on the reply, a confirmation; then its Steps and both Contexts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from mockstudio.testing import MockStudioServer

from .helpers import rest_trigger

FLOW_FROM = "+15005550006"
CONTACT = "+15551239876"
INVALID_MESSAGE = (
    "The Flow Definition is invalid. Check the error response details for an array of validation failures."
)


def survey() -> dict[str, Any]:
    """Trigger -> ask (send-and-wait-for-reply) -> check (split on the reply) -> thanks."""
    return {
        "description": "Asks a question and thanks a yes",
        "states": [
            rest_trigger("ask"),
            {
                "name": "ask",
                "type": "send-and-wait-for-reply",
                "transitions": [
                    {"next": "check", "event": "incomingMessage"},
                    {"event": "timeout"},
                    {"event": "deliveryFailure"},
                ],
                "properties": {
                    "offset": {"x": 0, "y": 200},
                    "from": "{{flow.channel.address}}",
                    "body": "Hi {{flow.data.name}}, shall we call you? Reply yes or no.",
                    "timeout": "3600",
                },
            },
            {
                "name": "check",
                "type": "split-based-on",
                "transitions": [
                    {"event": "noMatch"},
                    {
                        "next": "thanks",
                        "event": "match",
                        "conditions": [
                            {
                                "friendly_name": "yes",
                                "arguments": ["{{widgets.ask.inbound.Body}}"],
                                "type": "equal_to",
                                "value": "yes",
                            }
                        ],
                    },
                ],
                "properties": {"input": "{{widgets.ask.inbound.Body}}", "offset": {"x": 0, "y": 400}},
            },
            {
                "name": "thanks",
                "type": "send-message",
                "transitions": [{"event": "sent"}, {"event": "failed"}],
                "properties": {
                    "offset": {"x": 0, "y": 600},
                    "from": "{{flow.channel.address}}",
                    "to": "{{contact.channel.address}}",
                    "body": "Thanks {{flow.data.name}}, we will call you.",
                },
            },
        ],
        "initial_state": "Trigger",
        "flags": {"allow_concurrent_calls": True},
    }


@pytest.fixture
def client(live: MockStudioServer) -> Client:
    client = Client(live.account_sid, live.auth_token)
    client.studio.base_url = live.base_url
    return client


def test_flow_lifecycle_through_the_sdk(client: Client, live: MockStudioServer) -> None:
    flows = client.studio.v2.flows
    created = flows.create(friendly_name="Survey", status="published", definition=survey(), commit_message="v1")
    assert created.sid.startswith("FW") and len(created.sid) == 34
    assert (created.friendly_name, created.status, created.revision) == ("Survey", "published", 1)
    assert created.definition == survey() and created.valid is True and created.errors == []
    assert created.date_created == datetime.fromtimestamp(1_700_000_000, UTC)
    assert created.links["revisions"] == f"{live.base_url}/v2/Flows/{created.sid}/Revisions"

    flow = flows(created.sid)
    assert flow.fetch().commit_message == "v1"
    assert created.sid in [f.sid for f in flows.list()]

    draft = flow.update(status="draft", friendly_name="Survey (editing)", commit_message="editing")
    assert (draft.revision, draft.status, draft.friendly_name) == (2, "draft", "Survey (editing)")
    republished = flow.update(status="published")
    assert (republished.revision, republished.status) == (3, "published")

    revisions = flow.revisions.list()
    assert [r.revision for r in revisions] == [3, 2, 1]
    assert all(r.definition is None and r.valid is None for r in revisions)  # list items
    assert [r.revision for r in flow.revisions.list(page_size=1)] == [3, 2, 1]  # follows next_page_url
    latest = flow.revisions("LatestPublished").fetch()
    assert (latest.revision, latest.status, latest.definition) == (3, "published", survey())
    assert flow.revisions("LatestRevision").fetch().revision == 3
    assert flow.revisions("2").fetch().commit_message == "editing"
    with pytest.raises(TwilioRestException) as missing:
        flow.revisions("7").fetch()
    assert (missing.value.status, missing.value.code) == (404, 20404)

    test_users = flow.test_users().update(test_users=["alice", "bob"])
    assert (test_users.sid, test_users.test_users) == (created.sid, ["alice", "bob"])
    assert test_users.url == f"{live.base_url}/v2/Flows/{created.sid}/TestUsers"
    assert flow.test_users().fetch().test_users == ["alice", "bob"]

    assert flow.delete() is True
    with pytest.raises(TwilioRestException) as gone:
        flow.fetch()
    assert (gone.value.status, gone.value.code) == (404, 20404)


def test_validate_and_81022_through_the_sdk(client: Client) -> None:
    validated = client.studio.v2.flow_validate.update(friendly_name="x", status="draft", definition=survey())
    assert validated.valid is True
    broken = survey()
    broken["states"][1]["transitions"][0]["next"] = "nowhere"
    for call in (
        lambda: client.studio.v2.flow_validate.update(friendly_name="x", status="draft", definition=broken),
        lambda: client.studio.v2.flows.create(friendly_name="x", status="draft", definition=broken),
    ):
        with pytest.raises(TwilioRestException) as info:
            call()
        error = info.value
        assert (error.status, error.code) == (400, 81022)
        assert error.msg.endswith(INVALID_MESSAGE)
        assert error.details == {
            "errors": [
                {
                    "message": "transition to 'nowhere', which is not a widget of this flow",
                    "property_path": "#/states/1/transitions/0/next",
                }
            ]
        }


def test_an_execution_end_to_end_on_a_flow_created_through_the_api(client: Client, live: MockStudioServer) -> None:
    flow = client.studio.v2.flows.create(friendly_name="Survey", status="published", definition=survey())
    executions = client.studio.v2.flows(flow.sid).executions
    execution = executions.create(to=CONTACT, from_=FLOW_FROM, parameters={"name": "Zeke"})
    assert execution.flow_version == 1 and execution.status == "active"

    with httpx.Client(base_url=live.base_url, auth=(live.account_sid, live.auth_token), timeout=30) as http:
        parked = http.get(f"/_mockstudio/executions/{execution.sid}/settled").json()
        assert parked["settled"] is True and parked["waiting_on"] == "ask"
        reply = http.post("/_mockstudio/messages", data={"From": CONTACT, "To": FLOW_FROM, "Body": "yes"})
        assert reply.status_code == 200, reply.text
        assert reply.json()["action"] == "resumed" and reply.json()["execution_sid"] == execution.sid
        done = http.get(f"/_mockstudio/executions/{execution.sid}/settled").json()
        assert done["status"] == "ended"
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
