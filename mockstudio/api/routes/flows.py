"""`/v2/Flows`: the read side of Flows (the write side comes with the flow engine)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from .. import render
from ..auth import authenticate
from ..forms import page_request

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


@router.get("/v2/Flows")
async def list_flows(request: Request) -> Response:
    account = authenticate(request)
    result = account.list_flows(page_request(request))
    base = render.base_url(request)
    items = [render.flow(f, base, in_list=True) for f in result.items]
    return render.TwilioJSON(render.page("flows", items, result, base, request.url.path))


@router.get("/v2/Flows/{Sid}")
async def fetch_flow(request: Request, Sid: str) -> Response:
    account = authenticate(request)
    return render.TwilioJSON(render.flow(account.fetch_flow(Sid), render.base_url(request)))
