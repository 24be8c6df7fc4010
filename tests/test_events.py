"""Studio Events as an app consumes them: subscribing through the Events v1 API with the real
twilio-python client, a local webhook receiver that checks `X-Twilio-Signature` with
twilio-python's RequestValidator, retries on the virtual clock, bad input, fixtures,
`MOCKSTUDIO_EVENTS_WEBHOOK`, in-process collectors and opt-in duplicate/out-of-order delivery."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable, Iterator
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator
from pydantic import ValidationError
from twilio.request_validator import RequestValidator

from mockstudio.clock import ManualClock
from mockstudio.settings import Settings
from mockstudio.testing import MockStudioServer

from .conftest import DEMO_FLOW, SHARED_REFERENCE
from .helpers import assert_twilio_error
from .test_conformance import format_checker, to_json_schema

SPEC_FILE = SHARED_REFERENCE / "twilio_events_v1.json"
STARTED = "com.twilio.studio.flow.execution.started"
STEP = "com.twilio.studio.flow.step.ended"
ENDED = "com.twilio.studio.flow.execution.ended"
ALL_TYPES = [STARTED, STEP, ENDED]
CONTACT, NUMBER = "+15551234567", "+15017122661"


class Receiver:
    """A webhook sink's server: records each request; answers with the next of `statuses`
    (200 once they run out)."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        self.statuses: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                receiver.requests.append((self.path, dict(self.headers), body))
                self.send_response(receiver.statuses.pop(0) if receiver.statuses else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/events"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def events(self) -> list[dict[str, Any]]:
        return [event for _, _, body in self.requests for event in json.loads(body)]

    def wait(self, condition: Callable[[], bool], timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            assert time.monotonic() < deadline, f"timed out; received {len(self.requests)} requests"
            time.sleep(0.02)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def _form(http: httpx.Client, path: str, data: dict[str, Any], status: int = 201) -> dict[str, Any]:
    response = http.post(path, data=data)
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


def active_sink(http: httpx.Client, receiver: Receiver, destination: str | None = None) -> str:
    """A webhook sink made active through Test and Validate, as Twilio's quickstart does."""
    config = json.dumps({"destination": destination or receiver.url, "method": "POST"})
    sink = _form(http, "/v1/Sinks", {"Description": "hook", "SinkConfiguration": config, "SinkType": "webhook"})
    assert sink["status"] == "initialized"
    before = len(receiver.requests)
    assert _form(http, f"/v1/Sinks/{sink['sid']}/Test", {}) == {"result": "submitted"}
    receiver.wait(lambda: len(receiver.requests) > before)
    (test,) = json.loads(receiver.requests[-1][2])
    assert test["type"] == "com.twilio.eventstreams.test-event" and test["source"] == "Sink"
    assert http.get(f"/v1/Sinks/{sink['sid']}").json()["status"] == "validating"
    validated = _form(http, f"/v1/Sinks/{sink['sid']}/Validate", {"TestId": test["data"]["test_id"]})
    assert validated == {"result": "valid"}
    sid: str = sink["sid"]
    return sid


def subscribe(http: httpx.Client, sink_sid: str, types: list[dict[str, Any]] | None = None) -> str:
    items = [json.dumps(t) for t in (types or [{"type": t, "schema_version": 1} for t in ALL_TYPES])]
    body = _form(http, "/v1/Subscriptions", {"Description": "all", "SinkSid": sink_sid, "Types": items})
    sid: str = body["sid"]
    return sid


def run_demo(live: MockStudioServer, http: httpx.Client, contact: str = CONTACT) -> str:
    """The bundled demo flow from start to end: send-and-wait, a reply, a split, a message."""
    created = _form(http, f"/v2/Flows/{DEMO_FLOW}/Executions", {"To": contact, "From": NUMBER, "Parameters": "{}"})
    live.wait_until_settled(created["sid"])
    live.send_message(contact, NUMBER, "yes")
    sid: str = created["sid"]
    return sid


# -- subscribing and receiving, as an app does ---------------------------------------------------


def test_twilio_python_subscribes_and_the_webhook_gets_signed_events(
    live: MockStudioServer, receiver: Receiver
) -> None:
    client = live.client()
    client.events.base_url = live.base_url
    sink = client.events.v1.sinks.create(
        description="My webhook",
        sink_configuration={"destination": receiver.url, "method": "POST"},
        sink_type="webhook",
    )
    assert (sink.status, sink.sink_type, sink.sink_configuration["destination"]) == (
        "initialized",
        "webhook",
        receiver.url,
    )
    assert client.events.v1.sinks(sink.sid).sink_test.create().result == "submitted"
    receiver.wait(lambda: len(receiver.requests) == 1)
    test_id = json.loads(receiver.requests[0][2])[0]["data"]["test_id"]
    assert client.events.v1.sinks(sink.sid).sink_validate.create(test_id=test_id).result == "valid"
    assert client.events.v1.sinks(sink.sid).fetch().status == "active"
    subscription = client.events.v1.subscriptions.create(
        description="Studio", sink_sid=sink.sid, types=[{"type": t, "schema_version": 1} for t in ALL_TYPES]
    )
    subscribed = client.events.v1.subscriptions(subscription.sid).subscribed_events.list()
    assert [(e.type, e.schema_version) for e in subscribed] == [(t, 1) for t in ALL_TYPES]
    assert [s.sid for s in client.events.v1.sinks.list(in_use=True)] == [sink.sid]

    execution = run_demo(live, live.httpx_client())
    receiver.wait(lambda: any(e["type"] == ENDED for e in receiver.events()))
    validator = RequestValidator(live.auth_token)
    for path, headers, body in receiver.requests:
        url = f"http://127.0.0.1:{receiver.server.server_port}{path}"
        assert "bodySHA256=" in path
        assert validator.validate(url, body.decode(), headers["X-Twilio-Signature"]), path
        assert headers["Content-Type"] == "application/json"
    events = [e for e in receiver.events() if e["data"].get("execution_sid") == execution]
    assert [e["type"] for e in events] == [STARTED, STEP, STEP, STEP, STEP, ENDED]
    steps = [e["data"] for e in events if e["type"] == STEP]
    assert [(s["transitioned_from"], s["transitioned_to"]) for s in steps] == [
        ("Trigger", "greet"),
        ("greet", "check_reply"),
        ("check_reply", "confirm"),
        ("confirm", "Ended"),
    ]
    rest_steps = live.client().studio.v2.flows(DEMO_FLOW).executions(execution).steps.list()
    assert [s["step_sid"] for s in steps] == [s.sid for s in reversed(rest_steps)]
    started, ended = events[0], events[-1]
    assert started["data"]["status"] == "active" and "ended_reason" not in started["data"]
    assert (ended["data"]["status"], ended["data"]["ended_reason"]) == ("ended", "FLOW_END")
    assert started["data"]["started_by"].startswith("RQ") and started["data"]["flow_revision"] == 1
    for event in events:
        assert event["specversion"] == "1.0" and event["datacontenttype"] == "application/json"
        assert event["id"].startswith("EZ") and len(event["id"]) == 34
        assert event["time"].endswith("Z") and len(event["time"]) == len("2023-11-14T22:13:20.000Z")
    assert ended["dataschema"] == "https://events-schemas.twilio.com/Studio.FlowExecutionEvent/1"
    assert len({e["id"] for e in events}) == len(events)


def test_schema_version_is_the_subscribed_one(live: MockStudioServer, http: httpx.Client, receiver: Receiver) -> None:
    sink = active_sink(http, receiver)
    subscribe(http, sink, [{"type": STARTED, "schema_version": 2}])
    run_demo(live, http)
    receiver.wait(lambda: any(e["type"] == STARTED for e in receiver.events()))
    (started,) = [e for e in receiver.events() if e["type"] == STARTED]
    assert started["dataschema"] == "https://events-schemas.twilio.com/Studio.FlowExecutionEvent/2"
    assert not [e for e in receiver.events() if e["type"] in (STEP, ENDED)]


def test_basic_auth_from_the_destination(live: MockStudioServer, http: httpx.Client, receiver: Receiver) -> None:
    destination = receiver.url.replace("http://", "http://user:s%40cret@")
    sink = active_sink(http, receiver, destination)
    subscribe(http, sink)
    run_demo(live, http)
    receiver.wait(lambda: any(e["type"] == ENDED for e in receiver.events()))
    for path, headers, body in receiver.requests:
        assert headers["Authorization"] == "Basic " + base64.b64encode(b"user:s@cret").decode()
        url = f"http://127.0.0.1:{receiver.server.server_port}{path}"  # signed without the credentials
        assert RequestValidator(live.auth_token).validate(url, body.decode(), headers["X-Twilio-Signature"])


def test_subflow_steps_carry_the_parent_step(live: MockStudioServer, http: httpx.Client) -> None:
    child = live.add_flow(
        {
            "states": [
                {"name": "Trigger", "type": "trigger", "transitions": [{"event": "incomingParent", "next": "vars"}]},
                {
                    "name": "vars",
                    "type": "set-variables",
                    "transitions": [{"event": "next"}],
                    "properties": {"variables": [{"key": "done", "value": "yes"}]},
                },
            ],
            "initial_state": "Trigger",
        }
    )
    parent = live.add_flow(
        {
            "states": [
                {"name": "Trigger", "type": "trigger", "transitions": [{"event": "incomingRequest", "next": "sub"}]},
                {
                    "name": "sub",
                    "type": "run-subflow",
                    "transitions": [{"event": "completed"}, {"event": "failed"}],
                    "properties": {"flow_sid": child, "flow_revision": "LatestPublished", "parameters": []},
                },
            ],
            "initial_state": "Trigger",
        }
    )
    collector = live.collect_events()
    try:
        created = _form(http, f"/v2/Flows/{parent}/Executions", {"To": CONTACT, "From": NUMBER})
        live.wait_until_settled(created["sid"])
        steps = [e["data"] for e in collector.of_type(STEP)]
        child_steps = [s for s in steps if s["flow_sid"] == child]
        (sub_step,) = [s for s in steps if s["flow_sid"] == parent and s["transitioned_from"] == "sub"]
        assert child_steps and all(s["parent_step_sid"] for s in child_steps)
        parent_steps = http.get(f"/v2/Flows/{parent}/Executions/{created['sid']}/Steps").json()["steps"]
        assert {s["parent_step_sid"] for s in child_steps} <= {s["sid"] for s in parent_steps}
        assert sub_step["transitioned_to"] == "Ended"
        assert [e["type"] for e in collector.events].count(ENDED) == 2
    finally:
        collector.close()


# -- delivery: retries, drops, the log ----------------------------------------------------------


def test_retries_on_5xx_and_429_on_the_virtual_clock(
    live: MockStudioServer, http: httpx.Client, receiver: Receiver
) -> None:
    sink = active_sink(http, receiver)
    subscribe(http, sink, [{"type": STARTED, "schema_version": 1}])
    receiver.statuses = [500, 429]
    _form(http, f"/v2/Flows/{DEMO_FLOW}/Executions", {"To": CONTACT, "From": NUMBER})
    receiver.wait(lambda: len(receiver.requests) == 2)  # the test event, then the first attempt
    time.sleep(0.3)
    assert len(receiver.requests) == 2  # the retry waits for the (virtual) backoff
    record = http.get("/_mockstudio/deliveries", params={"type": STARTED}).json()["deliveries"][0]
    assert (record["state"], record["attempts"], record["last_status"]) == ("retrying", 1, 500)
    for expected in (3, 4):
        live.advance_clock(60)
        receiver.wait(lambda n=expected: len(receiver.requests) == n)
    assert [json.loads(body)[0]["id"] for _, _, body in receiver.requests[1:]] == [record["event_id"]] * 3
    receiver.wait(
        lambda: (
            http.get("/_mockstudio/deliveries", params={"type": STARTED}).json()["deliveries"][0]["state"]
            == "delivered"
        )
    )


def test_other_4xx_drops_and_a_dead_sink_is_given_up_after_4_hours(
    live: MockStudioServer, http: httpx.Client, receiver: Receiver
) -> None:
    sink = active_sink(http, receiver)
    subscribe(http, sink, [{"type": STARTED, "schema_version": 1}])
    receiver.statuses = [400]
    _form(http, f"/v2/Flows/{DEMO_FLOW}/Executions", {"To": CONTACT, "From": NUMBER})
    deliveries = lambda: http.get("/_mockstudio/deliveries", params={"type": STARTED}).json()["deliveries"]  # noqa: E731
    receiver.wait(lambda: deliveries()[0]["state"] == "dropped")
    receiver.statuses = [503] * 1000
    _form(http, f"/v2/Flows/{DEMO_FLOW}/Executions", {"To": "+15550001111", "From": NUMBER})
    receiver.wait(lambda: deliveries()[0]["attempts"] == 1)
    for _ in range(40):  # past four hours of virtual time, one backoff at a time
        if deliveries()[0]["state"] == "gave_up":
            break
        attempts = deliveries()[0]["attempts"]
        live.advance_clock(1000)
        receiver.wait(lambda a=attempts: deliveries()[0]["attempts"] > a or deliveries()[0]["state"] == "gave_up")
    final = deliveries()[0]
    assert final["state"] == "gave_up" and final["last_status"] == 503 and 10 < final["attempts"] < 40


def test_a_full_queue_drops_and_counts(receiver: Receiver) -> None:
    """A sink that never answers in time keeps at most its queue's cap; the rest is counted."""
    settings = Settings(events_queue_limit=5)
    with MockStudioServer(settings, clock=ManualClock(1_700_000_000)) as server:
        http = server.httpx_client()
        sink = active_sink(http, receiver)
        subscribe(http, sink)
        receiver.statuses = [503] * 10_000
        for n in range(30):
            _form(http, f"/v2/Flows/{DEMO_FLOW}/Executions", {"To": f"+1555000{n:04d}", "From": NUMBER})
        (state,) = http.get("/_mockstudio/deliveries").json()["sinks"]
        # Each execution parks after its first step: 60 events, none delivered. At most the cap
        # waits, plus the batch being retried; the rest is counted.
        assert state["queued"] <= 10 and state["overflow"] >= 50
        assert state["queued"] + state["overflow"] == 60


# -- the Events v1 API: bad input and conformance ----------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"SinkConfiguration": '{"destination": "http://x"}', "SinkType": "webhook"}, "Description"),
        ({"Description": "d", "SinkType": "webhook"}, "SinkConfiguration"),
        ({"Description": "d", "SinkConfiguration": "{}"}, "SinkType"),
        ({"Description": "d", "SinkConfiguration": "not json", "SinkType": "webhook"}, "Invalid SinkConfiguration"),
        ({"Description": "d", "SinkConfiguration": "[1]", "SinkType": "webhook"}, "Invalid SinkConfiguration"),
        ({"Description": "d", "SinkConfiguration": '{"method": "POST"}', "SinkType": "webhook"}, "destination"),
        ({"Description": "d", "SinkConfiguration": '{"destination": "ftp://x/y"}', "SinkType": "webhook"}, "http"),
        ({"Description": "d", "SinkConfiguration": '{"destination": "http://[::1"}', "SinkType": "webhook"}, "http"),
        (
            {"Description": "d", "SinkConfiguration": '{"destination": "http://x:99999/e"}', "SinkType": "webhook"},
            "http",
        ),
        ({"Description": "d", "SinkConfiguration": '{"destination": "http://x:0/e"}', "SinkType": "webhook"}, "http"),
        (
            {"Description": "d", "SinkConfiguration": '{"destination": "http://x/e\\r\\nX: y"}', "SinkType": "webhook"},
            "http",
        ),
        ({"Description": "d", "SinkConfiguration": '{"destination": "http://x/a b"}', "SinkType": "webhook"}, "http"),
        (
            {
                "Description": "d",
                "SinkConfiguration": '{"destination": "http://x", "method": "PUT"}',
                "SinkType": "webhook",
            },
            "method",
        ),
        ({"Description": "d", "SinkConfiguration": '{"destination": "http://x"}', "SinkType": "pigeon"}, "SinkType"),
        ({"Description": "d", "SinkConfiguration": '{"arn": "a"}', "SinkType": "kinesis"}, "role_arn"),
    ],
)
def test_malformed_sinks_are_400s_and_nothing_is_made(http: httpx.Client, data: dict[str, str], message: str) -> None:
    response = http.post("/v1/Sinks", data=data)
    assert_twilio_error(response, 400, 20001)
    assert message in response.json()["message"]
    assert http.get("/v1/Sinks").json()["sinks"] == []


