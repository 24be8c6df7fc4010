"""The Studio context an execution starts with (studio-flows.md §4.1): the Liquid roots
`flow`, `contact`, `trigger` and `widgets`, for a REST API trigger."""

from __future__ import annotations

from typing import Any

from .models import Execution

__all__ = ["trigger_context"]


def trigger_context(execution: Execution) -> dict[str, Any]:
    """Built on demand rather than stored: it is a pure function of the execution, and
    not storing it keeps a stored execution small."""
    data = execution.parameters if execution.parameters is not None else {}
    return {
        "flow": {
            "flow_sid": execution.flow_sid,
            "sid": execution.sid,  # yes: `flow.sid` is the *execution* SID (§4.1)
            "channel": {"address": execution.flow_channel_address},
            "data": data,
            "variables": {},
        },
        "contact": {"channel": {"address": execution.contact_channel_address}},
        "trigger": {
            "request": {
                "from": execution.flow_channel_address,
                "to": execution.contact_channel_address,
                "parameters": data,
            }
        },
        "widgets": {},
    }
