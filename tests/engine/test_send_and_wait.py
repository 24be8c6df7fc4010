"""send-and-wait-for-reply: sends, parks the execution (no step yet), and resumes on the
contact's reply (`incomingMessage`, with inbound.*), on its timeout by the virtual clock
(`timeout`, string or integer seconds, default 3600), or on `deliveryFailure`
(studio-flows.md §2.1, §6.2)."""

from __future__ import annotations

from typing import Any

import httpx

from mockstudio.domain.models import ACTIVE, ENDED
from mockstudio.engine.scripts import ScriptedOutcome
from mockstudio.testing import MockStudioServer

from .support import (
    AC,
    CONTACT,
    NUMBER,
    Harness,
    api_steps,
    condition,
    install_flow,
    rest_flow,
    say,
    settle,
    split,
    widget,
)


def _flow(timeout: Any = None, **extra: Any) -> dict[str, Any]:
    properties: dict[str, Any] = {"body": "Hi {{flow.data.name}}, reply YES or NO"}
    if timeout is not None:
        properties["timeout"] = timeout
    properties.update(extra)
    return rest_flow(
        "ask",
        widget(
            "ask",
            "send-and-wait-for-reply",
            {"incomingMessage": "thanks", "timeout": "late", "deliveryFailure": "undelivered"},
            **properties,
        ),
        say("thanks", "You said {{widgets.ask.inbound.Body}} to {{widgets.ask.outbound.Sid}}"),
        say("late", "No reply to {{widgets.ask.outbound.Body}}[{{widgets.ask.inbound.Body}}]"),
        say("undelivered", "failed: {{widgets.ask.outbound.Status}}"),
    )


async def test_sends_and_parks_without_a_step() -> None:
    h = Harness(_flow())
    execution = await h.start({"name": "Zeke"})
    assert execution.status == ACTIVE
    assert h.parked_on(execution) == "ask"
    # No Step for the waiting widget until it is left.
    assert h.steps(execution) == [("incomingRequest", "Trigger", "ask")]
    assert h.messages() == [("outbound", "Hi Zeke, reply YES or NO")]
    (sent,) = h.engine.messages.list(AC)
    assert (sent.to, sent.from_) == (CONTACT, NUMBER)
    # "Variables get set at the end of a Step": widgets.ask appears once the widget is left.
    assert "ask" not in h.widgets(execution)


async def test_reply_resumes_with_inbound() -> None:
    h = Harness(_flow())
    execution = await h.start({"name": "Zeke"})
    (sent,) = h.engine.messages.list(AC)
    resumed, action = await h.inbound(" Yes ", MediaUrl0="https://example.com/a.png", NumMedia="1")
    assert (resumed, action) == (execution, "resumed")
    assert execution.status == ENDED
    assert h.steps(execution) == [
        ("incomingRequest", "Trigger", "ask"),
        ("incomingMessage", "ask", "thanks"),
        ("sent", "thanks", "Ended"),
    ]
    outputs = h.widgets(execution)["ask"]
    inbound = outputs["inbound"]
    assert inbound["Body"] == " Yes "
    assert (inbound["From"], inbound["To"]) == (CONTACT, NUMBER)
    assert inbound["MessageSid"].startswith("SM")
    assert inbound["AccountSid"] == AC
    assert (inbound["NumMedia"], inbound["MediaUrl0"]) == ("1", "https://example.com/a.png")
    assert outputs["outbound"]["Sid"] == sent.sid  # outbound kept alongside inbound
    assert h.messages() == [
        ("outbound", "Hi Zeke, reply YES or NO"),
        ("inbound", " Yes "),
        ("outbound", f"You said  Yes  to {sent.sid}"),
    ]


async def test_reply_from_another_contact_does_not_resume() -> None:
    h = Harness(_flow(), numbers=(NUMBER,))
    execution = await h.start()
    other, action = await h.inbound("YES", from_="+15550000777")
    assert action == "started"  # a new incomingMessage execution on the bound number
    assert other is not execution
    assert h.parked_on(execution) == "ask"


