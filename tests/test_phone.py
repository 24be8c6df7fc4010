"""The dashboard's phone in a real browser (the same Chromium, launch flags and console
checks as test_dashboard.py): text a flow, call an IVR, hear the prompt, press 1, see the
branch taken; speech, hang-up, and hostile text shown as text.

Screenshots go to $MOCKSTUDIO_SCREENSHOTS (docs/dashboard-phone.png was taken this way)."""

from __future__ import annotations

from typing import Any

from mockstudio.testing import MockStudioServer

from . import test_dashboard as dashboard
from .conftest import ROOT
from .engine.support import definition, trigger, widget
from .test_dashboard import XSS_BODY, XSS_NAME, Console, Page

# The browser, a page that fails the test on any console error or dialog, the server: the
# dashboard tests' own fixtures.
browser, server, live, page, shots = (
    dashboard.browser,
    dashboard.server,
    dashboard.live,
    dashboard.page,
    dashboard.shots,
)

IVR = ROOT / "fixtures" / "definitions" / "phone-menu.json"
NUMBER = "+15017120001"
CONTACT = "+15551234567"  # the phone's default contact
MENU = "Welcome to Owl Bank. Press 1 for sales or 2 for support, or say sales or support."


def _open_phone(live: MockStudioServer, p: Page, number: str = NUMBER) -> None:
    p.goto(live.base_url + "/_mockstudio/ui/#/phone")
    p.locator("select[name=number] option[value='" + number + "']").wait_for(state="attached")
    p.locator("select[name=number]").select_option(number)
    assert p.locator("input[name=contact]").input_value() == CONTACT


def _lines(p: Page) -> list[tuple[str | None, str]]:
    items = p.locator("#phone-transcript li.line")
    return [
        (
            item.get_attribute("data-kind"),
            item.locator(".what").all_inner_texts()[0] if item.locator(".what").count() else "",
        )
        for item in items.all()
    ]


def test_call_the_ivr_hear_the_prompt_press_1(live: MockStudioServer, page: tuple[Page, Console], shots: Any) -> None:
    p, console = page
    live.add_flow(IVR, "Owl Bank", numbers=[NUMBER])
    _open_phone(live, p)

    # A text first: the flow's menu comes back as a bubble, the reply gets its answer.
    p.locator("input[name=text]").fill("Hi")
    p.get_by_role("button", name="Send").click()
    p.locator("#phone-thread .bubble.outbound", has_text="Reply 1 for sales").wait_for()
    p.locator("input[name=text]").fill("1")
    p.get_by_role("button", name="Send").click()
    p.locator("#phone-thread .bubble.outbound", has_text="Thanks, you chose 1.").wait_for()
    assert p.locator("#phone-thread .bubble.inbound").all_inner_texts()[0].startswith("Hi")

    # The call: the prompt, what the caller can do, the keypad live.
    assert p.locator("#call-status").inner_text().startswith("No call")
    p.locator("#phone-call").click()
    p.locator("#phone-transcript li.line.gather").wait_for()
    assert _lines(p) == [("gather", MENU)]
    assert "listening for keypress or speech on main_menu" in p.locator("#call-status").inner_text()
    assert p.locator(".keypad .key[data-key='1']").is_enabled()

    # A wrong key: the flow says sorry and asks again.
    p.locator(".keypad .key[data-key='9']").click()
    p.locator("#phone-transcript li.line.say").wait_for()
    p.locator("#phone-transcript li.line.gather").nth(1).wait_for()
    assert _lines(p) == [("gather", MENU), ("press", "9"), ("say", "Sorry, I did not get that."), ("gather", MENU)]
    p.screenshot(path=str(shots / "dashboard-phone.png"))

    # Press 1: the sales branch, the hand-off, the flow hangs up.
    p.locator(".keypad .key[data-key='1']").click()
    p.locator("#phone-transcript li.line.hangup").wait_for()
    assert _lines(p)[4:] == [
        ("press", "1"),
        ("say", "Connecting you to sales."),
        ("connect", "+15005550006 (number)"),
        ("hangup", ""),
    ]
    assert p.locator("#phone-transcript li.line.hangup .who").inner_text() == "Flow hangs up"
    assert p.locator("#call-status .badge").inner_text() == "completed"
    assert p.locator(".keypad .key[data-key='1']").is_disabled()
    assert p.locator("#phone-hangup").is_disabled()
    assert console.unexpected() == []


