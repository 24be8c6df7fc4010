"""Building flow definitions and driving the engine in-process for the engine tests.

`Harness` wraps a `Studio` with a ManualClock and seeded SIDs; every action awaits
`engine.drain()`, so when it returns every execution has ended or is parked (no sleeps).
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from mockstudio.clock import ManualClock
from mockstudio.domain.models import Execution, Step
from mockstudio.engine.http import OutboundHttp
from mockstudio.engine.runner import EngineConfig
from mockstudio.engine.scripts import Script, ScriptedOutcome
from mockstudio.sids import SeededSids
from mockstudio.studio import AccountSeed, AccountState, FlowSeed, Studio
from mockstudio.testing import MockStudioServer

AC = "AC" + "e" * 32
TOKEN = "enginetoken"
FW = "FW" + "e" * 32
CHILD_FW = "FW" + "c" * 32
CONTACT = "+15550100001"
NUMBER = "+15550199999"
START = 1_700_000_000.0  # 2023-11-14T22:13:20Z

TRIGGER_EVENTS = ("incomingMessage", "incomingCall", "incomingConversationMessage", "incomingRequest", "incomingParent")

Transitions = dict[str, str | None] | list[dict[str, Any]]


def widget(name: str, kind: str, transitions: Transitions | None = None, **properties: Any) -> dict[str, Any]:
    """A state. `transitions` maps event -> next (None: the branch ends), or is the raw list."""
    if transitions is None:
        items: list[dict[str, Any]] = []
    elif isinstance(transitions, dict):
        items = [{"event": event, **({"next": target} if target else {})} for event, target in transitions.items()]
    else:
        items = transitions
    return {
        "name": name,
        "type": kind,
        "transitions": items,
        "properties": {"offset": {"x": 0, "y": 0}, **properties},
    }


def trigger(**events: str | None) -> dict[str, Any]:
    """The trigger, listing every event as an export does; keyword arguments wire them."""
    return widget("Trigger", "trigger", {event: events.get(event) for event in TRIGGER_EVENTS})


def definition(*states: dict[str, Any]) -> dict[str, Any]:
    return {
        "description": "engine test flow",
        "states": list(states),
        "initial_state": "Trigger",
        "flags": {"allow_concurrent_calls": True},
    }


def rest_flow(first: str | None, *states: dict[str, Any]) -> dict[str, Any]:
    """A flow whose REST trigger (incomingRequest) leads to `first`."""
    return definition(trigger(incomingRequest=first), *states)


def condition(kind: str, value: str = "", arguments: str | None = "{{flow.data.input}}") -> dict[str, Any]:
    return {
        "friendly_name": f"If value {kind} {value}",
        "arguments": [arguments] if arguments is not None else [],
        "type": kind,
        "value": value,
    }


def split(
    name: str,
    input_: str,
    branches: list[tuple[str | None, list[dict[str, Any]]]],
    no_match: str | None = None,
) -> dict[str, Any]:
    """A split-based-on with `noMatch` first and one `match` per (next, conditions)."""
    transitions: list[dict[str, Any]] = [{"event": "noMatch", **({"next": no_match} if no_match else {})}]
    for target, conditions in branches:
        transitions.append({"event": "match", **({"next": target} if target else {}), "conditions": conditions})
    return widget(name, "split-based-on", transitions, input=input_)


def say(name: str, body: str, next_: str | None = None) -> dict[str, Any]:
    """A send-message widget (handy as a branch marker)."""
    return widget(name, "send-message", {"sent": next_, "failed": None}, body=body)


class Harness:
    """One Studio with one account (AC) and the given flows (FW by default)."""

    def __init__(
        self,
        main: dict[str, Any] | None = None,
        *,
        flows: dict[str, dict[str, Any]] | None = None,
        engine_config: EngineConfig | None = None,
        http: OutboundHttp | None = None,
        numbers: tuple[str, ...] = (),
        drafts: dict[str, dict[str, Any]] | None = None,
    ) -> None:
        self.clock = ManualClock(START)
        all_flows = dict(flows or {})
        if main is not None:
            all_flows[FW] = main
        seeds = [
            FlowSeed(sid, AC, f"flow {sid}", d, numbers=numbers if sid == FW else ()) for sid, d in all_flows.items()
        ]
        seeds += [FlowSeed(sid, AC, f"draft {sid}", d, status="draft") for sid, d in (drafts or {}).items()]
        self.studio = Studio(
            clock=self.clock,
            sid_factory=SeededSids(1),
            accounts=[AccountSeed(AC, TOKEN)],
            flows=seeds,
            engine_config=engine_config,
            http=http if http is not None else OutboundHttp(mode="off"),
        )
        self.engine = self.studio.engine

    @property
    def account(self) -> AccountState:
        return self.studio.accounts[AC]

    async def start(
        self,
        parameters: dict[str, Any] | None = None,
        *,
        flow_sid: str = FW,
        to: str = CONTACT,
        from_: str = NUMBER,
    ) -> Execution:
        """A REST execution (POST /Executions), run until it ends or waits."""
        raw = json.dumps(parameters) if parameters is not None else None
        execution = self.account.create_execution(flow_sid, to, from_, raw)
        await self.engine.drain()
        return execution

    async def inbound(
        self, body: str, *, from_: str = CONTACT, to: str = NUMBER, **extra: str
    ) -> tuple[Execution, str]:
        """A message from the contact; returns (execution, "resumed" | "started" | "ignored")."""
        execution, action, _ = self.account.receive_message(from_, to, body, extra or None)
        await self.engine.drain()
        return execution, action

    async def advance(self, seconds: float) -> int:
        """Move the clock and fire due timeouts (what POST /_mockstudio/clock does)."""
        self.clock.advance(seconds)
        fired = self.engine.fire_due_timers()
        await self.engine.drain()
        return fired

    async def event(self, execution: Execution, name: str, outputs: dict[str, Any] | None = None) -> bool:
        resumed = self.engine.resume(self.account, execution, name, outputs)
        await self.engine.drain()
        return resumed

    def script(self, widget_name: str, *outcomes: ScriptedOutcome, flow_sid: str | None = None) -> None:
        self.engine.scripts.add(Script(AC, widget_name, flow_sid, list(outcomes)))

    async def close(self) -> None:
        await self.engine.http.aclose()

    # -- what happened -------------------------------------------------------------------

    @staticmethod
    def step_objects(execution: Execution) -> list[Step]:
        """Chronological (the API lists newest first)."""
        if execution.steps is None:
            return []
        return list(reversed(list(execution.steps.newest_first())))

    def steps(self, execution: Execution) -> list[tuple[str, str, str]]:
        return [(s.name, s.transitioned_from, s.transitioned_to) for s in self.step_objects(execution)]

    def context(self, execution: Execution) -> dict[str, Any]:
        return self.account.fetch_execution_context(execution.flow_sid, execution.sid)[1]

    def widgets(self, execution: Execution) -> dict[str, Any]:
        return dict(execution.widgets or {})

    def variables(self, execution: Execution) -> dict[str, Any]:
        return dict(execution.variables or {})

    def messages(self, execution: Execution | None = None) -> list[tuple[str, str]]:
        found = self.engine.messages.list(AC, execution_sid=execution.sid if execution else None)
        return [(m.direction, m.body) for m in found]

    def parked_on(self, execution: Execution) -> str | None:
        run = execution.run
        return run.parked.state.name if run is not None and run.parked is not None else None


def subset(expected: Any, actual: Any, path: str = "") -> None:
    """Assert `expected` is contained in `actual` (dicts compared key by key, recursively)."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{path or '/'}: expected an object, got {actual!r}"
        for key, value in expected.items():
            assert key in actual, f"{path}/{key}: missing (have {sorted(actual)})"
            subset(value, actual[key], f"{path}/{key}")
    else:
        assert actual == expected, f"{path or '/'}: expected {expected!r}, got {actual!r}"


