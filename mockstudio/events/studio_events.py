"""Studio's events, made from the change feed: per execution one
`com.twilio.studio.flow.execution.started`, one `com.twilio.studio.flow.step.ended` per
step (the last one `transitioned_to: "Ended"`; a subflow's steps carry `parent_step_sid`)
and one `com.twilio.studio.flow.execution.ended` with its `ended_reason`.

`data` holds the fields of Twilio's event documentation
(https://www.twilio.com/docs/events/event-types/studio/flow); dates have milliseconds, on
the virtual clock. The envelope (CloudEvents 1.0) is made per subscribed schema version at
delivery (`envelope`)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from ..domain.changes import ENDED_AT_FLOW_END, ExecutionCreated, ExecutionEnded, StepEnded
from ..domain.models import Execution
from .catalogue import EVENT_TYPES, EXECUTION_ENDED, EXECUTION_STARTED, STEP_ENDED, TEST_EVENT, schema_url

__all__ = ["Event", "ended_reason", "envelope", "event_of", "format_time", "test_event"]

EVENT = "EZ"  # event ids are SIDs with this prefix (Twilio's at-least-once delivery FAQ)

# Twilio documents one `ended_reason`, FLOW_END; the others are this server's names for the
# other ways an execution ends (README, fidelity notes).
_ENDED_THROUGH_API = "ENDED_BY_API"
_REASONS = {ENDED_AT_FLOW_END: "FLOW_END"}


@dataclass(slots=True)  # not frozen: a frozen dataclass is slower to make, and one is made per event
class Event:
    """One event, before its envelope: `data` is shared by every sink it goes to. Not
    changed once made."""

    id: str
    type: str
    account_sid: str
    time: float  # virtual clock, seconds
    source: str
    data: dict[str, Any]


_last_second: list[Any] = [None, ""]  # the last whole second formatted, and its text
_last_whole: list[Any] = [None, ""]  # the last whole-second moment, and its whole text


def format_time(moment: float) -> str:
    """ISO 8601 in UTC with milliseconds: `2026-06-10T06:02:54.377Z`. The whole second's
    text is kept: events come in bursts within one second, and strftime is most of the cost.
    Executions' and steps' dates are whole seconds (ints): their text is kept whole."""
    if type(moment) is int:
        if _last_whole[0] != moment:
            _last_whole[0], _last_whole[1] = moment, f"{_second_text(moment)}.000Z"
        text: str = _last_whole[1]
        return text
    whole = int(moment)
    millis = round((moment - whole) * 1000)
    if millis == 1000:
        whole, millis = whole + 1, 0
    return f"{_second_text(whole)}.{millis:03d}Z"


def _second_text(whole: int) -> str:
    if _last_second[0] != whole:
        _last_second[0], _last_second[1] = whole, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole))
    text: str = _last_second[1]
    return text


def ended_reason(reason: str) -> str:
    known = _REASONS.get(reason)
    if known is not None:
        return known
    if "API" in reason:
        return _ENDED_THROUGH_API
    if reason.startswith("limit of") or "times in a row" in reason:
        return "STEP_LIMIT"
    if reason.startswith("expired"):
        return "EXECUTION_EXPIRED"
    return "FLOW_ERROR"


def _source(execution: Execution) -> str:
    return f"/v2/Flows/{execution.flow_sid}/Executions/{execution.sid}"


def _execution_data(execution: Execution, status: str) -> dict[str, Any]:
    created = format_time(execution.date_created)
    updated = execution.date_updated
    return {
        "execution_sid": execution.sid,
        "account_sid": execution.account_sid,
        "flow_sid": execution.flow_sid,
        "contact_channel_address": execution.addresses[0],
        "status": status,
        "date_created": created,
        "date_updated": created if updated is None or updated == execution.date_created else format_time(updated),
        "started_by": execution.initiated_by,
        "flow_revision": execution.flow_version,
    }


def event_of(change: object, event_id: str, now: float) -> Event | None:
    """The Studio event a change makes, or None (most changes make none)."""
    kind = type(change)
    if kind is StepEnded:
        assert isinstance(change, StepEnded)
        execution, step = change.execution, change.step
        data = {
            "account_sid": execution.account_sid,
            "flow_sid": execution.flow_sid,
            "execution_sid": execution.sid,
            "step_sid": step.sid,
            "parent_step_sid": step.parent_step_sid,
            "name": step.name,
            "transitioned_from": step.transitioned_from,
            "transitioned_to": step.transitioned_to,
            "date_created": format_time(step.date_created),
        }
        return Event(event_id, STEP_ENDED, change.account_sid, now, _source(execution), data)
    if kind is ExecutionCreated:
        assert isinstance(change, ExecutionCreated)
        data = _execution_data(change.execution, "active")
        return Event(event_id, EXECUTION_STARTED, change.account_sid, now, _source(change.execution), data)
    if kind is ExecutionEnded:
        assert isinstance(change, ExecutionEnded)
        data = _execution_data(change.execution, "ended")
        data["date_updated"] = format_time(change.date)
        data["ended_reason"] = ended_reason(change.reason)
        return Event(event_id, EXECUTION_ENDED, change.account_sid, now, _source(change.execution), data)
    return None


def test_event(event_id: str, account_sid: str, test_id: str, now: float) -> Event:
    """What POST /v1/Sinks/{Sid}/Test sends: its `data.test_id` goes to Validate."""
    return Event(event_id, TEST_EVENT, account_sid, now, "Sink", {"test_id": test_id})


_dataschemas: dict[tuple[str, int], str] = {}


def _dataschema(type_: str, schema_version: int) -> str:
    kind = EVENT_TYPES.get(type_)
    if kind is None:
        return "https://events-schemas.twilio.com/EventStreams.TestSink/1.json"
    return schema_url(kind.schema.id, schema_version)


def envelope(event: Event, schema_version: int) -> dict[str, Any]:
    """The CloudEvents 1.0 envelope of `event` in one schema version."""
    key = (event.type, schema_version)
    dataschema = _dataschemas.get(key)
    if dataschema is None:
        dataschema = _dataschemas[key] = _dataschema(event.type, schema_version)
    return {
        "specversion": "1.0",
        "type": event.type,
        "source": event.source,
        "id": event.id,
        "dataschema": dataschema,
        "datacontenttype": "application/json",
        "time": format_time(event.time),
        "data": event.data,
    }
