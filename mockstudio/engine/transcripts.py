"""Call transcripts: for every inbound call, what the caller heard and did, in order, as
lines (say, play, gather prompts, hand-offs, key presses, speech, hang-up), each with the
widget that made it and the virtual time. Per account, bounded (oldest calls dropped
first), like the message log.

A call's execution is the one `incomingCall` started (its `initiator` is the CallSid); a
subflow it runs speaks on the same call (its `initiator` is the parent execution's SID).
Text is rendered (Liquid), as the caller would hear it."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .. import sids

if TYPE_CHECKING:
    from ..models import Execution
    from .widgets.base import WidgetRun

__all__ = [
    "CALL_LIMIT",
    "COMPLETED",
    "IN_PROGRESS",
    "Call",
    "CallLog",
    "Line",
    "caller_input",
    "record_caller_input",
    "record_heard",
]

IN_PROGRESS = "in-progress"
COMPLETED = "completed"
CALL_LIMIT = 1_000  # calls kept per account (oldest dropped)
LINE_LIMIT = 2_000  # lines kept per call: more than a flow's 1,000 steps can say
_CALL = "CA"  # a Call SID's prefix
_MAX_DEPTH = 16  # subflow nesting followed from a child execution up to its call


@dataclass(slots=True)
class Line:
    kind: str  # say, play, digits, gather, press, speech, connect, enqueue, flex, record, redirect, hangup
    widget: str | None
    at: int  # virtual time, seconds
    fields: dict[str, Any]


@dataclass(slots=True)
class Call:
    sid: str
    account_sid: str
    from_: str  # the caller (the contact)
    to: str  # the flow's number
    execution_sid: str
    flow_sid: str
    date_created: int
    status: str = IN_PROGRESS
    lines: list[Line] = field(default_factory=list)

    def add(self, kind: str, widget: str | None, at: int, **fields: Any) -> None:
        if len(self.lines) < LINE_LIMIT:
            self.lines.append(Line(kind, widget, at, fields))


class CallLog:
    def __init__(self, limit: int = CALL_LIMIT) -> None:
        self.limit = limit
        self._calls: dict[str, OrderedDict[str, Call]] = {}

    def opened(self, execution: Execution, at: int) -> Call | None:
        """The call whose execution this is (an `incomingCall` one), recorded if new; None
        for an execution that no call started."""
        sid = execution.initiator
        if sid is None or not sid.startswith(_CALL):
            return None
        calls = self._calls.get(execution.account_sid)
        if calls is None:
            calls = self._calls[execution.account_sid] = OrderedDict()
        call = calls.get(sid)
        if call is None:
            call = calls[sid] = Call(
                sid,
                execution.account_sid,
                execution.contact_channel_address,
                execution.flow_channel_address,
                execution.sid,
                execution.flow_sid,
                at,
            )
            while len(calls) > self.limit:
                calls.popitem(last=False)
        return call

    def call_of(self, execution: Execution, executions: Mapping[str, Execution], at: int) -> Call | None:
        """The call an execution speaks on: its own, or (a subflow's child) its parent's."""
        for _ in range(_MAX_DEPTH):
            sid = execution.initiator
            if sid is None:
                return None
            if sid.startswith(_CALL):
                return self.opened(execution, at)
            parent = executions.get(sid) if sid.startswith(sids.EXECUTION) else None
            if parent is None:
                return None
            execution = parent
        return None

    def get(self, account_sid: str, sid: str) -> Call | None:
        calls = self._calls.get(account_sid)
        return calls.get(sid) if calls is not None else None

    def list(self, account_sid: str, *, contact: str | None = None) -> list[Call]:
        """Oldest first."""
        calls = self._calls.get(account_sid)
        if calls is None:
            return []
        return [c for c in calls.values() if contact is None or contact in (c.from_, c.to)]

    def execution_stopped(self, execution: Execution, now: Callable[[], int]) -> None:
        """The call's own execution stopped (the flow ended, or was ended or deleted): the
        flow hangs up, unless the caller already did. (Runs for every execution that stops:
        most are no call's, and cost one test.)"""
        sid = execution.initiator
        if sid is None or not sid.startswith(_CALL):
            return
        at = now()
        call = self.opened(execution, at)  # (a flow that ended before the call was recorded)
        if call is not None and call.execution_sid == execution.sid and call.status == IN_PROGRESS:
            call.add("hangup", None, at, by="flow")
            call.status = COMPLETED

    def clear(self, account_sid: str | None = None) -> None:
        if account_sid is None:
            self._calls.clear()
        else:
            self._calls.pop(account_sid, None)


# -- what widgets make the caller hear ---------------------------------------------------------


def _loop(raw: Any) -> int:
    try:
        return int(str(raw).strip())
    except ValueError:
        return 1


def _voice(turn: WidgetRun) -> dict[str, Any]:
    """`voice` and `language` when the widget sets them (the default voice says nothing)."""
    out: dict[str, Any] = {}
    for name in ("voice", "language"):
        value = turn.prop(name)
        if value:
            out[name] = value
    return out


def record_heard(turn: WidgetRun) -> None:
    """Record what this (voice) widget makes the caller hear, if its execution is on a call
    still in progress. Called as the widget runs."""
    execution = turn.execution
    if execution.initiator is None:  # a REST execution: no call (the common case, first)
        return
    kind = turn.state.type
    if kind not in _HEARD:
        return
    at = turn.now()
    call = turn.engine.calls.call_of(execution, turn.account.executions, at)
    if call is None or call.status != IN_PROGRESS:
        return
    _HEARD[kind](turn, call, at)


def _say_play(turn: WidgetRun, call: Call, at: int) -> None:
    name = turn.state.name
    loop = _loop(turn.properties.get("loop", 1))
    repeat = {"loop": loop} if loop != 1 else {}  # 0: until the caller hangs up (TwiML's loop)
    say, play, digits = turn.prop("say"), turn.prop("play"), turn.prop("digits")
    if say:
        call.add("say", name, at, text=say, **_voice(turn), **repeat)
    if play:
        call.add("play", name, at, url=play, **repeat)
    if digits:
        call.add("digits", name, at, digits=digits)


def _gather(turn: WidgetRun, call: Call, at: int) -> None:
    fields: dict[str, Any] = {"prompt": turn.prop("say")}
    play = turn.prop("play")
    if play:
        fields["url"] = play
    fields.update(_voice(turn))
    fields["expects"] = ["dtmf", "speech"]  # the widget has both keypress and speech transitions
    call.add("gather", turn.state.name, at, **fields)


def _connect(turn: WidgetRun, call: Call, at: int) -> None:
    noun = turn.prop("noun") or "number"
    to = turn.prop("to") or turn.prop("sip_endpoint")
    call.add("connect", turn.state.name, at, to=to, noun=noun)


def _enqueue(turn: WidgetRun, call: Call, at: int) -> None:
    queue = turn.prop("queue_name") or turn.prop("workflow_sid")
    call.add("enqueue", turn.state.name, at, queue=queue)


def _flex(turn: WidgetRun, call: Call, at: int) -> None:
    call.add("flex", turn.state.name, at, workflow=turn.prop("workflow"), channel=turn.prop("channel"))


def _record(turn: WidgetRun, call: Call, at: int) -> None:
    call.add("record", turn.state.name, at)


def _redirect(turn: WidgetRun, call: Call, at: int) -> None:
    call.add("redirect", turn.state.name, at, url=turn.prop("url"))


_HEARD = {
    "say-play": _say_play,
    "gather-input-on-call": _gather,
    "connect-call-to": _connect,
    "enqueue-call": _enqueue,
    "send-to-flex": _flex,
    "record-voicemail": _record,
    "add-twiml-redirect": _redirect,
}


# -- what the caller does ----------------------------------------------------------------------


def caller_input(kind: str, value: str) -> tuple[str, dict[str, Any]]:
    """The gather event and outputs for keys pressed (`keypress`) or words said (`speech`)."""
    if kind == "keypress":
        return "keypress", {"Digits": value}
    return "speech", {"SpeechResult": value, "Confidence": "0.9"}


def record_caller_input(turn: WidgetRun, event: str, payload: Mapping[str, Any] | None) -> None:
    """A gather resumed with the caller's keys or speech (from any source: the phone, the
    events endpoint, `mockstudio run --press`): the transcript's press/speech line."""
    if event not in ("keypress", "speech") or turn.execution.initiator is None:
        return
    at = turn.now()
    call = turn.engine.calls.call_of(turn.execution, turn.account.executions, at)
    if call is None or call.status != IN_PROGRESS:
        return
    payload = payload or {}
    if event == "keypress":
        call.add("press", turn.state.name, at, digits=str(payload.get("Digits", "")))
    else:
        call.add("speech", turn.state.name, at, text=str(payload.get("SpeechResult", "")))
