"""A pure ASGI middleware in front of the Twilio API (`/v2/...`): it applies the fault
rules and records every request in the journal. Everything else (the control plane, docs,
lifespan) passes straight through.

Kept cheap for the hot paths: with no fault rules it does not look at them, and recording
is one tuple appended to a bounded deque (see journal.py); no BaseHTTPMiddleware, whose
per-request tasks and streams cost far more than the routes themselves."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..errors import TwilioError
from . import render
from .auth import authenticate
from .journal import ACCOUNT_KEY
from .runtime import Runtime

__all__ = ["TwilioEdge"]

_PREFIX = "/v2/"


class TwilioEdge:
    def __init__(self, app: ASGIApp, runtime: Runtime) -> None:
        self.app = app
        self.runtime = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(_PREFIX):
            await self.app(scope, receive, send)
            return
        rt = self.runtime
        journal = rt.journal
        started = time.perf_counter()
        moment = rt.studio.clock.now()
        fault_id: int | None = None
        if rt.faults.rules:
            rule = rt.faults.take(scope["method"], scope["path"], lambda: _account_sid(scope))
            if rule is not None:
                fault_id = rule.id
                if rule.latency_ms:
                    await asyncio.sleep(rule.latency_ms / 1000)
                error = rule.error()
                if error is not None:
                    _account_sid(scope)  # for the journal
                    await _respond(error, scope, receive, send)
                    if journal.enabled:
                        journal.record(scope, error.status, moment, time.perf_counter() - started, fault_id)
                    return
        if not journal.enabled:
            await self.app(scope, receive, send)
            return
        status = 500  # if the app raises before it responds (the outermost handler answers 500)

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            journal.record(scope, status, moment, time.perf_counter() - started, fault_id)


def _account_sid(scope: Scope) -> str | None:
    """The request's account, if its credentials are good (never raises)."""
    sid: str | None = scope.get(ACCOUNT_KEY)
    if sid is None:
        try:
            sid = authenticate(Request(scope)).sid
        except TwilioError:
            return None
    return sid


async def _respond(error: TwilioError, scope: Scope, receive: Receive, send: Send) -> None:
    headers: Any = getattr(error, "headers", None)
    response = render.TwilioJSON(render.error_body(error), status_code=error.status, headers=headers)
    await response(scope, receive, send)
