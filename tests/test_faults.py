"""Fault injection (`/_mockstudio/faults`) over HTTP: error answers in Twilio's shape,
latency, `times`, seeded `probability`, matching (method, glob, regex, account), listing,
removal and validation. No timings are asserted: latency is checked by ordering."""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx
import pytest

from mockstudio.settings import DEFAULT_ACCOUNT_SID

from .conftest import DEMO_FLOW, OTHER_ACCOUNT, OTHER_FLOW, OTHER_TOKEN, TEST_FLOW
from .helpers import assert_twilio_error

EXECUTIONS = f"/v2/Flows/{DEMO_FLOW}/Executions"


def add_fault(client: httpx.Client, **rule: Any) -> dict[str, Any]:
    response = client.post("/_mockstudio/faults", json=rule)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def faults(client: httpx.Client) -> list[dict[str, Any]]:
    listed: list[dict[str, Any]] = client.get("/_mockstudio/faults").json()["faults"]
    return listed


def create(client: httpx.Client, to: str = "+15550001111") -> httpx.Response:
    return client.post(EXECUTIONS, data={"To": to, "From": "+15017122661"})


@pytest.mark.parametrize(
    ("status", "code", "message"),
    [
        (500, 20500, "Internal Server Error"),
        (503, 20503, "Service Unavailable"),
        (429, 20429, "Too many requests"),
        (404, 20404, "Not Found"),
        (401, 20003, "Authenticate"),
    ],
)
def test_an_error_rule_answers_in_twilios_shape(http: httpx.Client, status: int, code: int, message: str) -> None:
    add_fault(http, method="POST", path="/v2/Flows/*/Executions", status=status)
    response = create(http)
    assert_twilio_error(response, status, code, message)
    if status == 429:
        assert response.headers["Retry-After"] == "1"
    else:
        assert "Retry-After" not in response.headers
    # Nothing was created: the request never reached the route.
    assert http.get(EXECUTIONS).json()["executions"] == []


def test_code_message_and_retry_after_can_be_given(http: httpx.Client) -> None:
    add_fault(http, path=EXECUTIONS, status=503, code=20503, message="Down for maintenance", retry_after=30)
    response = create(http)
    assert_twilio_error(response, 503, 20503, "Down for maintenance")
    assert response.headers["Retry-After"] == "30"


def test_times_applies_the_rule_n_times_then_it_stays_listed_as_exhausted(http: httpx.Client) -> None:
    rule = add_fault(http, method="POST", path=EXECUTIONS, status=500, times=2)
    assert (rule["remaining"], rule["applied"]) == (2, 0)
    assert create(http, "+15550000001").status_code == 500
    assert faults(http)[0]["remaining"] == 1
    assert create(http, "+15550000002").status_code == 500
    assert create(http, "+15550000003").status_code == 201
    assert create(http, "+15550000004").status_code == 201
    [listed] = faults(http)
    assert (listed["remaining"], listed["applied"]) == (0, 2)


def _outcomes(client: httpx.Client, n: int) -> list[int]:
    return [client.get(f"/v2/Flows/{TEST_FLOW}").status_code for _ in range(n)]


def test_probability_is_reproducible_with_a_seed(http: httpx.Client) -> None:
    add_fault(http, method="GET", path="/v2/Flows/*", status=503, probability=0.5, seed=42)
    first = _outcomes(http, 40)
    assert set(first) == {200, 503}  # some of each (seed 42 gives both)
    assert http.delete("/_mockstudio/faults").status_code == 204
    add_fault(http, method="GET", path="/v2/Flows/*", status=503, probability=0.5, seed=42)
    assert _outcomes(http, 40) == first  # the same seed, the same sequence
    add_fault(http, method="GET", path="/v2/Flows/*", status=503, probability=0.5, seed=7)
    assert http.delete(f"/_mockstudio/faults/{faults(http)[0]['id']}").status_code == 204
    assert _outcomes(http, 40) != first  # another seed, another sequence
    # times and probability combine: only applications count.
    http.delete("/_mockstudio/faults")
    add_fault(http, method="GET", path="/v2/Flows/*", status=503, probability=0.5, seed=42, times=3)
    assert _outcomes(http, 40).count(503) == 3
    assert faults(http)[0]["applied"] == 3


