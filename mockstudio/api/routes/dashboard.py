"""The web dashboard: its page and assets under `/_mockstudio/ui/`, and the JSON it reads
and the actions it takes under `/_mockstudio/ui/api/`.

The page and its assets are static files shipped in the package (mockstudio/ui/static):
no data in them, so they are served without the admin token (a browser cannot send a
header when it navigates); everything under `/ui/api/` needs the token when one is set,
and the page asks for it. The clock, messages, request journal and reset are the control
plane's own routes (control.py, verification.py), which the page calls directly.

Every handler calls the domain's operations (mockstudio/domain/) and renders with render.py where
Twilio's JSON fits; the dashboard-only fields (counts, bound numbers) are added here."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

from fastapi import APIRouter, Depends
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse

from ... import jsontext
from ...dates import format_date
from ...domain.accounts import AccountState
from ...domain.models import Execution, Flow
from ...domain.paging import MAX_PAGE_SIZE, PageRequest
from ...errors import InvalidParameter, NotFound
from .. import render
from ..accounts import control_account
from ..admin import ADMIN_TOKEN_HEADER, CrossSiteRequestRefused, refuse_cross_site, require_admin_token
from ..forms import read_body
from ..runtime import runtime
from .deps import accepts_changes

__all__ = ["CONTENT_SECURITY_POLICY", "api", "pages"]

UI_PATH = "/_mockstudio/ui/"

# Only the page's own scripts, styles and requests: a string that slipped into the page as
# markup could still not run a script, load one or send data elsewhere.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
_SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    # Small files, served from memory: always checked, so an upgrade is seen at once.
    "Cache-Control": "no-cache",
}
_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}

CLIENT_HEADER = b"x-mockstudio-client"


def require_client_header(request: Request) -> None:
    """The dashboard's actions also need a header a plain HTML form cannot send (or the
    admin token), so a browser asks this server before another site's script may send it
    and this server never says yes."""
    if request.method == "POST" and not any(
        name in (CLIENT_HEADER, ADMIN_TOKEN_HEADER) for name, _ in request.scope["headers"]
    ):
        raise CrossSiteRequestRefused()


pages = APIRouter(include_in_schema=False)
api = APIRouter(
    prefix="/_mockstudio/ui/api",
    tags=["dashboard"],
    dependencies=[
        Depends(require_admin_token),
        Depends(refuse_cross_site),
        Depends(require_client_header),
        Depends(accepts_changes),
    ],
)


# -- the page and its assets ----------------------------------------------------------------


@cache
def _asset(name: str) -> bytes | None:
    """A file of mockstudio/ui/static, read once; None if there is no such file."""
    if "/" in name or "\\" in name or name.startswith(".") or not any(name.endswith(s) for s in _TYPES):
        return None
    entry = resources.files("mockstudio.ui").joinpath("static", name)
    return entry.read_bytes() if entry.is_file() else None


def _static(name: str) -> Response:
    body = _asset(name)
    if body is None:
        raise NotFound()
    suffix = name[name.rindex(".") :]
    return Response(body, media_type=_TYPES[suffix], headers=_SECURITY_HEADERS)


@pages.get("/_mockstudio/ui/")
async def dashboard_page() -> Response:
    return _static("index.html")


@pages.get("/_mockstudio/ui")
async def dashboard_without_slash() -> Response:
    return RedirectResponse(UI_PATH, status_code=307)


@pages.get("/_mockstudio/ui/assets/{name}")
async def dashboard_asset(name: str) -> Response:
    return _static(name)


# -- what the page reads ----------------------------------------------------------------------


def _flow_summary(account: AccountState, flow: Flow) -> dict[str, Any]:
    published = flow.published_revision()
    counts = account.executions.counts(flow.sid)
    return {
        "sid": flow.sid,
        "friendly_name": flow.friendly_name,
        "status": flow.status,
        "revision": flow.revision,
        "published_revision": published.revision if published else None,
        "valid": flow.valid,
        "errors": flow.errors,
        "numbers": sorted(number for number, bound in account.numbers.items() if bound == flow.sid),
        "executions": counts["all"],
        "active_executions": counts["active"],
        "date_created": format_date(flow.date_created),
        "date_updated": None if flow.date_updated is None else format_date(flow.date_updated),
    }


def _all_flows(account: AccountState) -> list[Flow]:
    flows: list[Flow] = []
    token: str | None = None
    while True:
        page = account.list_flows(PageRequest(MAX_PAGE_SIZE, 0, token))
        flows.extend(page.items)
        token = page.next_token
        if token is None:
            return flows


@api.get("/overview", summary="The accounts to pick from, the one acted on, and the clock")
async def overview(request: Request) -> Response:
    account = control_account(request)
    studio = runtime(request).studio
    now = studio.clock.now()
    return render.TwilioJSON(
        {
            "account_sid": account.sid,
            "accounts": [
                {"sid": a.sid, "friendly_name": a.friendly_name, "default": a.sid == studio.default_account_sid}
                for a in studio.accounts.values()
            ],
            "clock": {"now": format_date(int(now)), "epoch": now},
        }
    )


@api.get("/flows", summary="The account's flows, newest first, with what the dashboard lists")
async def flows(request: Request) -> Response:
    account = control_account(request)
    return render.TwilioJSON({"flows": [_flow_summary(account, f) for f in _all_flows(account)]})


@api.get("/flows/{flow_sid}", summary="A flow: its summary and its latest revision's definition")
async def flow(request: Request, flow_sid: str) -> Response:
    account = control_account(request)
    found = account.fetch_flow(flow_sid)
    return render.TwilioJSON({**_flow_summary(account, found), "definition": found.definition})


def _execution_row(execution: Execution) -> dict[str, Any]:
    return {
        "sid": execution.sid,
        "contact": execution.contact_channel_address,
        "flow_address": execution.flow_channel_address,
        "status": execution.status,
        "flow_version": execution.flow_version,
        "date_created": format_date(execution.date_created),
        "date_updated": None if execution.date_updated is None else format_date(execution.date_updated),
    }


_PAGE_SIZE = 50
# A contact filter reads pages of the flow's executions until a page's worth match or this
# many were read; the rest is one "more" away. Each request stays bounded at any size.
_CONTACT_SCAN_LIMIT = 20_000


@api.get(
    "/flows/{flow_sid}/executions",
    summary="A page of the flow's executions, newest first (status: active or ended; contact: its address)",
)
async def executions(
    request: Request,
    flow_sid: str,
    status: str | None = None,
    contact: str | None = None,
    page_token: str | None = None,
) -> Response:
    account = control_account(request)
    found = account.fetch_flow(flow_sid)
    filters = account.execution_filters(status or None, None, None)
    contact = (contact or "").strip()
    rows: list[dict[str, Any]] = []
    token = page_token or None
    scanned = 0
    while True:
        size = _PAGE_SIZE if not contact else min(MAX_PAGE_SIZE, _CONTACT_SCAN_LIMIT - scanned)
        page = account.list_executions(flow_sid, filters, PageRequest(size, 0, token))
        scanned += len(page.items)
        rows.extend(_execution_row(e) for e in page.items if not contact or e.contact_channel_address == contact)
        token = page.next_token
        if token is None or not contact or len(rows) >= _PAGE_SIZE or scanned >= _CONTACT_SCAN_LIMIT:
            break
    return render.TwilioJSON(
        {
            "executions": rows,
            "next_page_token": token,
            "counts": account.executions.counts(found.sid),
        }
    )


@api.get(
    "/flows/{flow_sid}/executions/{sid}",
    summary="An execution, its steps (oldest first), its context and the definition it ran",
)
async def execution(request: Request, flow_sid: str, sid: str) -> Response:
    account = control_account(request)
    base = render.base_url(request)
    found, context = account.fetch_execution_context(flow_sid, sid)
    steps = []
    token: str | None = None
    while True:  # Studio stops an execution at 1,000 steps: one or two pages
        _, page = account.list_execution_steps(flow_sid, sid, PageRequest(MAX_PAGE_SIZE, 0, token))
        steps.extend(page.items)
        token = page.next_token
        if token is None:
            break
    steps.reverse()
    definition = None
    if found.flow_version is not None:
        _, revision = account.fetch_flow_revision(flow_sid, str(found.flow_version))
        definition = revision.definition
    flow_name = account.fetch_flow(flow_sid).friendly_name
    return render.TwilioJSON(
        {
            "execution": {
                **render.execution(found, base),
                "flow_channel_address": found.flow_channel_address,
                "flow_friendly_name": flow_name,
            },
            "context": context,
            "steps": [
                {
                    "sid": s.sid,
                    "name": s.name,
                    "transitioned_from": s.transitioned_from,
                    "transitioned_to": s.transitioned_to,
                    "type": s.type,
                    "date_created": format_date(s.date_created),
                }
                for s in steps
            ],
            "definition": definition,
        }
    )


@api.get(
    "/live",
    summary="Server-Sent Events naming what changed in the account (see mockstudio/api/live.py)",
    response_class=StreamingResponse,
)
async def live(request: Request) -> StreamingResponse:
    # The page reads it with fetch() (the admin token goes in a header, never in the URL).
    account = control_account(request)
    return StreamingResponse(
        runtime(request).live.stream(account.sid),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


@api.get("/flows/{flow_sid}/executions/{execution_sid}/steps/{sid}/context", summary="A step's context")
async def step_context(request: Request, flow_sid: str, execution_sid: str, sid: str) -> Response:
    account = control_account(request)
    found, step = account.fetch_execution_step_context(flow_sid, execution_sid, sid)
    return render.TwilioJSON(render.step_context(step, found, render.base_url(request)))


# -- what the page does ---------------------------------------------------------------------------


def _text(fields: dict[str, Any], name: str) -> str | None:
    value = fields.get(name)
    if value is None:
        return None
    if isinstance(value, str):
        return value
    raise InvalidParameter(f"Invalid {name}: a string is expected")


@api.post(
    "/flows/{flow_sid}/executions", summary="Start an execution as CreateExecution would (JSON To, From, Parameters)"
)
async def create_execution(request: Request, flow_sid: str) -> Response:
    account = control_account(request)
    body = await read_body(request)
    try:
        fields = jsontext.loads_object(body) if body else {}
    except jsontext.NotAnObject as exc:
        raise InvalidParameter(f"The request body: {exc}") from None
    created = account.create_execution(
        flow_sid, _text(fields, "To"), _text(fields, "From"), _text(fields, "Parameters")
    )
    # The page shows the execution next: let it reach its first wait (or its end) first.
    await account.wait_until_settled(created.sid, 5.0)
    return render.TwilioJSON(render.execution(created, render.base_url(request)), status_code=201)


@api.post("/flows/{flow_sid}/executions/{sid}/end", summary="End an active execution (UpdateExecution Status=ended)")
async def end_execution(request: Request, flow_sid: str, sid: str) -> Response:
    account = control_account(request)
    ended = account.update_execution(flow_sid, sid, "ended")
    return render.TwilioJSON(render.execution(ended, render.base_url(request)))


@api.post("/flows/{flow_sid}/executions/{sid}/delete", summary="Delete an execution and its steps")
async def delete_execution(request: Request, flow_sid: str, sid: str) -> Response:
    account = control_account(request)
    account.delete_execution(flow_sid, sid)
    return render.TwilioJSON({"deleted": sid})
