"""`GET /_mockstudio/deliveries`: how Studio Events reached their sinks (control plane)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from starlette.requests import Request
from starlette.responses import Response

from ...errors import InvalidParameter
from ...events.delivery import DeliveryRecord
from ..admin import require_admin_token
from ..render import TwilioJSON
from ..runtime import runtime

__all__ = ["router"]

router = APIRouter(prefix="/_mockstudio", tags=["control plane"], dependencies=[Depends(require_admin_token)])

_STATES = ("queued", "retrying", "delivered", "dropped", "gave_up", "not_sent")


def _record(record: DeliveryRecord) -> dict[str, Any]:
    return {
        "event_id": record.event_id,
        "type": record.type,
        "account_sid": record.account_sid,
        "sink_sid": record.sink_sid,
        "state": record.state,
        "attempts": record.attempts,
        "last_status": record.last_status,
        "last_error": record.last_error,
        "next_retry": record.next_retry,
        "test_id": record.test_id,
    }


@router.get(
    "/deliveries",
    summary="Studio Events' delivery log, newest first, and each sink's queue",
    description=(
        "Filters: `sink_sid`, `type`, `state` (queued, retrying, delivered, dropped, gave_up, not_sent), "
        "`limit` (default 100). `sinks` gives each sink's queued events and the events dropped because its "
        "queue was full (`overflow`)."
    ),
)
async def list_deliveries(request: Request) -> Response:
    query = request.query_params
    sink_sid, kind, state = query.get("sink_sid"), query.get("type"), query.get("state")
    if state is not None and state not in _STATES:
        raise InvalidParameter(f"Invalid state: {state[:32]!r} is not one of {', '.join(_STATES)}")
    raw_limit = query.get("limit", "100")
    if not (raw_limit.isascii() and raw_limit.isdigit()) or not 0 < int(raw_limit) <= 10_000:
        raise InvalidParameter(f"Invalid limit: {raw_limit[:32]!r} is not a number from 1 to 10000")
    events = runtime(request).events
    dispatcher = events.dispatcher
    found: list[dict[str, Any]] = []
    for record in reversed(dispatcher.log):
        wanted = (sink_sid is None or record.sink_sid == sink_sid) and (kind is None or record.type == kind)
        if wanted and (state is None or record.state == state):
            found.append(_record(record))
            if len(found) == int(raw_limit):
                break
    sinks = [
        {"sid": sid, "queued": dispatcher.queued(sid), "overflow": dispatcher.overflow(sid)}
        for sid in events.streams.sinks
    ]
    return TwilioJSON({"deliveries": found, "sinks": sinks, "given_up_or_dropped_batches": dispatcher.dropped})
