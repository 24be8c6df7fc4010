"""`/v2/Flows`: the Flow operations, Revisions, Validate and TestUsers. Each route
authenticates, reads the form, calls the one state method named after the operation and
renders; errors are raised and turned into Twilio bodies in one place (app.py).

`POST /v2/Flows/Validate` is a literal segment that would also match `/v2/Flows/{Sid}`,
so it is registered before the `{Sid}` routes (Starlette matches in order)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from .. import render
from ..auth import authenticate
from ..forms import page_request, read_form
from .table import RouteTable

__all__ = ["router"]

router = RouteTable()


@router.get("/v2/Flows")
async def list_flows(request: Request) -> Response:
    account = authenticate(request)
    result = account.list_flows(page_request(request))
    base = render.base_url(request)
    items = [render.flow(f, base, in_list=True) for f in result.items]
    return render.TwilioJSON(render.page("flows", items, result, base, request.url.path))


@router.post("/v2/Flows")
async def create_flow(request: Request) -> Response:
    account = authenticate(request)
    form = await read_form(request)
    # AuthorSid (sent by current SDKs) is accepted and ignored.
    flow = account.create_flow(
        form.get("FriendlyName"), form.get("Status"), form.get("Definition"), form.get("CommitMessage")
    )
    return render.TwilioJSON(render.flow(flow, render.base_url(request)), status_code=201)


@router.post("/v2/Flows/Validate")
async def update_flow_validate(request: Request) -> Response:
    account = authenticate(request)
    form = await read_form(request)
    valid = account.update_flow_validate(
        form.get("FriendlyName"), form.get("Status"), form.get("Definition"), form.get("CommitMessage")
    )
    return render.TwilioJSON(render.flow_validate(valid))


@router.get("/v2/Flows/{Sid}")
async def fetch_flow(request: Request) -> Response:
    sid = request.path_params["Sid"]
    account = authenticate(request)
    return render.TwilioJSON(render.flow(account.fetch_flow(sid), render.base_url(request)))


@router.post("/v2/Flows/{Sid}")
async def update_flow(request: Request) -> Response:
    sid = request.path_params["Sid"]
    account = authenticate(request)
    form = await read_form(request)
    flow = account.update_flow(
        sid, form.get("Status"), form.get("FriendlyName"), form.get("Definition"), form.get("CommitMessage")
    )
    return render.TwilioJSON(render.flow(flow, render.base_url(request)))


@router.delete("/v2/Flows/{Sid}")
async def delete_flow(request: Request) -> Response:
    sid = request.path_params["Sid"]
    account = authenticate(request)
    account.delete_flow(sid)
    return Response(status_code=204)  # no body: twilio-python returns it instead of True


@router.get("/v2/Flows/{Sid}/Revisions")
async def list_flow_revisions(request: Request) -> Response:
    sid = request.path_params["Sid"]
    account = authenticate(request)
    flow, result = account.list_flow_revisions(sid, page_request(request))
    base = render.base_url(request)
    items = [render.flow_revision(flow, r, base, in_list=True) for r in result.items]
    return render.TwilioJSON(render.page("revisions", items, result, base, request.url.path))


@router.get("/v2/Flows/{Sid}/Revisions/{Revision}")
async def fetch_flow_revision(request: Request) -> Response:
    sid = request.path_params["Sid"]
    revision = request.path_params["Revision"]
    account = authenticate(request)
    flow, revision = account.fetch_flow_revision(sid, revision)
    return render.TwilioJSON(render.flow_revision(flow, revision, render.base_url(request)))


@router.get("/v2/Flows/{Sid}/TestUsers")
async def fetch_test_user(request: Request) -> Response:
    sid = request.path_params["Sid"]
    account = authenticate(request)
    return render.TwilioJSON(render.test_user(account.fetch_test_user(sid), render.base_url(request)))


@router.post("/v2/Flows/{Sid}/TestUsers")
async def update_test_user(request: Request) -> Response:
    sid = request.path_params["Sid"]
    account = authenticate(request)
    form = await read_form(request)
    flow = account.update_test_user(sid, form.getlist("TestUsers"))
    return render.TwilioJSON(render.test_user(flow, render.base_url(request)))
