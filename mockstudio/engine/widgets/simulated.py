"""Voice, Flex and other widgets that need a phone call, a task router or a payment
provider: simulated so a flow using them runs to completion. Each takes a default event
(its first, or the one configured per type) with plausible outputs; the waiting ones
(`gather-input-on-call`, `record-voicemail`, `add-twiml-redirect`) park like
send-and-wait and are resumed through the control plane, or time out. On an inbound call,
the voice ones also record what the caller hears on its transcript (transcripts.py)."""

from __future__ import annotations

from typing import Any, ClassVar

from ..catalogue import WIDGET_TYPES
from ..outcomes import Outcome, Wait
from ..scripts import ScriptedOutcome
from .base import Widget, WidgetRun
from .send_message import timeout_seconds
from .voice_lines import record_caller_input, record_heard

__all__ = ["SIMULATED", "Simulated"]

# Outputs a real run would give, enough for Liquid that reads them to render something.
_OUTPUTS: dict[str, dict[str, Any]] = {
    "make-outgoing-call-v2": {"CallSid": None, "CallStatus": "in-progress", "AnsweredBy": "human"},
    "make-outgoing-call-v1": {"CallSid": None, "CallStatus": "in-progress", "AnsweredBy": "human"},
    "connect-call-to": {"DialCallStatus": "completed", "DialCallSid": None, "DialCallDuration": "0"},
    "enqueue-call": {"QueueResult": "hangup", "QueueSid": None, "QueueTime": "0"},
    "send-to-flex": {"QueueResult": "hangup"},
    "record-call": {"Status": "in-progress"},
    "capture-payments": {"Result": "success"},
}
_SID_PREFIX = {"CallSid": "CA", "DialCallSid": "CA", "QueueSid": "QU"}
_WAIT_TIMEOUTS = {"gather-input-on-call": 5, "record-voicemail": 3600, "add-twiml-redirect": 14400}
# The event a wait's timeout takes: each widget's own word for "nothing came".
_TIMEOUT_EVENTS = {
    "gather-input-on-call": "timeout",
    "record-voicemail": "noAudio",
    "add-twiml-redirect": "timeout",
}


# An outgoing call's status on each of its events (the Voice API's CallStatus values).
_CALL_STATUS = {"answered": "in-progress", "busy": "busy", "noAnswer": "no-answer", "failed": "failed"}


def _event_outputs(kind: str, event: str) -> dict[str, Any]:
    outputs = dict(_OUTPUTS.get(kind, {}))
    if kind.startswith("make-outgoing-call") and event in _CALL_STATUS:
        outputs["CallStatus"] = _CALL_STATUS[event]
        if event != "answered":  # nobody answered: no answering machine detection either
            outputs.pop("AnsweredBy", None)
    return outputs


class Simulated(Widget):
    waits: ClassVar[bool] = False

    def default_event(self, state: Any) -> str:
        return self.events()[0]

    def takes_script(self, script: ScriptedOutcome) -> bool:
        # A scripted event (busy, failedToEnqueue...) still gets the outputs the widget
        # gives on that event, with the script's outputs over them.
        return not script.is_http()

    def run(self, turn: WidgetRun) -> Outcome | Wait:
        record_heard(turn)  # what a voice widget makes the caller hear
        script = turn.script
        configured = script.event if script is not None else turn.engine.config.default_events.get(self.type)
        event = configured if configured in self.events() else self.default_event(turn.state)
        outputs = {
            key: (turn.new_sid(_SID_PREFIX[key]) if value is None and key in _SID_PREFIX else value)
            for key, value in _event_outputs(self.type, event).items()
        }
        if script is not None:
            if script.event is not None and script.event not in self.events():
                event = script.event  # (as any widget's scripted event: taken as written)
            if script.outputs is not None:
                outputs.update(script.outputs)
            return Outcome(event, outputs)
        if self.waits and configured is None:
            raw = turn.properties.get("timeout", _WAIT_TIMEOUTS.get(self.type, 3600))
            return Wait(
                timeout=timeout_seconds(raw, _WAIT_TIMEOUTS.get(self.type, 3600)),
                timeout_event=_TIMEOUT_EVENTS.get(self.type, "timeout"),
                outputs=outputs,
            )
        return Outcome(event, outputs)

    def resume(
        self,
        turn: WidgetRun,
        event: str,
        outputs: dict[str, Any] | None,
        payload: dict[str, Any] | None,
    ) -> Outcome:
        record_caller_input(turn, event, payload)  # a gather's keys or speech, on the call's transcript
        return super().resume(turn, event, outputs, payload)


def _simulated(name: str) -> type[Simulated]:
    waits = bool(WIDGET_TYPES[name].resumes_on)
    return type("Simulated_" + name.replace("-", "_"), (Simulated,), {"type": name, "waits": waits})


_HANDLED_ELSEWHERE = {
    "trigger",
    "split-based-on",
    "set-variables",
    "send-message",
    "send-and-wait-for-reply",
    "make-http-request",
    "run-function",
    "run-subflow",
}
SIMULATED: dict[str, type[Simulated]] = {
    name: _simulated(name) for name in WIDGET_TYPES if name not in _HANDLED_ELSEWHERE
}
