"""Rows as orjson arrays: what the state file stores of flows' revisions, executions, steps
and messages, and how it reads them back."""

from __future__ import annotations

from typing import Any

import orjson

from ..domain.models import Execution, FlowRevision, Message, Step

__all__ = [
    "decode_layer",
    "decode_message",
    "decode_revision",
    "dumps",
    "encode_fixed",
    "encode_layer",
    "encode_message",
    "encode_revision",
    "encode_step",
    "trigger_event",
]

# Rows hold orjson arrays. A step's `widgets`/`variables` layers are references to dicts the
# engine replaces (never mutates) and steps share, so each is stored relative to the previous
# step's: null (no layer), 1 (the same dict as the previous step's), {"+": changed keys} (the
# previous dict plus these keys: the engine only ever adds or replaces keys) or {"=": dict}.
# Loading rebuilds the same sharing, so a restored execution costs what it cost before.

_MISSING = object()
_OPTIONS = orjson.OPT_NON_STR_KEYS


def dumps(value: Any) -> bytes:
    return orjson.dumps(value, option=_OPTIONS)


def encode_layer(layer: dict[str, Any] | None, base: dict[str, Any] | None) -> Any:
    if layer is None:
        return None
    if layer is base:
        return 1
    if base is not None and len(layer) >= len(base) and all(key in layer for key in base):
        return {"+": {key: value for key, value in layer.items() if base.get(key, _MISSING) is not value}}
    return {"=": layer}


def decode_layer(encoded: Any, base: dict[str, Any] | None) -> dict[str, Any] | None:
    if encoded is None:
        return None
    if isinstance(encoded, int):
        return base
    if "+" in encoded:
        return {**(base or {}), **encoded["+"]}
    layer: dict[str, Any] = encoded["="]
    return layer


def encode_step(step: Step, base: tuple[Any, Any]) -> bytes:
    return dumps(
        [
            step.sid,
            step.name,
            step.transitioned_from,
            step.transitioned_to,
            step.type,
            step.parent_step_sid,
            step.date_created,
            step.date_updated,
            step.key,
            encode_layer(step.widgets, base[0]),
            encode_layer(step.variables, base[1]),
        ]
    )


def encode_message(message: Message) -> bytes:
    return dumps(
        [
            message.sid,
            message.direction,
            message.from_,
            message.to,
            message.body,
            message.execution_sid,
            message.flow_sid,
            message.status,
            message.date_created,
            list(message.media_url),
        ]
    )


def decode_message(account_sid: str, data: bytes) -> Message:
    sid, direction, from_, to, body, execution_sid, flow_sid, status, date_created, media = orjson.loads(data)
    return Message(
        sid, account_sid, direction, from_, to, body, execution_sid, flow_sid, status, date_created, tuple(media)
    )


def encode_revision(revision: FlowRevision) -> bytes:
    return dumps(
        [
            revision.friendly_name,
            revision.definition,
            revision.status,
            revision.commit_message,
            revision.valid,
            revision.errors,
            revision.warnings,
            revision.author_sid,
            revision.date_created,
            revision.date_updated,
        ]
    )


def decode_revision(number: int, data: bytes) -> FlowRevision:
    return FlowRevision(number, *orjson.loads(data))


def trigger_event(execution: Execution) -> str:
    """The event an execution's trigger fired with, from the data it was started with."""
    trigger = execution.trigger or {}
    for key, event in (
        ("message", "incomingMessage"),
        ("call", "incomingCall"),
        ("conversation", "incomingConversationMessage"),
        ("parent", "incomingParent"),
    ):
        if key in trigger:
            return event
    return "incomingRequest"


def encode_fixed(execution: Execution) -> bytes:
    to, from_ = execution.addresses
    return dumps(
        [
            execution.contact_sid,
            to,
            from_,
            execution.parameters,
            execution.flow_version,
            execution.initiator,
            execution.date_created,
            execution.key,
            execution.trigger,
        ]
    )
