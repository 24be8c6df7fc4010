"""HTTP at its edges, over raw sockets to the live uvicorn server (an HTTP client library
would not send these requests): control-plane parameter errors, clients that half-close or
go away, the Host header, encoded slashes in paths and what `Allow` advertises."""

from __future__ import annotations

import base64
import json
import logging
import socket
import time
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from mockstudio.testing import MockStudioServer

from .conftest import DEMO_FLOW
from .helpers import ERROR_KEYS, assert_twilio_error

EXECUTIONS = f"/v2/Flows/{DEMO_FLOW}/Executions"


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes
    closed: bool  # the server closed the connection after it

    def json(self) -> Any:
        return json.loads(self.body)


def _basic(live: MockStudioServer) -> str:
    return "Basic " + base64.b64encode(f"{live.account_sid}:{live.auth_token}".encode()).decode()


def exchange(live: MockStudioServer, data: bytes, *, half_close: bool = False, timeout: float = 10) -> RawResponse:
    """Send `data` as is, optionally shut the write side, and read one response (then
    whether the server closes the connection)."""
    with socket.create_connection(("127.0.0.1", live.port), timeout=timeout) as sock:
        sock.sendall(data)
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        received = b""
        while b"\r\n\r\n" not in received:
            chunk = sock.recv(65536)
            assert chunk, f"the server closed the connection without an answer: {received!r}"
            received += chunk
        head, _, body = received.partition(b"\r\n\r\n")
        status_line, *lines = head.decode("latin-1").split("\r\n")
        headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in lines)}
        length = int(headers.get("content-length", "0"))
        while len(body) < length:
            chunk = sock.recv(65536)
            assert chunk, "the server closed the connection mid-body"
            body += chunk
        sock.settimeout(3)
        try:
            closed = sock.recv(1) == b""
        except TimeoutError:
            closed = False
        return RawResponse(int(status_line.split()[1]), headers, body, closed)


def request_bytes(
    method: str, path: str, *, headers: dict[str, str] | None = None, body: bytes = b"", version: str = "1.1"
) -> bytes:
    lines = [f"{method} {path} HTTP/{version}"]
    for name, value in (headers or {}).items():
        lines.append(f"{name}: {value}")
    if body or method == "POST":
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def assert_error_shape(response: RawResponse, status: int) -> dict[str, Any]:
    assert response.status == status, response.body
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    assert set(body) == ERROR_KEYS, body
    assert body["status"] == status
    return body


# -- control-plane parameter errors ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "parameter"),
    [
        (f"/_mockstudio/executions/FN{'0' * 32}/settled?timeout=abc", "timeout"),
        (f"/_mockstudio/executions/FN{'0' * 32}/settled?timeout=-1", "timeout"),
        (f"/_mockstudio/executions/FN{'0' * 32}/settled?timeout=1e9", "timeout"),
        ("/_mockstudio/requests?status=abc", "status"),
        ("/_mockstudio/requests?matched=maybe", "matched"),
    ],
)
def test_control_plane_parameter_errors_name_the_parameter(anon: httpx.Client, path: str, parameter: str) -> None:
    body = assert_twilio_error(anon.get(path), 400, 20001)
    message = body["message"]
    assert message.startswith(f"Invalid query parameter {parameter}: "), message
    for leak in (".py", "File ", "line ", "{'type'", "loc", "validation error"):
        assert leak not in message, message


# -- clients that half-close, or go away ---------------------------------------------------------


def _form_post(path: str, body: bytes, extra: dict[str, str] | None = None) -> bytes:
    headers = {"Host": "127.0.0.1", "Content-Type": "application/x-www-form-urlencoded", **(extra or {})}
    return request_bytes("POST", path, headers=headers, body=body)


def test_a_half_closed_control_plane_request_is_applied_and_answered(
    live: MockStudioServer, http: httpx.Client
) -> None:
    before = http.get("/_mockstudio/clock").json()["epoch"]
    response = exchange(live, _form_post("/_mockstudio/clock", b"advance=90"), half_close=True)
    assert response.status == 200, response.body
    assert response.json()["epoch"] == before + 90
    assert response.headers.get("connection") == "close"
    assert response.closed
    assert http.get("/_mockstudio/clock").json()["epoch"] == before + 90


def test_a_half_closed_twilio_request_that_waits_first_is_answered(live: MockStudioServer, http: httpx.Client) -> None:
    # The fault's latency makes the route wait before it reads the body.
    rule = http.post("/_mockstudio/faults", json={"method": "POST", "path": EXECUTIONS, "latency_ms": 200})
    assert rule.status_code == 201, rule.text
    request = _form_post(EXECUTIONS, b"To=%2B15005550001&From=%2B15005550006", {"Authorization": _basic(live)})
    response = exchange(live, request, half_close=True)
    assert response.status == 201, response.body
    sid = response.json()["sid"]
    assert http.get(f"{EXECUTIONS}/{sid}").status_code == 200


def test_a_keep_alive_connection_still_serves_several_requests(live: MockStudioServer) -> None:
    get = request_bytes("GET", "/_mockstudio/clock", headers={"Host": "127.0.0.1"})
    with socket.create_connection(("127.0.0.1", live.port), timeout=10) as sock:
        sock.sendall(get + get)
        sock.shutdown(socket.SHUT_WR)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    assert received.count(b"HTTP/1.1 200 OK") == 2, received


