"""What Studio knows about each widget type: its events and required properties
(from RJPearson94/twilio-sdk-go's widget structs and Twilio's own catalogue,
https://www.twilio.com/docs/studio/widget-library). Validation uses it; the runner never
needs more than a type's events."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CONDITION_TYPES", "WIDGET_TYPES", "WidgetType"]


@dataclass(frozen=True, slots=True)
class WidgetType:
    name: str
    events: tuple[str, ...]
    required: tuple[str, ...] = ()
    # Events a waiting widget can be resumed with, or () if it never waits.
    resumes_on: tuple[str, ...] = ()


def _types(*types: WidgetType) -> dict[str, WidgetType]:
    return {t.name: t for t in types}


WIDGET_TYPES: dict[str, WidgetType] = _types(
    WidgetType(
        "trigger",
        (
            "incomingMessage",
            "incomingCall",
            "incomingConversationMessage",
            "incomingRequest",
            "incomingParent",
        ),
    ),
    WidgetType("split-based-on", ("match", "noMatch"), ("input",)),
    WidgetType("set-variables", ("next",)),
    WidgetType("send-message", ("sent", "failed"), ("body",)),
    WidgetType(
        "send-and-wait-for-reply",
        ("incomingMessage", "timeout", "deliveryFailure"),
        ("body",),
        ("incomingMessage", "timeout", "deliveryFailure"),
    ),
    WidgetType("make-http-request", ("success", "failed"), ("url",)),
    WidgetType("run-function", ("success", "fail"), ("url",)),
    WidgetType("run-subflow", ("completed", "failed"), ("flow_sid",)),
    WidgetType("add-twiml-redirect", ("return", "timeout", "fail"), ("url",), ("return", "timeout", "fail")),
    WidgetType("say-play", ("audioComplete",)),
    WidgetType("gather-input-on-call", ("keypress", "speech", "timeout"), (), ("keypress", "speech", "timeout")),
    WidgetType("connect-call-to", ("callCompleted", "hangup"), ("noun",)),
    WidgetType("make-outgoing-call-v2", ("answered", "busy", "noAnswer", "failed"), ("to",)),
    WidgetType(
        "make-outgoing-call-v1",
        ("answered", "busy", "noAnswer", "failed", "answeredByMachine", "hangup"),
        ("to",),
    ),
    WidgetType(
        "record-voicemail",
        ("recordingComplete", "noAudio", "hangup"),
        (),
        ("recordingComplete", "noAudio", "hangup"),
    ),
    WidgetType("record-call", ("success", "failed")),
    WidgetType("enqueue-call", ("callComplete", "failedToEnqueue", "callFailure")),
    WidgetType("send-to-flex", ("callComplete", "failedToEnqueue", "callFailure", "composerStarted"), ("channel",)),
    WidgetType(
        "capture-payments",
        ("success", "maxFailedAttempts", "providerError", "payInterrupted", "hangup", "validationError"),
    ),
    WidgetType("fork-stream", ("next",)),
    WidgetType("connect-virtual-agent", ("return", "hangup")),
    WidgetType(
        "connect-virtual-agent-v2",
        ("completed", "live-agent-handoff", "hangup", "failed", "paused", "timeout"),
    ),
    WidgetType("start-conversation", ("created", "failed")),
    WidgetType("resume-conversation", ("resumed", "failed")),
    WidgetType("run-conversation-relay", ("success", "failed")),
    WidgetType("send-to-auto-pilot", ("failure", "sessionEnded", "timeout")),
)

# split-based-on's condition types, in the order of the sources that list them
# (RJPearson94/terraform-provider-twilio's validator among them; Twilio's
# https://www.twilio.com/docs/studio/widget-library/split-based-on).
CONDITION_TYPES: tuple[str, ...] = (
    "equal_to",
    "not_equal_to",
    "matches_any_of",
    "does_not_match_any_of",
    "is_blank",
    "is_not_blank",
    "regex",
    "contains",
    "does_not_contain",
    "starts_with",
    "does_not_start_with",
    "less_than",
    "greater_than",
    "is_before_time",
    "is_after_time",
    "is_before_date",
    "is_after_date",
)