async def test_reply_to_a_contact_with_an_active_execution_that_is_not_waiting_is_ignored() -> None:
    flow = rest_flow("run", widget("run", "gather-input-on-call", {"keypress": None}))
    h = Harness(flow, numbers=(NUMBER,))
    execution = await h.start()
    assert h.parked_on(execution) == "run"
    found, action = await h.inbound("hello?")
    assert (found, action) == (execution, "ignored")
    assert h.parked_on(execution) == "run"


async def test_timeout_as_string_fires_on_the_virtual_clock() -> None:
    h = Harness(_flow(timeout="120"))
    execution = await h.start()
    assert await h.advance(119) == 0
    assert h.parked_on(execution) == "ask"
    assert await h.advance(1) == 1
    assert execution.status == ENDED
    assert h.steps(execution)[1:] == [("timeout", "ask", "late"), ("sent", "late", "Ended")]
    assert "inbound" not in h.widgets(execution)["ask"]
    assert h.messages()[-1] == ("outbound", "No reply to Hi , reply YES or NO[]")


async def test_timeout_as_integer() -> None:
    h = Harness(_flow(timeout=60))
    execution = await h.start()
    await h.advance(59)
    assert h.parked_on(execution) == "ask"
    await h.advance(1)
    assert h.steps(execution)[1] == ("timeout", "ask", "late")


async def test_default_timeout_is_an_hour() -> None:
    h = Harness(_flow())
    execution = await h.start()
    await h.advance(3599)
    assert h.parked_on(execution) == "ask"
    await h.advance(1)
    assert h.steps(execution)[1] == ("timeout", "ask", "late")


async def test_unparseable_timeout_uses_the_default() -> None:
    h = Harness(_flow(timeout="soon"))
    execution = await h.start()
    await h.advance(3599)
    assert h.parked_on(execution) == "ask"
    await h.advance(1)
    assert h.steps(execution)[1] == ("timeout", "ask", "late")


async def test_reply_after_timeout_does_not_resume() -> None:
    h = Harness(_flow(timeout="10"))
    execution = await h.start()
    await h.advance(10)
    assert execution.status == ENDED
    before = h.steps(execution)
    try:
        await h.inbound("YES")
    except Exception as exc:  # no flow bound to the number: NotFound
        assert type(exc).__name__ == "NotFound"
    assert h.steps(execution) == before


async def test_reply_cancels_the_timeout() -> None:
    h = Harness(_flow(timeout="10"))
    execution = await h.start()
    await h.inbound("YES")
    assert await h.advance(3600) == 0
    assert h.steps(execution)[1] == ("incomingMessage", "ask", "thanks")


async def test_delivery_failure_by_script() -> None:
    h = Harness(_flow())
    h.script("ask", ScriptedOutcome(event="deliveryFailure"))
    execution = await h.start()
    assert execution.status == ENDED
    assert h.steps(execution)[1:] == [("deliveryFailure", "ask", "undelivered"), ("sent", "undelivered", "Ended")]
    failed, _ = h.engine.messages.list(AC)
    assert failed.status == "failed"
    assert h.widgets(execution)["ask"]["outbound"]["ErrorCode"]
    assert h.messages()[-1] == ("outbound", "failed: failed")


async def test_delivery_failure_by_event() -> None:
    h = Harness(_flow())
    execution = await h.start()
    assert await h.event(execution, "deliveryFailure")
    assert h.steps(execution)[1] == ("deliveryFailure", "ask", "undelivered")
    assert h.widgets(execution)["ask"]["outbound"]["Body"] == "Hi , reply YES or NO"


async def test_events_the_widget_does_not_have_are_refused() -> None:
    h = Harness(_flow())
    execution = await h.start()
    assert not await h.event(execution, "keypress")
    assert h.parked_on(execution) == "ask"


async def test_scripted_reply_sends_then_skips_the_wait() -> None:
    h = Harness(_flow())
    h.script("ask", ScriptedOutcome(event="incomingMessage", outputs={"inbound": {"Body": "scripted"}}))
    execution = await h.start({"name": "Zeke"})
    assert h.steps(execution)[1] == ("incomingMessage", "ask", "thanks")
    outputs = h.widgets(execution)["ask"]
    assert outputs["inbound"] == {"Body": "scripted"}
    assert outputs["outbound"]["Body"] == "Hi Zeke, reply YES or NO"
    sent, _ = h.engine.messages.list(AC)
    assert h.messages()[-1] == ("outbound", f"You said scripted to {sent.sid}")


