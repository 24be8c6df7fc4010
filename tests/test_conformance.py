"""The official OpenAPI description is the source of truth (as in stripe-mock): every
Execution, Step and Context operation in it is routed here, the spec's own example request
bodies are accepted, and real responses validate against the spec's response schemas.

The spec is OpenAPI 3.0, whose `nullable: true` is not JSON Schema; `to_json_schema` turns
it into `"type": [..., "null"]`. Validation is stricter than the spec in two ways, because
Twilio always sends every field (null when unknown) and SDKs rely on the exact set: each
object with declared properties must have all of them and no others, and dates must be
exactly `YYYY-MM-DDTHH:MM:SSZ` (the only form twilio-python parses, §F)."""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from jsonschema import Draft202012Validator, FormatChecker

from mockstudio.clock import ManualClock
from mockstudio.testing import MockStudioServer

from .conftest import DEMO_FLOW, SHARED_REFERENCE, TEST_FLOW

SPEC_FILE = SHARED_REFERENCE / "twilio_studio_v2.json"

pytestmark = pytest.mark.skipif(
    not SPEC_FILE.is_file(), reason=f"the official Studio v2 OpenAPI spec is not available at {SPEC_FILE}"
)

# Operations of the Flow write side (create/update/delete Flow, Revisions, Validate,
# TestUsers) arrive with the flow engine. Until then they may be unrouted; nothing else may.
PENDING_OPERATIONS = {
    ("POST", "/v2/Flows"),
    ("POST", "/v2/Flows/{}"),
    ("DELETE", "/v2/Flows/{}"),
    ("GET", "/v2/Flows/{}/Revisions"),
    ("GET", "/v2/Flows/{}/Revisions/{}"),
    ("POST", "/v2/Flows/Validate"),
    ("GET", "/v2/Flows/{}/TestUsers"),
    ("POST", "/v2/Flows/{}/TestUsers"),
}
EXECUTIONS_PREFIX = "/v2/Flows/{FlowSid}/Executions"
METHODS = ("get", "post", "delete", "put", "patch")
FROM = "+15005550006"


# -- the spec ----------------------------------------------------------------------------------


@cache
def spec() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SPEC_FILE.read_text(encoding="utf-8"))
    return loaded


def spec_operations() -> list[tuple[str, str]]:
    """(METHOD, path template) for every operation in the spec."""
    return [(method.upper(), path) for path, item in spec()["paths"].items() for method in METHODS if method in item]


def _shape(path: str) -> str:
    """A path template with its parameter names erased: the spec names the same parameter
    differently from path to path (`{Sid}` vs `{FlowSid}`), which is no concern of routing."""
    return re.sub(r"\{[^}]*\}", "{}", path)


_NOT_SCHEMA_KEYWORDS = {"nullable", "example", "examples", "description", "deprecated", "readOnly"}


