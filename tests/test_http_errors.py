"""Errors over HTTP: authentication, unknown routes, wrong methods, oversized bodies, and the
rule that every error is Twilio's body (§D, §E)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from mockstudio.testing import MockStudioServer

from .conftest import API_KEY, API_SECRET, DEMO_FLOW, OTHER_ACCOUNT, OTHER_FLOW, OTHER_TOKEN, TEST_FLOW
from .helpers import assert_twilio_error

TO = "+15551234567"
FROM = "+15557654321"
EXECUTIONS = f"/v2/Flows/{TEST_FLOW}/Executions"
CHALLENGE = 'Basic realm="Twilio API"'


def basic(username: str | bytes, password: str | bytes) -> bytes:
    raw = (username.encode() if isinstance(username, str) else username) + b":"
    raw += password.encode() if isinstance(password, str) else password
    return b"Basic " + base64.b64encode(raw)


def unauthorized(response: httpx.Response, message: str = "Authenticate") -> None:
    assert_twilio_error(response, 401, 20003, message)
    assert response.headers["www-authenticate"] == CHALLENGE


# -- 401 --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v2/Flows"),
        ("GET", f"/v2/Flows/{DEMO_FLOW}"),
        ("GET", EXECUTIONS),
        ("POST", EXECUTIONS),
        ("GET", f"{EXECUTIONS}/FN{'0' * 32}"),
        ("POST", f"{EXECUTIONS}/FN{'0' * 32}"),
        ("DELETE", f"{EXECUTIONS}/FN{'0' * 32}"),
        ("GET", f"{EXECUTIONS}/FN{'0' * 32}/Context"),
        ("GET", f"{EXECUTIONS}/FN{'0' * 32}/Steps"),
        ("GET", f"{EXECUTIONS}/FN{'0' * 32}/Steps/FT{'0' * 32}"),
        ("GET", f"{EXECUTIONS}/FN{'0' * 32}/Steps/FT{'0' * 32}/Context"),
    ],
)
def test_every_route_needs_credentials(anon: httpx.Client, method: str, path: str) -> None:
    unauthorized(anon.request(method, path), "Authentication Error - No credentials provided")


@pytest.mark.parametrize(
    "header",
    [
        basic("AC00000000000000000000000000000000", "wrongtoken"),
        basic("AC00000000000000000000000000000000", ""),
        basic("AC00000000000000000000000000000000", "mockstudio "),
        basic("AC99999999999999999999999999999999", "mockstudio"),
        basic(OTHER_ACCOUNT, "mockstudio"),  # the default account's token for another account
        basic(API_KEY, OTHER_TOKEN),  # the key's account token is not the key's secret
        basic(OTHER_ACCOUNT, API_SECRET),
        b"Basic !!!not base64!!!",
        b"Basic " + base64.b64encode(b"AC00000000000000000000000000000000"),  # no colon
        b"Basic",
        b"Bearer " + base64.b64encode(b"AC00000000000000000000000000000000:mockstudio"),
        b"Digest username=AC00000000000000000000000000000000",
        basic(b"\xff\xfe", b"\xff"),  # not UTF-8
        basic("AC00000000000000000000000000000000", b"mockstudio\xff"),
        b"",
    ],
)
def test_bad_credentials(live: MockStudioServer, header: bytes) -> None:
    with httpx.Client(base_url=live.base_url, timeout=10) as client:
        response = client.get("/v2/Flows", headers={b"Authorization": header})
    unauthorized(response)


def test_scheme_is_case_insensitive(live: MockStudioServer) -> None:
    header = basic(live.account_sid, live.auth_token).replace(b"Basic", b"basic")
    with httpx.Client(base_url=live.base_url, timeout=10) as client:
        assert client.get("/v2/Flows", headers={b"Authorization": header}).status_code == 200


def test_good_credentials_after_bad_ones(live: MockStudioServer) -> None:
    with httpx.Client(base_url=live.base_url, timeout=10) as client:
        unauthorized(client.get("/v2/Flows", auth=(live.account_sid, "nope")))
        assert client.get("/v2/Flows", auth=(live.account_sid, live.auth_token)).status_code == 200
        unauthorized(client.get("/v2/Flows", auth=(live.account_sid, "nope")))


def test_api_key_sees_the_keys_account(live: MockStudioServer) -> None:
    with httpx.Client(base_url=live.base_url, auth=(API_KEY, API_SECRET), timeout=10) as client:
        flows = client.get("/v2/Flows").json()["flows"]
        assert [f["sid"] for f in flows] == [OTHER_FLOW]
        response = client.post(f"/v2/Flows/{OTHER_FLOW}/Executions", data={"To": TO, "From": FROM})
        assert response.status_code == 201
        created = response.json()
        assert created["account_sid"] == OTHER_ACCOUNT
        assert_twilio_error(client.get(EXECUTIONS), 404, 20404)  # the default account's flow
    # The same execution through the account's own credentials.
    with httpx.Client(base_url=live.base_url, auth=(OTHER_ACCOUNT, OTHER_TOKEN), timeout=10) as client:
        assert client.get(created["url"]).json()["sid"] == created["sid"]


def test_credentials_survive_a_reset(http: httpx.Client, live: MockStudioServer) -> None:
    assert http.get("/v2/Flows").status_code == 200
    live.reset()
    assert http.get("/v2/Flows").status_code == 200
    with httpx.Client(base_url=live.base_url, auth=(live.account_sid, "wrong"), timeout=10) as client:
        unauthorized(client.get("/v2/Flows"))


# -- unknown routes and wrong methods ---------------------------------------------------------


@pytest.mark.parametrize("path", ["/v2/Nope", "/v2/Flows/", f"/v2/Flows/{DEMO_FLOW}/Nope", "/v2/"])
def test_unknown_route_under_v2(anon: httpx.Client, http: httpx.Client, path: str) -> None:
    unauthorized(anon.get(path), "Authentication Error - No credentials provided")
    relative = path[len("/v2") :]
    assert_twilio_error(http.get(path), 404, 20404, f"The requested resource {relative} was not found")


def test_unknown_route_outside_the_twilio_apis(anon: httpx.Client) -> None:
    response = anon.get("/v3/Flows")
    assert_twilio_error(response, 404, 20404, "The requested resource /v3/Flows was not found")
    assert "www-authenticate" not in response.headers


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PUT", EXECUTIONS),
        ("PATCH", EXECUTIONS),
        ("DELETE", EXECUTIONS),
        ("PUT", f"{EXECUTIONS}/FN{'0' * 32}"),
        ("DELETE", "/v2/Flows"),
        ("POST", f"{EXECUTIONS}/FN{'0' * 32}/Context"),
        ("DELETE", f"{EXECUTIONS}/FN{'0' * 32}/Steps"),
        ("POST", "/_mockstudio/health"),
    ],
)
def test_wrong_method(http: httpx.Client, method: str, path: str) -> None:
    response = http.request(method, path)
    assert_twilio_error(response, 405, 20004, "Method not allowed")


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        (EXECUTIONS, {"GET", "POST"}),
        (f"{EXECUTIONS}/FN{'0' * 32}", {"GET", "POST", "DELETE"}),
        ("/v2/Flows", {"GET"}),
    ],
)
def test_wrong_method_names_every_allowed_one(http: httpx.Client, path: str, allowed: set[str]) -> None:
    response = http.put(path)
    assert response.status_code == 405
    methods = set(response.headers["allow"].split(", "))
    assert methods >= allowed
    assert "PUT" not in methods


# -- request bodies ---------------------------------------------------------------------------


def test_body_over_the_limit_is_413(http: httpx.Client, live: MockStudioServer) -> None:
    limit = live.settings.max_body_bytes
    body = b"To=%2B1&From=%2B2&Parameters=" + b"x" * limit
    response = http.post(EXECUTIONS, content=body, headers={"content-type": "application/x-www-form-urlencoded"})
    assert_twilio_error(response, 413, 20413, f"Request body exceeds the limit of {limit} bytes")


def test_chunked_body_over_the_limit_is_413(http: httpx.Client, live: MockStudioServer) -> None:
    limit = live.settings.max_body_bytes
    chunk = b"x" * 65536

    def chunks() -> Iterator[bytes]:
        yield b"To=%2B1&From=%2B2&Parameters="
        for _ in range(limit // len(chunk) + 2):
            yield chunk

    response = http.post(EXECUTIONS, content=chunks(), headers={"content-type": "application/x-www-form-urlencoded"})
    assert_twilio_error(response, 413, 20413)


def test_multipart_body_over_the_limit_is_413(http: httpx.Client, live: MockStudioServer) -> None:
    big = "x" * (live.settings.max_body_bytes + 1)
    response = http.post(EXECUTIONS, files={"To": (None, TO), "From": (None, FROM), "Parameters": (None, big)})
    assert_twilio_error(response, 413, 20413)


def test_body_just_under_the_limit_is_read(http: httpx.Client) -> None:
    parameters = '{"pad": "' + "x" * 500_000 + '"}'
    response = http.post(EXECUTIONS, data={"To": TO, "From": FROM, "Parameters": parameters})
    assert response.status_code == 201


def test_multipart_create(http: httpx.Client) -> None:
    response = http.post(
        EXECUTIONS,
        files={"To": (None, TO), "From": (None, FROM), "Parameters": (None, '{"name": "Zeke"}')},
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["contact_channel_address"] == TO
    context = http.get(created["links"]["execution_context"]).json()["context"]
    assert context["flow"]["data"] == {"name": "Zeke"}
    assert context["flow"]["channel"]["address"] == FROM


def test_multipart_missing_field(http: httpx.Client) -> None:
    response = http.post(EXECUTIONS, files={"From": (None, FROM)})
    assert_twilio_error(response, 400, 20001, "Missing required parameter To in the post body")


def test_multipart_update(http: httpx.Client) -> None:
    created = http.post(EXECUTIONS, data={"To": TO, "From": FROM}).json()
    response = http.post(created["url"], files={"Status": (None, "ended")})
    assert response.status_code == 200
    assert response.json()["status"] == "ended"


def test_repeated_form_key_uses_the_first_value(http: httpx.Client) -> None:
    response = http.post(
        EXECUTIONS,
        content=b"To=%2B111&To=%2B222&From=%2B333",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 201
    assert response.json()["contact_channel_address"] == "+111"


# -- the error body ---------------------------------------------------------------------------


def test_no_error_body_looks_like_fastapi_or_rfc9457(http: httpx.Client, anon: httpx.Client) -> None:
    created = http.post(EXECUTIONS, data={"To": TO, "From": FROM}).json()
    responses: list[httpx.Response] = [
        anon.get("/v2/Flows"),
        http.get("/v2/Nope"),
        anon.get("/nope"),
        http.put(EXECUTIONS),
        http.post(EXECUTIONS, data={"To": TO}),
        http.post(EXECUTIONS, data={"To": TO, "From": FROM}),  # 409 with details
        http.post(EXECUTIONS, data={"To": "+1", "From": FROM, "Parameters": "nope"}),
        http.post(created["url"], data={"Status": "bogus"}),
        http.post(created["url"]),
        http.get(EXECUTIONS, params={"PageSize": "0"}),
        http.get(EXECUTIONS, params={"PageToken": "x"}),
        http.get(EXECUTIONS, params={"DateCreatedFrom": "x"}),
        http.get(EXECUTIONS, params={"status": "x"}),
        http.get(f"/v2/Flows/{DEMO_FLOW}/Executions/nope"),
        http.post("/_mockstudio/reset", params={"account_sid": "nope"}),
        # FastAPI's own request validation (a control-plane query parameter).
        http.get(f"/_mockstudio/executions/{created['sid']}/settled", params={"timeout": "abc"}),
        http.get(f"/_mockstudio/executions/{created['sid']}/settled", params={"timeout": "-1"}),
        http.post(EXECUTIONS, content=b"x" * (2 << 20), headers={"content-type": "application/x-www-form-urlencoded"}),
    ]
    statuses = set()
    for response in responses:
        assert response.status_code >= 400, response.request.url
        body: dict[str, Any] = response.json()
        assert "detail" not in body and "type" not in body and "title" not in body, body
        expected = {"code", "message", "more_info", "status"}
        if response.status_code == 409 and "conflicting_execution_sid" in str(body.get("details")):
            expected.add("details")
        assert set(body) == expected, body
        assert body["status"] == response.status_code
        assert isinstance(body["code"], int) and isinstance(body["message"], str)
        assert body["more_info"] == f"https://www.twilio.com/docs/errors/{body['code']}"
        assert response.headers["content-type"].startswith("application/json")
        assert ("www-authenticate" in response.headers) == (response.status_code == 401)
        statuses.add(response.status_code)
    assert statuses == {400, 401, 404, 405, 409, 413}


def test_validation_error_is_a_twilio_400(http: httpx.Client) -> None:
    created = http.post(EXECUTIONS, data={"To": TO, "From": FROM}).json()
    response = http.get(f"/_mockstudio/executions/{created['sid']}/settled", params={"timeout": "abc"})
    body = assert_twilio_error(response, 400, 20001)
    assert body["message"] == "Invalid query parameter timeout: a number is expected"
