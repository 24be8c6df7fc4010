"""Scripted widget outcomes, in the spirit of AWS Step Functions Local's mock config:
"the `http_1` widget returns 503 twice, then 200 with this body", "`send_message_1`
fails". Scripts are per account, matched by widget name and optionally flow SID, and
consumed in order; an outcome with `times: null` repeats forever."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Script", "ScriptBook", "ScriptedOutcome"]


@dataclass(slots=True)
class ScriptedOutcome:
    """Either an HTTP response (for make-http-request / run-function / add-twiml-redirect)
    or an event with outputs (any widget)."""

    times: int | None = 1
    event: str | None = None
    outputs: dict[str, Any] | None = None
    status_code: int | None = None
    body: Any = None
    content_type: str | None = None
    delay: float = 0.0  # seconds of real time before the outcome (e.g. to test timeouts)

    def is_http(self) -> bool:
        return self.status_code is not None


@dataclass(slots=True)
class Script:
    account_sid: str
    widget: str
    flow_sid: str | None
    outcomes: list[ScriptedOutcome] = field(default_factory=list)
    used: int = 0


class ScriptBook:
    def __init__(self, limit: int = 1000) -> None:
        self.limit = limit
        self.entries: list[Script] = []  # (the runner checks it before each widget: a plain attribute)

    def add(self, script: Script) -> None:
        # A newer script for the same widget replaces the older one.
        self.entries = [
            s
            for s in self.entries
            if not (s.account_sid == script.account_sid and s.widget == script.widget and s.flow_sid == script.flow_sid)
        ]
        if len(self.entries) >= self.limit:
            del self.entries[0]
        self.entries.append(script)

    def list(self, account_sid: str) -> list[Script]:
        return [s for s in self.entries if s.account_sid == account_sid]

    def clear(self, account_sid: str | None = None) -> None:
        if account_sid is None:
            self.entries.clear()
        else:
            self.entries = [s for s in self.entries if s.account_sid != account_sid]

    def take(self, account_sid: str, flow_sid: str, widget: str) -> ScriptedOutcome | None:
        """The next outcome scripted for this widget, consuming one use of it."""
        best: Script | None = None
        for script in self.entries:
            if script.account_sid != account_sid or script.widget != widget:
                continue
            if script.flow_sid == flow_sid:
                best = script
                break
            if script.flow_sid is None and best is None:
                best = script
        if best is None:
            return None
        while best.outcomes:
            outcome = best.outcomes[0]
            if outcome.times is None:
                best.used += 1
                return outcome
            if outcome.times > 0:
                outcome.times -= 1
                best.used += 1
                if outcome.times == 0:
                    best.outcomes.pop(0)
                return outcome
            best.outcomes.pop(0)
        return None
