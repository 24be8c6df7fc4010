"""Voice, Flex and other simulated widgets (studio-flows.md §2.2): each takes its default
event (its first) or the one configured per type; the waiting ones (gather-input-on-call,
record-voicemail, add-twiml-redirect) park and resume through engine.resume or
POST /_mockstudio/executions/{sid}/events, and time out on the virtual clock."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from mockstudio.domain.models import ACTIVE, ENDED
from mockstudio.engine.catalogue import WIDGET_TYPES
from mockstudio.engine.runner import EngineConfig
from mockstudio.engine.scripts import ScriptedOutcome
from mockstudio.engine.widgets.simulated import SIMULATED
from mockstudio.testing import MockStudioServer

from .support import CONTACT, NUMBER, Harness, api_steps, install_flow, rest_flow, say, settle, widget

WAITING = {"gather-input-on-call", "record-voicemail", "add-twiml-redirect"}
IMMEDIATE = sorted(set(SIMULATED) - WAITING)

REQUIRED: dict[str, dict[str, Any]] = {
    "make-outgoing-call-v2": {"to": "{{contact.channel.address}}", "from": "{{flow.channel.address}}"},
    "make-outgoing-call-v1": {"to": "{{contact.channel.address}}"},
    "connect-call-to": {"noun": "number", "to": "+15550000100"},
    "send-to-flex": {"channel": "TC" + "0" * 32, "workflow": "WW" + "0" * 32},
    "add-twiml-redirect": {"url": "https://example.com/twiml"},
}


def _flow(kind: str, **properties: Any) -> dict[str, Any]:
    """Trigger -> the widget; every event of it leads to a marker message naming it."""
    events = WIDGET_TYPES[kind].events
    markers = [say(f"on_{event}", f"took {event}") for event in events]
    return rest_flow(
        "w",
        widget("w", kind, {event: f"on_{event}" for event in events}, **{**REQUIRED.get(kind, {}), **properties}),
        *markers,
    )


def test_the_simulated_set() -> None:
    assert set(SIMULATED) >= WAITING
    assert {"say-play", "make-outgoing-call-v2", "enqueue-call", "send-to-flex"} <= set(IMMEDIATE)


@pytest.mark.parametrize("kind", IMMEDIATE)
async def test_takes_its_default_event(kind: str) -> None:
    h = Harness(_flow(kind))
    execution = await h.start()
    first = WIDGET_TYPES[kind].events[0]
    assert execution.status == ENDED
    assert h.steps(execution)[1] == (first, "w", f"on_{first}")
    assert h.step_objects(execution)[1].type == kind
    assert h.messages() == [("outbound", f"took {first}")]


@pytest.mark.parametrize("kind", sorted(SIMULATED))
async def test_takes_the_configured_event(kind: str) -> None:
    last = WIDGET_TYPES[kind].events[-1]
    h = Harness(_flow(kind), engine_config=EngineConfig(default_events={kind: last}))
    execution = await h.start()
    assert execution.status == ENDED  # a configured event does not wait, even for a gather
    assert h.steps(execution)[1] == (last, "w", f"on_{last}")


async def test_configuration_is_per_type() -> None:
    flow = rest_flow(
        "call",
        widget("call", "make-outgoing-call-v2", {"answered": "play", "busy": "sms", "noAnswer": "sms"}, to="x"),
        widget("play", "say-play", {"audioComplete": "queue"}, say="Hello {{flow.data.reason}}"),
        widget("queue", "enqueue-call", {"callComplete": None, "failedToEnqueue": "sms"}, workflow_sid="WW1"),
        say("sms", "We tried to call"),
    )
    h = Harness(flow, engine_config=EngineConfig(default_events={"enqueue-call": "failedToEnqueue"}))
    execution = await h.start({"reason": "billing"})
    assert h.steps(execution) == [
        ("incomingRequest", "Trigger", "call"),
        ("answered", "call", "play"),
        ("audioComplete", "play", "queue"),
        ("failedToEnqueue", "queue", "sms"),
        ("sent", "sms", "Ended"),
    ]
    widgets = h.widgets(execution)
    assert widgets["call"]["CallSid"].startswith("CA")
    assert widgets["call"]["CallStatus"] == "in-progress"
    assert widgets["queue"]["QueueSid"].startswith("QU")

    busy = Harness(flow, engine_config=EngineConfig(default_events={"make-outgoing-call-v2": "busy"}))
    execution = await busy.start()
    assert busy.steps(execution)[1] == ("busy", "call", "sms")
    assert busy.widgets(execution)["call"]["CallStatus"] == "busy"


@pytest.mark.parametrize(
    ("event", "status"),
    [("busy", "busy"), ("noAnswer", "no-answer"), ("failed", "failed"), ("answered", "in-progress")],
)
async def test_a_scripted_outgoing_call_event_still_gives_the_outputs(event: str, status: str) -> None:
    # An autodialer texting "we tried to call" with the call's SID and status.
    flow = rest_flow(
        "call",
        widget(
            "call",
            "make-outgoing-call-v2",
            {"answered": "sms", "busy": "sms", "noAnswer": "sms", "failed": "sms"},
            to="{{contact.channel.address}}",
            **{"from": "{{flow.channel.address}}"},
        ),
        say("sms", "{{widgets.call.CallStatus}} {{widgets.call.CallSid}}"),
    )
    h = Harness(flow)
    h.script("call", ScriptedOutcome(event=event))
    execution = await h.start()
    outputs = h.widgets(execution)["call"]
    assert h.steps(execution)[1] == (event, "call", "sms")
    assert outputs["CallStatus"] == status and outputs["CallSid"].startswith("CA")
    assert ("AnsweredBy" in outputs) is (event == "answered")
    assert h.messages() == [("outbound", f"{status} {outputs['CallSid']}")]


async def test_scripted_event_for_a_simulated_widget() -> None:
    h = Harness(_flow("send-to-flex"))
    h.script("w", ScriptedOutcome(event="callFailure", outputs={"QueueResult": "error"}))
    execution = await h.start()
    assert h.steps(execution)[1] == ("callFailure", "w", "on_callFailure")
    assert h.widgets(execution)["w"] == {"QueueResult": "error"}


# -- waiting widgets -------------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(WAITING))
async def test_waiting_widgets_park(kind: str) -> None:
    h = Harness(_flow(kind))
    execution = await h.start()
    assert execution.status == ACTIVE
    assert h.parked_on(execution) == "w"
    assert h.steps(execution) == [("incomingRequest", "Trigger", "w")]


async def test_gather_resumes_with_a_keypress() -> None:
    h = Harness(_flow("gather-input-on-call", say="Press 1", number_of_digits=1))
    execution = await h.start()
    assert await h.event(execution, "keypress", {"Digits": "1"})
    assert h.steps(execution)[1] == ("keypress", "w", "on_keypress")
    assert h.widgets(execution)["w"]["Digits"] == "1"
    assert execution.status == ENDED


async def test_gather_resumes_with_speech() -> None:
    h = Harness(_flow("gather-input-on-call"))
    execution = await h.start()
    assert await h.event(execution, "speech", {"SpeechResult": "Yes.", "Confidence": "0.9"})
    assert h.steps(execution)[1] == ("speech", "w", "on_speech")
    assert h.widgets(execution)["w"]["SpeechResult"] == "Yes."


async def test_gather_refuses_events_it_does_not_have() -> None:
    h = Harness(_flow("gather-input-on-call"))
    execution = await h.start()
    assert not await h.event(execution, "incomingMessage", {"Body": "x"})
    assert h.parked_on(execution) == "w"


async def test_gather_times_out_after_its_timeout() -> None:
    h = Harness(_flow("gather-input-on-call", timeout=7))
    execution = await h.start()
    await h.advance(6)
    assert h.parked_on(execution) == "w"
    await h.advance(1)
    assert h.steps(execution)[1] == ("timeout", "w", "on_timeout")


async def test_gather_default_timeout_is_five_seconds() -> None:
    h = Harness(_flow("gather-input-on-call"))
    execution = await h.start()
    await h.advance(5)
    assert h.steps(execution)[1] == ("timeout", "w", "on_timeout")


async def test_record_voicemail_completes_or_times_out_with_no_audio() -> None:
    h = Harness(_flow("record-voicemail", timeout="30"))
    recorded = await h.start(to="+15550000001")
    assert await h.event(recorded, "recordingComplete", {"RecordingUrl": "https://example.com/r.wav"})
    assert h.steps(recorded)[1] == ("recordingComplete", "w", "on_recordingComplete")
    assert h.widgets(recorded)["w"]["RecordingUrl"] == "https://example.com/r.wav"

    silent = await h.start(to="+15550000002")
    await h.advance(30)
    assert h.steps(silent)[1] == ("noAudio", "w", "on_noAudio")


async def test_twiml_redirect_returns() -> None:
    h = Harness(_flow("add-twiml-redirect", timeout="600"))
    execution = await h.start()
    assert await h.event(execution, "return", {"result": "ok"})
    assert h.steps(execution)[1] == ("return", "w", "on_return")
    assert h.widgets(execution)["w"] == {"result": "ok"}


def test_gather_through_the_events_endpoint(live: MockStudioServer, http: httpx.Client) -> None:
    flow_sid = install_flow(live, "FW" + "a1" * 16, _flow("gather-input-on-call", timeout=5))
    sid = http.post(f"/v2/Flows/{flow_sid}/Executions", data={"To": CONTACT, "From": NUMBER}).json()["sid"]
    state = settle(http, sid)
    assert state["waiting_on"] == "w"
    assert set(state["waiting_for"]) == {"keypress", "speech", "timeout"}
    # JSON body, outputs as an object
    response = http.post(
        f"/_mockstudio/executions/{sid}/events", json={"event": "keypress", "outputs": {"Digits": "42"}}
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "ended"
    assert api_steps(http, flow_sid, sid)[1] == ("keypress", "w", "on_keypress")
    context = http.get(f"/v2/Flows/{flow_sid}/Executions/{sid}/Context").json()["context"]
    assert context["widgets"]["w"]["Digits"] == "42"

    # Form body, outputs as JSON text; and an execution that is no longer waiting: 409.
    again = http.post(f"/_mockstudio/executions/{sid}/events", data={"event": "keypress", "outputs": '{"Digits": "1"}'})
    assert again.status_code == 409, again.text


def test_gather_times_out_through_the_clock(live: MockStudioServer, http: httpx.Client) -> None:
    flow_sid = install_flow(live, "FW" + "a2" * 16, _flow("gather-input-on-call", timeout=5))
    sid = http.post(f"/v2/Flows/{flow_sid}/Executions", data={"To": CONTACT, "From": NUMBER}).json()["sid"]
    settle(http, sid)
    assert http.post("/_mockstudio/clock", data={"advance": "5"}).json()["fired"] == 1
    assert settle(http, sid)["status"] == "ended"
    assert api_steps(http, flow_sid, sid)[1] == ("timeout", "w", "on_timeout")
