"""Flow files from the terminal, with no server: validate them, or run one in-process.

`validate_file` applies Studio's validation (`parse_definition`) to a
bare flow definition or to every flow of a fixture document, and reports each problem with
its JSON-pointer path. `run_flow` builds a private Studio (a manual clock starting now, one
account, the flow published under a fixed SID), starts an execution from one of the trigger's
events (a REST request, or an inbound message, call or Conversations message to the flow's
address) and drives it: replies arrive as the contact's inbound messages, key presses and
speech resume voice gathers, waits time out by moving the clock, and simulated widgets are
resumed with given events. The result lists the steps taken, the messages, the final context
and where it stopped.

Nothing here knows about argparse or HTTP frameworks; `mockstudio.cli` is the front end.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from .clock import ManualClock
from .contexts import build_context
from .domain.accounts import AccountSeed, AccountState, FlowSeed, Studio
from .domain.control import Waiting as Parked
from .domain.models import ACTIVE, Execution
from .engine.definition import State, parse_definition
from .engine.http import OutboundHttp
from .engine.transcripts import caller_input
from .engine.widgets import WIDGETS
from .errors import NotWaiting, TwilioError
from .fixture_schema import FixtureFile
from .fixtures import FixtureError, Fixtures
from .settings import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN
from .sids import RandomSids

__all__ = [
    "DEFAULT_CONTACT",
    "DEFAULT_FLOW_ADDRESS",
    "RUN_FLOW_SID",
    "TRIGGERS",
    "FileReport",
    "Finding",
    "FlowBundle",
    "FlowFileError",
    "RunError",
    "RunMessage",
    "RunResult",
    "RunStep",
    "TriggerChoice",
    "VoiceInput",
    "Waiting",
    "WidgetEvent",
    "choose_trigger",
    "drive_flow",
    "format_result",
    "load_flow_file",
    "run_flow",
    "validate_file",
]

RUN_FLOW_SID = "FW00000000000000000000000000000000"  # the SID a bare definition runs under
# The README's example numbers: a run needs no --to/--from.
DEFAULT_CONTACT = "+15551234567"
DEFAULT_FLOW_ADDRESS = "+15017122661"
# `--trigger` names and the trigger widget's events they fire.
TRIGGERS = {
    "rest": "incomingRequest",
    "message": "incomingMessage",
    "call": "incomingCall",
    "conversation": "incomingConversationMessage",
}
MAX_ROUNDS = 10_000  # resumptions before giving up (the engine's own limits stop loops first)


# -- validation ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem: where (a file, and a JSON pointer inside it when there is one) and what."""

    source: str
    pointer: str | None
    message: str

    def __str__(self) -> str:
        return f"{self.source}: {self.pointer}: {self.message}" if self.pointer else f"{self.source}: {self.message}"


@dataclass(slots=True)
class FileReport:
    file: str
    problems: list[Finding] = field(default_factory=list)
    flows: int = 0  # flow definitions checked (fixture documents may hold several)
    fixture: bool = False

    @property
    def valid(self) -> bool:
        return not self.problems

    def lines(self) -> list[str]:
        if self.problems:
            return [str(problem) for problem in self.problems]
        if self.fixture:
            return [f"{self.file}: valid (fixture file, {self.flows} flow{'' if self.flows == 1 else 's'})"]
        return [f"{self.file}: valid"]


def _read_json(path: Path, source: str) -> tuple[Any, Finding | None]:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return None, Finding(source, None, "cannot read: not UTF-8 text")
    except OSError as exc:
        return None, Finding(source, None, f"cannot read: {exc.strerror or exc}")
    try:
        return json.loads(text), None
    except json.JSONDecodeError as exc:
        return None, Finding(source, None, f"not valid JSON: {exc}")


def _is_fixture_document(value: Any) -> bool:
    return isinstance(value, dict) and "states" not in value and ("flows" in value or "accounts" in value)


def _definition_findings(definition: Any, source: str, prefix: str = "#") -> list[Finding]:
    _, problems = parse_definition(definition)
    return [Finding(source, prefix + p.property_path[1:], p.message) for p in problems]


