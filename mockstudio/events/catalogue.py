"""The event types this server emits and their schemas, as Twilio's Events API lists them
(https://www.twilio.com/docs/events/event-types/studio/flow)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "EVENT_TYPES",
    "EXECUTION_ENDED",
    "EXECUTION_STARTED",
    "SCHEMAS",
    "STEP_ENDED",
    "TEST_EVENT",
    "EventType",
    "Schema",
    "schema_url",
]

EXECUTION_STARTED = "com.twilio.studio.flow.execution.started"
EXECUTION_ENDED = "com.twilio.studio.flow.execution.ended"
STEP_ENDED = "com.twilio.studio.flow.step.ended"
# What POST /v1/Sinks/{Sid}/Test delivers; not a subscribable type.
TEST_EVENT = "com.twilio.eventstreams.test-event"

_DOCS = "https://www.twilio.com/docs/events/event-types/studio/flow"
# Twilio publishes no creation dates for its types and schemas: one fixed date stands for them.
CATALOGUE_DATE = 1_614_556_800  # 2021-03-01T00:00:00Z


@dataclass(frozen=True, slots=True)
class Schema:
    id: str
    versions: tuple[int, ...]

    @property
    def latest(self) -> int:
        return self.versions[-1]


@dataclass(frozen=True, slots=True)
class EventType:
    type: str
    schema: Schema
    description: str
    documentation_url: str = _DOCS
    status: str = "available"


_EXECUTION = Schema("Studio.FlowExecutionEvent", (1, 2))
_STEP = Schema("Studio.FlowStepEvent", (1,))
SCHEMAS: dict[str, Schema] = {schema.id: schema for schema in (_EXECUTION, _STEP)}

EVENT_TYPES: dict[str, EventType] = {
    kind.type: kind
    for kind in (
        EventType(EXECUTION_STARTED, _EXECUTION, "Studio Flow execution started"),
        EventType(EXECUTION_ENDED, _EXECUTION, "Studio Flow execution ended"),
        EventType(STEP_ENDED, _STEP, "Studio Flow step ended"),
    )
}


def schema_url(schema_id: str, version: int) -> str:
    """The `dataschema` of an event and the `raw` of a schema version."""
    return f"https://events-schemas.twilio.com/{schema_id}/{version}"
