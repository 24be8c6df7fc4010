"""The flows the engine benchmarks run (fixtures/bench_flows.json), and the check that an
execution of them ran as it should. Used in-process (probes.py) and by the server
(serve_populated.py --bench-flows, whose /_bench/stats route verifies every execution).

- FIVE (FW...05): Trigger -> set_profile (set-variables, one `default` filter) ->
  check_name (split-based-on) -> send_greeting (send-message) -> set_sent (set-variables,
  one `plus` filter) -> send_receipt (send-message) -> end. Nothing waits: six steps, ended.
- INERT (FW...06): the trigger leads nowhere: one step, ended.

Both are driven with Parameters {"name":"Zeke"}.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent / "fixtures"
FIVE = "FW00000000000000000000000000000005"
INERT = "FW00000000000000000000000000000006"
FLOWS = {"five": FIVE, "inert": INERT}

# (transitioned_from, name, transitioned_to) of every step, oldest first.
EXPECTED_STEPS: dict[str, list[tuple[str, str, str]]] = {
    FIVE: [
        ("Trigger", "incomingRequest", "set_profile"),
        ("set_profile", "next", "check_name"),
        ("check_name", "match", "send_greeting"),
        ("send_greeting", "sent", "set_sent"),
        ("set_sent", "next", "send_receipt"),
        ("send_receipt", "sent", "Ended"),
    ],
    INERT: [("Trigger", "incomingRequest", "Ended")],
}


def definitions() -> dict[str, dict[str, Any]]:
    """Flow SID -> the fixture entry (sid, friendly_name, definition, ...)."""
    raw = json.loads((FIXTURES / "bench_flows.json").read_text())
    return {flow["sid"]: flow for flow in raw["flows"]}


def flow_seeds(account_sid: str) -> list[Any]:
    """The benchmark flows as FlowSeeds of `account_sid` (imports mockstudio lazily, so the
    server script can import this module before its own imports)."""
    from mockstudio.studio import FlowSeed

    return [
        FlowSeed(sid, account_sid, flow["friendly_name"], flow["definition"], commit_message=flow.get("commit_message"))
        for sid, flow in definitions().items()
    ]


def problem(execution: Any) -> str | None:
    """Why `execution` did not run its benchmark flow as expected, or None."""
    expected = EXPECTED_STEPS.get(execution.flow_sid)
    if expected is None:
        return f"{execution.sid}: not a benchmark flow ({execution.flow_sid})"
    if execution.status != "ended":
        return f"{execution.sid}: status {execution.status}"
    if execution.run is not None:
        return f"{execution.sid}: ended but still has run state"
    steps = list(execution.steps.newest_first())[::-1] if execution.steps is not None else []
    got = [(s.transitioned_from, s.name, s.transitioned_to) for s in steps]
    if got != expected:
        return f"{execution.sid}: {len(got)} steps {got}, expected {len(expected)}"
    if execution.flow_sid != FIVE:
        return None
    variables = execution.variables or {}
    sid = variables.get("greeting_sid")
    if not (isinstance(sid, str) and sid.startswith("SM") and len(sid) == 34):
        return f"{execution.sid}: flow.variables.greeting_sid is {sid!r}"
    if variables != {"name": "Zeke", "attempt": 2, "greeting_sid": sid}:
        return f"{execution.sid}: flow.variables {variables!r}"
    widgets = execution.widgets or {}
    greeting = widgets.get("send_greeting", {}).get("outbound", {})
    receipt = widgets.get("send_receipt", {}).get("outbound", {})
    if greeting.get("Sid") != sid or greeting.get("Body") != "Hi Zeke, thanks for reaching out.":
        return f"{execution.sid}: widgets.send_greeting {greeting!r}"
    if receipt.get("Body") != f"Ref {sid} (message 2 of 2)" or receipt.get("To") != execution.contact_channel_address:
        return f"{execution.sid}: widgets.send_receipt {receipt!r}"
    if len(steps[-1].widgets or {}) != 4 or steps[0].widgets is not None:
        return f"{execution.sid}: step contexts {[sorted(s.widgets or {}) for s in steps]}"
    return None


def check_all(executions: list[Any]) -> tuple[int, str | None]:
    """(how many executions failed the check, the first problem found)."""
    bad = 0
    first = None
    for execution in executions:
        found = problem(execution)
        if found is not None:
            bad += 1
            first = first or found
    return bad, first
