"""Property-based fuzzing of the HTTP surface through the live server.

Whatever arrives (malformed forms, non-UTF-8 bytes, odd query strings, mangled SIDs,
garbage Authorization headers, unknown methods and paths) the mock never answers 5xx, and
every non-2xx answer is Twilio's error body: exactly `code` (int), `message` (str),
`more_info` (str) and `status` (int, equal to the HTTP status), plus optional `details`;
never FastAPI's `detail` or RFC 9457's `type`/`title` (which make the SDKs raise a
different exception class, §D.1).

Bounded and deterministic for CI: a fixed number of examples per test, derandomized, no
example database."""

from __future__ import annotations

import base64
import itertools
import json
from collections.abc import Iterator
from urllib.parse import quote, urlencode

import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from mockstudio.testing import MockStudioServer

from .conftest import API_KEY, API_SECRET, DEMO_FLOW, OTHER_ACCOUNT, OTHER_FLOW, OTHER_TOKEN, TEST_FLOW

FUZZ = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,  # state need not be fresh per example
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)

EXECUTION = "<execution>"  # replaced by a real execution's SID in each test
MAX_BODY = 1 << 20  # Settings.max_body_bytes' default, which the test server uses

TWILIO_ROUTES = [
    "/v2/Flows",
    "/v2/Flows/{flow}",
    "/v2/Flows/{flow}/Executions",
    "/v2/Flows/{flow}/Executions/{execution}",
    "/v2/Flows/{flow}/Executions/{execution}/Context",
    "/v2/Flows/{flow}/Executions/{execution}/Steps",
    "/v2/Flows/{flow}/Executions/{execution}/Steps/{step}",
    "/v2/Flows/{flow}/Executions/{execution}/Steps/{step}/Context",
    # Spec operations that may not be routed yet (the Flow write side).
    "/v2/Flows/Validate",
    "/v2/Flows/{flow}/Revisions",
    "/v2/Flows/{flow}/Revisions/{step}",
    "/v2/Flows/{flow}/TestUsers",
]
UNKNOWN_ROUTES = [
    "/",
    "/v2",
    "/v2/",
    "/v1/Flows",
    "/v2/Nope",
    "/v2/Flows/",
    "/v2/Flows/{flow}/Nope",
    "/v2/Flows/{flow}/Executions/",
    "/v2/Flows/{flow}/Executions/{execution}/Steps/{step}/Context/extra",
    "/2010-04-01/Accounts.json",
    "/_mockstudio/nope",
]
LIST_ROUTES = [
    "/v2/Flows",
    "/v2/Flows/{flow}/Executions",
    "/v2/Flows/{flow}/Executions/{execution}/Steps",
]
METHODS = ["GET", "POST", "DELETE", "PUT", "PATCH", "HEAD", "OPTIONS"]
# Methods the HTTP parser knows but no route has. (A token the parser does not know, e.g.
# `FOO`, never reaches the app: uvicorn's httptools parser answers it with its own
# text/plain 400, which no application code can shape, so it is not fuzzed here.)
ODD_METHODS = ["TRACE", "PROPFIND", "MKCOL", "COPY", "MOVE", "LOCK", "REPORT", "PURGE", "SEARCH"]
FORM_KEYS = [
    "To",
    "From",
    "Parameters",
    "Status",
    "status",
    "ExternalId",
    "FriendlyName",
    "Definition",
    "PageSize",
]
QUERY_KEYS = ["PageSize", "Page", "PageToken", "status", "Status", "DateCreatedFrom", "DateCreatedTo"]

# -- strategies ---------------------------------------------------------------------------------

