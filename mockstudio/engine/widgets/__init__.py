"""The widget registry: type string -> implementation. An unknown type is a validation
error (see ..catalogue), so the runner never meets one."""

from __future__ import annotations

from .base import Widget, WidgetRun
from .http_request import MakeHttpRequest, RunFunction
from .send_message import SendAndWaitForReply, SendMessage
from .set_variables import SetVariables
from .simulated import SIMULATED
from .split import SplitBasedOn
from .subflow import RunSubflow
from .trigger import Trigger

__all__ = ["WIDGETS", "Widget", "WidgetRun"]

WIDGETS: dict[str, Widget] = {
    widget.type: widget
    for widget in (
        Trigger(),
        SplitBasedOn(),
        SetVariables(),
        SendMessage(),
        SendAndWaitForReply(),
        MakeHttpRequest(),
        RunFunction(),
        RunSubflow(),
        *(cls() for cls in SIMULATED.values()),
    )
}