def test_bad_subscriptions_are_400s_and_nothing_is_made(http: httpx.Client, receiver: Receiver) -> None:
    config = json.dumps({"destination": receiver.url})
    inactive = _form(http, "/v1/Sinks", {"Description": "d", "SinkConfiguration": config, "SinkType": "webhook"})
    good = json.dumps({"type": STEP, "schema_version": 1})
    cases = [
        ({"SinkSid": inactive["sid"], "Types": good}, "not active"),
        ({"SinkSid": "DG" + "0" * 32, "Types": good}, "SinkSid"),
    ]
    sink = active_sink(http, receiver)
    cases += [
        ({"SinkSid": sink, "Types": json.dumps({"type": "com.twilio.nothing", "schema_version": 1})}, "Type"),
        ({"SinkSid": sink, "Types": json.dumps({"type": STEP, "schema_version": 7})}, "SchemaVersion"),
        ({"SinkSid": sink, "Types": json.dumps({"type": STEP, "schema_version": "x"})}, "SchemaVersion"),
        ({"SinkSid": sink, "Types": [good, "{not json"]}, "Types"),
        ({"SinkSid": sink, "Types": json.dumps({"schema_version": 1})}, "type"),
        ({"SinkSid": sink}, "Types"),
    ]
    for data, message in cases:
        response = http.post("/v1/Subscriptions", data={"Description": "d", **data})
        assert_twilio_error(response, 400, 20001)
        assert message in response.json()["message"], (data, response.json())
    assert http.get("/v1/Subscriptions").json()["subscriptions"] == []
    subscription = subscribe(http, sink)
    bad_event = http.post(f"/v1/Subscriptions/{subscription}/SubscribedEvents", data={"Type": "x.y"})
    assert_twilio_error(bad_event, 400, 20001)
    in_use = http.delete(f"/v1/Sinks/{sink}")
    assert_twilio_error(in_use, 400, 20001)
    assert http.post(f"/v1/Sinks/{sink}/Validate", data={"TestId": "wrong"}).status_code == 400
    assert_twilio_error(http.get("/v1/Sinks/DG" + "1" * 32), 404, 20404)
    assert_twilio_error(http.get(f"/v1/Subscriptions/{subscription}/SubscribedEvents/a.b"), 404, 20404)
    assert_twilio_error(httpx.get(f"{http.base_url}/v1/Sinks"), 401, 20003)


