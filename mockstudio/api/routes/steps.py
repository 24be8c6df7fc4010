"""`/v2/Flows/{FlowSid}/Executions/{ExecutionSid}/Steps`: Steps and Step Contexts."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from .. import render
from ..auth import authenticate
from ..forms import page_request

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


@router.get("/v2/Flows/{FlowSid}/Executions/{ExecutionSid}/Steps")
async def list_execution_steps(request: Request, FlowSid: str, ExecutionSid: str) -> Response:
    account = authenticate(request)
    paging = page_request(request)
    execution, result = account.list_execution_steps(FlowSid, ExecutionSid, paging)
    base = render.base_url(request)
    items = [render.step(s, execution, base) for s in result.items]
    return render.TwilioJSON(render.page("steps", items, result, base, request.url.path))


@router.get("/v2/Flows/{FlowSid}/Executions/{ExecutionSid}/Steps/{Sid}")
async def fetch_execution_step(request: Request, FlowSid: str, ExecutionSid: str, Sid: str) -> Response:
    account = authenticate(request)
    execution, step = account.fetch_execution_step(FlowSid, ExecutionSid, Sid)
    return render.TwilioJSON(render.step(step, execution, render.base_url(request)))


@router.get("/v2/Flows/{FlowSid}/Executions/{ExecutionSid}/Steps/{StepSid}/Context")
async def fetch_execution_step_context(request: Request, FlowSid: str, ExecutionSid: str, StepSid: str) -> Response:
    account = authenticate(request)
    execution, step = account.fetch_execution_step_context(FlowSid, ExecutionSid, StepSid)
    return render.TwilioJSON(render.step_context(step, execution, render.base_url(request)))