hex_digits = st.text(alphabet="0123456789abcdefABCDEF", max_size=40)
# Segments that go into the raw request target as they are (already percent-encoded or odd).
raw_segments = st.sampled_from(
    [
        "%",
        "%zz",
        "%00",
        "%2F",
        "%2f%2e%2e",
        "..",
        ".",
        "%E2%82%AC",
        "%ff%fe",
        "FW%30",
        "Validate",
        "LatestPublished",
        "0",
        "-1",
        "FN" + "0" * 31 + "%0A",
        "FW" + "a" * 32 + "%20",
    ]
)
sids = st.one_of(
    st.sampled_from([DEMO_FLOW, TEST_FLOW, OTHER_FLOW, EXECUTION, "FW" + "0" * 32, "FN" + "0" * 32, "FT" + "0" * 32]),
    # The right prefix, the wrong length or case.
    st.builds(lambda p, h: p + h, st.sampled_from(["FW", "FN", "FT", "FC", "AC", "fw", "fn"]), hex_digits),
    # Anything, unicode included, percent-encoded into the path.
    st.text(min_size=1, max_size=40).map(lambda t: quote(t, safe="")),
    raw_segments,
)
texts = st.one_of(
    st.text(max_size=60),
    st.sampled_from(["", " ", "0", "-1", "1001", "99999999999999999999999", "1e3", "null", "[]", "{}"]),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.sampled_from(
        [
            "2023-11-14",
            "2023-11-14T22:13:20Z",
            "2023-11-14T22:13:20+02:00",
            "2023-11-14T22:13:20 02:00",
            "2023-11-14T22:13:20.123456Z",
            "2023-02-30",
            "9999-12-31T23:59:59Z",
            "0001-01-01",
            "-2023-01-01",
            "2023-11-14T25:00:00Z",
            # Valid, but the offset moves the instant out of years 1-9999.
            "9999-12-31T23:59:59-14:00",
            "0001-01-01T00:00:00+14:00",
            "PA",
            "PAffffffff-00000000",
            "PB0-deadbeef",
            "PA" + "f" * 40 + "-00000000",
            "PA-1-00000000",
            "active",
            "ended",
            "ENDED",
            '{"name": "Zeke"}',
            '{"a": [1, 2, {"b": null}]}',
            '"just a string"',
            "{",
        ]
    ),
)
query_strings = st.one_of(
    st.lists(st.tuples(st.one_of(st.sampled_from(QUERY_KEYS), st.text(max_size=12)), texts), max_size=6).map(
        lambda pairs: urlencode(pairs)
    ),
    # Raw, possibly broken, percent-encoding.
    st.lists(st.sampled_from(["PageSize=%ff", "Page=%", "status=%zz", "&&", "=", "DateCreatedFrom=%00", "a"])).map(
        "&".join
    ),
)


def _form(pairs: list[tuple[str, str]]) -> bytes:
    return urlencode(pairs).encode()


bodies = st.one_of(
    st.lists(st.tuples(st.one_of(st.sampled_from(FORM_KEYS), st.text(max_size=12)), texts), max_size=8).map(_form),
    st.binary(max_size=300),
    # Non-UTF-8 bytes inside an otherwise well-formed form.
    st.builds(lambda key, junk: key.encode() + b"=" + junk, st.sampled_from(FORM_KEYS), st.binary(max_size=40)),
    st.sampled_from(
        [
            b"To=%ff%fe&From=%c3%28",
            b"Parameters=%7B%22a%22%3A%ff%7D&To=%2B1&From=%2B2",
            b"To=%",
            b"Status=ended&Status=active",
            b"\x00\x01\x02",
            b"=&=&&",
        ]
    ),
    # Huge values, within the body limit and just over it.
    st.sampled_from([1000, 100_000, MAX_BODY - 64, MAX_BODY + 1]).map(
        lambda n: b"To=%2B15551234567&From=%2B15557654321&Parameters=" + b"x" * n
    ),
)
content_types = st.one_of(
    st.none(),
    st.sampled_from(
        [
            "application/x-www-form-urlencoded",
            "application/x-www-form-urlencoded; charset=latin-1",
            "multipart/form-data",
            "multipart/form-data; boundary=xyz",
            "multipart/form-data; boundary=",
            "application/json",
            "text/plain",
            "garbage/;;;",
        ]
    ),
)