@cache
def events_spec() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SPEC_FILE.read_text(encoding="utf-8"))
    return loaded


def conforms(response: httpx.Response, method: str, path: str) -> Any:
    assert response.is_success, (method, path, response.status_code, response.text)
    if response.status_code == 204:
        return None
    responses = events_spec()["paths"][path][method.lower()]["responses"]
    schema = to_json_schema(responses[str(response.status_code)]["content"]["application/json"]["schema"])
    schema["components"] = {"schemas": to_json_schema(events_spec()["components"]["schemas"])}
    body = response.json()
    errors = list(Draft202012Validator(schema, format_checker=format_checker()).iter_errors(body))
    assert not errors, "\n".join(f"{method} {path}: {'/'.join(map(str, e.path))}: {e.message}" for e in errors)
    return body


@pytest.mark.skipif(not SPEC_FILE.is_file(), reason="Twilio's Events v1 OpenAPI description is absent")
def test_every_events_operation_conforms(http: httpx.Client, receiver: Receiver) -> None:
    spec_ops = {
        (m.upper(), p) for p, item in events_spec()["paths"].items() for m in ("get", "post", "delete") if m in item
    }
    assert len(spec_ops) == 22
    done: set[tuple[str, str]] = set()

    def call(method: str, path: str, values: dict[str, str], data: dict[str, Any] | None = None) -> Any:
        done.add((method, path))
        return conforms(http.request(method, path.format(**values), data=data), method, path)

    config = json.dumps({"destination": receiver.url, "method": "POST"})
    sink = call("POST", "/v1/Sinks", {}, {"Description": "d", "SinkConfiguration": config, "SinkType": "webhook"})
    values = {"Sid": sink["sid"]}
    call("GET", "/v1/Sinks", {})
    call("GET", "/v1/Sinks/{Sid}", values)
    call("POST", "/v1/Sinks/{Sid}", values, {"Description": "renamed"})
    call("POST", "/v1/Sinks/{Sid}/Test", values)
    receiver.wait(lambda: len(receiver.requests) == 1)
    test_id = json.loads(receiver.requests[0][2])[0]["data"]["test_id"]
    call("POST", "/v1/Sinks/{Sid}/Validate", values, {"TestId": test_id})
    types = [json.dumps({"type": STEP, "schema_version": 1})]
    subscription = call("POST", "/v1/Subscriptions", {}, {"Description": "s", "SinkSid": sink["sid"], "Types": types})
    sub = {"Sid": subscription["sid"], "SubscriptionSid": subscription["sid"], "Type": ENDED}
    call("GET", "/v1/Subscriptions", {})
    call("GET", "/v1/Subscriptions/{Sid}", sub)
    call("POST", "/v1/Subscriptions/{Sid}", sub, {"Description": "renamed"})
    call("POST", "/v1/Subscriptions/{SubscriptionSid}/SubscribedEvents", sub, {"Type": ENDED, "SchemaVersion": "2"})
    call("GET", "/v1/Subscriptions/{SubscriptionSid}/SubscribedEvents", sub)
    call("GET", "/v1/Subscriptions/{SubscriptionSid}/SubscribedEvents/{Type}", sub)
    call("POST", "/v1/Subscriptions/{SubscriptionSid}/SubscribedEvents/{Type}", sub, {"SchemaVersion": "1"})
    call("DELETE", "/v1/Subscriptions/{SubscriptionSid}/SubscribedEvents/{Type}", sub)
    call("DELETE", "/v1/Subscriptions/{Sid}", sub)
    call("DELETE", "/v1/Sinks/{Sid}", values)
    kinds = {"Type": STEP, "Id": "Studio.FlowExecutionEvent", "SchemaVersion": "2"}
    listed = call("GET", "/v1/Types", kinds)
    assert {t["type"] for t in listed["types"]} == set(ALL_TYPES)
    call("GET", "/v1/Types/{Type}", kinds)
    call("GET", "/v1/Schemas/{Id}", kinds)
    call("GET", "/v1/Schemas/{Id}/Versions", kinds)
    version = call("GET", "/v1/Schemas/{Id}/Versions/{SchemaVersion}", kinds)
    assert version["raw"] == "https://events-schemas.twilio.com/Studio.FlowExecutionEvent/2"
    assert done == spec_ops


