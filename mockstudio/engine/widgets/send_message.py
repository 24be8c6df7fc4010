"""`send-message` and `send-and-wait-for-reply`: record the outbound message (an `SM` SID
in the message log) and expose it as `widgets.<name>.outbound.*` (studio-flows.md §2.1).
`sent` means the API accepted it. Send-and-wait then parks until the contact replies
(`incomingMessage`, with `inbound.*`), the timeout passes (`timeout`, default 3600 s,
string or integer) or delivery fails (`deliveryFailure`)."""

from __future__ import annotations

from typing import Any

from ..outcomes import Outcome, Wait
from .base import Widget, WidgetRun

__all__ = ["SendAndWaitForReply", "SendMessage", "outbound_outputs"]

DEFAULT_TIMEOUT = 3600


def outbound_outputs(turn: WidgetRun, sid: str, body: str, from_: str, to: str, status: str) -> dict[str, Any]:
    media = turn.prop("media_url")
    return {
        "outbound": {
            "Sid": sid,
            "AccountSid": turn.account.sid,
            "Body": body,
            "From": from_,
            "To": to,
            "Status": status,
            "Direction": "outbound-api",
            "NumSegments": "1",
            "NumMedia": "1" if media else "0",
            "MessagingServiceSid": from_ if from_.startswith("MG") else None,
            "ErrorCode": None,
            "ErrorMessage": None,
        }
    }


def _send(turn: WidgetRun, to: str, failed: bool) -> tuple[dict[str, Any], bool]:
    from_ = turn.prop("from") or str(turn.context.get("flow", {}).get("channel", {}).get("address", ""))
    body = turn.prop("body")
    media = turn.prop("media_url")
    status = "failed" if failed else "queued"
    message = turn.record_message(
        direction="outbound",
        from_=from_,
        to=to,
        body=body,
        status=status,
        media_url=(media,) if media else (),
    )
    outputs = outbound_outputs(turn, message.sid, body, from_, to, status)
    if failed:
        outputs["outbound"]["ErrorCode"] = 30008
        outputs["outbound"]["ErrorMessage"] = "Unknown error (scripted by mockstudio)"
    return outputs, not failed


def _contact(turn: WidgetRun) -> str:
    return str(turn.context.get("contact", {}).get("channel", {}).get("address", ""))


class SendMessage(Widget):
    type = "send-message"

    async def run(self, turn: WidgetRun) -> Outcome:
        outputs, ok = _send(turn, turn.prop("to") or _contact(turn), failed=False)
        return Outcome("sent" if ok else "failed", outputs)


def timeout_seconds(raw: Any, default: int = DEFAULT_TIMEOUT) -> int:
    """Exports store it as `"3600"` or `3600` (studio-flows.md §1.2): accept both."""
    try:
        value = int(float(str(raw).strip()))
    except (TypeError, ValueError):
        return default
    return value if value >= 0 else default


class SendAndWaitForReply(Widget):
    type = "send-and-wait-for-reply"

    async def run(self, turn: WidgetRun) -> Outcome | Wait:
        outputs, _ = _send(turn, _contact(turn), failed=False)
        timeout = timeout_seconds(turn.properties.get("timeout", DEFAULT_TIMEOUT))
        return Wait(timeout=timeout, outputs=outputs)
