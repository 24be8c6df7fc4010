"""The phone's control plane over real HTTP: place a call to an IVR, read its transcript at
`/_mockstudio/calls/{CallSid}`, press keys, speak, hang up."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from mockstudio.testing import MockStudioServer

from .conftest import ROOT
from .engine.support import definition, trigger, widget
from .helpers import assert_sid, assert_twilio_error

IVR = ROOT / "fixtures" / "definitions" / "phone-menu.json"
NUMBER = "+15017120001"
CALLER = "+15551234567"
T0_TEXT = "2023-11-14T22:13:20Z"
MENU = "Welcome to Owl Bank. Press 1 for sales or 2 for support, or say sales or support."


def _flow(live: MockStudioServer, source: dict[str, Any] | Path = IVR, number: str = NUMBER) -> str:
    return live.add_flow(source, "phone test", numbers=[number])


def _call(http: httpx.Client, number: str = NUMBER, caller: str = CALLER) -> dict[str, Any]:
    placed = http.post("/_mockstudio/calls", data={"From": caller, "To": number})
    assert placed.status_code == 200, placed.text
    sid: str = placed.json()["call_sid"]
    assert http.get(f"/_mockstudio/executions/{placed.json()['execution_sid']}/settled").json()["settled"]
    call = http.get(f"/_mockstudio/calls/{sid}")
    assert call.status_code == 200, call.text
    body: dict[str, Any] = call.json()
    return body


def _kinds(call: dict[str, Any]) -> list[str]:
    return [line["kind"] for line in call["transcript"]]


def test_a_call_waits_on_the_menu(live: MockStudioServer, http: httpx.Client) -> None:
    flow = _flow(live)
    call = _call(http)
    assert_sid(call["call_sid"], "CA")
    assert_sid(call["execution_sid"], "FN")
    assert (call["from"], call["to"], call["flow_sid"]) == (CALLER, NUMBER, flow)
    assert (call["status"], call["date_created"]) == ("in-progress", T0_TEXT)
    assert (call["waiting_on"], call["waiting_for"]) == ("main_menu", ["keypress", "speech"])
    assert call["transcript"] == [
        {
            "kind": "gather",
            "widget": "main_menu",
            "date": T0_TEXT,
            "prompt": MENU,
            "voice": "Polly.Joanna",
            "language": "en-US",
            "expects": ["dtmf", "speech"],
        }
    ]
    listed = http.get("/_mockstudio/calls", params={"contact": CALLER}).json()["calls"]
    assert [c["call_sid"] for c in listed] == [call["call_sid"]]
    assert http.get("/_mockstudio/calls", params={"contact": "+15550000000"}).json()["calls"] == []


def test_press_1_connects_to_sales_and_the_flow_hangs_up(live: MockStudioServer, http: httpx.Client) -> None:
    _flow(live)
    call = _call(http)
    sid = call["call_sid"]
    live.clock.advance(3)  # type: ignore[attr-defined]  # (a ManualClock: the lines are dated)
    pressed = http.post(f"/_mockstudio/calls/{sid}/digits", data={"Digits": "1"})
    assert pressed.status_code == 200, pressed.text
    after = pressed.json()
    assert after["transcript"][1:] == [
        {"kind": "press", "widget": "main_menu", "date": "2023-11-14T22:13:23Z", "digits": "1"},
        {"kind": "say", "widget": "sales", "date": "2023-11-14T22:13:23Z", "text": "Connecting you to sales."},
        {
            "kind": "connect",
            "widget": "connect_sales",
            "date": "2023-11-14T22:13:23Z",
            "to": "+15005550006",
            "noun": "number",
        },
        {"kind": "hangup", "widget": None, "date": "2023-11-14T22:13:23Z", "by": "flow"},
    ]
    assert (after["status"], after["waiting_on"], after["waiting_for"]) == ("completed", None, [])
    assert http.get(f"/_mockstudio/calls/{sid}").json() == after
    execution = http.get(f"/v2/Flows/{after['flow_sid']}/Executions/{after['execution_sid']}").json()
    assert execution["status"] == "ended"
    # The call is over: nothing more can be pressed, said or hung up.
    for action, fields in (("digits", {"Digits": "2"}), ("speech", {"SpeechResult": "hi"}), ("hangup", {})):
        assert_twilio_error(http.post(f"/_mockstudio/calls/{sid}/{action}", data=fields), 409, 20409)


def test_speech_reaches_support_and_flex(live: MockStudioServer, http: httpx.Client) -> None:
    _flow(live)
    sid = _call(http)["call_sid"]
    said = http.post(
        f"/_mockstudio/calls/{sid}/speech",
        json={"SpeechResult": "Support"},  # a JSON body works as well as a form
    )
    assert said.status_code == 200, said.text
    lines = said.json()["transcript"]
    assert _kinds(said.json()) == ["gather", "speech", "say", "flex", "hangup"]
    assert lines[1]["text"] == "Support"
    assert lines[3] == {
        "kind": "flex",
        "widget": "to_agent",
        "date": T0_TEXT,
        "workflow": "WW00000000000000000000000000000000",
        "channel": "TC00000000000000000000000000000000",
    }
    context = http.get(f"/v2/Flows/{said.json()['flow_sid']}/Executions/{said.json()['execution_sid']}/Context")
    assert context.json()["context"]["widgets"]["main_menu"]["SpeechResult"] == "Support"


def test_no_match_repeats_the_menu(live: MockStudioServer, http: httpx.Client) -> None:
    _flow(live)
    sid = _call(http)["call_sid"]
    again = http.post(f"/_mockstudio/calls/{sid}/digits", data={"Digits": "9"}).json()
    assert _kinds(again) == ["gather", "press", "say", "gather"]
    assert again["transcript"][2]["text"] == "Sorry, I did not get that."
    assert (again["status"], again["waiting_on"]) == ("in-progress", "main_menu")


def test_the_caller_hangs_up_mid_menu(live: MockStudioServer, http: httpx.Client) -> None:
    _flow(live)
    call = _call(http)
    hung = http.post(f"/_mockstudio/calls/{call['call_sid']}/hangup")
    assert hung.status_code == 200, hung.text
    assert hung.json()["transcript"][-1] == {"kind": "hangup", "widget": "main_menu", "date": T0_TEXT, "by": "caller"}
    assert _kinds(hung.json()) == ["gather", "hangup"]  # the flow's end adds no second hang-up
    assert hung.json()["status"] == "completed"
    execution = http.get(f"/v2/Flows/{call['flow_sid']}/Executions/{call['execution_sid']}").json()
    assert execution["status"] == "ended"


def test_a_widget_with_a_hangup_event_takes_it(live: MockStudioServer, http: httpx.Client) -> None:
    flow = definition(
        trigger(incomingCall="voicemail"),
        widget("voicemail", "record-voicemail", {"recordingComplete": None, "noAudio": None, "hangup": "notify"}),
        widget("notify", "send-message", {"sent": None, "failed": None}, body="Missed call from {{trigger.call.From}}"),
    )
    _flow(live, flow, "+15017120002")
    call = _call(http, "+15017120002")
    assert (call["waiting_on"], call["waiting_for"]) == ("voicemail", [])  # nothing to press: a recording
    hung = http.post(f"/_mockstudio/calls/{call['call_sid']}/hangup").json()
    assert _kinds(hung) == ["record", "hangup"]
    steps = http.get(f"/v2/Flows/{call['flow_sid']}/Executions/{call['execution_sid']}/Steps").json()["steps"]
    assert [(s["transitioned_from"], s["name"]) for s in reversed(steps)] == [
        ("Trigger", "incomingCall"),
        ("voicemail", "hangup"),
        ("notify", "sent"),
    ]
    messages = http.get("/_mockstudio/messages", params={"execution_sid": call["execution_sid"]}).json()["messages"]
    assert [m["body"] for m in messages] == [f"Missed call from {CALLER}"]


def test_say_play_renders_liquid_and_shows_loop_play_and_digits(live: MockStudioServer, http: httpx.Client) -> None:
    flow = definition(
        trigger(incomingCall="hello"),
        widget(
            "hello",
            "say-play",
            {"audioComplete": None},
            say="Hello {{trigger.call.From}}",
            loop=2,
            voice="alice",
        ),
        widget("tune", "say-play", {"audioComplete": None}, play="https://example.com/hold.mp3", digits="ww12"),
    )
    flow["states"][1]["transitions"] = [{"event": "audioComplete", "next": "tune"}]
    _flow(live, flow, "+15017120003")
    call = _call(http, "+15017120003")
    assert [{k: v for k, v in line.items() if k != "date"} for line in call["transcript"]] == [
        {"kind": "say", "widget": "hello", "text": f"Hello {CALLER}", "voice": "alice", "loop": 2},
        {"kind": "play", "widget": "tune", "url": "https://example.com/hold.mp3"},
        {"kind": "digits", "widget": "tune", "digits": "ww12"},
        {"kind": "hangup", "widget": None, "by": "flow"},
    ]


def test_a_subflow_speaks_on_the_parents_call(live: MockStudioServer, http: httpx.Client) -> None:
    child = live.add_flow(
        definition(
            widget("Trigger", "trigger", [{"event": "incomingParent", "next": "inner"}]),
            widget("inner", "say-play", {"audioComplete": None}, say="From the subflow"),
        ),
        "child",
    )
    parent = definition(
        trigger(incomingCall="sub"),
        widget("sub", "run-subflow", {"completed": "after", "failed": None}, flow_sid=child),
        widget("after", "say-play", {"audioComplete": None}, say="Back in the parent"),
    )
    _flow(live, parent, "+15017120004")
    call = _call(http, "+15017120004")
    assert [(line["kind"], line["widget"], line.get("text")) for line in call["transcript"]] == [
        ("say", "inner", "From the subflow"),
        ("say", "after", "Back in the parent"),
        ("hangup", None, None),
    ]


def test_the_events_endpoint_and_a_gather_timeout_show_on_the_transcript(
    live: MockStudioServer, http: httpx.Client
) -> None:
    _flow(live)
    call = _call(http)
    resumed = http.post(
        f"/_mockstudio/executions/{call['execution_sid']}/events",
        json={"event": "keypress", "outputs": {"Digits": "9"}},
    )
    assert resumed.status_code == 200, resumed.text
    assert _kinds(http.get(f"/_mockstudio/calls/{call['call_sid']}").json()) == ["gather", "press", "say", "gather"]
    http.post("/_mockstudio/clock", data={"advance": "5"})  # the gather's timeout
    after = http.get(f"/_mockstudio/calls/{call['call_sid']}").json()
    assert _kinds(after) == ["gather", "press", "say", "gather", "say", "hangup"]
    assert after["transcript"][-2]["text"] == "We did not hear from you. Goodbye."


def test_ending_the_execution_through_the_api_hangs_up(live: MockStudioServer, http: httpx.Client) -> None:
    _flow(live)
    call = _call(http)
    ended = http.post(f"/v2/Flows/{call['flow_sid']}/Executions/{call['execution_sid']}", data={"Status": "ended"})
    assert ended.status_code == 200, ended.text
    after = http.get(f"/_mockstudio/calls/{call['call_sid']}").json()
    assert (after["status"], after["transcript"][-1]["by"]) == ("completed", "flow")


@pytest.mark.parametrize(
    ("action", "fields", "status", "code"),
    [
        ("digits", {}, 400, 20001),
        ("digits", {"Digits": "1a"}, 400, 20001),
        ("digits", {"Digits": "1" * 65}, 400, 20001),
        ("speech", {"SpeechResult": "  "}, 400, 20001),
        ("speech", {"SpeechResult": "x" * 1025}, 400, 20001),
    ],
)
def test_bad_input_is_refused_in_twilios_shape(
    live: MockStudioServer, http: httpx.Client, action: str, fields: dict[str, str], status: int, code: int
) -> None:
    _flow(live)
    sid = _call(http)["call_sid"]
    assert_twilio_error(http.post(f"/_mockstudio/calls/{sid}/{action}", data=fields), status, code)
    assert _kinds(http.get(f"/_mockstudio/calls/{sid}").json()) == ["gather"]  # nothing happened


def test_unknown_call_and_nothing_to_answer(live: MockStudioServer, http: httpx.Client) -> None:
    unknown = "CA" + "ab" * 16
    for response in (
        http.get(f"/_mockstudio/calls/{unknown}"),
        http.post(f"/_mockstudio/calls/{unknown}/digits", data={"Digits": "1"}),
        http.post(f"/_mockstudio/calls/{unknown}/hangup"),
    ):
        assert_twilio_error(response, 404, 20404, f"The requested resource /_mockstudio/calls/{unknown} was not found")
    flow = definition(
        trigger(incomingCall="wait"),
        widget("wait", "record-voicemail", {"recordingComplete": None, "noAudio": None, "hangup": None}),
    )
    _flow(live, flow, "+15017120005")
    sid = _call(http, "+15017120005")["call_sid"]
    refused = http.post(f"/_mockstudio/calls/{sid}/digits", data={"Digits": "1"})
    assert "not waiting for keypress" in assert_twilio_error(refused, 409, 20409)["message"]


def test_reset_forgets_calls(live: MockStudioServer, http: httpx.Client) -> None:
    _flow(live)
    sid = _call(http)["call_sid"]
    live.reset()
    assert_twilio_error(http.get(f"/_mockstudio/calls/{sid}"), 404, 20404)
    assert http.get("/_mockstudio/calls").json() == {"calls": []}
