"""send-message: the outbound message is recorded (an SM SID in the message log) and its
fields are the widget's `outbound.*` outputs; a scripted failure takes `failed`
(studio-flows.md §2.1)."""

from __future__ import annotations

import httpx

from mockstudio.engine.scripts import ScriptedOutcome
from mockstudio.testing import MockStudioServer

from .support import AC, CONTACT, FW, NUMBER, Harness, api_steps, install_flow, rest_flow, say, settle, widget


async def test_message_is_recorded_and_output() -> None:
    h = Harness(rest_flow("hello", say("hello", "Hi {{flow.data.name}}")))
    execution = await h.start({"name": "Zeke"})
    assert h.steps(execution) == [("incomingRequest", "Trigger", "hello"), ("sent", "hello", "Ended")]
    (message,) = h.engine.messages.list(AC)
    assert message.sid.startswith("SM") and len(message.sid) == 34
    assert (message.direction, message.from_, message.to, message.body) == ("outbound", NUMBER, CONTACT, "Hi Zeke")
    assert message.status == "queued"
    assert (message.execution_sid, message.flow_sid) == (execution.sid, FW)
    outbound = h.widgets(execution)["hello"]["outbound"]
    assert outbound["Sid"] == message.sid
    assert outbound["Status"] == "queued"
    assert (outbound["Body"], outbound["From"], outbound["To"]) == ("Hi Zeke", NUMBER, CONTACT)
    assert outbound["AccountSid"] == AC
    assert outbound["Direction"] == "outbound-api"
    assert outbound["NumMedia"] == "0"
    # No top-level sid/status: Studio exposes them under outbound only.
    assert set(h.widgets(execution)["hello"]) == {"outbound"}


async def test_explicit_from_and_to_with_liquid() -> None:
    flow = rest_flow(
        "hello",
        widget(
            "hello",
            "send-message",
            {"sent": None, "failed": None},
            body="Ping",
            to="{{flow.data.other}}",
            **{"from": "MG{{flow.data.service}}"},
        ),
    )
    h = Harness(flow)
    execution = await h.start({"other": "+15550000042", "service": "0" * 32})
    outbound = h.widgets(execution)["hello"]["outbound"]
    assert outbound["To"] == "+15550000042"
    assert outbound["From"] == "MG" + "0" * 32
    assert outbound["MessagingServiceSid"] == "MG" + "0" * 32


async def test_media_url_counts_as_media() -> None:
    flow = rest_flow(
        "pic",
        widget("pic", "send-message", {"sent": None}, body="look", media_url="https://example.com/{{flow.data.img}}"),
    )
    h = Harness(flow)
    execution = await h.start({"img": "cat.png"})
    assert h.widgets(execution)["pic"]["outbound"]["NumMedia"] == "1"
    (message,) = h.engine.messages.list(AC)
    assert message.media_url == ("https://example.com/cat.png",)


async def test_later_widgets_read_the_outbound_message() -> None:
    flow = rest_flow(
        "first",
        say("first", "one", "second"),
        say("second", "previous was {{widgets.first.outbound.Body}} ({{widgets.first.outbound.Status}})"),
    )
    h = Harness(flow)
    execution = await h.start()
    assert h.messages(execution) == [("outbound", "one"), ("outbound", "previous was one (queued)")]


async def test_scripted_failure_takes_failed() -> None:
    flow = rest_flow(
        "hello",
        widget("hello", "send-message", {"sent": None, "failed": "sorry"}, body="Hi"),
        say("sorry", "could not send: {{widgets.hello.outbound.ErrorCode}}"),
    )
    h = Harness(flow)
    h.script("hello", ScriptedOutcome(event="failed", outputs={"outbound": {"ErrorCode": 30003}}))
    execution = await h.start()
    assert h.steps(execution) == [
        ("incomingRequest", "Trigger", "hello"),
        ("failed", "hello", "sorry"),
        ("sent", "sorry", "Ended"),
    ]
    failed, apology = h.engine.messages.list(AC)
    assert (failed.body, failed.status) == ("Hi", "failed")
    outbound = h.widgets(execution)["hello"]["outbound"]
    # A real API failure still has the whole outbound map, with the error.
    assert outbound["Sid"] == failed.sid
    assert outbound["Status"] == "failed"
    assert outbound["ErrorCode"] == 30003
    assert outbound["ErrorMessage"]
    assert apology.body == "could not send: 30003"


async def test_scripted_sent_still_sends() -> None:
    h = Harness(rest_flow("hello", say("hello", "Hi")))
    h.script("hello", ScriptedOutcome(event="sent", outputs={"outbound": {"Status": "delivered"}}))
    execution = await h.start()
    assert h.steps(execution)[1] == ("sent", "hello", "Ended")
    assert h.messages() == [("outbound", "Hi")]
    outbound = h.widgets(execution)["hello"]["outbound"]
    assert outbound["Status"] == "delivered" and outbound["Sid"].startswith("SM")


async def test_script_is_used_once() -> None:
    flow = rest_flow("hello", widget("hello", "send-message", {"sent": None, "failed": None}, body="Hi"))
    h = Harness(flow)
    h.script("hello", ScriptedOutcome(event="failed"))
    first = await h.start(to="+15550000001")
    second = await h.start(to="+15550000002")
    assert h.steps(first)[-1] == ("failed", "hello", "Ended")
    assert h.steps(second)[-1] == ("sent", "hello", "Ended")


def test_messages_are_listed_through_the_control_plane(live: MockStudioServer, http: httpx.Client) -> None:
    flow_sid = install_flow(live, "FW" + "5" * 32, rest_flow("hello", say("hello", "Hi {{flow.data.name}}")))
    created = http.post(
        f"/v2/Flows/{flow_sid}/Executions",
        data={"To": CONTACT, "From": NUMBER, "Parameters": '{"name": "Zeke"}'},
    )
    assert created.status_code == 201, created.text
    sid = created.json()["sid"]
    assert settle(http, sid)["status"] == "ended"
    messages = http.get("/_mockstudio/messages", params={"execution_sid": sid}).json()["messages"]
    assert len(messages) == 1
    message = messages[0]
    assert message["sid"].startswith("SM")
    assert (message["direction"], message["from"], message["to"], message["body"]) == (
        "outbound",
        NUMBER,
        CONTACT,
        "Hi Zeke",
    )
    assert message["execution_sid"] == sid and message["flow_sid"] == flow_sid
    assert http.get("/_mockstudio/messages", params={"contact": "+19999999999"}).json()["messages"] == []


def test_scripted_failure_through_the_control_plane(live: MockStudioServer, http: httpx.Client) -> None:
    flow = rest_flow("hello", widget("hello", "send-message", {"sent": None, "failed": None}, body="Hi"))
    flow_sid = install_flow(live, "FW" + "6" * 32, flow)
    scripted = http.post("/_mockstudio/scripts", json={"widget": "hello", "outcomes": [{"event": "failed"}]})
    assert scripted.status_code == 200, scripted.text
    sid = http.post(f"/v2/Flows/{flow_sid}/Executions", data={"To": CONTACT, "From": NUMBER}).json()["sid"]
    settle(http, sid)
    assert api_steps(http, flow_sid, sid) == [("incomingRequest", "Trigger", "hello"), ("failed", "hello", "Ended")]
    (message,) = http.get("/_mockstudio/messages", params={"execution_sid": sid}).json()["messages"]
    assert message["status"] == "failed"