def _basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


header_text = st.text(
    alphabet=st.characters(min_codepoint=0x21, max_codepoint=0xFF, exclude_characters="\x7f"), max_size=60
)
authorizations = st.one_of(
    st.none(),
    st.sampled_from(
        [
            "VALID",  # replaced by the live server's default credentials
            _basic(OTHER_ACCOUNT, OTHER_TOKEN),
            _basic(API_KEY, API_SECRET),
            _basic(API_KEY, OTHER_TOKEN),
            _basic("AC" + "0" * 32, ""),
            "Basic",
            "Basic !!!!",
            "Basic " + base64.b64encode(b"no-colon").decode(),
            "Basic " + base64.b64encode(b"\xff\xfe:\xff").decode(),
            "Bearer abc.def.ghi",
            "basic " + base64.b64encode(b"x:y").decode(),
        ]
    ),
    st.builds(_basic, st.text(max_size=40), st.text(max_size=40)),
    st.binary(max_size=60).map(lambda b: "Basic " + base64.b64encode(b).decode()),
    header_text.map(lambda t: t.strip() or "x"),
)


# -- checks -------------------------------------------------------------------------------------


def assert_twilio_answer(response: httpx.Response, method: str) -> None:
    assert response.status_code < 500, (method, str(response.url), response.status_code, response.text)
    if response.status_code < 300 or method == "HEAD":
        return
    try:
        body = response.json()
    except ValueError:
        pytest.fail(f"{method} {response.url}: {response.status_code} with a non-JSON body {response.text!r}")
    context = (method, str(response.url), body)
    assert isinstance(body, dict), context
    assert set(body) - {"details"} == {"code", "message", "more_info", "status"}, context
    assert type(body["code"]) is int, context
    assert type(body["status"]) is int and body["status"] == response.status_code, context
    assert isinstance(body["message"], str) and isinstance(body["more_info"], str), context
    if "details" in body:
        assert isinstance(body["details"], dict), context
    assert response.headers["content-type"].startswith("application/json"), context


def _fill(template: str, flow: str, execution: str, step: str, real_execution: str) -> str:
    return template.format(
        flow=flow.replace(EXECUTION, real_execution),
        execution=execution.replace(EXECUTION, real_execution),
        step=step.replace(EXECUTION, real_execution),
    )


def _send(
    client: httpx.Client,
    method: str,
    path: str,
    query: str = "",
    body: bytes | None = None,
    content_type: str | None = None,
    authorization: str | None = None,
) -> httpx.Response:
    target = path + ("?" + query if query else "")
    url = client.base_url.copy_with(raw_path=target.encode("ascii"))
    headers: dict[bytes, bytes] = {}  # bytes: header values may hold Latin-1, not just ASCII
    if content_type is not None:
        headers[b"Content-Type"] = content_type.encode("latin-1")
    if authorization is not None:
        # HTTP forbids surrounding whitespace in a header value; the client would refuse it.
        headers[b"Authorization"] = authorization.strip().encode("latin-1")
    return client.request(method, url, content=body, headers=headers)


# -- fixtures -----------------------------------------------------------------------------------


@pytest.fixture
def raw(live: MockStudioServer) -> Iterator[httpx.Client]:
    """An unauthenticated client: each request carries the Authorization header it is given."""
    with httpx.Client(base_url=live.base_url, timeout=30) as client:
        yield client


@pytest.fixture
def valid_auth(live: MockStudioServer) -> str:
    return _basic(live.account_sid, live.auth_token)


@pytest.fixture
def execution_sid(http: httpx.Client) -> str:
    response = http.post(
        f"/v2/Flows/{DEMO_FLOW}/Executions",
        data={"To": "+15550001111", "From": "+15557654321", "Parameters": '{"name": "Zeke"}'},
    )
    assert response.status_code == 201, response.text
    sid: str = response.json()["sid"]
    return sid


# -- tests --------------------------------------------------------------------------------------


