"""mockstudio's own control plane under `/_mockstudio/`, described in the app's OpenAPI
docs (`/docs`). Not part of Twilio's API, so its shapes are ours. (Health is in health.py.)

Per-account routes act on the account whose credentials the request carries (HTTP Basic,
as for the Twilio API), or on the default account when it carries none. With
`MOCKSTUDIO_ADMIN_TOKEN` set, every route but health also requires that token (admin.py)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field, ValidationError
from starlette.requests import Request
from starlette.responses import Response

from ... import jsontext
from ...contexts import conversation_sid, participant_sid
from ...dates import format_date
from ...domain.accounts import AccountState
from ...domain.control import ExecutionState as State
from ...domain.control import ScriptedOutcome
from ...domain.models import Message
from ...errors import InvalidParameter, MissingParameter
from ..accounts import control_account
from ..admin import refuse_cross_site, require_admin_token
from ..forms import read_fields
from .deps import RuntimeDep, accepts_changes

__all__ = ["router"]


router = APIRouter(
    prefix="/_mockstudio",
    tags=["control plane"],
    dependencies=[Depends(require_admin_token), Depends(refuse_cross_site), Depends(accepts_changes)],
)


def _account(request: Request) -> AccountState:
    """The account named by HTTP Basic credentials or `X-Mockstudio-Account`, or the
    default one (accounts.py)."""
    return control_account(request)


# -- health and reset ------------------------------------------------------------------------


class ResetResult(BaseModel):
    reset: str  # "all" or the Account SID that was reset


@router.post("/reset", summary="Forget all state (or one account's) and reload the fixtures")
async def reset(
    rt: RuntimeDep,
    account_sid: Annotated[str | None, Query(description="Reset only this account")] = None,
) -> ResetResult:
    rt.studio.reset(account_sid)
    rt.reset(account_sid)
    return ResetResult(reset=account_sid or "all")


# -- messages --------------------------------------------------------------------------------


class MessageOut(BaseModel):
    sid: str
    direction: str
    from_: str = Field(serialization_alias="from")
    to: str
    body: str
    status: str
    execution_sid: str | None
    flow_sid: str | None
    date_created: str


class MessageList(BaseModel):
    messages: list[MessageOut]


class InboundResult(BaseModel):
    action: str = Field(description="started (a new execution), resumed (a waiting one) or ignored")
    execution_sid: str
    flow_sid: str
    message_sid: str = Field(description="The inbound message's SID")
    status: str


class ConversationResult(InboundResult):
    conversation_sid: str = Field(description="The contact's conversation with the address (the same every message)")
    participant_sid: str = Field(description="The contact's participant in it")


class CallResult(BaseModel):
    action: str = Field(description="started (a new execution) or ignored")
    execution_sid: str
    flow_sid: str
    call_sid: str = Field(description="The inbound call's SID")
    status: str


def _message(m: Message) -> MessageOut:
    return MessageOut(
        sid=m.sid,
        direction=m.direction,
        from_=m.from_,
        to=m.to,
        body=m.body,
        status=m.status,
        execution_sid=m.execution_sid,
        flow_sid=m.flow_sid,
        date_created=format_date(m.date_created),
    )


@router.post(
    "/messages",
    summary="Deliver an inbound message (form fields From, To, Body), as Twilio's webhook would",
    response_model_by_alias=True,
)
async def send_inbound_message(request: Request) -> InboundResult:
    fields = await read_fields(request)
    account = _account(request)
    execution, action, sid = account.receive_message(
        _str(fields.get("From")), _str(fields.get("To")), _str(fields.get("Body")) or "", _extra(fields)
    )
    return _inbound_result(execution, action, sid)


@router.post(
    "/conversations",
    summary="Deliver a Conversations message (From = the participant, To = the flow's address, Body)",
)
async def send_conversation_message(request: Request) -> ConversationResult:
    fields = await read_fields(request)
    account = _account(request)
    from_, to = _str(fields.get("From")), _str(fields.get("To"))
    execution, action, sid = account.receive_conversation_message(
        from_, to, _str(fields.get("Body")) or "", _extra(fields)
    )
    assert from_ is not None and to is not None  # (else receive_conversation_message raised)
    return ConversationResult(
        **_inbound_result(execution, action, sid).model_dump(),
        conversation_sid=_str(fields.get("ConversationSid")) or conversation_sid(account.sid, from_, to),
        participant_sid=_str(fields.get("ParticipantSid")) or participant_sid(account.sid, from_, to),
    )


@router.post("/calls", summary="Place an inbound call (From, To): starts an incomingCall execution")
async def place_inbound_call(request: Request) -> CallResult:
    fields = await read_fields(request)
    account = _account(request)
    execution, action, sid = account.receive_call(_str(fields.get("From")), _str(fields.get("To")), _extra(fields))
    return CallResult(
        action=action, execution_sid=execution.sid, flow_sid=execution.flow_sid, call_sid=sid, status=execution.status
    )


def _extra(fields: dict[str, Any]) -> dict[str, str]:
    return {k: str(v) for k, v in fields.items() if k not in ("From", "To", "Body")}


def _inbound_result(execution: Any, action: str, sid: str) -> InboundResult:
    return InboundResult(
        action=action,
        execution_sid=execution.sid,
        flow_sid=execution.flow_sid,
        message_sid=sid,
        status=execution.status,
    )


@router.get("/messages", summary="Every message sent and received, oldest first", response_model_by_alias=True)
async def list_messages(
    request: Request,
    contact: Annotated[str | None, Query(description="Only messages to or from this address")] = None,
    flow_sid: Annotated[str | None, Query()] = None,
    execution_sid: Annotated[str | None, Query()] = None,
) -> MessageList:
    found = _account(request).list_messages(contact=contact, flow_sid=flow_sid, execution_sid=execution_sid)
    return MessageList(messages=[_message(m) for m in found])


@router.delete("/messages", status_code=204, summary="Clear the message log")
async def clear_messages(request: Request) -> Response:
    _account(request).clear_messages()
    return Response(status_code=204)


# -- numbers ---------------------------------------------------------------------------------


class NumberBinding(BaseModel):
    number: str
    flow_sid: str


class NumberList(BaseModel):
    numbers: list[NumberBinding]


@router.post("/numbers", summary="Bind an address (e.g. +15017122661) to a flow for inbound messages")
async def bind_number(request: Request) -> NumberBinding:
    fields = await read_fields(request)
    number, flow_sid = (
        _str(fields.get("Number") or fields.get("number")),
        _str(fields.get("FlowSid") or fields.get("flow_sid")),
    )
    if not number:
        raise MissingParameter("Number")
    if not flow_sid:
        raise MissingParameter("FlowSid")
    _account(request).bind_number(number, flow_sid)
    return NumberBinding(number=number, flow_sid=flow_sid)


@router.get("/numbers", summary="Addresses bound to flows")
async def list_numbers(request: Request) -> NumberList:
    numbers = _account(request).list_numbers()
    return NumberList(numbers=[NumberBinding(number=n, flow_sid=f) for n, f in numbers.items()])


# -- clock -----------------------------------------------------------------------------------


class ClockState(BaseModel):
    now: str
    epoch: float
    fired: int = Field(0, description="Timeouts that fired because of this change")


def _clock_state(rt: Any, fired: int = 0) -> ClockState:
    now = rt.studio.clock.now()
    return ClockState(now=format_date(int(now)), epoch=now, fired=fired)


@router.get("/clock", summary="The virtual clock every date and timeout follows")
async def get_clock(rt: RuntimeDep) -> ClockState:
    return _clock_state(rt)


@router.post("/clock", summary="Move the clock: `advance` (seconds) or `set` (ISO 8601); due timeouts fire")
async def move_clock(request: Request, rt: RuntimeDep) -> ClockState:
    fields = await read_fields(request)
    advance: float | None = None
    to: float | None = None
    if fields.get("advance") not in (None, ""):
        try:
            seconds = float(fields["advance"])
        except (TypeError, ValueError):
            raise InvalidParameter("Invalid advance: a number of seconds is expected") from None
        if not 0 <= seconds <= 10 * 365 * 86400:
            raise InvalidParameter("Invalid advance: it must be between 0 and ten years of seconds")
        advance = seconds
    elif fields.get("set") not in (None, ""):
        try:
            moment = dt.datetime.fromisoformat(str(fields["set"]).replace("Z", "+00:00"))
        except ValueError:
            raise InvalidParameter("Invalid set: an ISO 8601 date-time is expected") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
        to = moment.timestamp()
    else:
        raise MissingParameter("advance")
    fired = rt.studio.move_clock(advance=advance, to=to)
    await rt.studio.settle()
    return _clock_state(rt, fired)


# -- executions: settle and resume ------------------------------------------------------------


class ExecutionState(BaseModel):
    sid: str
    flow_sid: str
    status: str
    settled: bool = Field(description="True when the execution is ended or waiting")
    waiting_on: str | None = Field(None, description="The widget it is parked on, if any")
    waiting_for: list[str] = Field(default_factory=list, description="Events that resume it")


def _execution_state(state: State) -> ExecutionState:
    execution, waiting = state.execution, state.waiting
    return ExecutionState(
        sid=execution.sid,
        flow_sid=execution.flow_sid,
        status=execution.status,
        settled=state.settled,
        waiting_on=waiting.widget if waiting else None,
        waiting_for=list(waiting.events) if waiting else [],
    )


@router.get(
    "/executions/{sid}/settled",
    summary="Wait until the execution has ended or is waiting (for a reply, a timeout, ...)",
)
async def wait_until_settled(
    request: Request, sid: str, timeout: Annotated[float, Query(ge=0, le=120)] = 10.0
) -> ExecutionState:
    return _execution_state(await _account(request).wait_until_settled(sid, timeout))


@router.post(
    "/executions/{sid}/events",
    summary="Resume a waiting widget with an event (e.g. keypress with Digits for a gather)",
)
async def resume_execution(request: Request, sid: str) -> ExecutionState:
    fields = await read_fields(request)
    account = _account(request)
    account.control_execution(sid)  # 404 before the body's problems
    event = _str(fields.get("event") or fields.get("Event"))
    if not event:
        raise MissingParameter("event")
    outputs = fields.get("outputs")
    if isinstance(outputs, str):
        try:
            outputs = jsontext.loads_object(outputs)
        except jsontext.NotAnObject as exc:
            raise InvalidParameter(f"Invalid outputs: {exc}") from None
    if outputs is not None and not isinstance(outputs, dict):
        raise InvalidParameter("Invalid outputs: the JSON value must be an object")
    account.resume_execution(sid, event, outputs)  # NotWaiting: 409
    await account.wait_until_settled(sid, 10.0)
    return _execution_state(account.execution_state(sid))


# -- scripted outcomes --------------------------------------------------------------------------


class OutcomeIn(BaseModel):
    times: int | None = Field(1, ge=1, description="How many runs this outcome serves; null: forever")
    event: str | None = Field(None, description="The event the widget takes")
    outputs: dict[str, Any] | None = Field(None, description="Its outputs (widgets.<name>.*)")
    status_code: int | None = Field(None, ge=100, le=599, description="For HTTP widgets: the response status")
    body: Any = Field(None, description="For HTTP widgets: the response body (objects become JSON)")
    content_type: str | None = None
    delay: float = Field(0.0, ge=0, le=30, description="Seconds of real time before the outcome")


class ScriptIn(BaseModel):
    widget: str = Field(description="The widget's name in the flow definition")
    flow_sid: str | None = Field(None, description="Only in this flow (default: any flow of the account)")
    outcomes: list[OutcomeIn] = Field(min_length=1)


class ScriptOut(BaseModel):
    widget: str
    flow_sid: str | None
    outcomes: list[OutcomeIn] = Field(description="The outcomes still to serve")
    used: int


class ScriptList(BaseModel):
    scripts: list[ScriptOut]


@router.post("/scripts", summary="Script a widget's outcomes (JSON body; replaces that widget's script)")
async def add_script(request: Request) -> ScriptOut:
    account = _account(request)
    fields = await read_fields(request)
    try:
        script = ScriptIn.model_validate(fields)
    except ValidationError as exc:
        raise InvalidParameter(
            "Invalid script: " + "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        ) from None
    account.add_script(script.widget, script.flow_sid, [ScriptedOutcome(**o.model_dump()) for o in script.outcomes])
    return ScriptOut(**script.model_dump(), used=0)


@router.get("/scripts", summary="The account's scripts and how often each was used")
async def list_scripts(request: Request) -> ScriptList:
    scripts = _account(request).list_scripts()
    return ScriptList(
        scripts=[
            ScriptOut(
                widget=s.widget,
                flow_sid=s.flow_sid,
                outcomes=[OutcomeIn(**vars_of(o)) for o in s.outcomes],
                used=s.used,
            )
            for s in scripts
        ]
    )


def vars_of(outcome: ScriptedOutcome) -> dict[str, Any]:
    return {
        "times": outcome.times,
        "event": outcome.event,
        "outputs": outcome.outputs,
        "status_code": outcome.status_code,
        "body": outcome.body,
        "content_type": outcome.content_type,
        "delay": outcome.delay,
    }


@router.delete("/scripts", status_code=204, summary="Remove the account's scripts")
async def clear_scripts(request: Request) -> Response:
    _account(request).clear_scripts()
    return Response(status_code=204)


def _str(value: Any) -> str | None:
    return None if value is None else str(value)
