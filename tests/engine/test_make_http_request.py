"""make-http-request against a real HTTP server on 127.0.0.1: GET with query parameters,
form and JSON POSTs rendered with Liquid, `success` on 2xx and `failed` on 4xx/5xx,
`parsed` only for JSON objects, network failures with empty outputs, HTTP switched off or
redirected, and scripted responses (studio-flows.md §2.1)."""

from __future__ import annotations

import base64
import json
import socket
from typing import Any

import pytest

from mockstudio.engine.http import OutboundHttp
from mockstudio.engine.scripts import ScriptedOutcome

from .support import AC, CONTACT, TOKEN, Harness, rest_flow, say, widget
from .webapp import WebApp

JSON_TYPE = "application/json;charset=utf-8"
FORM_TYPE = "application/x-www-form-urlencoded;charset=utf-8"


def _http_flow(url: str, *, on_failed: str | None = "bad", **properties: Any) -> dict[str, Any]:
    return rest_flow(
        "call",
        widget("call", "make-http-request", {"success": "good", "failed": on_failed}, url=url, **properties),
        say("good", "ok {{widgets.call.status_code}}"),
        say("bad", "failed {{widgets.call.status_code}}"),
    )


def _live() -> OutboundHttp:
    return OutboundHttp(mode="live", timeout=5)


async def _run(flow: dict[str, Any], parameters: dict[str, Any] | None = None, http: OutboundHttp | None = None) -> Any:
    h = Harness(flow, http=http or _live())
    try:
        execution = await h.start(parameters)
    finally:
        await h.close()
    return h, execution


async def test_get_with_query_parameters(web: WebApp) -> None:
    flow = _http_flow(
        web.url("/echo?fixed=1"),
        method="GET",
        content_type=FORM_TYPE,
        parameters=[
            {"key": "caller", "value": "{{contact.channel.address}}"},
            {"key": "name", "value": "{{flow.data.name | upcase}}"},
        ],
    )
    h, execution = await _run(flow, {"name": "zeke"})
    request = web.last()
    assert request.method == "GET"
    assert request.path == "/echo"
    assert request.query == {"fixed": ["1"], "caller": [CONTACT], "name": ["ZEKE"]}
    assert request.body == ""
    assert h.steps(execution)[1] == ("success", "call", "good")
    outputs = h.widgets(execution)["call"]
    assert outputs["status_code"] == 200
    assert outputs["content_type"].startswith("application/json")
    assert json.loads(outputs["body"])["query"]["caller"] == CONTACT
    assert outputs["parsed"]["query"] == {"fixed": "1", "caller": CONTACT, "name": "ZEKE"}
    assert "headers" not in outputs
    assert h.messages()[-1] == ("outbound", "ok 200")


async def test_method_defaults_to_get(web: WebApp) -> None:
    await _run(_http_flow(web.url("/echo")))
    assert web.last().method == "GET"


async def test_post_form_sends_parameters_as_the_body(web: WebApp) -> None:
    flow = _http_flow(
        web.url("/echo"),
        method="POST",
        content_type=FORM_TYPE,
        parameters=[
            {"key": "to", "value": "{{contact.channel.address}}"},
            {"key": "data", "value": "{{flow.data}}"},
        ],
    )
    h, execution = await _run(flow, {"a": 1})
    request = web.last()
    assert request.method == "POST"
    assert request.headers["content-type"].startswith("application/x-www-form-urlencoded")
    assert request.form() == {"to": [CONTACT], "data": ['{"a":1}']}
    assert request.query == {}
    assert h.steps(execution)[1] == ("success", "call", "good")


async def test_post_json_body_with_liquid(web: WebApp) -> None:
    body = '{\n  "flow_sid": "{{flow.flow_sid}}",\n  "name": "{{flow.data.name}}",\n  "n": {{flow.data.n}}\n}'
    flow = rest_flow(
        "call",
        widget(
            "call",
            "make-http-request",
            {"success": "good", "failed": None},
            method="POST",
            content_type=JSON_TYPE,
            url=web.url("/echo"),
            body=body,
        ),
        say("good", "echoed {{widgets.call.parsed.body}} / {{widgets.call.parsed.nested.items[1].q}}"),
    )
    h, execution = await _run(flow, {"name": "Zeke", "n": 3})
    request = web.last()
    assert request.headers["content-type"] == JSON_TYPE
    assert json.loads(request.body) == {"flow_sid": execution.flow_sid, "name": "Zeke", "n": 3}
    parsed = h.widgets(execution)["call"]["parsed"]
    assert json.loads(parsed["body"]) == {"flow_sid": execution.flow_sid, "name": "Zeke", "n": 3}
    assert h.messages()[-1][1].endswith(" / b")