# -- the live server (tests/conftest.py's `live` and `http` fixtures) ---------------------


def install_flow(server: MockStudioServer, sid: str, flow: dict[str, Any], numbers: tuple[str, ...] = ()) -> str:
    """Add a published flow to the live server's default account (until the next reset)."""
    with server.studio.lock:
        server.studio.accounts[server.account_sid].add_flow(
            FlowSeed(sid, server.account_sid, f"engine test {sid}", flow, numbers=numbers)
        )
    return sid


def settle(http: httpx.Client, execution_sid: str) -> dict[str, Any]:
    """Wait (server side) until the execution has ended or is waiting."""
    response = http.get(f"/_mockstudio/executions/{execution_sid}/settled", params={"timeout": 10})
    assert response.status_code == 200, response.text
    state: dict[str, Any] = response.json()
    assert state["settled"], state
    return state


def api_steps(http: httpx.Client, flow_sid: str, execution_sid: str) -> list[tuple[str, str, str]]:
    """The Steps resource, chronological (the API lists newest first)."""
    response = http.get(f"/v2/Flows/{flow_sid}/Executions/{execution_sid}/Steps")
    assert response.status_code == 200, response.text
    steps = response.json()["steps"]
    return [(s["name"], s["transitioned_from"], s["transitioned_to"]) for s in reversed(steps)]
