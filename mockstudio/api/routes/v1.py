"""`/v1/Flows`: Studio's v1 API (https://www.twilio.com/docs/studio/rest-api), over the same
state as v2: a flow or execution made through one version is seen through the other.

v1's 20 operations are v2's operations under other names and shapes: ListFlow, FetchFlow and
DeleteFlow; the Executions (ListExecution, CreateExecution, FetchExecution, UpdateExecution,
DeleteExecution, FetchExecutionContext, ListExecutionStep, FetchExecutionStep,
FetchExecutionStepContext); and the deprecated Engagements (ListEngagement, CreateEngagement,
FetchEngagement, DeleteEngagement, FetchEngagementContext, ListStep, FetchStep,
FetchStepContext), which are the same executions under another path. Each route calls the
account's method of the same operation and renders v1's JSON (render_v1.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

from .. import render, render_v1
from ..auth import authenticate
from ..forms import page_request, read_form
from ..runtime import runtime
from .table import RouteTable

__all__ = ["router"]

router = RouteTable()

Endpoint = Callable[[Request], Awaitable[Response]]


@router.get("/v1/Flows")
async def list_flow(request: Request) -> Response:
    account = authenticate(request)
    result = account.list_flows(page_request(request))
    base = render.base_url(request)
    items = [render_v1.flow(f, base) for f in result.items]
    return render.TwilioJSON(render.page("flows", items, result, base, request.url.path))


@router.get("/v1/Flows/{Sid}")
async def fetch_flow(request: Request) -> Response:
    account = authenticate(request)
    flow = account.fetch_flow(request.path_params["Sid"])
    return render.TwilioJSON(render_v1.flow(flow, render.base_url(request)))


@router.delete("/v1/Flows/{Sid}")
async def delete_flow(request: Request) -> Response:
    account = authenticate(request)
    account.delete_flow(request.path_params["Sid"])
    return Response(status_code=204)


def _execution_routes(kind: render_v1.Kind) -> list[tuple[str, str, Endpoint]]:
    """The operations on `/v1/Flows/{FlowSid}/<kind>`: Executions and Engagements are one
    resource under two names. Path parameters are read by position in the route's own names
    (`ExecutionSid` / `EngagementSid`), as Twilio's spec names them."""
    noun = "Execution" if kind == render_v1.EXECUTIONS else "Engagement"
    path = f"/v1/Flows/{{FlowSid}}/{kind}"

    async def list_(request: Request) -> Response:
        account = authenticate(request)
        query = request.query_params
        echoed = [(name, query[name]) for name in ("DateCreatedFrom", "DateCreatedTo") if name in query]
        # v1 lists have no `status` filter (v2 added it).
        filters = account.execution_filters(None, query.get("DateCreatedFrom"), query.get("DateCreatedTo"))
        result = account.list_executions(request.path_params["FlowSid"], filters, page_request(request))
        base = render.base_url(request)
        items = [render_v1.execution(e, base, kind) for e in result.items]
        return render.TwilioJSON(render.page(kind.lower(), items, result, base, request.url.path, echoed))

    async def create(request: Request) -> Response:
        account = authenticate(request)
        form = await read_form(request)
        flow_sid = request.path_params["FlowSid"]
        limit = runtime(request).rate_limit
        if limit is not None:
            limit.check(account.sid)
        execution = account.create_execution(flow_sid, form.get("To"), form.get("From"), form.get("Parameters"))
        if limit is not None:
            limit.record(account.sid)
        # 201, as v2 answers and as v1's description said until its 2024 regeneration (which
        # lists 200): the SDKs accept either.
        return render.TwilioJSON(render_v1.execution(execution, render.base_url(request), kind), status_code=201)

    async def fetch(request: Request) -> Response:
        account = authenticate(request)
        execution = account.fetch_execution(request.path_params["FlowSid"], request.path_params["Sid"])
        return render.TwilioJSON(render_v1.execution(execution, render.base_url(request), kind))

    async def update(request: Request) -> Response:
        account = authenticate(request)
        form = await read_form(request)
        params = request.path_params
        execution = account.update_execution(params["FlowSid"], params["Sid"], form.get("Status"))
        return render.TwilioJSON(render_v1.execution(execution, render.base_url(request), kind))

    async def delete(request: Request) -> Response:
        account = authenticate(request)
        account.delete_execution(request.path_params["FlowSid"], request.path_params["Sid"])
        return Response(status_code=204)

    async def fetch_context(request: Request) -> Response:
        account = authenticate(request)
        params = request.path_params
        execution, context = account.fetch_execution_context(params["FlowSid"], params[f"{noun}Sid"])
        return render.TwilioJSON(render_v1.context(execution, context, render.base_url(request), kind))

    async def list_steps(request: Request) -> Response:
        account = authenticate(request)
        params = request.path_params
        execution, result = account.list_execution_steps(params["FlowSid"], params[f"{noun}Sid"], page_request(request))
        base = render.base_url(request)
        items = [render_v1.step(s, execution, base, kind) for s in result.items]
        return render.TwilioJSON(render.page("steps", items, result, base, request.url.path))

    async def fetch_step(request: Request) -> Response:
        account = authenticate(request)
        params = request.path_params
        execution, step = account.fetch_execution_step(params["FlowSid"], params[f"{noun}Sid"], params["Sid"])
        return render.TwilioJSON(render_v1.step(step, execution, render.base_url(request), kind))

    async def fetch_step_context(request: Request) -> Response:
        account = authenticate(request)
        params = request.path_params
        execution, step = account.fetch_execution_step_context(
            params["FlowSid"], params[f"{noun}Sid"], params["StepSid"]
        )
        return render.TwilioJSON(render_v1.step_context(step, execution, render.base_url(request), kind))

    item = f"{path}/{{{noun}Sid}}"
    routes: list[tuple[str, str, Endpoint]] = [
        ("GET", path, list_),
        ("POST", path, create),
        ("GET", f"{path}/{{Sid}}", fetch),
        ("DELETE", f"{path}/{{Sid}}", delete),
        ("GET", f"{item}/Context", fetch_context),
        ("GET", f"{item}/Steps", list_steps),
        ("GET", f"{item}/Steps/{{Sid}}", fetch_step),
        ("GET", f"{item}/Steps/{{StepSid}}/Context", fetch_step_context),
    ]
    if kind == render_v1.EXECUTIONS:  # Engagements cannot be updated (v1 has no UpdateEngagement)
        routes.insert(3, ("POST", f"{path}/{{Sid}}", update))
    return routes


for _kind in (render_v1.EXECUTIONS, render_v1.ENGAGEMENTS):
    for _method, _path, _endpoint in _execution_routes(_kind):
        router.add(_method, _path)(_endpoint)
