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
        assert execution["status"] == "ended" and execution["initiated_by"] == body["message_sid"]


def test_inbound_routes_need_from_and_to_and_a_bound_number(live: MockStudioServer, http: httpx.Client) -> None:
    for route in ("messages", "conversations", "calls"):
        missing = http.post(f"/_mockstudio/{route}", data={"To": NUMBER})
        assert missing.status_code == 400 and missing.json()["code"] == 20001
        unbound = http.post(f"/_mockstudio/{route}", data={"From": CONTACT, "To": "+19999999999"})
        assert unbound.status_code == 404 and unbound.json()["code"] == 20404
