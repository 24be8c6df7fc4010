"""The phone's control plane: inbound calls' transcripts, and the caller's actions on a call
(keys, speech, hang-up). Calls are placed with `POST /_mockstudio/calls` (control.py)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from starlette.requests import Request

from ... import phone
from ...dates import format_date
from ...domain.models import ACTIVE
from ...engine.transcripts import Call, Line
from ..accounts import control_account
from ..admin import refuse_cross_site, require_admin_token
from ..forms import read_fields
from ..runtime import runtime
from .deps import accepts_changes

__all__ = ["router"]

router = APIRouter(
    prefix="/_mockstudio",
    tags=["phone"],
    dependencies=[Depends(require_admin_token), Depends(refuse_cross_site), Depends(accepts_changes)],
)

_SETTLE_SECONDS = 10.0


class CallOut(BaseModel):
    call_sid: str
    from_: str = Field(serialization_alias="from", description="The caller")
    to: str = Field(description="The flow's number")
    execution_sid: str
    flow_sid: str
    status: str = Field(description="in-progress or completed")
    date_created: str
    waiting_on: str | None = Field(None, description="The widget the flow waits on, if any")
    waiting_for: list[str] = Field(
        default_factory=list, description="What the caller can do now: keypress, speech, or nothing"
    )
    transcript: list[dict[str, Any]] = Field(
        description="What the caller heard and did, in order: {kind, widget, date, ...}. Kinds: say (text), "
        "play (url), digits, gather (prompt, url, expects), press (digits), speech (text), connect (to, noun), "
        "enqueue (queue), flex (workflow, channel), record, redirect (url), hangup (by: caller or flow)"
    )


class CallList(BaseModel):
    calls: list[CallOut] = Field(description="Oldest first")


def _line(line: Line) -> dict[str, Any]:
    return {"kind": line.kind, "widget": line.widget, "date": format_date(line.at), **line.fields}


def _call_out(request: Request, call: Call) -> CallOut:
    state = phone.call_state(control_account(request), call)
    return CallOut(
        call_sid=call.sid,
        from_=call.from_,
        to=call.to,
        execution_sid=call.execution_sid,
        flow_sid=call.flow_sid,
        status=call.status,
        date_created=format_date(call.date_created),
        waiting_on=state.waiting_on,
        waiting_for=list(state.waiting_for),
        transcript=[_line(line) for line in call.lines],
    )


async def _settled(request: Request, call: Call) -> CallOut:
    """The call once its flow has settled after an action (as the events endpoint waits)."""
    account = control_account(request)
    execution = account.executions.get(call.execution_sid)
    if execution is not None and execution.status == ACTIVE:
        await runtime(request).studio.engine.wait_settled(execution, _SETTLE_SECONDS)
    return _call_out(request, call)


@router.get("/calls", summary="Inbound calls and their transcripts, oldest first", response_model_by_alias=True)
async def list_calls(
    request: Request,
    contact: Annotated[str | None, Query(description="Only calls from or to this address")] = None,
) -> CallList:
    account = control_account(request)
    calls = runtime(request).studio.engine.calls.list(account.sid, contact=contact)
    return CallList(calls=[_call_out(request, c) for c in calls])


@router.get(
    "/calls/{sid}", summary="A call: its status, what its flow waits for, its transcript", response_model_by_alias=True
)
async def fetch_call(request: Request, sid: str) -> CallOut:
    return _call_out(request, phone.find_call(control_account(request), sid))


@router.post(
    "/calls/{sid}/digits",
    summary="The caller presses keys (Digits): the waiting gather takes keypress",
    response_model_by_alias=True,
)
async def press_digits(request: Request, sid: str) -> CallOut:
    fields = await read_fields(request)
    digits = fields.get("Digits")
    call = phone.press(control_account(request), sid, None if digits is None else str(digits))
    return await _settled(request, call)


@router.post(
    "/calls/{sid}/speech",
    summary="The caller says something (SpeechResult): the waiting gather takes speech",
    response_model_by_alias=True,
)
async def say_speech(request: Request, sid: str) -> CallOut:
    fields = await read_fields(request)
    speech = fields.get("SpeechResult")
    call = phone.say(control_account(request), sid, None if speech is None else str(speech))
    return await _settled(request, call)


@router.post("/calls/{sid}/hangup", summary="The caller hangs up", response_model_by_alias=True)
async def hang_up(request: Request, sid: str) -> CallOut:
    call = phone.hang_up(control_account(request), sid)
    return await _settled(request, call)
