"""mockstudio's own control operations on an account (not Twilio's API): resume a waiting
execution with an event, what an execution waits on, waiting until it settles, the message
log and scripted widget outcomes. The clock and reset are the studio's (accounts.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..engine.catalogue import WIDGET_TYPES
from ..engine.runner import Waiting
from ..engine.scripts import Script, ScriptedOutcome
from ..errors import InvalidParameter, NotFound, NotWaiting
from .inbound import InboundOperations
from .models import ACTIVE, Execution, Message

__all__ = ["ControlOperations", "ExecutionState", "ScriptedOutcome", "Waiting"]


class ExecutionState:
    """An execution's status, whether it has settled (ended, or parked on a widget), and what
    it waits on."""

    __slots__ = ("execution", "settled", "waiting")

    def __init__(self, execution: Execution, settled: bool, waiting: Waiting | None) -> None:
        self.execution = execution
        self.settled = settled
        self.waiting = waiting


class ControlOperations(InboundOperations):
    """The control plane's operations on one account."""

    def control_execution(self, sid: str) -> Execution:
        """Any execution of the account by SID (the control plane names no flow)."""
        execution = self.executions.get(sid)
        if execution is None:
            raise NotFound(f"The requested resource /_mockstudio/executions/{sid[:40]} was not found")
        return execution

    def execution_state(self, sid: str, settled: bool = True) -> ExecutionState:
        execution = self.control_execution(sid)
        return ExecutionState(execution, settled, self.engine.waiting(execution))

    async def wait_until_settled(self, sid: str, timeout: float) -> ExecutionState:
        """Wait until the execution has ended or is parked, at most `timeout` seconds."""
        execution = self.control_execution(sid)
        settled = execution.status != ACTIVE or await self.engine.wait_settled(execution, timeout)
        return self.execution_state(sid, settled)

    def resume_execution(self, sid: str, event: str, outputs: dict[str, Any] | None) -> Execution:
        """Resume a parked execution with one of its widget's events (`outputs` merged into
        the widget's); `NotWaiting` if it is not parked on a widget taking that event."""
        execution = self.control_execution(sid)
        if not self.engine.resume(self, execution, event, outputs):
            raise NotWaiting(execution.sid, event)
        return execution

    def parked_executions(self) -> list[Waiting]:
        """What every parked execution of the account waits on, newest execution first."""
        found = []
        for execution in sorted(self.executions.values(), key=lambda e: e.key, reverse=True):
            waiting = self.engine.waiting(execution)
            if waiting is not None:
                found.append(waiting)
        return found

    # -- the message log ---------------------------------------------------------------------

    def list_messages(
        self, contact: str | None = None, flow_sid: str | None = None, execution_sid: str | None = None
    ) -> list[Message]:
        return self.engine.messages.list(self.sid, contact=contact, flow_sid=flow_sid, execution_sid=execution_sid)

    def clear_messages(self) -> None:
        self.engine.messages.clear(self.sid)

    # -- scripted outcomes ---------------------------------------------------------------------

    def add_script(self, widget: str, flow_sid: str | None, outcomes: Sequence[ScriptedOutcome]) -> None:
        """Script a widget's outcomes (replacing that widget's script); an event no widget has
        is a 400."""
        known = {event for kind in WIDGET_TYPES.values() for event in kind.events}
        for outcome in outcomes:
            if outcome.event is not None and outcome.event not in known:
                raise InvalidParameter(f"Invalid script: {outcome.event!r} is not an event of any widget")
        self.engine.scripts.add(Script(self.sid, widget, flow_sid, list(outcomes)))

    def list_scripts(self) -> list[Script]:
        return list(self.engine.scripts.list(self.sid))

    def clear_scripts(self) -> None:
        self.engine.scripts.clear(self.sid)
