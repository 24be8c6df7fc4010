"""run-function against a real HTTP server: parameters POSTed as a form (whole objects as
JSON), `success` on 2xx and 3xx, `fail` (not `failed`) on 4xx/5xx and network errors,
`parsed` for JSON objects (studio-flows.md §2.1)."""

from __future__ import annotations

from typing import Any

import pytest

from mockstudio.engine.http import OutboundHttp
from mockstudio.engine.scripts import ScriptedOutcome

from .support import CONTACT, Harness, condition, rest_flow, say, split, widget
from .webapp import WebApp


def _flow(url: str, **properties: Any) -> dict[str, Any]:
    return rest_flow(
        "fn",
        widget(
            "fn",
            "run-function",
            {"success": "good", "fail": "bad"},
            url=url,
            service_sid="ZS" + "0" * 32,
            environment_sid="ZE" + "0" * 32,
            function_sid="ZH" + "0" * 32,
            **properties,
        ),
        say("good", "ok {{widgets.fn.status_code}}"),
        say("bad", "fail {{widgets.fn.status_code}}"),
    )


async def _run(flow: dict[str, Any], parameters: dict[str, Any] | None = None) -> Any:
    h = Harness(flow, http=OutboundHttp(timeout=5))
    try:
        execution = await h.start(parameters)
    finally:
        await h.close()
    return h, execution


async def test_parameters_are_posted_as_a_form(web: WebApp) -> None:
    flow = _flow(
        web.url("/echo"),
        parameters=[
            {"key": "appointment", "value": "{{flow.data}}"},
            {"key": "flow_sid", "value": "{{flow.flow_sid}}"},
            {"key": "to", "value": "{{contact.channel.address}}"},
        ],
    )
    h, execution = await _run(flow, {"id": 7, "when": "tomorrow"})
    request = web.last()
    assert request.method == "POST"
    assert request.headers["content-type"].startswith("application/x-www-form-urlencoded")
    assert request.form() == {
        "appointment": ['{"id":7,"when":"tomorrow"}'],
        "flow_sid": [execution.flow_sid],
        "to": [CONTACT],
    }
    assert h.steps(execution)[1] == ("success", "fn", "good")
    outputs = h.widgets(execution)["fn"]
    assert outputs["status_code"] == 200
    assert outputs["parsed"]["method"] == "POST"


@pytest.mark.parametrize(("path", "code"), [("/status/200", 200), ("/status/201", 201), ("/found", 302)])
async def test_2xx_and_3xx_are_success(web: WebApp, path: str, code: int) -> None:
    h, execution = await _run(_flow(web.url(path)))
    assert h.steps(execution)[1] == ("success", "fn", "good")
    assert h.widgets(execution)["fn"]["status_code"] == code


@pytest.mark.parametrize("code", [400, 403, 500, 502])
async def test_4xx_and_5xx_are_fail(web: WebApp, code: int) -> None:
    h, execution = await _run(_flow(web.url(f"/status/{code}")))
    assert h.steps(execution)[1] == ("fail", "fn", "bad")
    assert h.widgets(execution)["fn"]["status_code"] == code
    assert h.messages()[-1] == ("outbound", f"fail {code}")


async def test_unreachable_is_fail_with_empty_outputs() -> None:
    # Exported flows keep placeholders like https://YOUR_ENVIRONMENT_DOMAIN_NAME/...
    h, execution = await _run(_flow("YOUR_ENVIRONMENT_DOMAIN_NAME/save-response"))
    assert h.steps(execution)[1] == ("fail", "fn", "bad")
    assert h.widgets(execution)["fn"] == {}


async def test_parsed_and_raw_body_drive_a_split(web: WebApp) -> None:
    # Real flows split on the raw body ({{widgets.save.body}}) and on parsed fields.
    flow = rest_flow(
        "fn",
        widget("fn", "run-function", {"success": "check", "fail": None}, url=web.url("/echo")),
        split(
            "check",
            "{{widgets.fn.parsed.nested.items[0].q}}",
            [("yes", [condition("equal_to", "A", "{{widgets.fn.parsed.nested.items[0].q}}")])],
            no_match="no",
        ),
        say("yes", "parsed {{widgets.fn.parsed.method}}"),
        say("no", "no"),
    )
    h, execution = await _run(flow)
    assert h.steps(execution)[2] == ("match", "check", "yes")
    assert h.messages()[-1] == ("outbound", "parsed POST")


async def test_text_response_is_not_parsed(web: WebApp) -> None:
    h, execution = await _run(_flow(web.url("/text")))
    outputs = h.widgets(execution)["fn"]
    assert outputs == {
        "status_code": 200,
        "content_type": "text/plain",
        "body": "plain text",
        "headers": {"x-twilio-function-concurrency": "1"},
    }


async def test_scripted_fail_and_success() -> None:
    h = Harness(_flow("https://example.invalid/fn"))
    h.script(
        "fn",
        ScriptedOutcome(status_code=500, body={"error": "x"}),
        ScriptedOutcome(status_code=200, body="YES"),
    )
    first = await h.start(to="+15550000001")
    second = await h.start(to="+15550000002")
    assert h.steps(first)[1] == ("fail", "fn", "bad")
    assert h.widgets(first)["fn"]["parsed"] == {"error": "x"}
    assert h.steps(second)[1] == ("success", "fn", "good")
    assert h.widgets(second)["fn"] == {
        "status_code": 200,
        "content_type": "text/plain",
        "body": "YES",
        "headers": {"x-twilio-function-concurrency": "1"},
    }


async def test_scripted_event_and_outputs() -> None:
    h = Harness(_flow("https://example.invalid/fn"))
    h.script("fn", ScriptedOutcome(event="success", outputs={"parsed": {"ok": True}, "status_code": 200}))
    execution = await h.start()
    assert h.steps(execution)[1] == ("success", "fn", "good")
    assert h.widgets(execution)["fn"] == {"parsed": {"ok": True}, "status_code": 200}


async def test_headers_output_holds_only_the_function_concurrency(web: WebApp) -> None:
    h, execution = await _run(_flow(web.url("/function")))
    assert h.widgets(execution)["fn"]["headers"] == {"x-twilio-function-concurrency": "3"}
    # An endpoint standing in for a Function that does not send it: one invocation.
    h, execution = await _run(_flow(web.url("/echo")))
    assert h.widgets(execution)["fn"]["headers"] == {"x-twilio-function-concurrency": "1"}