def test_a_client_that_goes_away_mid_body_is_one_line_in_the_log(
    live: MockStudioServer, http: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    before = http.get("/_mockstudio/clock").json()["epoch"]
    uvicorn_log = logging.getLogger("uvicorn.error")
    uvicorn_log.addHandler(caplog.handler)
    try:
        with caplog.at_level(logging.INFO, logger="mockstudio"):
            head = _form_post("/_mockstudio/clock", b"")
            head = head.replace(b"Content-Length: 0", b"Content-Length: 100") + b"advance=90"
            with socket.create_connection(("127.0.0.1", live.port), timeout=10) as sock:
                sock.sendall(head)
                sock.shutdown(socket.SHUT_WR)
                assert sock.recv(65536) == b""  # no answer: the request was not whole
            deadline = time.monotonic() + 10
            while not any("went away" in r.getMessage() for r in caplog.records) and time.monotonic() < deadline:
                time.sleep(0.02)
    finally:
        uvicorn_log.removeHandler(caplog.handler)
    gone = [r for r in caplog.records if "went away" in r.getMessage()]
    assert len(gone) == 1, caplog.text
    assert "\n" not in gone[0].getMessage() and gone[0].exc_info is None
    assert "POST /_mockstudio/clock" in gone[0].getMessage()
    assert not any(r.exc_info for r in caplog.records), caplog.text
    assert "Traceback" not in caplog.text
    assert http.get("/_mockstudio/clock").json()["epoch"] == before  # not applied


# -- the Host header -------------------------------------------------------------------------------


def test_http11_without_host_is_400(live: MockStudioServer) -> None:
    response = exchange(live, request_bytes("GET", "/v2/Flows", headers={"Authorization": _basic(live)}))
    body = assert_error_shape(response, 400)
    assert "Host" in body["message"]


def test_http10_without_host_uses_the_servers_address(live: MockStudioServer) -> None:
    response = exchange(
        live, request_bytes("GET", f"/v2/Flows/{DEMO_FLOW}", headers={"Authorization": _basic(live)}, version="1.0")
    )
    assert response.status == 200, response.body
    assert response.json()["url"] == f"http://127.0.0.1:{live.port}/v2/Flows/{DEMO_FLOW}"


@pytest.mark.parametrize(
    "host", ["evil.example/x", "evil.example?x=1", "user@evil.example", "evil.example#x", "a b", "[::1"]
)
def test_a_host_that_is_not_a_host_is_400(live: MockStudioServer, host: str) -> None:
    request = request_bytes("GET", f"/v2/Flows/{DEMO_FLOW}", headers={"Host": host, "Authorization": _basic(live)})
    response = exchange(live, request)
    assert_error_shape(response, 400)
    assert b"evil" not in response.body


def test_two_hosts_are_400(live: MockStudioServer) -> None:
    request = request_bytes("GET", "/v2/Flows", headers={"Host": "a.example", "Authorization": _basic(live)})
    request = request.replace(b"Host: a.example\r\n", b"Host: a.example\r\nHost: b.example\r\n")
    assert_error_shape(exchange(live, request), 400)


@pytest.mark.parametrize("host", ["mock.example:8443", "10.0.0.7", "[::1]:9000", "localhost"])
def test_a_real_host_makes_the_urls(live: MockStudioServer, host: str) -> None:
    request = request_bytes("GET", f"/v2/Flows/{DEMO_FLOW}", headers={"Host": host, "Authorization": _basic(live)})
    response = exchange(live, request)
    assert response.status == 200, response.body
    assert response.json()["url"] == f"http://{host}/v2/Flows/{DEMO_FLOW}"


# -- encoded slashes --------------------------------------------------------------------------------


@pytest.mark.parametrize("slash", ["%2F", "%2f"])
def test_an_encoded_slash_is_not_a_separator(http: httpx.Client, live: MockStudioServer, slash: str) -> None:
    assert http.get(EXECUTIONS).status_code == 200
    response = exchange(
        live,
        request_bytes(
            "GET", f"/v2/Flows/{DEMO_FLOW}{slash}Executions", headers={"Host": "x", "Authorization": _basic(live)}
        ),
    )
    body = assert_error_shape(response, 404)
    assert body["message"] == f"The requested resource /Flows/{DEMO_FLOW}%2FExecutions was not found"


def test_other_escapes_still_decode(live: MockStudioServer) -> None:
    # %46 is "F": the path is the demo flow's, as before.
    path = f"/v2/%46lows/{DEMO_FLOW}"
    response = exchange(live, request_bytes("GET", path, headers={"Host": "x", "Authorization": _basic(live)}))
    assert response.status == 200, response.body


# -- Allow ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("/v2/Flows/Validate", {"POST"}),
        ("/v2/Flows", {"GET", "HEAD", "POST"}),
        (f"/v2/Flows/{DEMO_FLOW}", {"GET", "HEAD", "POST", "DELETE"}),
        (EXECUTIONS, {"GET", "HEAD", "POST"}),
        ("/_mockstudio/clock", {"GET", "POST"}),
    ],
)
def test_options_advertises_only_methods_that_route(
    http: httpx.Client, live: MockStudioServer, path: str, allowed: set[str]
) -> None:
    response = http.options(path)
    assert_twilio_error(response, 405, 20004)
    advertised = set(response.headers["allow"].split(", "))
    assert advertised == allowed
    for method in sorted(advertised - {"DELETE"}) + (["DELETE"] if "DELETE" in advertised else []):
        answered = http.request(method, path)
        assert answered.status_code not in (404, 405), (method, answered.text)


def test_a_path_no_method_serves_is_404_not_405(http: httpx.Client) -> None:
    assert_twilio_error(http.put("/v2/Flows/not-a-flow-sid"), 404, 20404)
    assert_twilio_error(http.options(f"{EXECUTIONS}/Bogus"), 404, 20404)
