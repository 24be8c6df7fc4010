"""The control plane's inbound triggers over HTTP: messages, Conversations messages, calls."""

from __future__ import annotations

import httpx

from mockstudio.testing import MockStudioServer

from .support import install_flow, settle

FLOW = "FW" + "7" * 32
NUMBER = "+15017122661"
CONTACT = "+15558675310"


def _flow() -> dict[str, object]:
    return {
        "description": "answers every inbound trigger",
        "initial_state": "Trigger",
        "states": [
            {
                "name": "Trigger",
                "type": "trigger",
                "transitions": [
                    {"event": "incomingMessage", "next": "hello"},
                    {"event": "incomingCall", "next": "greet"},
                    {"event": "incomingConversationMessage", "next": "hello"},
                    {"event": "incomingRequest"},
                    {"event": "incomingParent"},
                ],
                "properties": {},
            },
            {
                "name": "hello",
                "type": "send-message",
                "transitions": [{"event": "sent"}, {"event": "failed"}],
                "properties": {"body": "hi {{contact.channel.address}}"},
            },
            {
                "name": "greet",
                "type": "say-play",
                "transitions": [{"event": "audioComplete"}],
                "properties": {"say": "hello"},
            },
        ],
    }


def test_each_inbound_route_starts_its_trigger_event(live: MockStudioServer, http: httpx.Client) -> None:
    install_flow(live, FLOW, _flow(), numbers=(NUMBER,))
    for route, event in (
        ("messages", "incomingMessage"),
        ("conversations", "incomingConversationMessage"),
        ("calls", "incomingCall"),
    ):
        response = http.post(f"/_mockstudio/{route}", data={"From": CONTACT, "To": NUMBER, "Body": "hey"})
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["action"] == "started" and body["flow_sid"] == FLOW
        settle(http, body["execution_sid"])
        steps = http.get(f"/v2/Flows/{FLOW}/Executions/{body['execution_sid']}/Steps").json()["steps"]
        assert steps[-1]["name"] == event
        execution = http.get(f"/v2/Flows/{FLOW}/Executions/{body['execution_sid']}").json()
        sid_key = "call_sid" if route == "calls" else "message_sid"
        assert execution["status"] == "ended" and execution["initiated_by"] == body[sid_key]
        assert body[sid_key].startswith({"messages": "SM", "conversations": "IM", "calls": "CA"}[route])
        assert ("message_sid" in body) is (route != "calls")


def _waits_in_a_conversation() -> dict[str, object]:
    flow = _flow()
    states = flow["states"]
    assert isinstance(states, list)
    states[1] = {
        "name": "hello",
        "type": "send-and-wait-for-reply",
        "transitions": [{"event": "incomingMessage", "next": "greet"}, {"event": "timeout"}],
        "properties": {"body": "in {{flow.channel.address}}", "timeout": "3600"},
    }
    states[2] = {
        "name": "greet",
        "type": "send-message",
        "transitions": [{"event": "sent"}, {"event": "failed"}],
        "properties": {
            "body": "{{widgets.hello.inbound.ConversationSid}} {{widgets.hello.inbound.ParticipantSid}}",
            "to": "{{flow.channel.address}}",
        },
    }
    return flow


def test_a_conversation_keeps_its_identity(live: MockStudioServer, http: httpx.Client) -> None:
    install_flow(live, FLOW, _waits_in_a_conversation(), numbers=(NUMBER,))
    first = http.post("/_mockstudio/conversations", data={"From": CONTACT, "To": NUMBER, "Body": "hi"}).json()
    conversation, participant = first["conversation_sid"], first["participant_sid"]
    assert conversation.startswith("CH") and participant.startswith("MB")
    assert conversation[2:] != participant[2:]
    settle(http, first["execution_sid"])
    context = http.get(f"/v2/Flows/{FLOW}/Executions/{first['execution_sid']}/Context").json()["context"]
    trigger = context["trigger"]["conversation"]
    assert (trigger["ConversationSid"], trigger["ParticipantSid"]) == (conversation, participant)
    # Studio's channel for a Conversations execution is the conversation itself.
    assert context["flow"]["channel"]["address"] == conversation
    assert context["contact"]["channel"]["address"] == CONTACT

    reply = http.post("/_mockstudio/conversations", data={"From": CONTACT, "To": NUMBER, "Body": "again"}).json()
    assert (reply["action"], reply["execution_sid"]) == ("resumed", first["execution_sid"])
    assert (reply["conversation_sid"], reply["participant_sid"]) == (conversation, participant)
    settle(http, first["execution_sid"])
    sent = http.get("/_mockstudio/messages", params={"execution_sid": first["execution_sid"]}).json()["messages"]
    assert [m["body"] for m in sent if m["direction"] == "outbound"] == [
        f"in {conversation}",
        f"{conversation} {participant}",
    ]

    # The next execution of the same contact is in the same conversation; another
    # contact's is not.
    again = http.post("/_mockstudio/conversations", data={"From": CONTACT, "To": NUMBER, "Body": "x"}).json()
    assert again["action"] == "started" and again["conversation_sid"] == conversation
    other = http.post("/_mockstudio/conversations", data={"From": "+15550001111", "To": NUMBER, "Body": "x"}).json()
    assert other["conversation_sid"] != conversation and other["participant_sid"] != participant


def test_inbound_routes_need_from_and_to_and_a_bound_number(live: MockStudioServer, http: httpx.Client) -> None:
    for route in ("messages", "conversations", "calls"):
        missing = http.post(f"/_mockstudio/{route}", data={"To": NUMBER})
        assert missing.status_code == 400 and missing.json()["code"] == 20001
        unbound = http.post(f"/_mockstudio/{route}", data={"From": CONTACT, "To": "+19999999999"})
        assert unbound.status_code == 404 and unbound.json()["code"] == 20404
