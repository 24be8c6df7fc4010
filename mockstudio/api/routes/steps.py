"""`/v2/Flows/{FlowSid}/Executions/{ExecutionSid}/Steps`: Steps and Step Contexts."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from .. import render
from ..auth import authenticate
from ..forms import page_request
from .table import RouteTable

__all__ = ["router"]

router = RouteTable()


@router.get("/v2/Flows/{FlowSid}/Executions/{ExecutionSid}/Steps")
async def list_execution_steps(request: Request) -> Response:
    flow_sid = request.path_params["FlowSid"]
    execution_sid = request.path_params["ExecutionSid"]
    account = authenticate(request)
    paging = page_request(request)
    execution, result = account.list_execution_steps(flow_sid, execution_sid, paging)
    base = render.base_url(request)
    items = [render.step(s, execution, base) for s in result.items]
    return render.TwilioJSON(render.page("steps", items, result, base, request.url.path))


@router.get("/v2/Flows/{FlowSid}/Executions/{ExecutionSid}/Steps/{Sid}")
async def fetch_execution_step(request: Request) -> Response:
    flow_sid = request.path_params["FlowSid"]
    execution_sid = request.path_params["ExecutionSid"]
    sid = request.path_params["Sid"]
    account = authenticate(request)
    execution, step = account.fetch_execution_step(flow_sid, execution_sid, sid)
    return render.TwilioJSON(render.step(step, execution, render.base_url(request)))


@router.get("/v2/Flows/{FlowSid}/Executions/{ExecutionSid}/Steps/{StepSid}/Context")
async def fetch_execution_step_context(request: Request) -> Response:
    flow_sid = request.path_params["FlowSid"]
    execution_sid = request.path_params["ExecutionSid"]
    step_sid = request.path_params["StepSid"]
    account = authenticate(request)
    execution, step = account.fetch_execution_step_context(flow_sid, execution_sid, step_sid)
    return render.TwilioJSON(render.step_context(step, execution, render.base_url(request)))