def _pointer(location: Sequence[Any]) -> str:
    return "#" + "".join(f"/{part}" for part in location)


def validate_file(path: Path | str) -> FileReport:
    """Validate a flow definition file, or each flow of a fixture document (an object with
    `flows`); `definition_file`s are resolved next to the fixture file."""
    path = Path(path)
    report = FileReport(str(path))
    value, problem = _read_json(path, str(path))
    if problem is not None:
        report.problems.append(problem)
        return report
    if not _is_fixture_document(value):
        report.flows = 1
        report.problems.extend(_definition_findings(value, str(path)))
        return report
    report.fixture = True
    try:
        FixtureFile.model_validate(value)
    except ValidationError as exc:
        for error in exc.errors():
            report.problems.append(Finding(str(path), _pointer(error["loc"]), error["msg"]))
    flows = value.get("flows")
    for index, flow in enumerate(flows if isinstance(flows, list) else []):
        if not isinstance(flow, dict):
            continue
        definition, definition_file = flow.get("definition"), flow.get("definition_file")
        if isinstance(definition, dict):
            report.flows += 1
            report.problems.extend(_definition_findings(definition, str(path), f"#/flows/{index}/definition"))
        if isinstance(definition_file, str):
            report.flows += 1
            target = path.parent / definition_file
            loaded, problem = _read_json(target, str(target))
            if problem is not None:
                report.problems.append(
                    Finding(str(path), f"#/flows/{index}/definition_file", f"{target}: {problem.message}")
                )
            else:
                report.problems.extend(_definition_findings(loaded, str(target)))
    return report


# -- loading a flow to run -------------------------------------------------------------------