@FUZZ
@given(
    method=st.sampled_from(METHODS + ODD_METHODS),
    template=st.sampled_from(TWILIO_ROUTES + UNKNOWN_ROUTES),
    flow=sids,
    execution=sids,
    step=sids,
    query=query_strings,
    body=st.one_of(st.none(), bodies),
    content_type=content_types,
    authorization=authorizations,
)
def test_any_request(
    raw: httpx.Client,
    valid_auth: str,
    execution_sid: str,
    method: str,
    template: str,
    flow: str,
    execution: str,
    step: str,
    query: str,
    body: bytes | None,
    content_type: str | None,
    authorization: str | None,
) -> None:
    path = _fill(template, flow, execution, step, execution_sid)
    if authorization == "VALID":
        authorization = valid_auth
    response = _send(raw, method, path, query, body, content_type, authorization)
    assert_twilio_answer(response, method)


@FUZZ
@given(
    template=st.sampled_from(
        [
            "/v2/Flows/{flow}/Executions",
            "/v2/Flows/{flow}/Executions/{execution}",
            "/v2/Flows/{flow}",
            "/v2/Flows",
            "/v2/Flows/Validate",
        ]
    ),
    flow=st.one_of(st.just(DEMO_FLOW), st.just(TEST_FLOW), sids),
    execution=st.one_of(st.just(EXECUTION), sids),
    body=bodies,
    content_type=content_types,
)
# The body limit's edges: just under it (accepted) and just over it (413).
@example(
    template="/v2/Flows/{flow}/Executions",
    flow=DEMO_FLOW,
    execution=EXECUTION,
    body=b"To=%2B15551234567&From=%2B15557654321&Parameters=" + b"x" * (MAX_BODY - 64),
    content_type="application/x-www-form-urlencoded",
)
@example(
    template="/v2/Flows/{flow}/Executions",
    flow=DEMO_FLOW,
    execution=EXECUTION,
    body=b"To=%2B15551234567&From=%2B15557654321&x=" + b"x" * MAX_BODY,
    content_type="multipart/form-data; boundary=xyz",
)
@example(
    template="/v2/Flows/{flow}/Executions/{execution}",
    flow=DEMO_FLOW,
    execution=EXECUTION,
    body=b"Status=%ff%fe",
    content_type=None,
)
def test_malformed_forms(
    raw: httpx.Client,
    valid_auth: str,
    execution_sid: str,
    template: str,
    flow: str,
    execution: str,
    body: bytes,
    content_type: str | None,
) -> None:
    """Authenticated POSTs with every kind of body to the routes that read a form."""
    path = _fill(template, flow, execution, execution, execution_sid)
    response = _send(raw, "POST", path, "", body, content_type, valid_auth)
    assert_twilio_answer(response, "POST")


@FUZZ
@given(
    template=st.sampled_from(LIST_ROUTES),
    flow=st.one_of(st.just(DEMO_FLOW), sids),
    query=query_strings,
    forged_token=st.booleans(),
)
def test_list_queries(
    raw: httpx.Client,
    valid_auth: str,
    execution_sid: str,
    template: str,
    flow: str,
    query: str,
    forged_token: bool,
) -> None:
    """Authenticated list calls with random PageSize/Page/PageToken/status/date filters,
    sometimes with a well-formed but forged page token appended."""
    path = _fill(template, flow, EXECUTION, EXECUTION, execution_sid)
    if forged_token:
        token = "PA" + format(1 << 40, "x") + "-00000000"
        query = f"{query}&PageToken={token}" if query else f"PageToken={token}"
    response = _send(raw, "GET", path, query, None, None, valid_auth)
    assert_twilio_answer(response, "GET")


