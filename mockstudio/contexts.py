"""Studio contexts (studio-flows.md §4): the Liquid roots `flow`, `contact`, `trigger`
and `widgets`.

A context is not stored whole: it is rebuilt from the execution's fields (addresses,
`Parameters`, the trigger's data) plus the two layers widgets write (`widgets` outputs
and `flow.variables`). Step contexts keep references to those layers as they stood, so
a step costs two pointers rather than a deep copy, and steps share everything that did
not change. Built contexts share the layers too: treat them as read-only."""

from __future__ import annotations

from typing import Any

from .domain.models import Execution

__all__ = ["build_context", "parent_trigger"]


def build_context(
    execution: Execution, widgets: dict[str, Any] | None = None, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    flow: dict[str, Any] = {
        "flow_sid": execution.flow_sid,
        "sid": execution.sid,  # yes: `flow.sid` is the *execution* SID (§4.1)
        "channel": {"address": execution.flow_channel_address},
    }
    trigger = execution.trigger
    if trigger is None:  # REST API: Parameters appear at flow.data and trigger.request
        data = execution.parameters if execution.parameters is not None else {}
        flow["data"] = data
        trigger = {
            "request": {
                "from": execution.flow_channel_address,
                "to": execution.contact_channel_address,
                "parameters": data,
            }
        }
    flow["variables"] = variables if variables is not None else {}
    return {
        "flow": flow,
        "contact": {"channel": {"address": execution.contact_channel_address}},
        "trigger": trigger,
        "widgets": widgets if widgets is not None else {},
    }


def parent_trigger(parent: dict[str, Any]) -> dict[str, Any]:
    """`incomingParent` (a subflow): the parent's data at `trigger.parent`."""
    return {"parent": parent}
