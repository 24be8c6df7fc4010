"""The phone: play the caller of an inbound call. Read the call (its transcript, what its
flow waits for) and act on it: press keys, say something, hang up. Plain Python over an
account's state and its engine, as `AccountState.receive_call` is; the control plane
(api/routes/calls.py) and `MockStudioServer` call these.

When the caller hangs up, Studio considers the execution ended ("An Execution is active
while the user is in the Flow, and it is considered ended when they ... hang up their
call", https://www.twilio.com/docs/studio/rest-api/v2/step): a widget waiting with a
`hangup` event of its own (record-voicemail) takes it and the flow goes on from there;
otherwise the execution ends where it is."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .domain.models import ACTIVE, Execution
from .engine.transcripts import COMPLETED, IN_PROGRESS, Call, caller_input
from .errors import Conflict, InvalidParameter, MissingParameter, NotFound

if TYPE_CHECKING:
    from .domain.accounts import AccountState
    from .engine.runner import Waiting

__all__ = ["CallState", "call_state", "find_call", "hang_up", "press", "say"]

CALLER_INPUTS = ("keypress", "speech")
_DIGITS = re.compile(r"[0-9*#]{1,64}")  # what a keypad sends (Twilio's Digits)
MAX_SPEECH = 1_024


@dataclass(frozen=True, slots=True)
class CallState:
    call: Call
    execution: Execution | None  # the call's execution (None once dropped by the ended-execution cap)
    waiting: Execution | None  # the execution parked on the call (the call's, or a subflow's child)
    waiting_on: str | None  # the widget it is parked on
    waiting_for: tuple[str, ...]  # what the caller can do now: keypress, speech (or nothing)


def find_call(account: AccountState, sid: str) -> Call:
    call = account.engine.calls.get(account.sid, sid)
    if call is None:
        raise NotFound(f"The requested resource /_mockstudio/calls/{sid[:40]} was not found")
    return call


def call_state(account: AccountState, call: Call) -> CallState:
    execution = account.executions.get(call.execution_sid)
    parked = _parked(account, execution) if call.status == IN_PROGRESS else None
    if parked is None:
        return CallState(call, execution, None, None, ())
    waiting, events = parked
    return CallState(call, execution, waiting, events.widget, tuple(e for e in CALLER_INPUTS if e in events.events))


def _parked(account: AccountState, execution: Execution | None) -> tuple[Execution, Waiting] | None:
    """The execution parked on the call (the call's own, or the subflow child it waits on)
    and what it waits for."""
    engine = account.engine
    while execution is not None and execution.status == ACTIVE:
        waiting = engine.waiting(execution)
        if waiting is None:
            return None
        child = engine.child_of(execution)
        if child is None:
            return execution, waiting
        execution = child
    return None


def press(account: AccountState, sid: str, digits: str | None) -> Call:
    """The caller presses keys: the gather waiting on the call takes `keypress` with them."""
    if not digits:
        raise MissingParameter("Digits")
    if not _DIGITS.fullmatch(digits):
        raise InvalidParameter("Invalid Digits: up to 64 of 0-9, * and #")
    return _answer(account, sid, "keypress", digits)


def say(account: AccountState, sid: str, speech: str | None) -> Call:
    """The caller says something: the gather waiting on the call takes `speech` with it as
    its SpeechResult (Confidence 0.9)."""
    if not speech or not speech.strip():
        raise MissingParameter("SpeechResult")
    if len(speech) > MAX_SPEECH:
        raise InvalidParameter(f"Invalid SpeechResult: at most {MAX_SPEECH} characters")
    return _answer(account, sid, "speech", speech)


def _answer(account: AccountState, sid: str, kind: str, value: str) -> Call:
    call = find_call(account, sid)
    state = call_state(account, call)
    if call.status != IN_PROGRESS:
        raise Conflict(f"Call {sid} has ended")
    if state.waiting is None or kind not in state.waiting_for:
        what = f"on {state.waiting_on}, for {', '.join(state.waiting_for) or 'nothing the caller does'}"
        raise Conflict(f"Call {sid} is not waiting for {kind} (its flow is {what if state.waiting else 'busy'})")
    event, outputs = caller_input(kind, value)
    # The gather records the press/speech line as it resumes (transcripts.record_caller_input).
    account.engine.resume(account, state.waiting, event, outputs)
    return call


def hang_up(account: AccountState, sid: str) -> Call:
    """The caller hangs up (see the module's docstring)."""
    call = find_call(account, sid)
    if call.status != IN_PROGRESS:
        raise Conflict(f"Call {sid} has ended")
    state = call_state(account, call)
    engine = account.engine
    call.add("hangup", state.waiting_on, account.seconds(), by="caller")
    call.status = COMPLETED
    waiting = state.waiting
    parked = engine.waiting(waiting) if waiting is not None else None
    if waiting is not None and parked is not None and "hangup" in parked.events:
        engine.resume(account, waiting, "hangup", {"CallStatus": COMPLETED})
        return call
    # The call's execution first: a subflow child ended after it cannot resume it.
    chain: list[Execution] = []
    current = state.execution
    while current is not None and current.status == ACTIVE:
        chain.append(current)
        current = engine.child_of(current)
    for execution in chain:
        if execution.status == ACTIVE:
            account.update_execution(execution.flow_sid, execution.sid, "ended")
    return call
