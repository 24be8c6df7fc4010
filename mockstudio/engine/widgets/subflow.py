"""`run-subflow`: runs another flow of the account as a child execution, whose trigger
fires `incomingParent` with the parameters at `trigger.parent.parameters`; the parent
waits and leaves on `completed` with the child's `flow.variables` flat under the
widget's name, or `failed` if the child cannot run. A parameter of type `json_object`
reaches the child parsed (an object), others as text. Child steps
carry the parent's step SID as `parent_step_sid`. A subflow cannot run another subflow
(Studio's error 81024): that is `failed`."""

from __future__ import annotations

from typing import Any

from ... import sids
from ...domain.models import ACTIVE
from ..definition import State
from ..outcomes import Outcome, Wait
from .base import Widget, WidgetRun
from .set_variables import JSON, STRING, item_kind, typed

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
            _parameters(turn),
            step_sid,
            turn.prop("flow_revision") or "LatestPublished",
        )
        if child is None or child.status != ACTIVE:
            # Not runnable, or ended at once (an invalid definition): nothing would ever
            # resume this widget.
            return Outcome("failed", {})
        run.pending_step_sid = step_sid
        run.child = child
        return Wait(timeout=None, outputs={})


def _parameters(turn: WidgetRun) -> dict[str, Any]:
    items = turn.properties.get("parameters")
    items = [item for item in items if isinstance(item, dict) and "key" in item] if isinstance(items, list) else []
    rendered = turn.engine.liquid.render_pairs(items, turn.context)
    # (an untyped parameter stays text, as Studio's older exports passed them)
    return {
        key: typed(value, JSON if item_kind(item) == JSON else STRING)
        for item, (key, value) in zip(items, rendered, strict=True)
    }