# -- zero configuration, fixtures, collectors, chaos ---------------------------------------------


def test_events_webhook_setting_needs_no_api_calls(receiver: Receiver) -> None:
    with MockStudioServer(Settings(events_webhook=receiver.url), clock=ManualClock(1_700_000_000)) as server:
        run_demo(server, server.httpx_client())
        receiver.wait(lambda: any(e["type"] == ENDED for e in receiver.events()))
        assert [e["type"] for e in receiver.events()] == [STARTED, STEP, STEP, STEP, STEP, ENDED]


@pytest.mark.parametrize("url", ["http://[::1", "http://x:99999/e", "http://x/a b", "http://"])
def test_a_bad_events_webhook_setting_stops_startup(url: str) -> None:
    with pytest.raises(ValidationError, match="events_webhook"):
        Settings(events_webhook=url)


def test_fixture_sinks_are_active_and_survive_reset(tmp_path: Path, receiver: Receiver) -> None:
    sink, subscription = "DG" + "1" * 32, "DF" + "1" * 32
    fixture = {
        "sinks": [{"sid": sink, "description": "fx", "sink_configuration": {"destination": receiver.url}}],
        "subscriptions": [{"sid": subscription, "description": "fx", "sink_sid": sink, "types": [{"type": ENDED}]}],
    }
    (tmp_path / "events.json").write_text(json.dumps(fixture), encoding="utf-8")
    with MockStudioServer(Settings(fixtures=tmp_path), clock=ManualClock(1_700_000_000)) as server:
        http = server.httpx_client()
        assert http.get(f"/v1/Sinks/{sink}").json()["status"] == "active"
        events = http.get(f"/v1/Subscriptions/{subscription}/SubscribedEvents").json()["types"]
        assert [(e["type"], e["schema_version"]) for e in events] == [(ENDED, 2)]
        http.post(f"/v1/Subscriptions/{subscription}/SubscribedEvents", data={"Type": STARTED})
        server.reset()
        assert len(http.get(f"/v1/Subscriptions/{subscription}/SubscribedEvents").json()["types"]) == 1
        run_demo(server, http)
        receiver.wait(lambda: len(receiver.events()) == 1)
        assert receiver.events()[0]["type"] == ENDED


