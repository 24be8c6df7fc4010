"""`run-subflow`: runs another flow of the account as a child execution, whose trigger
fires `incomingParent` with the parameters at `trigger.parent.parameters`; the parent
waits and leaves on `completed` with the child's `flow.variables` flat under the
widget's name (studio-flows.md §2.1), or `failed` if the child cannot run. Child steps
carry the parent's step SID as `parent_step_sid`. A subflow cannot run another subflow
(Studio's error 81024): that is `failed`."""

from __future__ import annotations

from ... import sids
from ...domain.models import ACTIVE
from ..definition import State
from ..outcomes import Outcome, Wait
from .base import Widget, WidgetRun

__all__ = ["RunSubflow"]


class RunSubflow(Widget):
    type = "run-subflow"

    def resume_events(self, state: State) -> tuple[str, ...]:
        return ("completed", "failed")

    def run(self, turn: WidgetRun) -> Outcome | Wait:
        run = turn.execution.run
        if run is None or run.parent_step_sid is not None:
            return Outcome("failed", {})
        step_sid = turn.new_sid(sids.STEP)
        child = turn.start_subflow(
            turn.prop("flow_sid"),
            dict(turn.pairs("parameters")),
            step_sid,
            turn.prop("flow_revision") or "LatestPublished",
        )
        if child is None or child.status != ACTIVE:
            # Not runnable, or ended at once (an invalid definition): nothing would ever
            # resume this widget.
            return Outcome("failed", {})
        run.pending_step_sid = step_sid
        return Wait(timeout=None, outputs={})