@pytest.mark.parametrize("code", [200, 201, 202, 299])
async def test_2xx_is_success(web: WebApp, code: int) -> None:
    h, execution = await _run(_http_flow(web.url(f"/status/{code}")))
    assert h.steps(execution)[1] == ("success", "call", "good")
    assert h.widgets(execution)["call"]["status_code"] == code


@pytest.mark.parametrize("code", [400, 401, 404, 429, 500, 503])
async def test_4xx_and_5xx_are_failed_with_outputs(web: WebApp, code: int) -> None:
    h, execution = await _run(_http_flow(web.url(f"/status/{code}")))
    assert h.steps(execution)[1] == ("failed", "call", "bad")
    outputs = h.widgets(execution)["call"]
    # Both events carry the same keys.
    assert outputs["status_code"] == code
    assert outputs["parsed"] == {"status": code, "message": f"status {code}"}
    assert h.messages()[-1] == ("outbound", f"failed {code}")


async def test_redirect_is_followed(web: WebApp) -> None:
    h, execution = await _run(_http_flow(web.url("/redirect")))
    assert [r.path for r in web.requests] == ["/redirect", "/echo"]
    assert h.steps(execution)[1] == ("success", "call", "good")
    assert h.widgets(execution)["call"]["parsed"]["query"] == {"from": "redirect"}


async def test_3xx_that_cannot_be_followed_is_failed(web: WebApp) -> None:
    h, execution = await _run(_http_flow(web.url("/found")))
    assert h.steps(execution)[1] == ("failed", "call", "bad")
    assert h.widgets(execution)["call"]["status_code"] == 302


@pytest.mark.parametrize(
    ("path", "body"),
    [("/text", "plain text"), ("/array", "[1, 2, 3]"), ("/badjson", "{oops")],
)
async def test_parsed_only_for_json_objects(web: WebApp, path: str, body: str) -> None:
    h, execution = await _run(_http_flow(web.url(path)))
    outputs = h.widgets(execution)["call"]
    assert h.steps(execution)[1] == ("success", "call", "good")
    assert outputs["body"] == body
    assert "parsed" not in outputs


async def test_204_without_content_type(web: WebApp) -> None:
    h, execution = await _run(_http_flow(web.url("/empty")))
    assert h.steps(execution)[1] == ("success", "call", "good")
    assert h.widgets(execution)["call"] == {"status_code": 204, "content_type": "", "body": ""}


async def test_timeout_is_failed_with_empty_outputs(web: WebApp) -> None:
    try:
        h, execution = await _run(_http_flow(web.url("/slow")), http=OutboundHttp(timeout=0.2))
    finally:
        web.release.set()
    assert h.steps(execution)[1] == ("failed", "call", "bad")
    assert h.widgets(execution)["call"] == {}
    assert h.messages()[-1] == ("outbound", "failed ")


async def test_too_large_body_is_failed_with_empty_outputs(web: WebApp) -> None:
    h, execution = await _run(_http_flow(web.url("/big")))
    assert h.steps(execution)[1] == ("failed", "call", "bad")
    assert h.widgets(execution)["call"] == {}


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def test_unreachable_is_failed_with_empty_outputs() -> None:
    h, execution = await _run(_http_flow(f"http://127.0.0.1:{_closed_port()}/nothing"))
    assert h.steps(execution)[1] == ("failed", "call", "bad")
    assert h.widgets(execution)["call"] == {}


@pytest.mark.parametrize(
    "url",
    [
        "{{flow.variables.IE_ENDPOINT}}",  # renders empty
        "YOUR_TWILIO_ENVIRONMENT_DOMAIN_NAME/save",  # no scheme (exported placeholders)
        "ftp://127.0.0.1/file",
        "http://127.0.0.1:99999/",  # port out of range
        "http://\x00/",  # invalid URL
    ],
)
async def test_invalid_url_is_failed(url: str) -> None:
    h, execution = await _run(_http_flow(url))
    assert h.steps(execution)[1] == ("failed", "call", "bad")
    assert h.widgets(execution)["call"] == {}


