"""Golden flow cases: each tests/golden/*.json is a flow, how it is triggered, what happens
next, and what the execution must look like afterwards.

    {"name": "...",
     "definition": {...},                       # the flow (published, FW + "9" * 32)
     "subflows": {"FW...": {...}},              # optional: more flows of the account
     "engine": {"default_events": {...}},       # optional: EngineConfig
     "trigger": {"to": "+1...", "from": "+1...", "parameters": {...}}   # a REST execution
              | {"message": {"From": "+1...", "To": "+1...", "Body": "..."}}  # an inbound SMS
              | {"conversation": {"From": "+1...", "To": "+1...", "Body": "..."}}  # replies stay in it
              | {"call": {"From": "+1...", "To": "+1..."}},  # an inbound call
     "scripts": [{"widget": "...", "outcomes": [{...ScriptedOutcome...}]}],  # optional
     "actions": [{"reply": "yes"} | {"advance": 3600} | {"event": {"name": "keypress", "outputs": {...}}}],
     "expect": {"status": "ended",
                "steps": [[event, from, to], ...],          # chronological
                "messages": [[direction, body], ...],       # the whole message log, in order
                "context": {...}}}                          # a subset of the final context

Outbound HTTP is off: HTTP widgets either have a script or fail as unreachable.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mockstudio.domain.models import Execution
from mockstudio.engine.http import OutboundHttp
from mockstudio.engine.runner import EngineConfig
from mockstudio.engine.scripts import ScriptedOutcome

from .support import FW, Harness, subset

GOLDEN = Path(__file__).resolve().parent.parent / "golden"
CASES = sorted(GOLDEN.glob("*.json"))


def test_there_are_enough_cases() -> None:
    assert len(CASES) >= 10


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
async def test_golden(path: Path) -> None:
    case: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    assert case["name"] == path.stem
    trigger = case["trigger"]
    kind = next((k for k in ("message", "conversation", "call") if k in trigger), None)
    message = trigger[kind] if kind else None
    numbers = (message["To"],) if message else ()
    engine = case.get("engine")
    h = Harness(
        case["definition"],
        flows=case.get("subflows"),
        numbers=numbers,
        engine_config=EngineConfig(**engine) if engine else None,
        http=OutboundHttp(mode="off"),
    )
    for script in case.get("scripts", []):
        h.script(script["widget"], *(ScriptedOutcome(**outcome) for outcome in script["outcomes"]))

    execution: Execution
    if message:
        contact, address = message["From"], message["To"]
        extra = {k: v for k, v in message.items() if k not in ("From", "To", "Body")}
        if kind == "message":
            execution, action = await h.inbound(message.get("Body", ""), from_=contact, to=address, **extra)
        elif kind == "conversation":
            execution, action, _ = h.account.receive_conversation_message(contact, address, message.get("Body", ""))
        else:
            execution, action, _ = h.account.receive_call(contact, address, extra or None)
        await h.engine.drain()
        assert action == "started"
    else:
        contact, address = trigger["to"], trigger["from"]
        execution = await h.start(trigger.get("parameters"), to=contact, from_=address)
    assert execution.flow_sid == FW

    for index, step in enumerate(case["actions"]):
        if "reply" in step:
            if kind == "conversation":
                _, action, _ = h.account.receive_conversation_message(contact, address, step["reply"])
                await h.engine.drain()
            else:
                _, action = await h.inbound(step["reply"], from_=contact, to=address)
            assert action == "resumed", f"action {index}: nobody was waiting for a reply"
        elif "advance" in step:
            await h.advance(float(step["advance"]))
        elif "event" in step:
            event = step["event"]
            assert await h.event(execution, event["name"], event.get("outputs")), f"action {index}: not resumed"
        else:
            raise AssertionError(f"action {index}: unknown action {step}")

    expect = case["expect"]
    assert execution.status == expect["status"]
    assert [list(s) for s in h.steps(execution)] == expect["steps"]
    assert [list(m) for m in h.messages()] == expect["messages"]
    subset(expect.get("context", {}), h.context(execution))
