"""The 11 real exported flows in the shared reference (read in place, never copied): all
validate, the REST-triggered ones run to their first wait or their end with outbound HTTP
off, and a few run further with scripted HTTP and replies. Skipped when the reference
folder is absent."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mockstudio.domain.models import ACTIVE, ENDED
from mockstudio.engine.definition import parse_definition
from mockstudio.engine.http import OutboundHttp
from mockstudio.engine.runner import EngineConfig
from mockstudio.engine.scripts import ScriptedOutcome
from mockstudio.engine.widgets import WIDGETS

from ..conftest import SHARED_REFERENCE
from .support import AC, CONTACT, FW, NUMBER, Harness

FLOWS = SHARED_REFERENCE / "flows"
FILES = sorted(FLOWS.glob("*.json")) if FLOWS.is_dir() else []
REST_FILES = [p for p in FILES if p.name.startswith("rest-api")]

pytestmark = pytest.mark.skipif(not FILES, reason=f"reference flows not available at {FLOWS}")


def _load(name: str) -> dict[str, Any]:
    matches = [p for p in FILES if p.name.startswith(name)]
    assert len(matches) == 1, name
    definition: dict[str, Any] = json.loads(matches[0].read_text(encoding="utf-8"))
    return definition


def test_all_eleven_are_there() -> None:
    assert len(FILES) == 11
    assert len(REST_FILES) == 6


@pytest.mark.parametrize("path", FILES, ids=[p.stem.split("__")[0] + ":" + p.stem[-30:] for p in FILES])
def test_validates(path: Path) -> None:
    raw = json.loads(path.read_text(encoding="utf-8"))
    parsed, problems = parse_definition(raw)
    assert problems == []
    assert parsed is not None
    assert parsed.initial_state == "Trigger"
    assert len(parsed.states) == len(raw["states"])
    assert all(state.type in WIDGETS for state in parsed.states.values())


@pytest.mark.parametrize("path", REST_FILES, ids=[p.stem[:50] for p in REST_FILES])
async def test_rest_flow_runs_to_its_first_wait_or_end(path: Path) -> None:
    raw = json.loads(path.read_text(encoding="utf-8"))
    h = Harness(raw, http=OutboundHttp(mode="off"))
    parameters = {"name": "Zeke", "event_type": "BOOKED", "patient_first_name": "Ada", "reason": "your order"}
    execution = await h.start(parameters)
    steps = h.steps(execution)
    assert steps, "no step recorded"
    assert steps[0][:2] == ("incomingRequest", "Trigger")
    if execution.status == ACTIVE:
        assert h.parked_on(execution) is not None  # waiting, not stuck running
    else:
        assert execution.status == ENDED
        assert steps[-1][2] == "Ended"
    states = {s["name"] for s in raw["states"]}
    for _, source, target in steps:
        assert source in states and (target in states or target == "Ended")


async def test_minimal_flow_sends_flow_data() -> None:
    h = Harness(_load("rest-api__minimal"))
    execution = await h.start({"redeliverly_datetime": "3月4日 10:00"})
    assert h.steps(execution) == [
        ("incomingRequest", "Trigger", "send_redelivery_datetime"),
        ("sent", "send_redelivery_datetime", "Ended"),
    ]
    ((direction, body),) = h.messages(execution)
    assert direction == "outbound"
    assert "再配達予定日時は 3月4日 10:00 です。" in body


async def test_appointment_reminder_booked_then_cancelled() -> None:
    h = Harness(_load("rest-api__appointment-reminders"))
    h.script(
        "get-datetime-parts", ScriptedOutcome(status_code=200, body={"readable_datetime": "Monday, May 6 at 9:00 AM"})
    )
    h.script("save-booked", ScriptedOutcome(status_code=200, body="saved", content_type="text/plain"))
    h.script("confirm_booked", ScriptedOutcome(status_code=200, body={"ok": True}))
    parameters = {
        "event_type": "BOOKED",
        "patient_first_name": "Ada",
        "provider_last_name": "Hopper",
        "appointment_location": "Main St",
        "appointment_id": "A1",
        "appointment_datetime": "2024-05-06T09:00:00",
    }
    execution = await h.start(parameters)
    assert h.parked_on(execution) == "send_booked"
    (ask,) = h.messages(execution)
    assert "Dr. Hopper is scheduled for Monday, May 6 at 9:00 AM at Main St" in ask[1]
    assert "From YOUR_HEALTH_SYSTEM_NAME" in ask[1]
    await h.inbound("cancel appt")
    assert execution.status == ENDED
    assert h.steps(execution) == [
        ("incomingRequest", "Trigger", "set_global_variables"),
        ("next", "set_global_variables", "get-datetime-parts"),
        ("success", "get-datetime-parts", "split_on_event_type"),
        ("match", "split_on_event_type", "save-booked"),
        ("success", "save-booked", "send_booked"),
        ("incomingMessage", "send_booked", "split_booked"),
        ("match", "split_booked", "confirm_booked"),
        ("success", "confirm_booked", "Ended"),
    ]


async def test_send_and_wait_then_json_post_with_http_off() -> None:
    h = Harness(_load("rest-api__send-and-wait"), http=OutboundHttp(mode="off"))
    execution = await h.start({"campaignname": "spring"})
    assert h.parked_on(execution) == "intro"
    await h.inbound("Grace")
    # The callback fails (HTTP off) and both of its events lead to `ack`.
    assert h.steps(execution)[1:] == [
        ("incomingMessage", "intro", "callback"),
        ("failed", "callback", "ack"),
        ("sent", "ack", "Ended"),
    ]
    assert h.messages()[-1] == ("outbound", 'Pleasure to meet you, Grace. HTTP response from callback was: ""')


async def test_outbound_call_flow_uses_simulated_voice_widgets() -> None:
    h = Harness(_load("rest-api__outbound-call-v2"))
    execution = await h.start({"reason": "renew your plan", "ui": "x"})
    assert h.steps(execution) == [
        ("incomingRequest", "Trigger", "initate_call"),
        ("answered", "initate_call", "announce"),
        ("audioComplete", "announce", "enqueue"),
        ("callComplete", "enqueue", "Ended"),
    ]
    busy = Harness(
        _load("rest-api__outbound-call-v2"),
        engine_config=EngineConfig(default_events={"make-outgoing-call-v2": "busy"}),
    )
    execution = await busy.start({"reason": "renew your plan"})
    assert busy.steps(execution)[1:] == [("busy", "initate_call", "send_message"), ("sent", "send_message", "Ended")]
    assert "discuss about renew your plan" in busy.messages()[0][1]


async def test_parent_and_child_subflow_pair_over_sms() -> None:
    parent = _load("rest-api-and-sms__http-request_run-subflow_parent")
    child = _load("subflow-child__incoming-parent")
    (subflow,) = [s for s in parent["states"] if s["type"] == "run-subflow"]
    child_sid = subflow["properties"]["flow_sid"]
    h = Harness(parent, flows={child_sid: child}, numbers=(NUMBER,))
    h.script("validate_caller", ScriptedOutcome(status_code=200, body={"valid": True}))
    h.script("get_names", ScriptedOutcome(status_code=200, body={"name": "linus"}))
    execution, action = await h.inbound("hi", from_=CONTACT, to=NUMBER)
    assert (action, execution.flow_sid) == ("started", FW)
    assert h.parked_on(execution) == "ask_questions"
    assert h.messages()[-1] == ("outbound", "LINUS what did you do yesterday?")
    await h.inbound("fixed bugs")
    await h.inbound("fixed bugs")  # the same answer: the split's Liquid value matches
    assert h.messages()[-3:] == [
        ("inbound", "fixed bugs"),
        ("outbound", "Weren\u2019t you working on that yesterday? Why aren\u2019t you done yet?"),
        ("outbound", "LINUS what impediments do you have?"),
    ]
    await h.inbound("none")  # the child saves to Airtable (HTTP off: fail) and ends
    assert execution.status == ACTIVE and h.parked_on(execution) == "end"
    assert h.messages()[-1][1].startswith("Thanks, linus now get back to work.")
    await h.inbound("1")
    assert execution.status == ENDED
    assert h.steps(execution)[-2:] == [("match", "press_1", "airtable_link"), ("sent", "airtable_link", "Ended")]
    (child_execution,) = [e for e in h.account.executions.values() if e.flow_sid == child_sid]
    assert child_execution.status == ENDED
    variables = h.variables(child_execution)
    assert variables["yesterday"] == variables["today"] == "fixed bugs"
    assert variables["date"] == "2023-11-14"
    assert h.widgets(execution)["ask_questions"]["name"] == "linus"
    assert all(m.account_sid == AC for m in h.engine.messages.list(AC))
