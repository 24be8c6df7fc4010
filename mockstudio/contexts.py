"""Studio contexts (https://www.twilio.com/docs/studio/user-guide/liquid-template-language):
the Liquid roots `flow`, `contact`, `trigger`
and `widgets`.

A context is not stored whole: it is rebuilt from the execution's fields (addresses,
`Parameters`, the trigger's data) plus the two layers widgets write (`widgets` outputs
and `flow.variables`). Step contexts keep references to those layers as they stood, so
a step costs two pointers rather than a deep copy, and steps share everything that did
not change. Built contexts share the layers too: treat them as read-only."""

from __future__ import annotations

from hashlib import blake2s
from typing import Any

from .domain.models import Execution

__all__ = ["build_context", "conversation_sid", "parent_trigger", "participant_sid", "trigger_type"]


def build_context(
    execution: Execution, widgets: dict[str, Any] | None = None, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    trigger = execution.trigger
    address = execution.flow_channel_address
    if trigger is not None and "conversation" in trigger:
        # A Conversations execution's channel is the conversation: flows pass
        # `flow.channel.address` on where a Conversation SID is expected.
        address = trigger["conversation"].get("ConversationSid") or address
    flow: dict[str, Any] = {
        "flow_sid": execution.flow_sid,
        "sid": execution.sid,  # yes: `flow.sid` is the *execution* SID
        "channel": {"address": address},
    }
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


def trigger_type(execution: Execution) -> str:
    """What started an execution, as a subflow sees it at `trigger.parent.trigger_type`: the
    name of the parent's own trigger data (`message`, `call`, `conversation`), `request`
    for the REST API."""
    trigger = execution.trigger
    return next(iter(trigger), "request") if trigger else "request"


def _derived_sid(prefix: str, *parts: str) -> str:
    # (the prefix is hashed too: a conversation and its participant share no digits)
    return prefix + blake2s("\n".join((prefix, *parts)).encode(), digest_size=16).hexdigest()


def conversation_sid(account_sid: str, contact: str, address: str) -> str:
    """The conversation of a contact with a flow's address. Conversations binds a number
    pair to one active conversation, so its SID stays the same for every message; derived
    from the pair, it needs no table and survives restarts."""
    return _derived_sid("CH", account_sid, contact, address)


def participant_sid(account_sid: str, contact: str, address: str) -> str:
    """The contact's participant in that conversation."""
    return _derived_sid("MB", account_sid, contact, address)
