"""`/v2/Flows/{FlowSid}/Executions`: the five Execution operations and the Execution
Context. Each route authenticates, calls the one state method named after the operation,
and renders; errors are raised and turned into Twilio bodies in one place (app.py)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from .. import render
from ..auth import authenticate
from ..forms import page_request, read_form
from ..runtime import runtime
from .table import RouteTable

__all__ = ["router"]

router = RouteTable()


def _filters(request: Request) -> tuple[list[tuple[str, str]], str | None, str | None, str | None]:
    query = request.query_params
    echoed: list[tuple[str, str]] = []
    # The spec names the filter `status` (lowercase, as the SDKs send it); `Status`
    # is tolerated.
    status = query.get("status", query.get("Status"))
    if status is not None:
        echoed.append(("status", status))
    date_from = query.get("DateCreatedFrom")
    if date_from is not None:
        echoed.append(("DateCreatedFrom", date_from))
    date_to = query.get("DateCreatedTo")
    if date_to is not None:
        echoed.append(("DateCreatedTo", date_to))
    return echoed, status, date_from, date_to


@router.get("/v2/Flows/{FlowSid}/Executions")
async def list_executions(request: Request) -> Response:
    flow_sid = request.path_params["FlowSid"]
    account = authenticate(request)
    echoed, status, date_from, date_to = _filters(request)
    filters = account.execution_filters(status, date_from, date_to)
    paging = page_request(request)
    result = account.list_executions(flow_sid, filters, paging)
    base = render.base_url(request)
    items = [render.execution(e, base) for e in result.items]
    body = render.page("executions", items, result, base, request.url.path, echoed)
    return render.TwilioJSON(body)


@router.post("/v2/Flows/{FlowSid}/Executions")
async def create_execution(request: Request) -> Response:
    flow_sid = request.path_params["FlowSid"]
    account = authenticate(request)
    form = await read_form(request)
    limit = runtime(request).rate_limit
    if limit is None:
        execution = account.create_execution(flow_sid, form.get("To"), form.get("From"), form.get("Parameters"))
    else:  # opt-in: Studio's 20 new executions per second per account (ratelimit.py)
        limit.check(account.sid)
        execution = account.create_execution(flow_sid, form.get("To"), form.get("From"), form.get("Parameters"))
        limit.record(account.sid)
    return render.TwilioJSON(render.execution(execution, render.base_url(request)), status_code=201)


@router.get("/v2/Flows/{FlowSid}/Executions/{Sid}")
async def fetch_execution(request: Request) -> Response:
    flow_sid = request.path_params["FlowSid"]
    sid = request.path_params["Sid"]
    account = authenticate(request)
    execution = account.fetch_execution(flow_sid, sid)
    return render.TwilioJSON(render.execution(execution, render.base_url(request)))


@router.post("/v2/Flows/{FlowSid}/Executions/{Sid}")
async def update_execution(request: Request) -> Response:
    flow_sid = request.path_params["FlowSid"]
    sid = request.path_params["Sid"]
    account = authenticate(request)
    form = await read_form(request)
    execution = account.update_execution(flow_sid, sid, form.get("Status"))
    return render.TwilioJSON(render.execution(execution, render.base_url(request)))


@router.delete("/v2/Flows/{FlowSid}/Executions/{Sid}")
async def delete_execution(request: Request) -> Response:
    flow_sid = request.path_params["FlowSid"]
    sid = request.path_params["Sid"]
    account = authenticate(request)
    account.delete_execution(flow_sid, sid)
    # 204 with no body: twilio-python returns the parsed body instead of True otherwise.
    return Response(status_code=204)


@router.get("/v2/Flows/{FlowSid}/Executions/{ExecutionSid}/Context")
async def fetch_execution_context(request: Request) -> Response:
    flow_sid = request.path_params["FlowSid"]
    execution_sid = request.path_params["ExecutionSid"]
    account = authenticate(request)
    execution, context = account.fetch_execution_context(flow_sid, execution_sid)
    return render.TwilioJSON(render.execution_context(execution, context, render.base_url(request)))
