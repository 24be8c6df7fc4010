"""What a widget run produces: an event to transition on, or a wait."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .definition import Transition

__all__ = ["Outcome", "Wait"]


# Not frozen: a frozen dataclass's __init__ costs three times as much, and one is made
# per widget run (treat them as read-only all the same).
@dataclass(slots=True)
class Outcome:
    """Leave the widget on `event`. `outputs` become `widgets.<name>`; `variables` are
    merged into `flow.variables` (set-variables, subflow results)."""

    event: str
    outputs: dict[str, Any] | None = None
    variables: dict[str, Any] | None = None
    # The transition taken when several share the event (split-based-on's `match`es).
    transition: Transition | None = None


@dataclass(slots=True)
class Wait:
    """Park the execution on the widget until it is resumed with one of the widget's
    events. `timeout` seconds of (virtual) time fire `timeout_event`; `outputs` are what
    the widget has produced so far (e.g. the outbound message), kept for the resume."""

    timeout: float | None = None
    timeout_event: str = "timeout"
    outputs: dict[str, Any] | None = None