def test_probability_zero_and_one(http: httpx.Client) -> None:
    add_fault(http, path="/v2/Flows/*", status=500, probability=0)
    assert _outcomes(http, 10) == [200] * 10
    http.delete("/_mockstudio/faults")
    add_fault(http, path="/v2/Flows/*", status=500, probability=1)
    assert _outcomes(http, 10) == [500] * 10


def test_latency_delays_the_request_which_then_answers_normally(http: httpx.Client) -> None:
    """A long latency on one route: a request to another route, sent while the slow one is
    waiting, is answered first; the slow one then gets its normal answer.

    Only ordering is asserted, with a wide margin: the fast request has the whole latency
    (5 s) to be answered, which a loaded 2-core machine still leaves ample room for."""
    slow_path = f"/v2/Flows/{TEST_FLOW}"
    rule = add_fault(http, method="GET", path=slow_path, latency_ms=5000)
    finished: list[str] = []
    answers: dict[str, httpx.Response] = {}

    def slow() -> None:
        with httpx.Client(base_url=str(http.base_url), auth=http.auth, timeout=60) as client:
            answers["slow"] = client.get(slow_path)
        finished.append("slow")

    thread = threading.Thread(target=slow)
    thread.start()
    try:
        # The rule is taken when the request arrives, before it waits.
        deadline = time.monotonic() + 30
        while faults(http)[0]["applied"] == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert faults(http)[0]["applied"] == 1
        assert http.get(f"/v2/Flows/{DEMO_FLOW}").status_code == 200
        finished.append("fast")
    finally:
        thread.join(60)
    assert finished == ["fast", "slow"]
    assert answers["slow"].status_code == 200
    assert answers["slow"].json()["sid"] == TEST_FLOW
    [entry] = http.get("/_mockstudio/requests", params={"path": slow_path}).json()["requests"]
    assert (entry["status"], entry["fault_id"]) == (200, rule["id"])


def test_latency_and_status_together(http: httpx.Client) -> None:
    add_fault(http, path=EXECUTIONS, method="POST", status=503, latency_ms=10)
    assert_twilio_error(create(http), 503, 20503)


def test_method_and_glob_matching(http: httpx.Client) -> None:
    add_fault(http, method="POST", path="/v2/Flows/*", status=500)  # one segment: not .../Executions
    assert http.get(f"/v2/Flows/{TEST_FLOW}").status_code == 200  # another method
    assert create(http).status_code == 201  # /v2/Flows/*/Executions is deeper
    assert http.post(f"/v2/Flows/{TEST_FLOW}", data={"Status": "published"}).status_code == 500
    http.delete("/_mockstudio/faults")
    add_fault(http, method="get", path="/v2/**", status=500)
    assert http.get(f"{EXECUTIONS}?PageSize=1").status_code == 500  # the query is not part of the path
    assert http.get("/v2/Flows").status_code == 500
    assert create(http, "+15550000009").status_code == 201


def test_regex_matching(http: httpx.Client) -> None:
    add_fault(http, path_regex=r"/v2/Flows/FW[0-9a-f]{32}/Executions/FN[0-9a-f]{32}", status=500)
    created = create(http)
    assert created.status_code == 201
    sid = created.json()["sid"]
    assert http.get(f"{EXECUTIONS}/{sid}").status_code == 500
    assert http.get(f"{EXECUTIONS}/{sid}/Context").status_code == 200  # the whole path must match
    assert http.get(EXECUTIONS).status_code == 200


def test_account_matching(http: httpx.Client) -> None:
    add_fault(http, path="/v2/**", account_sid=OTHER_ACCOUNT, status=503)
    with httpx.Client(base_url=str(http.base_url), auth=(OTHER_ACCOUNT, OTHER_TOKEN)) as other:
        assert_twilio_error(other.get(f"/v2/Flows/{OTHER_FLOW}"), 503, 20503)
        # The faulted request is journaled with its account.
        [entry] = http.get("/_mockstudio/requests", params={"status": 503}).json()["requests"]
        assert entry["account_sid"] == OTHER_ACCOUNT
    assert http.get(f"/v2/Flows/{TEST_FLOW}").status_code == 200
    with httpx.Client(base_url=str(http.base_url), auth=(OTHER_ACCOUNT, "wrong")) as bad:
        assert_twilio_error(bad.get(f"/v2/Flows/{OTHER_FLOW}"), 401, 20003)  # no account, no match


