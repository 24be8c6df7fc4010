"""`MockStudioServer.place_call`'s handle: an IVR test reads like an SMS test."""

from __future__ import annotations

import pytest

from mockstudio.testing import Call, MockStudioError, MockStudioServer

from .conftest import ROOT

IVR = ROOT / "fixtures" / "definitions" / "phone-menu.json"
NUMBER = "+15017120001"
CALLER = "+15551234567"
MENU = "Welcome to Owl Bank. Press 1 for sales or 2 for support, or say sales or support."


@pytest.fixture
def ivr(live: MockStudioServer) -> MockStudioServer:
    live.add_flow(IVR, "Owl Bank", numbers=[NUMBER])
    return live


def test_press_1_for_sales(ivr: MockStudioServer) -> None:
    call = ivr.place_call(from_=CALLER, to=NUMBER)
    assert isinstance(call, Call)
    assert call.heard() == [MENU]
    assert (call.status, call.waiting_for) == ("in-progress", ["keypress", "speech"])
    assert call.press("1") is call
    assert call.last_heard() == ["Connecting you to sales."]
    assert call.heard() == [MENU, "Connecting you to sales."]
    assert call.status == "completed"
    assert [line["kind"] for line in call.transcript] == ["gather", "press", "say", "connect", "hangup"]
    assert call.transcript[3]["to"] == "+15005550006"


def test_say_support_then_the_menu_again(ivr: MockStudioServer) -> None:
    call = ivr.place_call(from_=CALLER, to=NUMBER)
    call.say("something else")
    assert call.last_heard() == ["Sorry, I did not get that.", MENU]
    call.say("support")
    assert call.last_heard() == ["Please hold for the next support agent."]
    assert call.transcript[-2]["kind"] == "flex"
    assert call.status == "completed"


def test_hang_up_ends_the_execution(ivr: MockStudioServer) -> None:
    call = ivr.place_call(from_=CALLER, to=NUMBER)
    call.hang_up()
    assert call.status == "completed"
    assert call.transcript[-1]["by"] == "caller"
    assert ivr.wait_for_execution(call.execution_sid, status="ended", timeout=5)["status"] == "ended"
    with pytest.raises(MockStudioError) as refused:
        call.press("1")
    assert (refused.value.status, refused.value.code) == (409, 20409)


def test_the_handle_is_still_the_placing_answer(ivr: MockStudioServer) -> None:
    call = ivr.place_call(from_=CALLER, to=NUMBER)
    assert (call["action"], call["status"], call["call_sid"]) == ("started", "active", call.sid)
    assert dict(call) == {
        "action": "started",
        "execution_sid": call.execution_sid,
        "flow_sid": call.flow_sid,
        "call_sid": call.sid,
        "status": "active",
    }
    assert call.fetch()["waiting_on"] == "main_menu"
