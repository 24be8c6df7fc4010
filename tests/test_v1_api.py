"""Studio's v1 API: every operation of Twilio's official v1 description is routed and answers
with a body that validates against it (strictly: every declared field, no other), state is
shared with v2 both ways, and twilio-python's `client.studio.v1` works end to end."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator
from twilio.base.exceptions import TwilioRestException

from mockstudio.testing import MockStudioServer

from .conftest import DEMO_FLOW, SHARED_REFERENCE
from .test_conformance import format_checker, to_json_schema

SPEC_FILE = SHARED_REFERENCE / "twilio_studio_v1.json"
CONTACT = "+15551234567"
NUMBER = "+15017122661"


@cache
def spec() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SPEC_FILE.read_text(encoding="utf-8"))
    return loaded


@cache
def validator(method: str, path: str) -> Draft202012Validator:
    responses = spec()["paths"][path][method.lower()]["responses"]
    (status,) = [code for code in responses if code.startswith("2")]
    schema = to_json_schema(responses[status]["content"]["application/json"]["schema"])
    schema["components"] = {"schemas": to_json_schema(spec()["components"]["schemas"])}
    return Draft202012Validator(schema, format_checker=format_checker())


def conforms(response: httpx.Response, method: str, path: str) -> Any:
    """A success status and, where the spec gives one, a body valid against its schema.
    (Creates answer 201 where the current description says 200: see render_v1 / README.)"""
    assert response.is_success, (method, path, response.status_code, response.text)
    if response.status_code == 204:
        assert response.content == b""
        return None
    body = response.json()
    errors = sorted(validator(method, path).iter_errors(body), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{method} {path}: {'/'.join(map(str, e.path))}: {e.message}" for e in errors)
    return body


def _started(http: httpx.Client, kind: str = "Executions", to: str = CONTACT) -> dict[str, Any]:
    response = http.post(f"/v1/Flows/{DEMO_FLOW}/{kind}", data={"To": to, "From": NUMBER, "Parameters": "{}"})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.skipif(not SPEC_FILE.is_file(), reason="the official Studio v1 OpenAPI description is absent")
def test_every_v1_operation_is_routed_and_conforms(http: httpx.Client, live: MockStudioServer) -> None:
    operations = [
        (method.upper(), path)
        for path, item in spec()["paths"].items()
        for method in ("get", "post", "delete")
        if method in item
    ]
    assert len(operations) == 20
    for kind in ("Executions", "Engagements"):
        execution = _started(http, kind)
        live.wait_until_settled(execution["sid"])
        step_sid = http.get(f"/v1/Flows/{DEMO_FLOW}/{kind}/{execution['sid']}/Steps").json()["steps"][0]["sid"]
        values = {
            "FlowSid": DEMO_FLOW,
            "ExecutionSid": execution["sid"],
            "EngagementSid": execution["sid"],
            "StepSid": step_sid,
        }
        for method, path in sorted(operations, key=lambda op: op[0] == "DELETE"):
            if f"/{kind}" not in path or method == "DELETE":
                continue
            sid = step_sid if path.endswith("/Steps/{Sid}") else execution["sid"]
            data = None
            if method == "POST":
                data = {"Status": "ended"} if path.endswith("{Sid}") else {"To": "+15550000" + kind[:3], "From": NUMBER}
            body = conforms(http.request(method, path.format(**values, Sid=sid), data=data), method, path)
            if method == "POST" and not path.endswith("{Sid}"):
                http.delete(f"/v1/Flows/{DEMO_FLOW}/Executions/{body['sid']}")
        conforms(
            http.delete(f"/v1/Flows/{DEMO_FLOW}/{kind}/{execution['sid']}"),
            "DELETE",
            f"/v1/Flows/{{FlowSid}}/{kind}/{{Sid}}",
        )
    conforms(http.get("/v1/Flows"), "GET", "/v1/Flows")
    conforms(http.get(f"/v1/Flows/{DEMO_FLOW}"), "GET", "/v1/Flows/{Sid}")
    conforms(http.delete(f"/v1/Flows/{DEMO_FLOW}"), "DELETE", "/v1/Flows/{Sid}")
    assert http.get(f"/v2/Flows/{DEMO_FLOW}").status_code == 404


def test_v1_shapes_and_links(http: httpx.Client, live: MockStudioServer) -> None:
    flow = http.get(f"/v1/Flows/{DEMO_FLOW}").json()
    base = live.base_url
    assert flow["version"] == http.get(f"/v2/Flows/{DEMO_FLOW}").json()["revision"]
    assert "definition" not in flow and "revision" not in flow
    assert flow["links"] == {
        "engagements": f"{base}/v1/Flows/{DEMO_FLOW}/Engagements",
        "executions": f"{base}/v1/Flows/{DEMO_FLOW}/Executions",
    }
    engagement = _started(http, "Engagements")
    url = f"{base}/v1/Flows/{DEMO_FLOW}/Engagements/{engagement['sid']}"
    assert engagement["url"] == url
    assert engagement["links"] == {"steps": url + "/Steps", "engagement_context": url + "/Context"}
    assert "flow_version" not in engagement and "initiated_by" not in engagement
    live.wait_until_settled(engagement["sid"])
    context = http.get(f"/v1/Flows/{DEMO_FLOW}/Engagements/{engagement['sid']}/Context").json()
    assert context["engagement_sid"] == engagement["sid"] and "execution_sid" not in context
    step = http.get(f"/v1/Flows/{DEMO_FLOW}/Engagements/{engagement['sid']}/Steps").json()["steps"][-1]
    assert step["engagement_sid"] == engagement["sid"]
    assert (step["name"], step["transitioned_from"], step["type"]) == ("incomingRequest", "Trigger", "trigger")
    assert step["links"]["step_context"] == f"{url}/Steps/{step['sid']}/Context"


def test_v1_and_v2_share_state_both_ways(http: httpx.Client) -> None:
    made_in_v1 = _started(http)
    fetched = http.get(f"/v2/Flows/{DEMO_FLOW}/Executions/{made_in_v1['sid']}").json()
    assert (fetched["sid"], fetched["contact_channel_address"]) == (made_in_v1["sid"], CONTACT)
    # One active execution per contact, whichever version asks (409/20409 from v2).
    conflict = http.post(f"/v2/Flows/{DEMO_FLOW}/Executions", data={"To": CONTACT, "From": NUMBER})
    assert conflict.status_code == 409 and conflict.json()["code"] == 20409
    http.post(f"/v2/Flows/{DEMO_FLOW}/Executions/{made_in_v1['sid']}", data={"Status": "ended"})
    assert http.get(f"/v1/Flows/{DEMO_FLOW}/Engagements/{made_in_v1['sid']}").json()["status"] == "ended"
    made_in_v2 = http.post(f"/v2/Flows/{DEMO_FLOW}/Executions", data={"To": "+15550001111", "From": NUMBER}).json()
    listed = http.get(f"/v1/Flows/{DEMO_FLOW}/Executions").json()
    assert {e["sid"] for e in listed["executions"]} == {made_in_v1["sid"], made_in_v2["sid"]}
    assert listed["meta"]["key"] == "executions"
    http.delete(f"/v1/Flows/{DEMO_FLOW}/Engagements/{made_in_v2['sid']}")
    assert http.get(f"/v2/Flows/{DEMO_FLOW}/Executions/{made_in_v2['sid']}").status_code == 404


def test_v1_paging_and_date_filter(http: httpx.Client, live: MockStudioServer) -> None:
    for i in range(5):
        _started(http, to=f"+1555000020{i}")
        live.advance_clock(60)
    first = http.get(
        f"/v1/Flows/{DEMO_FLOW}/Executions", params={"PageSize": 2, "DateCreatedFrom": "2023-11-14T22:14:20Z"}
    ).json()
    assert len(first["executions"]) == 2
    next_url = first["meta"]["next_page_url"]
    assert next_url.startswith(f"{live.base_url}/v1/Flows/{DEMO_FLOW}/Executions?DateCreatedFrom=")
    second = http.get(next_url).json()
    assert len(second["executions"]) == 2 and second["meta"]["next_page_url"] is None
    # v1 has no status filter: `status` is not a parameter of ListExecution, so it is ignored.
    assert len(http.get(f"/v1/Flows/{DEMO_FLOW}/Executions", params={"status": "ended"}).json()["executions"]) == 5


def test_v1_errors_are_twilio_errors(http: httpx.Client, anon: httpx.Client) -> None:
    missing = http.get(f"/v1/Flows/{DEMO_FLOW}/Executions/FN{'0' * 32}")
    assert missing.status_code == 404
    assert (
        missing.json()["message"] == f"The requested resource /Flows/{DEMO_FLOW}/Executions/FN{'0' * 32} was not found"
    )
    assert anon.get("/v1/Flows").status_code == 401
    assert anon.get("/v1/Nowhere").status_code == 401  # authenticated before routing, as /v2
    assert http.post(f"/v1/Flows/{DEMO_FLOW}").json()["code"] == 20004  # v1 cannot update a flow: 405
    no_to = http.post(f"/v1/Flows/{DEMO_FLOW}/Executions", data={"From": NUMBER})
    assert (no_to.status_code, no_to.json()["code"]) == (400, 20001)
    assert http.post(f"/v1/Flows/{DEMO_FLOW}/Engagements/FN{'0' * 32}", data={"Status": "ended"}).status_code == 405


def test_twilio_python_studio_v1_end_to_end(live: MockStudioServer) -> None:
    client = live.client()
    flows = client.studio.v1.flows.list()
    assert DEMO_FLOW in {f.sid for f in flows}
    flow = client.studio.v1.flows(DEMO_FLOW)
    assert flow.fetch().version >= 1
    execution = flow.executions.create(to=CONTACT, from_=NUMBER, parameters={"name": "Zeke"})
    live.wait_until_settled(execution.sid)
    context = flow.executions(execution.sid).execution_context().fetch().context
    assert context["flow"]["data"] == {"name": "Zeke"}
    steps = flow.executions(execution.sid).steps.list()
    assert steps[-1].transitioned_from == "Trigger"
    step_context = flow.executions(execution.sid).steps(steps[-1].sid).step_context().fetch()
    assert step_context.step_sid == steps[-1].sid
    engagement = flow.engagements(execution.sid).fetch()
    assert (engagement.sid, engagement.status) == (execution.sid, "active")
    assert [s.sid for s in flow.engagements(execution.sid).steps.list()] == [s.sid for s in steps]
    assert flow.engagements(execution.sid).engagement_context().fetch().engagement_sid == execution.sid
    assert flow.executions(execution.sid).update(status="ended").status == "ended"
    assert client.studio.v2.flows(DEMO_FLOW).executions(execution.sid).fetch().status == "ended"
    made = flow.engagements.create(to="+15550003333", from_=NUMBER)
    assert [e.sid for e in flow.engagements.list()] == [made.sid, execution.sid]
    assert flow.engagements(made.sid).delete() is True
    with pytest.raises(TwilioRestException) as error:
        flow.executions(made.sid).fetch()
    assert (error.value.status, error.value.code) == (404, 20404)