def test_the_first_matching_rule_applies(http: httpx.Client) -> None:
    first = add_fault(http, path="/v2/Flows/*", status=500, times=1)
    add_fault(http, path="/v2/**", status=503)
    assert http.get(f"/v2/Flows/{TEST_FLOW}").status_code == 500
    assert http.get(f"/v2/Flows/{TEST_FLOW}").status_code == 503  # the first is exhausted
    assert [f["applied"] for f in faults(http)] == [1, 1]
    assert faults(http)[0]["id"] == first["id"]


def test_faults_apply_to_the_twilio_api_only(http: httpx.Client) -> None:
    add_fault(http, path="**", status=500)
    assert http.get("/_mockstudio/messages").status_code == 200
    assert http.get("/_mockstudio/health").status_code == 200
    assert http.get(EXECUTIONS).status_code == 500


def test_listing_and_removal(http: httpx.Client) -> None:
    one = add_fault(http, method="POST", path=EXECUTIONS, status=429)
    two = add_fault(http, path_regex="/v2/.*", latency_ms=5, times=3, probability=0.25, seed=9)
    assert one == {
        "id": one["id"],
        "method": "POST",
        "path": EXECUTIONS,
        "path_regex": None,
        "account_sid": None,
        "status": 429,
        "code": 20429,
        "message": "Too many requests",
        "retry_after": 1,
        "latency_ms": 0,
        "times": None,
        "probability": None,
        "seed": 0,
        "remaining": None,
        "applied": 0,
    }
    assert two["method"] == "*" and two["status"] is None and two["remaining"] == 3
    assert [f["id"] for f in faults(http)] == [one["id"], two["id"]]
    assert http.delete(f"/_mockstudio/faults/{one['id']}").status_code == 204
    assert [f["id"] for f in faults(http)] == [two["id"]]
    assert_twilio_error(http.delete(f"/_mockstudio/faults/{one['id']}"), 404, 20404)
    assert_twilio_error(http.delete("/_mockstudio/faults/nope"), 404, 20404)
    assert http.delete("/_mockstudio/faults").status_code == 204
    assert faults(http) == []


def test_reset_removes_the_rules(http: httpx.Client) -> None:
    add_fault(http, path="/v2/**", status=500)
    assert http.post("/_mockstudio/reset").status_code == 200
    assert faults(http) == []
    assert create(http).status_code == 201


@pytest.mark.parametrize(
    ("rule", "problem"),
    [
        ({"path": "/v2/**", "status": 500, "colour": "red"}, "colour"),
        ({"path": "/v2/**", "status": 500, "statuss": 500}, "statuss"),
        ({"status": 500}, "path"),
        ({"path": "/v2/**", "path_regex": "/v2/.*", "status": 500}, "path"),
        ({"path": "/v2/**"}, "status"),
        ({"path": "/v2/**", "latency_ms": 5, "code": 20500}, "need a status"),
        ({"path": "/v2/**", "status": 200}, "status"),
        ({"path": "/v2/**", "status": 500, "probability": 1.5}, "probability"),
        ({"path": "/v2/**", "status": 500, "times": 0}, "times"),
        ({"path": "/v2/**", "status": 500, "latency_ms": -1}, "latency_ms"),
        ({"path": "/v2/**", "status": 500, "method": "FETCH"}, "method"),
        ({"path_regex": "/v2/(", "status": 500}, "path_regex"),
    ],
)
def test_invalid_rules_are_refused(http: httpx.Client, rule: dict[str, Any], problem: str) -> None:
    body = assert_twilio_error(http.post("/_mockstudio/faults", json=rule), 400, 20001)
    assert body["message"].startswith("Invalid fault rule: ")
    assert problem in body["message"]
    assert faults(http) == []


def test_a_body_that_is_not_a_json_object_is_refused(http: httpx.Client) -> None:
    assert_twilio_error(
        http.post("/_mockstudio/faults", content=b"[1]", headers={"Content-Type": "application/json"}), 400, 20001
    )


def test_the_twilio_sdk_sees_an_injected_error(http: httpx.Client, live: Any) -> None:
    twilio = pytest.importorskip("twilio.rest")
    from twilio.base.exceptions import TwilioRestException

    add_fault(http, method="POST", path="/v2/Flows/*/Executions", status=503)
    client = twilio.Client(DEFAULT_ACCOUNT_SID, live.auth_token)
    client.studio.base_url = live.base_url
    with pytest.raises(TwilioRestException) as raised:
        client.studio.v2.flows(DEMO_FLOW).executions.create(to="+15550001111", from_="+15017122661")
    assert raised.value.status == 503
    assert raised.value.code == 20503
