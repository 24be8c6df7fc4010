"""Twilio's JSON: the only module that knows Studio's field names and builds its URLs.

Every `url`, `links` value and paging URL is absolute and built from the mock's own base
URL, so SDKs that follow `next_page_url` come back here. Field sets and nulls follow the
official spec's schemas (Twilio's OpenAPI description, github.com/twilio/twilio-oai)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import orjson
from starlette.requests import Request
from starlette.responses import Response

from ..contexts import build_context
from ..dates import format_date
from ..domain.models import Execution, Flow, FlowRevision, Step
from ..domain.paging import Page
from ..errors import TwilioError
from .runtime import runtime

__all__ = [
    "TwilioJSON",
    "base_url",
    "error_body",
    "execution",
    "execution_context",
    "flow",
    "flow_revision",
    "flow_validate",
    "page",
    "step",
    "step_context",
    "test_user",
]


class TwilioJSON(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def base_url(request: Request) -> str:
    """The configured public URL, or the scheme and Host the request came in on."""
    configured = runtime(request).public_url
    if configured:
        return configured
    scope = request.scope
    for name, value in scope["headers"]:
        if name == b"host" and value:  # (api/target.py refused malformed ones)
            return f"{scope['scheme']}://{value.decode('latin-1')}"
    server = scope.get("server") or ("127.0.0.1", 80)
    return f"{scope['scheme']}://{server[0]}:{server[1]}"


def _date(seconds: int | None) -> str | None:
    return None if seconds is None else format_date(seconds)


def execution(e: Execution, base: str) -> dict[str, Any]:
    url = f"{base}/v2/Flows/{e.flow_sid}/Executions/{e.sid}"
    return {
        "sid": e.sid,
        "account_sid": e.account_sid,
        "flow_sid": e.flow_sid,
        "contact_channel_address": e.contact_channel_address,
        "contact_sid": e.contact_sid,
        "flow_version": e.flow_version,
        # Every Twilio example has `{}` here; the live context is the Context resource.
        "context": {},
        "status": e.status,
        "date_created": format_date(e.date_created),
        "date_updated": _date(e.date_updated),
        "initiated_by": e.initiated_by,
        "url": url,
        "links": {"steps": url + "/Steps", "execution_context": url + "/Context"},
    }


def execution_context(
    e: Execution, context: Any, base: str, *, url: str | None = None, owner: str = "execution_sid"
) -> dict[str, Any]:
    """`url` is the execution's own (v2's by default) and `owner` the key naming it: v1's
    Engagements say `engagement_sid` (render_v1.py)."""
    return {
        "account_sid": e.account_sid,
        "context": context,
        "flow_sid": e.flow_sid,
        owner: e.sid,
        "url": (url or f"{base}/v2/Flows/{e.flow_sid}/Executions/{e.sid}") + "/Context",
    }


def step(s: Step, e: Execution, base: str, *, url: str | None = None, owner: str = "execution_sid") -> dict[str, Any]:
    """`url` and `owner` as for execution_context."""
    step_url = f"{url or f'{base}/v2/Flows/{e.flow_sid}/Executions/{e.sid}'}/Steps/{s.sid}"
    return {
        "sid": s.sid,
        "account_sid": e.account_sid,
        "flow_sid": e.flow_sid,
        owner: e.sid,
        "parent_step_sid": s.parent_step_sid,
        "name": s.name,
        "context": build_context(e, s.widgets, s.variables),
        "transitioned_from": s.transitioned_from,
        "transitioned_to": s.transitioned_to,
        "type": s.type,
        "date_created": format_date(s.date_created),
        "date_updated": _date(s.date_updated),
        "url": step_url,
        "links": {"step_context": step_url + "/Context"},
    }


def step_context(
    s: Step, e: Execution, base: str, *, url: str | None = None, owner: str = "execution_sid"
) -> dict[str, Any]:
    """`url` and `owner` as for execution_context."""
    return {
        "account_sid": e.account_sid,
        "context": build_context(e, s.widgets, s.variables),
        owner: e.sid,
        "flow_sid": e.flow_sid,
        "step_sid": s.sid,
        "url": f"{url or f'{base}/v2/Flows/{e.flow_sid}/Executions/{e.sid}'}/Steps/{s.sid}/Context",
    }


def flow(f: Flow, base: str, *, in_list: bool = False) -> dict[str, Any]:
    """In lists Twilio sends `definition`, `commit_message`, `valid`, `errors` and
    `warnings` as null (the spec's list examples); a fetch carries them."""
    url = f"{base}/v2/Flows/{f.sid}"
    return {
        "sid": f.sid,
        "account_sid": f.account_sid,
        "author_sid": f.author_sid,
        "friendly_name": f.friendly_name,
        "definition": None if in_list else f.definition,
        "status": f.status,
        "revision": f.revision,
        "commit_message": None if in_list else f.commit_message,
        "valid": None if in_list else f.valid,
        "errors": None if in_list else f.errors,
        "warnings": None if in_list else f.warnings,
        "date_created": format_date(f.date_created),
        "date_updated": _date(f.date_updated),
        "webhook_url": f"https://webhooks.twilio.com/v1/Accounts/{f.account_sid}/Flows/{f.sid}",
        "url": url,
        "links": {
            "test_users": url + "/TestUsers",
            "revisions": url + "/Revisions",
            "executions": url + "/Executions",
        },
    }


def flow_revision(f: Flow, r: FlowRevision, base: str, *, in_list: bool = False) -> dict[str, Any]:
    """As for flows, list items carry `definition`, `commit_message`, `valid` and `errors`
    as null."""
    return {
        "sid": f.sid,
        "account_sid": f.account_sid,
        "author_sid": r.author_sid,
        "friendly_name": r.friendly_name,
        "definition": None if in_list else r.definition,
        "status": r.status,
        "revision": r.revision,
        "commit_message": None if in_list else r.commit_message,
        "valid": None if in_list else r.valid,
        "errors": None if in_list else r.errors,
        "date_created": format_date(r.date_created),
        "date_updated": _date(r.date_updated),
        "url": f"{base}/v2/Flows/{f.sid}/Revisions/{r.revision}",
    }


def flow_validate(valid: bool) -> dict[str, Any]:
    return {"valid": valid}


def test_user(f: Flow, base: str) -> dict[str, Any]:
    return {
        "sid": f.sid,
        "test_users": list(f.test_users),
        "url": f"{base}/v2/Flows/{f.sid}/TestUsers",
    }


def page(
    key: str,
    items: list[dict[str, Any]],
    result: Page[Any],
    base: str,
    path: str,
    filters: list[tuple[str, str]] | None = None,
) -> dict[str, Any]:
    """The list envelope. Query order follows Twilio's: filters, then `PageSize`,
    `Page`, `PageToken`; filters survive into every paging URL."""
    request = result.request
    prefix = f"{base}{path}?"
    if filters:
        prefix += urlencode(filters) + "&"
    prefix += f"PageSize={request.page_size}&Page="

    def url(number: int, token: str | None) -> str:
        return f"{prefix}{number}" + (f"&{urlencode({'PageToken': token})}" if token else "")

    return {
        key: items,
        "meta": {
            "page": request.page,
            "page_size": request.page_size,
            "first_page_url": url(0, None),
            "previous_page_url": (url(request.page - 1, result.previous_token) if result.previous_token else None),
            "url": url(request.page, request.token),
            "next_page_url": url(request.page + 1, result.next_token) if result.next_token else None,
            "key": key,
        },
    }


def error_body(error: TwilioError) -> dict[str, Any]:
    """Twilio's error body. Never `type`/`title`: with them the SDKs raise a different
    exception class (`TwilioServiceException`, for RFC 9457 bodies)."""
    body: dict[str, Any] = {
        "code": error.code,
        "message": error.message,
        "more_info": error.more_info,
        "status": error.status,
    }
    if error.details is not None:
        body["details"] = error.details
    return body
