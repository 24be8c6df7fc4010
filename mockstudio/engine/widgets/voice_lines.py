"""What voice widgets make the caller hear, and what the caller did, written on the call's
transcript (engine/transcripts.py) as the widgets run and resume."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..transcripts import IN_PROGRESS, Call
from .base import WidgetRun

__all__ = ["record_caller_input", "record_heard"]


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
    call = turn.engine.calls.call_of(execution, at)
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


def record_caller_input(turn: WidgetRun, event: str, payload: Mapping[str, Any] | None) -> None:
    """A gather resumed with the caller's keys or speech (from any source: the phone, the
    events endpoint, `mockstudio run --press`): the transcript's press/speech line."""
    if event not in ("keypress", "speech") or turn.execution.initiator is None:
        return
    at = turn.now()
    call = turn.engine.calls.call_of(turn.execution, at)
    if call is None or call.status != IN_PROGRESS:
        return
    payload = payload or {}
    if event == "keypress":
        call.add("press", turn.state.name, at, digits=str(payload.get("Digits", "")))
    else:
        call.add("speech", turn.state.name, at, text=str(payload.get("SpeechResult", "")))