async def test_http_mode_off_fails_every_call(web: WebApp) -> None:
    h, execution = await _run(_http_flow(web.url("/echo")), http=OutboundHttp(mode="off"))
    assert web.requests == []
    assert h.steps(execution)[1] == ("failed", "call", "bad")
    assert h.widgets(execution)["call"] == {}


async def test_http_redirect_sends_every_call_to_another_base(web: WebApp) -> None:
    flow = _http_flow(
        "https://api.example.com/echo?x=1",
        parameters=[{"key": "y", "value": "2"}],
    )
    h, execution = await _run(flow, http=OutboundHttp(redirect_to=web.base_url))
    request = web.last()
    assert (request.path, request.query) == ("/echo", {"x": ["1"], "y": ["2"]})
    assert h.steps(execution)[1] == ("success", "call", "good")


@pytest.mark.parametrize("url", ["${webhook_url}", "", "  ", "{{flow.data.nothing}}", "/relative", "ftp://x/y"])
async def test_http_redirect_does_not_rescue_what_is_not_a_url(web: WebApp, url: str) -> None:
    # An export whose URL template was never filled in fails in Studio; redirected, too.
    h, execution = await _run(_http_flow(url), http=OutboundHttp(redirect_to=web.base_url))
    assert web.requests == []
    assert h.steps(execution)[1] == ("failed", "call", "bad")


async def test_scripted_503_twice_then_200(web: WebApp) -> None:
    # A retry loop: failed goes back to the request, at most three times.
    flow = rest_flow(
        "call",
        widget(
            "call",
            "make-http-request",
            {"success": "good", "failed": "retry"},
            url=web.url("/echo"),
        ),
        widget(
            "retry",
            "set-variables",
            {"next": "call"},
            variables=[{"key": "tries", "value": "{{flow.variables.tries | plus: 1}}"}],
        ),
        say("good", "done after {{flow.variables.tries}} retries: {{widgets.call.parsed.ok}}"),
    )
    h = Harness(flow, http=_live())
    h.script(
        "call",
        ScriptedOutcome(times=2, status_code=503, body={"error": "busy"}),
        ScriptedOutcome(status_code=200, body={"ok": "yes"}),
    )
    execution = await h.start()
    await h.close()
    assert web.requests == []  # scripted: nothing reached the server
    assert h.steps(execution) == [
        ("incomingRequest", "Trigger", "call"),
        ("failed", "call", "retry"),
        ("next", "retry", "call"),
        ("failed", "call", "retry"),
        ("next", "retry", "call"),
        ("success", "call", "good"),
        ("sent", "good", "Ended"),
    ]
    assert h.widgets(execution)["call"] == {
        "status_code": 200,
        "content_type": "application/json",
        "body": '{"ok": "yes"}',
        "parsed": {"ok": "yes"},
    }
    assert h.messages()[-1] == ("outbound", "done after 2 retries: yes")


async def test_script_runs_out_then_real_calls_resume(web: WebApp) -> None:
    h = Harness(_http_flow(web.url("/echo")), http=_live())
    h.script("call", ScriptedOutcome(status_code=500, body="boom", content_type="text/plain"))
    first = await h.start(to="+15550000001")
    second = await h.start(to="+15550000002")
    await h.close()
    assert h.steps(first)[1] == ("failed", "call", "bad")
    assert h.widgets(first)["call"] == {"status_code": 500, "content_type": "text/plain", "body": "boom"}
    assert h.steps(second)[1] == ("success", "call", "good")
    assert len(web.requests) == 1


async def test_scripted_event_without_response(web: WebApp) -> None:
    h = Harness(_http_flow(web.url("/echo")), http=_live())
    h.script("call", ScriptedOutcome(event="failed"))
    execution = await h.start()
    await h.close()
    assert h.steps(execution)[1] == ("failed", "call", "bad")
    assert h.widgets(execution)["call"] == {}
    assert web.requests == []


@pytest.mark.parametrize(("checked", "sent"), [(True, True), ("true", True), (False, False), (None, False)])
async def test_add_twilio_auth_sends_the_accounts_credentials(web: WebApp, checked: Any, sent: bool) -> None:
    # "Authenticate with Twilio": the account SID and auth token as HTTP Basic auth.
    properties = {} if checked is None else {"add_twilio_auth": checked}
    await _run(_http_flow(web.url("/echo"), **properties))
    expected = "Basic " + base64.b64encode(f"{AC}:{TOKEN}".encode()).decode()
    assert web.last().headers.get("authorization") == (expected if sent else None)