@FUZZ
@given(authorization=authorizations, method=st.sampled_from(["GET", "POST", "DELETE"]))
def test_authorization_headers(
    raw: httpx.Client, valid_auth: str, execution_sid: str, authorization: str | None, method: str
) -> None:
    if authorization == "VALID":
        authorization = valid_auth
    path = f"/v2/Flows/{DEMO_FLOW}/Executions/{execution_sid}/Context"
    if method != "GET":
        path = f"/v2/Flows/{DEMO_FLOW}/Executions/{execution_sid}"
    body = b"Status=active" if method == "POST" else None  # never actually end it
    response = _send(raw, method, path, "", body, "application/x-www-form-urlencoded", authorization)
    assert_twilio_answer(response, method)
    if authorization != valid_auth and response.status_code == 401:
        assert response.json()["code"] == 20003
        assert response.headers["www-authenticate"] == 'Basic realm="Twilio API"'


def test_the_checks_accept_a_real_error(raw: httpx.Client) -> None:
    """A sanity check of the checker on the documented 401 (so a broken checker cannot make
    the properties above pass vacuously)."""
    response = _send(raw, "GET", f"/v2/Flows/{DEMO_FLOW}/Executions")
    assert response.status_code == 401
    assert_twilio_answer(response, "GET")
    bad = httpx.Response(404, json={"detail": "Not Found"}, request=response.request)
    with pytest.raises(AssertionError):
        assert_twilio_answer(bad, "GET")
    bad = httpx.Response(
        400,
        json={"code": 1, "message": "", "more_info": "", "status": 400, "type": "x", "title": "y"},
        request=response.request,
    )
    with pytest.raises(AssertionError):
        assert_twilio_answer(bad, "GET")


json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.just("name"), st.text(max_size=8)), inner, max_size=4),
    ),
    max_leaves=20,
)
json_objects = st.dictionaries(st.one_of(st.just("name"), st.text(max_size=8)), json_values, max_size=5)
_contacts = itertools.count()


def _nested(depth: int) -> str:
    return '{"name":' * depth + "1" + "}" * depth


@FUZZ
@given(
    flow=st.sampled_from([DEMO_FLOW, TEST_FLOW]),
    parameters=st.one_of(
        json_objects.map(json.dumps),
        st.integers(min_value=1, max_value=400).map(_nested),
        texts,
    ),
)
# Deeper than orjson can encode once placed inside a context: must be refused up front, not
# accepted and then break every read of the execution (a 500 before the fix).
@example(flow=TEST_FLOW, parameters=_nested(300))
@example(flow=DEMO_FLOW, parameters=_nested(100))
@example(flow=DEMO_FLOW, parameters=_nested(101))
@example(flow=TEST_FLOW, parameters='{"a": 123456789012345678901234567890}')
@example(flow=TEST_FLOW, parameters='{"a": "\\ud800"}')
@example(flow=DEMO_FLOW, parameters='{"name": {"first": ["a", {"b": null}]}}')
def test_parameters_then_reads(raw: httpx.Client, valid_auth: str, flow: str, parameters: str) -> None:
    """Whatever `Parameters` a create accepts, the execution, its context and its steps
    stay readable, and the context holds the parameters as sent."""
    to = f"+1888{next(_contacts):07d}"
    body = urlencode({"To": to, "From": "+15557654321", "Parameters": parameters}).encode()
    form = "application/x-www-form-urlencoded"
    created = _send(raw, "POST", f"/v2/Flows/{flow}/Executions", "", body, form, valid_auth)
    assert_twilio_answer(created, "POST")
    if created.status_code != 201:
        assert created.status_code == 400, created.text
        return
    base = f"/v2/Flows/{flow}/Executions/{created.json()['sid']}"
    for suffix in ("", "/Context", "/Steps"):
        response = _send(raw, "GET", base + suffix, authorization=valid_auth)
        assert response.status_code == 200, (suffix, response.text)
        if suffix == "/Context":
            try:
                sent = json.loads(parameters)
            except ValueError:
                continue
            if isinstance(sent, dict) and all(type(v) is not int or abs(v) < 2**63 for v in sent.values()):
                assert response.json()["context"]["flow"]["data"] == sent