def test_conversations_speech_and_hanging_up(live: MockStudioServer, page: tuple[Page, Console]) -> None:
    p, _ = page
    live.add_flow(IVR, "Owl Bank", numbers=[NUMBER])
    _open_phone(live, p)
    # A Conversations message starts the flow's text menu as an SMS does.
    p.locator("select[name=channel]").select_option("conversations")
    p.locator("input[name=text]").fill("Hello")
    p.get_by_role("button", name="Send").click()
    p.locator("#phone-thread .bubble.outbound", has_text="Reply 1 for sales").wait_for()
    conversations = live.messages(contact=CONTACT, direction="inbound")
    assert [m["sid"][:2] for m in conversations] == ["IM"]  # a Conversations message, not an SMS
    p.locator("#phone-call").click()
    p.locator("#phone-transcript li.line.gather").wait_for()
    p.locator("input[name=speech]").fill("support")
    p.get_by_role("button", name="Say").click()
    p.locator("#phone-transcript li.line.flex").wait_for()
    assert [kind for kind, _ in _lines(p)] == ["gather", "speech", "say", "flex", "hangup"]
    assert _lines(p)[1] == ("speech", "support")

    # A second call, hung up by the caller mid-menu: the page shows the newest call.
    p.locator("#phone-call").click()
    p.locator("#call-status", has_text="listening").wait_for()
    assert _lines(p) == [("gather", MENU)]
    p.locator("#phone-hangup").click()
    p.locator("#phone-transcript li.line.hangup").wait_for()
    assert p.locator("#phone-transcript li.line.hangup .who").inner_text() == "You hang up"
    assert p.locator("#call-status .badge").inner_text() == "completed"


def test_hostile_text_is_shown_as_text(live: MockStudioServer, page: tuple[Page, Console]) -> None:
    """A say-play's text and message bodies holding markup render as text: no element is
    made of them and no script runs (the page fixture fails on any dialog)."""
    p, _ = page
    number = "+15017120009"
    flow = definition(
        trigger(incomingCall="speak", incomingMessage="echo"),
        widget("speak", "say-play", {"audioComplete": "ask"}, say=XSS_BODY),
        widget("ask", "gather-input-on-call", {"keypress": None, "speech": None, "timeout": None}, say=XSS_NAME),
        widget("echo", "send-message", {"sent": None, "failed": None}, body="You said {{trigger.message.Body}}"),
    )
    live.add_flow(flow, "hostile", numbers=[number])
    _open_phone(live, p, number)
    p.locator("input[name=text]").fill(XSS_NAME)
    p.get_by_role("button", name="Send").click()
    p.locator("#phone-thread .bubble.outbound").wait_for()
    assert p.locator("#phone-thread .bubble.inbound").all_inner_texts()[0].startswith(XSS_NAME)
    assert p.locator("#phone-thread .bubble.outbound").inner_text().startswith(f"You said {XSS_NAME}")
    p.locator("#phone-call").click()
    p.locator("#phone-transcript li.line.gather").wait_for()
    assert _lines(p) == [("say", XSS_BODY), ("gather", XSS_NAME)]
    p.locator("input[name=speech]").fill(XSS_BODY)
    p.get_by_role("button", name="Say").click()
    p.locator("#phone-transcript li.line.speech").wait_for()
    assert _lines(p)[2] == ("speech", XSS_BODY)
    assert p.locator("main img, main script").count() == 0
