"""Call transcripts: for every inbound call, what the caller heard and did, in order, as
lines (say, play, gather prompts, hand-offs, key presses, speech, hang-up), each with the
widget that made it and the virtual time. Per account, bounded (oldest calls dropped
first), like the message log.

A call's execution is the one `incomingCall` started (its `initiator` is the CallSid); a
subflow it runs speaks on the same call (its `initiator` is the parent execution's SID).
Text is rendered (Liquid), as the caller would hear it."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .. import sids
from .config import EngineConfig

if TYPE_CHECKING:
    from ..domain.models import Execution

__all__ = [
    "CALL_LIMIT",
    "COMPLETED",
    "IN_PROGRESS",
    "Call",
    "CallLog",
    "Line",
    "caller_input",
]

IN_PROGRESS = "in-progress"
COMPLETED = "completed"
CALL_LIMIT = EngineConfig().call_limit  # calls kept per account (oldest dropped)
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
    executions: list[str] = field(default_factory=list)  # the call's and its subflow children's

    def add(self, kind: str, widget: str | None, at: int, **fields: Any) -> None:
        if len(self.lines) < LINE_LIMIT:
            self.lines.append(Line(kind, widget, at, fields))


class CallLog:
    def __init__(self, limit: int = CALL_LIMIT) -> None:
        self.limit = limit
        self._calls: dict[str, OrderedDict[str, Call]] = {}
        # Execution SID -> the call it speaks on (the call's own and its subflow children),
        # per account: how a child finds its parent's call without the account's indexes.
        self._speaking: dict[str, dict[str, Call]] = {}

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
            self._speak(call, execution.sid)
            while len(calls) > self.limit:
                _, dropped = calls.popitem(last=False)
                speaking = self._speaking.get(dropped.account_sid, {})
                for sid_ in dropped.executions:
                    speaking.pop(sid_, None)
        return call

    def call_of(self, execution: Execution, at: int) -> Call | None:
        """The call an execution speaks on: its own, or (a subflow's child, whose initiator
        is its parent) its parent's."""
        sid = execution.initiator
        if sid is None:
            return None
        if sid.startswith(_CALL):
            return self.opened(execution, at)
        speaking = self._speaking.get(execution.account_sid)
        call = speaking.get(sid) if speaking is not None and sid.startswith(sids.EXECUTION) else None
        if call is not None:
            self._speak(call, execution.sid)
        return call

    def _speak(self, call: Call, execution_sid: str) -> None:
        call.executions.append(execution_sid)
        self._speaking.setdefault(call.account_sid, {})[execution_sid] = call

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
            self._speaking.clear()
        else:
            self._calls.pop(account_sid, None)
            self._speaking.pop(account_sid, None)


# -- what the caller does ----------------------------------------------------------------------


def caller_input(kind: str, value: str) -> tuple[str, dict[str, Any]]:
    """The gather event and outputs for keys pressed (`keypress`) or words said (`speech`)."""
    if kind == "keypress":
        return "keypress", {"Digits": value}
    return "speech", {"SpeechResult": value, "Confidence": "0.9"}