async def test_scripted_timeout_skips_the_wait() -> None:
    h = Harness(_flow())
    h.script("ask", ScriptedOutcome(event="timeout"))
    execution = await h.start()
    assert h.steps(execution)[1] == ("timeout", "ask", "late")
    assert h.messages()[-1] == ("outbound", "No reply to Hi , reply YES or NO[]")


async def test_reprompt_loop_until_a_valid_answer() -> None:
    flow = rest_flow(
        "ask",
        widget("ask", "send-and-wait-for-reply", {"incomingMessage": "check", "timeout": None}, body="YES or NO?"),
        split(
            "check",
            "{{widgets.ask.inbound.Body}}",
            [("ok", [condition("matches_any_of", "yes, no", "{{widgets.ask.inbound.Body}}")])],
            no_match="ask",
        ),
        say("ok", "Got {{widgets.ask.inbound.Body | upcase}}"),
    )
    h = Harness(flow)
    execution = await h.start()
    await h.inbound("maybe")
    assert h.parked_on(execution) == "ask"
    await h.inbound("no")
    assert execution.status == ENDED
    assert h.steps(execution) == [
        ("incomingRequest", "Trigger", "ask"),
        ("incomingMessage", "ask", "check"),
        ("noMatch", "check", "ask"),
        ("incomingMessage", "ask", "check"),
        ("match", "check", "ok"),
        ("sent", "ok", "Ended"),
    ]
    assert [body for _, body in h.messages()] == ["YES or NO?", "maybe", "YES or NO?", "no", "Got NO"]


async def test_no_to_property_sends_to_the_contact() -> None:
    h = Harness(_flow(to="+15550000999"))  # not a property of this widget: ignored
    await h.start()
    (sent,) = h.engine.messages.list(AC)
    assert sent.to == CONTACT


def test_reply_and_timeout_through_the_control_plane(live: MockStudioServer, http: httpx.Client) -> None:
    flow_sid = install_flow(live, "FW" + "7" * 32, _flow(timeout="300"))
    first = http.post(f"/v2/Flows/{flow_sid}/Executions", data={"To": CONTACT, "From": NUMBER}).json()["sid"]
    state = settle(http, first)
    assert (state["status"], state["waiting_on"]) == ("active", "ask")
    assert set(state["waiting_for"]) == {"incomingMessage", "timeout", "deliveryFailure"}
    reply = http.post("/_mockstudio/messages", data={"From": CONTACT, "To": NUMBER, "Body": "yes"})
    assert reply.status_code == 200, reply.text
    assert reply.json()["action"] == "resumed"
    assert reply.json()["execution_sid"] == first
    settle(http, first)
    assert api_steps(http, flow_sid, first)[1:] == [("incomingMessage", "ask", "thanks"), ("sent", "thanks", "Ended")]

    second = http.post(f"/v2/Flows/{flow_sid}/Executions", data={"To": CONTACT, "From": NUMBER}).json()["sid"]
    settle(http, second)
    clock = http.post("/_mockstudio/clock", data={"advance": "300"})
    assert clock.status_code == 200, clock.text
    assert clock.json()["fired"] == 1
    assert settle(http, second)["status"] == "ended"
    assert api_steps(http, flow_sid, second)[1] == ("timeout", "ask", "late")


def test_delivery_failure_through_the_events_endpoint(live: MockStudioServer, http: httpx.Client) -> None:
    flow_sid = install_flow(live, "FW" + "8" * 32, _flow())
    sid = http.post(f"/v2/Flows/{flow_sid}/Executions", data={"To": CONTACT, "From": NUMBER}).json()["sid"]
    settle(http, sid)
    wrong = http.post(f"/_mockstudio/executions/{sid}/events", json={"event": "keypress"})
    assert wrong.status_code == 409, wrong.text
    response = http.post(f"/_mockstudio/executions/{sid}/events", json={"event": "deliveryFailure"})
    assert response.status_code == 200, response.text
    assert settle(http, sid)["status"] == "ended"
    assert api_steps(http, flow_sid, sid)[1] == ("deliveryFailure", "ask", "undelivered")
