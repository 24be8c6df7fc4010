"""`make-http-request` and `run-function`: a real HTTP call through httpx (or a scripted
response). Outputs `status_code`, `content_type`, `body`, and `parsed` when the response
is a JSON object (https://www.twilio.com/docs/studio/widget-library/http-request).
Network errors, timeouts (10 s) and bodies over 64 kB give the failure event with empty
outputs. HTTP uses `success`/`failed`; Run Function uses `success`/`fail`, treats 3xx as
success too and adds `headers`. The HTTP widget's `add_twilio_auth` sends the account's
SID and auth token as Basic auth."""

from __future__ import annotations

import json
from typing import Any, ClassVar

from ... import jsontext
from ..http import FUNCTION_CONCURRENCY, HttpFailure, HttpResponse
from ..outcomes import Outcome
from .base import Widget, WidgetRun

__all__ = ["MakeHttpRequest", "RunFunction", "response_outputs"]


def response_outputs(response: HttpResponse) -> dict[str, Any]:
    outputs: dict[str, Any] = {
        "status_code": response.status_code,
        "content_type": response.content_type,
        "body": response.body,
    }
    if "json" in response.content_type.lower():
        try:
            parsed = jsontext.loads(response.body)
        except ValueError:  # invalid JSON, or nested too deeply to render back: no `parsed`
            parsed = None
        if isinstance(parsed, dict):  # "only application/json objects ... are parsed"
            outputs["parsed"] = parsed
    return outputs


def _scripted_response(turn: WidgetRun) -> HttpResponse | None:
    script = turn.script
    if script is None or script.status_code is None:
        return None
    body = script.body
    content_type = script.content_type
    if not isinstance(body, str) and body is not None:
        body = json.dumps(body)
        content_type = content_type or "application/json"
    return HttpResponse(script.status_code, content_type or "text/plain", body or "")


class _HttpWidget(Widget):
    takes_http_scripts = True
    success: ClassVar[str] = "success"
    failure: ClassVar[str] = "failed"
    success_below: ClassVar[int] = 300

    async def run(self, turn: WidgetRun) -> Outcome:
        response = _scripted_response(turn)
        if response is None:
            try:
                response = await self.call(turn)
            except HttpFailure:
                return Outcome(self.failure, {})
            turn.count(response.body)
        ok = 200 <= response.status_code < self.success_below
        return Outcome(self.success if ok else self.failure, self.outputs(response))

    def outputs(self, response: HttpResponse) -> dict[str, Any]:
        return response_outputs(response)

    async def call(self, turn: WidgetRun) -> HttpResponse:
        raise HttpFailure("no transport")


class MakeHttpRequest(_HttpWidget):
    type = "make-http-request"

    async def call(self, turn: WidgetRun) -> HttpResponse:
        method = (turn.prop("method") or "GET").upper()
        url = turn.prop("url")
        content_type = turn.prop("content_type") or "application/x-www-form-urlencoded;charset=utf-8"
        parameters = turn.pairs("parameters")
        params, data, content = None, None, None
        headers = {}
        if method == "GET" or "json" not in content_type:
            # GET: parameters are "appended as query parameters"; a form POST sends them
            # as the form body (the likely reading: Twilio documents only the GET case).
            if method == "GET":
                params = parameters
            else:
                data = parameters
        else:
            content = turn.prop("body")
            headers["Content-Type"] = content_type
            params = parameters or None
        # "Authenticate with Twilio": the account's own credentials, as HTTP Basic auth.
        auth = (turn.account.sid, turn.account.auth_token) if _checked(turn.properties.get("add_twilio_auth")) else None
        return await turn.engine.http.request(
            method, url, params=params, data=data, content=content, headers=headers, auth=auth
        )


class RunFunction(_HttpWidget):
    type = "run-function"
    failure = "fail"
    success_below = 400  # "success means a 2xx/3xx response within 10 s"

    async def call(self, turn: WidgetRun) -> HttpResponse:
        # Studio POSTs the parameters as a form to the Function, as a Twilio webhook.
        return await turn.engine.http.request("POST", turn.prop("url"), data=turn.pairs("parameters"))

    def outputs(self, response: HttpResponse) -> dict[str, Any]:
        # Run Function also outputs `headers`, holding only the Functions runtime's
        # concurrency header (https://www.twilio.com/docs/studio/widget-library/run-function).
        # Twilio Functions always send it; an
        # endpoint standing in for one may not: then "1", one invocation in flight.
        outputs = response_outputs(response)
        outputs["headers"] = {FUNCTION_CONCURRENCY: response.function_concurrency or "1"}
        return outputs


def _checked(value: Any) -> bool:
    """A checkbox property: exports write true; hand-written JSON may say "true"."""
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")