class FlowFileError(ValueError):
    """The flow file cannot be run: unreadable, invalid, or ambiguous. `lines` are the
    problems, one per line."""

    def __init__(self, lines: Sequence[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = list(lines)


class RunError(ValueError):
    """The run was asked for something impossible (e.g. an event for a widget that never
    waits); found before anything runs."""


@dataclass(frozen=True, slots=True)
class FlowBundle:
    """What a run's Studio is seeded with, and which flow it runs."""

    accounts: tuple[AccountSeed, ...]
    flows: tuple[FlowSeed, ...]
    flow_sid: str
    default_account_sid: str = DEFAULT_ACCOUNT_SID
    from_fixture: bool = True  # False: a bare definition, run under RUN_FLOW_SID

    @classmethod
    def from_definition(cls, definition: dict[str, Any], friendly_name: str = "mockstudio run") -> FlowBundle:
        account = AccountSeed(DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, friendly_name="Default account")
        flow = FlowSeed(RUN_FLOW_SID, account.sid, friendly_name, definition)
        return cls((account,), (flow,), flow.sid, from_fixture=False)

    @property
    def flow(self) -> FlowSeed:
        return next(seed for seed in self.flows if seed.sid == self.flow_sid)


def load_flow_file(path: Path | str, flow: str | None = None) -> FlowBundle:
    """A bare definition runs as a published flow with SID `RUN_FLOW_SID`. A fixture document
    loads all its accounts and flows (so `run-subflow` finds its children) and runs the flow
    named by `flow` (SID or friendly name), which may be omitted when it has only one.
    Raises FlowFileError."""
    path = Path(path)
    report = validate_file(path)
    if not report.valid:
        raise FlowFileError(report.lines())
    value, _ = _read_json(path, str(path))
    if not report.fixture:
        if flow is not None:
            raise FlowFileError([f"{path}: --flow only applies to fixture files; this is a single flow definition"])
        return FlowBundle.from_definition(value, friendly_name=path.stem)
    fixtures = Fixtures(AccountSeed(DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, friendly_name="Default account"))
    try:
        fixtures.add_text(json.dumps(value), str(path), path.parent)
        fixtures.check()
    except FixtureError as exc:
        raise FlowFileError([str(exc)]) from None
    seeds = list(fixtures.flows.values())
    described = ", ".join(f"{s.sid} ({s.friendly_name})" for s in seeds) or "none"
    if flow is None:
        if len(seeds) != 1:
            raise FlowFileError([f"{path}: holds {len(seeds)} flows; choose one with --flow: {described}"])
        chosen = seeds[0]
    else:
        matches = [s for s in seeds if flow in (s.sid, s.friendly_name)]
        if len(matches) != 1:
            raise FlowFileError([f"{path}: no single flow is {flow!r}; its flows are: {described}"])
        chosen = matches[0]
    return FlowBundle(tuple(fixtures.accounts.values()), tuple(seeds), chosen.sid)


# -- running ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TriggerChoice:
    """The trigger event a run fires, why, and whether it leads anywhere."""

    name: str  # a TRIGGERS key: rest, message, call, conversation
    event: str
    reason: str  # "chosen with --trigger", or why it is the default
    leads_to: str | None  # the widget it leads to; None: the execution ends at once
    wired: tuple[str, ...]  # the TRIGGERS names whose events lead somewhere


def choose_trigger(bundle: FlowBundle, name: str | None = None) -> TriggerChoice:
    """`name`, or by default the REST trigger when it leads somewhere, else the first trigger
    event (in the trigger widget's order) that does."""
    definition, _ = parse_definition(bundle.flow.definition)
    trigger = definition.states[definition.initial_state] if definition is not None else None
    by_event = {event: key for key, event in TRIGGERS.items()}
    wired: list[str] = []
    for transition in trigger.transitions if trigger is not None else ():
        key = by_event.get(transition.event)
        if key is not None and transition.next and key not in wired:
            wired.append(key)
    if name is not None:
        reason = "chosen with --trigger"
    elif "rest" in wired or not wired:
        name, reason = "rest", "the default" if wired else "the default; no trigger event leads anywhere"
    else:
        name, reason = wired[0], "the first trigger event wired to a widget; the REST trigger leads nowhere"
    event = TRIGGERS[name]
    chosen = trigger.transition(event) if trigger is not None else None
    return TriggerChoice(name, event, reason, chosen.next if chosen is not None else None, tuple(wired))


@dataclass(frozen=True, slots=True)
class VoiceInput:
    """What the caller does when a voice gather waits: presses keys or says something."""

    kind: str  # "keypress" or "speech"
    value: str

    def outputs(self) -> dict[str, Any]:
        return caller_input(self.kind, self.value)[1]

    def describe(self) -> str:
        return f"--press {self.value}" if self.kind == "keypress" else f"--say {self.value!r}"


@dataclass(frozen=True, slots=True)
class WidgetEvent:
    """Resume the widget named `widget` with `event` (and these outputs) when it waits."""

    widget: str
    event: str
    outputs: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class RunStep:
    event: str
    from_: str
    to: str
    widget_type: str | None
    execution_sid: str
    flow_sid: str
    elapsed: int  # seconds of the run's clock since the execution was created

    def as_json(self) -> dict[str, Any]:
        return {
            "event": self.event,
            "from": self.from_,
            "to": self.to,
            "type": self.widget_type,
            "execution_sid": self.execution_sid,
            "flow_sid": self.flow_sid,
            "elapsed": self.elapsed,
        }


@dataclass(frozen=True, slots=True)
class RunMessage:
    direction: str  # outbound (flow -> contact) or inbound (contact -> flow)
    from_: str
    to: str
    body: str
    execution_sid: str | None
    elapsed: int

    def as_json(self) -> dict[str, Any]:
        return {
            "direction": self.direction,
            "from": self.from_,
            "to": self.to,
            "body": self.body,
            "execution_sid": self.execution_sid,
            "elapsed": self.elapsed,
        }


@dataclass(frozen=True, slots=True)
class Waiting:
    """Where a run stopped without ending: the widget parked and what would move it on."""

    execution_sid: str
    widget: str
    widget_type: str
    events: tuple[str, ...]
    timeout_event: str | None  # None: no timeout of its own (only the 30-day expiry)
    due_in: float | None  # seconds until the timeout (or expiry) fires

    def describe(self) -> str:
        text = f"waiting on {self.widget} ({self.widget_type}) for {', '.join(self.events)}"
        if self.timeout_event is not None and self.due_in is not None:
            text += f"; its {self.timeout_event} fires in {_duration(self.due_in)}"
        elif self.due_in is not None:
            text += f"; the execution expires in {_duration(self.due_in)}"
        return text

    def as_json(self) -> dict[str, Any]:
        return {
            "execution_sid": self.execution_sid,
            "widget": self.widget,
            "type": self.widget_type,
            "events": list(self.events),
            "timeout_event": self.timeout_event,
            "due_in": self.due_in,
        }


@dataclass(slots=True)
class RunResult:
    flow_sid: str
    execution_sid: str
    status: str  # "ended", or "active" when left waiting
    steps: list[RunStep]
    messages: list[RunMessage]
    context: dict[str, Any]
    waiting: Waiting | None
    notes: list[str]
    trigger: TriggerChoice | None = None
    flow_name: str | None = None  # the fixture's friendly name; None for a bare definition

    @property
    def ended(self) -> bool:
        return self.status != ACTIVE

    def as_json(self) -> dict[str, Any]:
        return {
            "flow_sid": self.flow_sid,
            "flow_name": self.flow_name,
            "execution_sid": self.execution_sid,
            "trigger": self.trigger.event if self.trigger is not None else None,
            "status": self.status,
            "steps": [step.as_json() for step in self.steps],
            "messages": [message.as_json() for message in self.messages],
            "context": self.context,
            "waiting": self.waiting.as_json() if self.waiting is not None else None,
            "notes": self.notes,
        }


def _duration(seconds: float) -> str:
    """`90` -> `1m30s`, `86400` -> `1d`."""
    value, parts = round(seconds), []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if value >= size:
            parts.append(f"{value // size}{unit}")
            value %= size
    return "".join(parts) or "0s"


def _check_events(bundle: FlowBundle, events: Sequence[WidgetEvent]) -> None:
    states: dict[str, State] = {}
    for seed in bundle.flows:
        definition, _ = parse_definition(seed.definition)
        if definition is not None:
            for name, state in definition.states.items():
                states.setdefault(name, state)
    for item in events:
        found = states.get(item.widget)
        if found is None:
            raise RunError(f"--event {item.widget}={item.event}: the flow has no widget {item.widget!r}")
        state = found
        takes = WIDGETS[state.type].resume_events(state)
        if not takes:
            raise RunError(
                f"--event {item.widget}={item.event}: {item.widget} is a {state.type} widget, which never waits"
            )
        if item.event not in takes:
            raise RunError(
                f"--event {item.widget}={item.event}: a waiting {state.type} widget takes {', '.join(takes)}"
            )


def _parked(account: AccountState) -> Parked | None:
    """The newest parked execution: a subflow child before the parent waiting on it."""
    parked = account.parked_executions()
    return parked[0] if parked else None


def _take_event(events: list[WidgetEvent], widget: str) -> WidgetEvent | None:
    for index, item in enumerate(events):
        if item.widget == widget:
            return events.pop(index)
    return None


async def drive_flow(
    bundle: FlowBundle,
    *,
    to: str = DEFAULT_CONTACT,
    from_: str = DEFAULT_FLOW_ADDRESS,
    parameters: dict[str, Any] | None = None,
    replies: Sequence[str] = (),
    advances: Sequence[float] = (),
    events: Sequence[WidgetEvent] = (),
    http_mode: str = "live",
    start: float | None = None,
    trigger: str | None = None,
    body: str = "",
    voice: Sequence[VoiceInput] = (),
) -> RunResult:
    """Start the execution from `trigger` (a TRIGGERS name; see `choose_trigger` for the
    default) and drive it until it ends or nothing more can be done. `to` is the contact's
    address and `from_` the flow's, whatever the trigger: a message, call or Conversations
    message (with `body`) comes from `to` to `from_`.

    Each round looks at the parked widget: an `events` entry naming it resumes it; else, if
    it waits for a reply and `replies` remain, the next one arrives from the contact; else, if
    it is a voice gather and `voice` inputs remain, the next one resumes it; else the clock
    moves by the next of `advances` and due timers fire or, when no `advances` were given at
    all, straight to the widget's own timeout. Anything else stops the run. Raises RunError
    (bad `events`) and TwilioError (the execution could not be created)."""
    _check_events(bundle, events)
    choice = choose_trigger(bundle, trigger)
    clock = ManualClock(time.time() if start is None else start)
    studio = Studio(
        clock=clock,
        sid_factory=RandomSids(),
        accounts=bundle.accounts,
        flows=bundle.flows,
        default_account_sid=bundle.default_account_sid,
        http=OutboundHttp(mode=http_mode),
    )
    account = studio.accounts[bundle.flow.account_sid]
    origin = int(clock.now())
    replies_left, advances_left, events_left = deque(replies), deque(advances), list(events)
    voice_left = deque(voice)
    notes: list[str] = []
    if choice.leads_to is None:
        wired = ", ".join(f"--trigger {name}" for name in choice.wired)
        notes.append(
            f"the trigger's {choice.event} leads to no widget, so the execution ends at once"
            + (f"; wired: {wired}" if wired else "; no trigger event is wired to a widget")
        )
    conversation = choice.name == "conversation"
    try:
        if choice.name == "rest":
            raw = json.dumps(parameters) if parameters else None
            execution = account.create_execution(bundle.flow_sid, to, from_, raw)
        else:
            if parameters:
                notes.append("--param/--parameters are the REST trigger's flow.data: not used by this trigger")
            account.bind_number(from_, bundle.flow_sid)
            if choice.name == "message":
                execution, _, _ = account.receive_message(to, from_, body)
            elif choice.name == "call":
                execution, _, _ = account.receive_call(to, from_)
            else:
                execution, _, _ = account.receive_conversation_message(to, from_, body)
        await studio.settle()
        for _ in range(MAX_ROUNDS):
            if execution.status != ACTIVE:
                break
            waiting = _parked(account)
            if waiting is None:
                notes.append("the execution is active but not waiting on any widget")
                break
            item = _take_event(events_left, waiting.widget)
            if item is not None:
                with contextlib.suppress(NotWaiting):  # (checked up front: _check_events)
                    account.resume_execution(waiting.execution_sid, item.event, item.outputs)
            elif "incomingMessage" in waiting.events and replies_left:
                reply = replies_left.popleft()
                target = account.control_execution(waiting.execution_sid)
                deliver = account.receive_conversation_message if conversation else account.receive_message
                try:
                    deliver(target.contact_channel_address, target.flow_channel_address, reply)
                except TwilioError as exc:  # not expected: the widget registered its wait
                    notes.append(f"reply {reply!r} could not be delivered: {exc}")
                    break
            elif voice_left and voice_left[0].kind in waiting.events:
                said = voice_left.popleft()
                with contextlib.suppress(NotWaiting):
                    account.resume_execution(waiting.execution_sid, said.kind, said.outputs())
            elif advances_left:
                studio.move_clock(advance=advances_left.popleft())
            elif not advances and waiting.timeout_event is not None and waiting.due is not None:
                studio.move_clock(to=max(clock.now(), waiting.due))
            else:
                break
            await studio.settle()
        else:
            notes.append(f"stopped after {MAX_ROUNDS} resumptions")
    finally:
        await studio.aclose()
    if voice_left:
        notes.append(f"unused: {', '.join(v.describe() for v in voice_left)}")
    result = _result(account, execution, origin, clock.now(), notes, replies_left, advances_left, events_left)
    result.trigger = choice
    result.flow_name = bundle.flow.friendly_name if bundle.from_fixture else None
    return result


def _result(
    account: AccountState,
    execution: Execution,
    origin: int,
    now: float,
    notes: list[str],
    replies: deque[str],
    advances: deque[float],
    events: list[WidgetEvent],
) -> RunResult:
    steps = []
    for each in account.executions.values():
        for step in each.steps.newest_first() if each.steps is not None else ():
            steps.append((step.key, each, step))
    steps.sort(key=lambda item: item[0])
    messages = account.list_messages()
    waiting = None
    parked = _parked(account) if execution.status == ACTIVE else None
    if parked is not None:
        waiting = Waiting(
            execution_sid=parked.execution_sid,
            widget=parked.widget,
            widget_type=parked.widget_type,
            events=parked.events,
            timeout_event=parked.timeout_event,
            due_in=None if parked.due is None else max(0.0, parked.due - now),
        )
    if replies:
        notes.append(f"unused --reply: {', '.join(repr(r) for r in replies)}")
    if advances:
        notes.append(f"unused --advance: {', '.join(_duration(a) for a in advances)}")
    if events:
        notes.append(f"unused --event: {', '.join(f'{e.widget}={e.event}' for e in events)}")
    return RunResult(
        flow_sid=execution.flow_sid,
        execution_sid=execution.sid,
        status=execution.status,
        steps=[
            RunStep(
                step.name,
                step.transitioned_from,
                step.transitioned_to,
                step.type,
                each.sid,
                each.flow_sid,
                step.date_created - origin,
            )
            for _, each, step in steps
        ],
        messages=[
            RunMessage(m.direction, m.from_, m.to, m.body, m.execution_sid, m.date_created - origin) for m in messages
        ],
        context=build_context(execution, execution.widgets, execution.variables),
        waiting=waiting,
        notes=notes,
    )


def run_flow(
    bundle: FlowBundle,
    *,
    to: str = DEFAULT_CONTACT,
    from_: str = DEFAULT_FLOW_ADDRESS,
    parameters: dict[str, Any] | None = None,
    replies: Sequence[str] = (),
    advances: Sequence[float] = (),
    events: Sequence[WidgetEvent] = (),
    http_mode: str = "live",
    start: float | None = None,
    trigger: str | None = None,
    body: str = "",
    voice: Sequence[VoiceInput] = (),
) -> RunResult:
    """`drive_flow` on a fresh event loop (not from inside a running one)."""
    return asyncio.run(
        drive_flow(
            bundle,
            to=to,
            from_=from_,
            parameters=parameters,
            replies=replies,
            advances=advances,
            events=events,
            http_mode=http_mode,
            start=start,
            trigger=trigger,
            body=body,
            voice=voice,
        )
    )


def format_result(result: RunResult) -> str:
    """The human-readable report: path, messages, final context, status."""
    if result.flow_name is not None:
        flow = f"Flow {result.flow_sid} ({result.flow_name})"
    else:
        flow = f"Flow {result.flow_sid} (a bare definition: a stand-in SID)"
    lines = [f"{flow}, execution {result.execution_sid}"]
    if result.trigger is not None:
        lines.append(f"Trigger: {result.trigger.event} (--trigger {result.trigger.name}, {result.trigger.reason})")
    lines += ["", "Path:"]
    root = result.execution_sid
    width = max((len(step.event) for step in result.steps), default=0)
    for step in result.steps:
        marker = "" if step.execution_sid == root else "  [subflow] "
        when = f"   (+{_duration(step.elapsed)})" if step.elapsed else ""
        lines.append(f"  {marker}{step.event.ljust(width)}  {step.from_} -> {step.to}{when}")
    lines += ["", "Messages:"]
    if not result.messages:
        lines.append("  (none)")
    for message in result.messages:
        when = f"   (+{_duration(message.elapsed)})" if message.elapsed else ""
        head = f"  {message.direction:<8}  {message.from_} -> {message.to}: "
        body = message.body.replace("\n", "\n" + " " * len(head))  # continuation lines under the first
        lines.append(f"{head}{body}{when}")
    lines += ["", "Context:", json.dumps(result.context, indent=2, ensure_ascii=False, default=str), ""]
    if result.waiting is not None:
        lines.append(f"Status: {result.status}, {result.waiting.describe()}")
    else:
        lines.append(f"Status: {result.status}")
    lines.extend(f"Note: {note}" for note in result.notes)
    return "\n".join(lines)