def test_bad_fixture_sinks_stop_startup(tmp_path: Path) -> None:
    from mockstudio.app_factory import build_studio
    from mockstudio.fixtures import FixtureError

    bad = {"sinks": [{"sid": "DG" + "1" * 32, "description": "x", "sink_configuration": {"destination": "nope"}}]}
    (tmp_path / "events.json").write_text(json.dumps(bad), encoding="utf-8")
    with pytest.raises(FixtureError, match="not an http"):
        build_studio(Settings(fixtures=tmp_path))


def test_collector_sees_every_event_without_a_web_server(live: MockStudioServer, http: httpx.Client) -> None:
    collector = live.collect_events()
    steps_only = live.collect_events(types=[STEP])
    execution = run_demo(live, http)
    mine = collector.for_execution(execution)
    assert [e["type"] for e in mine] == [STARTED, STEP, STEP, STEP, STEP, ENDED]
    assert len(steps_only.events) == 4
    collector.close()
    steps_only.close()
    run_demo(live, http, "+15550002222")
    assert len(collector.events) == 6


def test_duplicates_and_shuffling_are_opt_in_and_seeded(receiver: Receiver) -> None:
    settings = Settings(events_webhook=receiver.url, events_duplicate_rate=1.0, events_shuffle=True, events_seed=3)
    with MockStudioServer(settings, clock=ManualClock(1_700_000_000)) as server:
        execution = run_demo(server, server.httpx_client())
        receiver.wait(lambda: len(receiver.events()) >= 12)
        ids = [e["id"] for e in receiver.events() if e["data"]["execution_sid"] == execution]
        assert len(ids) == 12 and len(set(ids)) == 6  # each event twice
        assert [e["type"] for e in receiver.events()][:6] != [STARTED, STEP, STEP, STEP, STEP, ENDED]