def to_json_schema(node: Any, *, strict: bool = True) -> Any:
    """An OpenAPI 3.0 schema as JSON Schema (2020-12): `nullable` becomes a null type,
    `x-*` and documentation keywords go. With `strict`, objects with declared properties
    require all of them and allow no others."""
    if isinstance(node, list):
        return [to_json_schema(item, strict=strict) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key.startswith("x-") or key in _NOT_SCHEMA_KEYWORDS:
            continue
        if key == "properties":  # a map of names to schemas, not a schema itself
            out[key] = {name: to_json_schema(sub, strict=strict) for name, sub in value.items()}
        else:
            out[key] = to_json_schema(value, strict=strict)
    if node.get("nullable") is True:
        if "$ref" in out:
            out = {"anyOf": [{"$ref": out.pop("$ref")}, {"type": "null"}], **out}
        elif "type" in out:
            out["type"] = [out["type"], "null"]
            if "enum" in out:
                out["enum"] = [*out["enum"], None]
        # An untyped (any) schema already admits null.
    if strict and "properties" in out:
        out.setdefault("required", sorted(out["properties"]))
        out.setdefault("additionalProperties", False)
    return out


def _is_absolute_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def format_checker() -> FormatChecker:
    checker = FormatChecker(formats=())

    @checker.checks("date-time")
    def _date_time(value: object) -> bool:
        return not isinstance(value, str) or re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", value) is not None

    @checker.checks("uri")
    def _uri(value: object) -> bool:
        return not isinstance(value, str) or _is_absolute_url(value)

    @checker.checks("uri-map")
    def _uri_map(value: object) -> bool:
        return not isinstance(value, dict) or all(isinstance(v, str) and _is_absolute_url(v) for v in value.values())

    return checker


def operation(method: str, path: str) -> dict[str, Any]:
    op: dict[str, Any] = spec()["paths"][path][method.lower()]
    return op


@cache
def _validator(method: str, path: str, status: int) -> Draft202012Validator:
    content = operation(method, path)["responses"][str(status)]["content"]["application/json"]
    schema = to_json_schema(content["schema"])
    # Embed the components so `#/components/schemas/...` resolves within this document.
    schema["components"] = {"schemas": to_json_schema(spec()["components"]["schemas"])}
    return Draft202012Validator(schema, format_checker=format_checker())


def success_status(method: str, path: str) -> int:
    codes = [int(code) for code in operation(method, path)["responses"] if code.startswith("2")]
    assert len(codes) == 1, (method, path, codes)
    return codes[0]


def assert_conforms(response: httpx.Response, method: str, path: str) -> Any:
    """The response has the operation's success status and, if the spec gives it a body,
    a body that validates against the operation's response schema."""
    status = success_status(method, path)
    assert response.status_code == status, (method, path, response.status_code, response.text)
    if "content" not in operation(method, path)["responses"][str(status)]:
        assert response.content == b"", (method, path, response.content)
        return None
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    errors = sorted(_validator(method, path, status).iter_errors(body), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{method} {path}: {'/'.join(map(str, e.path))}: {e.message}" for e in errors)
    return body


def request_example(method: str, path: str) -> dict[str, str]:
    """The spec's own example form body for an operation."""
    content = operation(method, path)["requestBody"]["content"]["application/x-www-form-urlencoded"]
    (example,) = content["examples"].values()
    return {k: str(v) for k, v in example["value"].items()}


# -- tests of the converter itself --------------------------------------------------------------


def test_to_json_schema_translates_nullable() -> None:
    converted = to_json_schema(
        {
            "type": "object",
            "properties": {
                "a": {"type": "string", "nullable": True, "x-twilio": {}},
                "b": {"$ref": "#/x", "nullable": True},
                "c": {"type": "string", "enum": ["p"], "nullable": True},
                "d": {"nullable": True, "description": "any"},
                "type": {"type": "integer"},
            },
        }
    )
    assert converted == {
        "type": "object",
        "properties": {
            "a": {"type": ["string", "null"]},
            "b": {"anyOf": [{"$ref": "#/x"}, {"type": "null"}]},
            "c": {"type": ["string", "null"], "enum": ["p", None]},
            "d": {},
            "type": {"type": "integer"},
        },
        "required": ["a", "b", "c", "d", "type"],
        "additionalProperties": False,
    }


def test_validator_rejects_what_it_should() -> None:
    """Guard against a validator that accepts anything (a broken $ref, a lost format)."""
    path = EXECUTIONS_PREFIX + "/{Sid}"
    validator = _validator("GET", path, 200)
    sid = "FN" + "a" * 32
    good = {
        "sid": sid,
        "account_sid": "AC" + "a" * 32,
        "flow_sid": DEMO_FLOW,
        "contact_channel_address": "+15551234567",
        "contact_sid": None,
        "flow_version": 1,
        "context": {},
        "status": "active",
        "date_created": "2023-11-14T22:13:20Z",
        "date_updated": None,
        "initiated_by": None,
        "url": f"http://h/v2/Flows/{DEMO_FLOW}/Executions/{sid}",
        "links": {"steps": "http://h/x"},
    }
    assert list(validator.iter_errors(good)) == []
    for bad in (
        {"status": "paused"},  # enum through $ref
        {"status": None},  # the enum $ref is not nullable
        {"sid": "FW" + "a" * 32},
        {"date_created": "2023-11-14T22:13:20.000Z"},
        {"date_created": "2023-11-14T22:13:20+00:00"},
        {"url": "/v2/Flows"},
        {"links": {"steps": "/relative"}},
        {"flow_version": "1"},
        {"extra": 1},
    ):
        assert list(validator.iter_errors({**good, **bad})), bad
    assert list(validator.iter_errors({k: v for k, v in good.items() if k != "initiated_by"}))


# -- routing ------------------------------------------------------------------------------------


def test_every_execution_step_and_context_operation_is_routed(
    http: httpx.Client, execution_sid: str, steps: list[dict[str, Any]]
) -> None:
    """Each operation under /Executions, with real SIDs (and the spec's example body for a
    POST), answers with the spec's success status: a routing gap would be a 404 or 405.
    (A 404 alone cannot tell a missing route from a missing resource, hence real SIDs.)"""
    values = {"FlowSid": DEMO_FLOW, "Sid": execution_sid, "ExecutionSid": execution_sid, "StepSid": steps[0]["sid"]}
    in_scope = [(m, p) for m, p in spec_operations() if p.startswith(EXECUTIONS_PREFIX)]
    assert len(in_scope) == 9  # list, create, fetch, update, delete, context, steps, step, step context
    # Deleting goes last; creating uses a fresh contact (the example's one is active).
    in_scope.sort(key=lambda op: op[0] == "DELETE")
    for method, path in in_scope:
        names = dict(values, Sid=steps[0]["sid"]) if path.endswith("/Steps/{Sid}") else values
        url = path.format(**names)
        data = None
        if "requestBody" in operation(method, path):
            data = request_example(method, path)
            if "To" in data:
                data["To"] = "+15550000888"
        response = http.request(method, url, data=data)
        assert_conforms(response, method, path)


def test_other_methods_on_execution_paths_are_405(http: httpx.Client, execution_sid: str) -> None:
    """Methods the spec does not list on a routed path get Twilio's 405/20004, not a 404."""
    step = "FT" + "0" * 32
    for path, item in spec()["paths"].items():
        if not path.startswith(EXECUTIONS_PREFIX):
            continue
        url = path.format(FlowSid=DEMO_FLOW, Sid=execution_sid, ExecutionSid=execution_sid, StepSid=step)
        if path.endswith("/Steps/{Sid}"):
            url = path.format(FlowSid=DEMO_FLOW, ExecutionSid=execution_sid, Sid=step)
        for method in ("get", "post", "delete", "put", "patch"):
            if method in item:
                continue
            response = http.request(method.upper(), url)
            assert response.status_code == 405, (method, path, response.text)
            assert response.json()["code"] == 20004


def test_only_known_pending_operations_are_unrouted(http: httpx.Client) -> None:
    """Outside /Executions only the Flow write side may be missing: every other spec
    operation (today: list and fetch Flows) answers with its success status."""
    for method, path in spec_operations():
        if path.startswith(EXECUTIONS_PREFIX) or (method, _shape(path)) in PENDING_OPERATIONS:
            continue
        url = path.replace("{Sid}", DEMO_FLOW)
        assert_conforms(http.request(method, url), method, path)


# -- responses ----------------------------------------------------------------------------------


@pytest.fixture
def execution_sid(http: httpx.Client) -> str:
    path = EXECUTIONS_PREFIX
    response = http.post(f"/v2/Flows/{DEMO_FLOW}/Executions", data=request_example("POST", path))
    body = assert_conforms(response, "POST", path)
    sid: str = body["sid"]
    return sid


def test_create_execution_with_the_spec_example(http: httpx.Client, live: MockStudioServer) -> None:
    example = request_example("POST", EXECUTIONS_PREFIX)
    assert "ExternalId" in example  # in the spec's example, not its schema: must be ignored
    response = http.post(f"/v2/Flows/{TEST_FLOW}/Executions", data=example)
    body = assert_conforms(response, "POST", EXECUTIONS_PREFIX)
    assert body["contact_channel_address"] == example["To"]
    assert body["url"].startswith(live.base_url + "/")
    context = http.get(body["links"]["execution_context"])
    assert context.json()["context"]["flow"]["data"] == json.loads(example["Parameters"])


def test_required_body_fields_are_required(http: httpx.Client, execution_sid: str) -> None:
    """Each field the spec marks required, left out, gives Twilio's 400/20001."""
    cases = [
        ("POST", EXECUTIONS_PREFIX, f"/v2/Flows/{DEMO_FLOW}/Executions"),
        ("POST", EXECUTIONS_PREFIX + "/{Sid}", f"/v2/Flows/{DEMO_FLOW}/Executions/{execution_sid}"),
    ]
    for method, path, url in cases:
        body_schema = operation(method, path)["requestBody"]["content"]["application/x-www-form-urlencoded"]
        example = request_example(method, path)
        for name in body_schema["schema"]["required"]:
            data = {k: v for k, v in example.items() if k != name}
            if "To" in data:
                data["To"] = "+15550000999"  # not the example's contact, which is active
            response = http.request(method, url, data=data)
            assert response.status_code == 400, (path, name, response.text)
            assert response.json()["code"] == 20001
            assert response.json()["message"] == f"Missing required parameter {name} in the post body"


def test_execution_responses_validate(http: httpx.Client, execution_sid: str, live: MockStudioServer) -> None:
    list_path = EXECUTIONS_PREFIX
    instance = EXECUTIONS_PREFIX + "/{Sid}"
    base = f"/v2/Flows/{DEMO_FLOW}/Executions"

    fetched = assert_conforms(http.get(f"{base}/{execution_sid}"), "GET", instance)
    assert fetched["sid"] == execution_sid
    context = assert_conforms(
        http.get(f"{base}/{execution_sid}/Context"), "GET", EXECUTIONS_PREFIX + "/{ExecutionSid}/Context"
    )
    assert context["execution_sid"] == execution_sid

    # A list with several pages, so next_page_url and previous_page_url are non-null.
    clock = live.clock
    assert isinstance(clock, ManualClock)
    for n in range(4):
        clock.advance(1)
        http.post(base, data={"To": f"+1555000010{n}", "From": FROM}).raise_for_status()
    first = assert_conforms(http.get(base, params={"PageSize": 2}), "GET", list_path)
    assert first["meta"]["key"] == "executions" and len(first["executions"]) == 2
    assert first["meta"]["next_page_url"] is not None
    second = assert_conforms(http.get(first["meta"]["next_page_url"]), "GET", list_path)
    assert second["meta"]["previous_page_url"] is not None
    empty = assert_conforms(http.get(f"/v2/Flows/{TEST_FLOW}/Executions"), "GET", list_path)
    assert empty["executions"] == [] and empty["meta"]["next_page_url"] is None

    updated = assert_conforms(
        http.post(f"{base}/{execution_sid}", data=request_example("POST", instance)), "POST", instance
    )
    assert updated["status"] == "ended"
    ended = assert_conforms(http.get(base, params={"status": "ended"}), "GET", list_path)
    assert [e["sid"] for e in ended["executions"]] == [execution_sid]

    assert_conforms(http.delete(f"{base}/{execution_sid}"), "DELETE", instance)


def test_every_list_query_parameter_is_accepted(http: httpx.Client, execution_sid: str) -> None:
    """Each query parameter the spec declares for ListExecution and ListExecutionStep, sent
    with a value of its declared type, gives a 200 that validates."""
    urls = {
        EXECUTIONS_PREFIX: f"/v2/Flows/{DEMO_FLOW}/Executions",
        EXECUTIONS_PREFIX + "/{ExecutionSid}/Steps": f"/v2/Flows/{DEMO_FLOW}/Executions/{execution_sid}/Steps",
    }
    for path, url in urls.items():
        first = http.get(url, params={"PageSize": 1}).json()
        token = dict(parse_qsl(urlsplit(first["meta"]["url"]).query)).get("PageToken")
        names = []
        for parameter in operation("GET", path)["parameters"]:
            if parameter["in"] != "query":
                continue
            names.append(parameter["name"])
            value = _sample(parameter["name"], to_json_schema(parameter["schema"], strict=False), token)
            if value is None:
                continue
            response = http.get(url, params={parameter["name"]: value})
            assert_conforms(response, "GET", path)
        assert {"PageSize", "Page", "PageToken"} <= set(names)


def _sample(name: str, schema: dict[str, Any], token: str | None) -> str | None:
    if name == "PageToken":
        return token  # only a token the mock issued is meaningful
    if "$ref" in schema:
        ref = schema["$ref"].rsplit("/", 1)[-1]
        return str(spec()["components"]["schemas"][ref]["enum"][0])
    if "enum" in schema:
        return str(schema["enum"][0])
    if schema.get("format") == "date-time":
        return "2023-11-14T22:13:20Z"
    if schema.get("type") == "integer":
        return str(schema.get("minimum", 1))
    return "x"


@pytest.fixture
def steps(http: httpx.Client, live: MockStudioServer, execution_sid: str) -> list[dict[str, Any]]:
    """The execution's steps, newest first, as the flow engine recorded them. Flows run in
    the background after the create call returns, so wait until it has settled."""
    live.wait_until_settled(execution_sid)
    listed: list[dict[str, Any]] = http.get(f"/v2/Flows/{DEMO_FLOW}/Executions/{execution_sid}/Steps").json()["steps"]
    assert listed, f"no step was recorded for {execution_sid}"
    return listed


def test_step_responses_validate(http: httpx.Client, execution_sid: str, steps: list[dict[str, Any]]) -> None:
    base = f"/v2/Flows/{DEMO_FLOW}/Executions/{execution_sid}/Steps"
    steps_path = EXECUTIONS_PREFIX + "/{ExecutionSid}/Steps"
    listed = assert_conforms(http.get(base), "GET", steps_path)
    assert listed["meta"]["key"] == "steps"
    assert [s["sid"] for s in listed["steps"]][: len(steps)] == [s["sid"] for s in steps]
    assert_conforms(http.get(base, params={"PageSize": 1}), "GET", steps_path)
    for step in steps:
        sid = step["sid"]
        fetched = assert_conforms(http.get(f"{base}/{sid}"), "GET", steps_path + "/{Sid}")
        assert fetched["sid"] == sid and fetched["links"]["step_context"] == fetched["url"] + "/Context"
        context = assert_conforms(http.get(fetched["links"]["step_context"]), "GET", steps_path + "/{StepSid}/Context")
        assert context["step_sid"] == sid and context["execution_sid"] == execution_sid


def test_flow_responses_validate(http: httpx.Client) -> None:
    listed = assert_conforms(http.get("/v2/Flows"), "GET", "/v2/Flows")
    assert listed["meta"]["key"] == "flows"
    sids = [f["sid"] for f in listed["flows"]]
    assert {DEMO_FLOW, TEST_FLOW} <= set(sids)
    paged = assert_conforms(http.get("/v2/Flows", params={"PageSize": 1}), "GET", "/v2/Flows")
    assert_conforms(http.get(paged["meta"]["next_page_url"]), "GET", "/v2/Flows")
    for sid in sids:
        fetched = assert_conforms(http.get(f"/v2/Flows/{sid}"), "GET", "/v2/Flows/{Sid}")
        assert fetched["sid"] == sid and fetched["definition"] is not None
