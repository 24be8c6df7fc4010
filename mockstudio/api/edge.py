"""The Twilio API's edge: every Twilio route (`/v2/...`) is served, per app, by a
`TwilioEndpoint` that applies the fault rules and records the request in the journal
around the route's function. Requests that reach no route (an unknown path, a wrong
method) are recorded by the error handler that answers them (`record_unrouted`, app.py),
so the journal holds every `/v2` request.

Kept cheap for the hot paths (measured in benchmarks/): it is the route's ASGI app itself,
in place of Starlette's `request_response` (whose inner exception-handling layer the app's
ExceptionMiddleware duplicates: errors raised here reach the same handlers), so there is no
extra layer and no wrapped `send`; the status is read from the response the function
returns or the error it raises; with no fault rules they are not looked at; recording is one
tuple appended to a bounded deque (journal.py)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from ..errors import TwilioError
from . import render
from .auth import authenticate
from .journal import ACCOUNT_KEY
from .runtime import RUNTIME_KEY, Runtime

__all__ = ["TwilioEndpoint", "edge_route", "record_unrouted"]

Endpoint = Callable[[Request], Awaitable[Response]]

_perf = time.perf_counter
_READS = frozenset(("GET", "HEAD"))  # the methods that never change the state


class TwilioEndpoint:
    """The ASGI app of one Twilio route in one app."""

    __slots__ = ("endpoint", "faults", "journal", "now", "path", "rt")

    def __init__(self, endpoint: Endpoint, path: str, rt: Runtime) -> None:
        self.endpoint = endpoint
        self.path = path
        self.rt = rt
        self.journal = rt.journal
        self.faults = rt.faults
        self.now = rt.studio.clock.now

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope[RUNTIME_KEY] = self.rt
        request = Request(scope, receive, send)
        started = _perf()
        moment = self.now()
        journal = self.journal
        fault_id: int | None = None
        if self.faults.rules:
            rule = self.faults.take(scope["method"], scope["path"], lambda: _account_sid(request))
            if rule is not None:
                fault_id = rule.id
                if rule.latency_ms:
                    await asyncio.sleep(rule.latency_ms / 1000)
                error = rule.error()
                if error is not None:
                    _account_sid(request)  # for the journal
                    if journal.enabled:
                        journal.record(scope, error.status, moment, _perf() - started, self.path, fault_id)
                    body = render.error_body(error)
                    await render.TwilioJSON(body, status_code=error.status, headers=error.headers)(scope, receive, send)
                    return
        try:
            if scope["method"] not in _READS:
                self.rt.studio.check_accepts_changes()
            response = await self.endpoint(request)
        except Exception as exc:  # answered by the app's error handlers: its status, or 500
            if journal.enabled:
                journal.record(scope, getattr(exc, "status", 500), moment, _perf() - started, self.path, fault_id)
            raise
        if journal.enabled:
            journal.record(scope, response.status_code, moment, _perf() - started, self.path, fault_id)
        await response(scope, receive, send)


def edge_route(route: Route, rt: Runtime) -> Route:
    """A copy of `route` (a Twilio route-table entry) served through `rt`'s edge."""
    app = TwilioEndpoint(route.endpoint, route.path, rt)
    rt.journal.route_paths[app] = route.path
    return Route(route.path, app, methods=route.methods, include_in_schema=False)


def record_unrouted(request: Request, status: int) -> None:
    """Journal a `/v2` request that reached no endpoint (answered 401, 404 or 405 by
    app.py's handler): its duration is not known, so it is recorded as 0."""
    rt: Runtime = request.app.state.runtime
    if rt.journal.enabled:
        _account_sid(request)  # a 405 did not authenticate: the journal still names the account
        endpoint: Any = request.scope.get("endpoint")
        route = rt.journal.route_paths.get(endpoint) if endpoint is not None else None
        rt.journal.record(request.scope, status, rt.studio.clock.now(), 0.0, route, None)


def _account_sid(request: Request) -> str | None:
    """The request's account, if its credentials are good (never raises)."""
    sid: str | None = request.scope.get(ACCOUNT_KEY)
    if sid is None:
        try:
            sid = authenticate(request).sid
        except TwilioError:
            return None
    return sid
