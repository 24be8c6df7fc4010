"""`send-message` and `send-and-wait-for-reply`: record the outbound message (an `SM` SID
in the message log) and expose it as `widgets.<name>.outbound.*`
(https://www.twilio.com/docs/studio/widget-library/send-message).
`sent` means the API accepted it. Send-and-wait then parks until the contact replies
(`incomingMessage`, with `inbound.*`), the timeout passes (`timeout`, default 3600 s,
string or integer) or delivery fails (`deliveryFailure`). A scripted event still sends
the message (as failed, with ErrorCode, for `failed` / `deliveryFailure`) and then takes
that event at once, with the scripted outputs merged into the widget's. A body over 1,600
characters is refused as Twilio's Messages API refuses it (21617): the message is recorded
as failed, its body cut to the limit, and the widget takes `failed` / `deliveryFailure`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..definition import State
from ..limits import MAX_MESSAGE_BODY
from ..outcomes import Outcome, Wait
from .base import Renderer, Widget, WidgetRun, property_renderer

if TYPE_CHECKING:
    from ..liquid import StudioLiquid
    from ..scripts import ScriptedOutcome

__all__ = ["SendAndWaitForReply", "SendMessage", "outbound_outputs"]

DEFAULT_TIMEOUT = 3600


def outbound_outputs(
    turn: WidgetRun, sid: str, body: str, from_: str, to: str, status: str, media: str
) -> dict[str, Any]:
    """`widgets.<name>.outbound.*`. Keys whose value would be null (ErrorCode and
    ErrorMessage when nothing failed, MessagingServiceSid when sending from a number) are
    left out: they render empty in Liquid either way, and a waiting execution keeps this
    map, so ten keys rather than twelve halve its size."""
    outbound: dict[str, Any] = {
        "Sid": sid,
        "AccountSid": turn.account.sid,
        "Body": body,
        "From": from_,
        "To": to,
        "Status": status,
        "Direction": "outbound-api",
        "NumSegments": "1",
        "NumMedia": "1" if media else "0",
    }
    if from_.startswith("MG"):
        outbound["MessagingServiceSid"] = from_
    return {"outbound": outbound}


_PROPERTIES = ("from", "to", "body", "media_url")


def _compile(state: State, liquid: StudioLiquid) -> tuple[Renderer | str | None, ...]:
    return tuple(property_renderer(state.properties.get(name), liquid) for name in _PROPERTIES)


def _send(turn: WidgetRun, to_contact: bool, failed: bool) -> tuple[dict[str, Any], bool]:
    """Record the message (to the contact, or to the widget's `to`); `failed` (a scripted
    failure) records it as failed, with the full `outbound.*` map plus ErrorCode/
    ErrorMessage, as a real API send failure gives. A scripted outcome's outputs are
    merged in (objects key by key)."""
    from_r, to_r, body_r, media_r = turn.compiled("#send", _compile)
    execution = turn.execution
    rendered = turn.rendered
    from_ = rendered(from_r) or execution.flow_channel_address  # {{flow.channel.address}}
    to = "" if to_contact else rendered(to_r)
    to = to or execution.contact_channel_address  # {{contact.channel.address}}
    body = rendered(body_r)
    media = rendered(media_r)
    too_long = len(body) > MAX_MESSAGE_BODY
    if too_long:
        body = body[:MAX_MESSAGE_BODY]
    status = "failed" if failed or too_long else "queued"
    message = turn.record_message("outbound", from_, to, body, status, (media,) if media else ())
    outputs = outbound_outputs(turn, message.sid, body, from_, to, status, media)
    if too_long:
        outputs["outbound"]["ErrorCode"] = 21617
        outputs["outbound"]["ErrorMessage"] = "The concatenated message body exceeds the 1600 character limit"
    elif failed:
        outputs["outbound"]["ErrorCode"] = 30008
        outputs["outbound"]["ErrorMessage"] = "Unknown error (scripted by mockstudio)"
    scripted = turn.script.outputs if turn.script is not None else None
    if isinstance(scripted, dict):  # e.g. {"outbound": {"ErrorCode": 30003}} or {"inbound": {...}}
        for key, value in scripted.items():
            current = outputs.get(key)
            outputs[key] = {**current, **value} if isinstance(current, dict) and isinstance(value, dict) else value
    return outputs, status != "failed"


def _scripted_event(turn: WidgetRun) -> str | None:
    return turn.script.event if turn.script is not None else None


class SendMessage(Widget):
    type = "send-message"

    def takes_script(self, script: ScriptedOutcome) -> bool:
        return script.event in self.events()  # the message is still recorded

    def run(self, turn: WidgetRun) -> Outcome:
        outputs, ok = _send(turn, to_contact=False, failed=_scripted_event(turn) == "failed")
        return Outcome("sent" if ok else "failed", outputs)


def timeout_seconds(raw: Any, default: int = DEFAULT_TIMEOUT) -> int:
    """Exports store it as `"3600"` or `3600`: accept both."""
    try:
        value = int(float(str(raw).strip()))
    except (TypeError, ValueError):
        return default
    return value if value >= 0 else default


class SendAndWaitForReply(Widget):
    type = "send-and-wait-for-reply"

    def takes_script(self, script: ScriptedOutcome) -> bool:
        return script.event in self.events()  # the message is still recorded; no wait

    def run(self, turn: WidgetRun) -> Outcome | Wait:
        event = _scripted_event(turn)
        outputs, sent = _send(turn, to_contact=True, failed=event == "deliveryFailure")
        if event is not None:
            return Outcome(event, outputs)
        if not sent:
            return Outcome("deliveryFailure", outputs)
        timeout = timeout_seconds(turn.properties.get("timeout", DEFAULT_TIMEOUT))
        return Wait(timeout=timeout, outputs=outputs)
