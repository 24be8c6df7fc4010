"""`trigger`: where every execution starts; the runner fires its trigger event
(incomingRequest, incomingMessage, ...) on it. Studio's editor offers no edge back into
the trigger; if a hand-written definition has one, the execution ends there (a step
named `reentered`)."""

from __future__ import annotations

from ..outcomes import Outcome
from .base import Widget, WidgetRun

__all__ = ["Trigger"]


class Trigger(Widget):
    type = "trigger"

    def run(self, turn: WidgetRun) -> Outcome:
        return Outcome("reentered")
