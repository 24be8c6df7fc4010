"""The request journal (`/_mockstudio/requests`) over HTTP: what it records of each
Twilio-API request, its filters, clearing, and how unknown flows and routes show up."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from mockstudio.settings import DEFAULT_ACCOUNT_SID, Settings
from mockstudio.testing import MockStudioServer

from .conftest import DEMO_FLOW, OTHER_ACCOUNT, OTHER_FLOW, OTHER_TOKEN, TEST_FLOW
from .helpers import assert_twilio_error

UNKNOWN_FLOW = "FW99999999999999999999999999999999"
EXECUTIONS = "/v2/Flows/{FlowSid}/Executions"


def journal(client: httpx.Client, **filters: Any) -> list[dict[str, Any]]:
    response = client.get("/_mockstudio/requests", params=filters)
    assert response.status_code == 200, response.text
    entries: list[dict[str, Any]] = response.json()["requests"]
    return entries


def create(client: httpx.Client, to: str = "+15550001111", flow: str = DEMO_FLOW) -> httpx.Response:
    return client.post(f"/v2/Flows/{flow}/Executions", data={"To": to, "From": "+15017122661"})


def test_a_create_is_recorded_with_its_form_account_status_and_route(http: httpx.Client) -> None:
    created = http.post(
        f"/v2/Flows/{DEMO_FLOW}/Executions",
        data={"To": "+15550001111", "From": "+15017122661", "Parameters": json.dumps({"name": "Zeke"})},
    )
    assert created.status_code == 201

    [entry] = journal(http)
    assert entry["method"] == "POST"
    assert entry["path"] == f"/v2/Flows/{DEMO_FLOW}/Executions"
    assert entry["query"] == {}
    assert entry["form"] == {"To": "+15550001111", "From": "+15017122661", "Parameters": '{"name": "Zeke"}'}
    assert entry["account_sid"] == DEFAULT_ACCOUNT_SID
    assert entry["status"] == 201
    assert entry["matched_route"] == EXECUTIONS
    assert entry["fault_id"] is None
    assert entry["time"] == "2023-11-14T22:13:20.000Z"  # the test server's clock (1_700_000_000)
    assert isinstance(entry["duration_ms"], float) and entry["duration_ms"] >= 0
    assert isinstance(entry["id"], int)


def test_query_parameters_are_recorded_and_repeated_ones_keep_every_value(http: httpx.Client) -> None:
    http.get(
        f"/v2/Flows/{DEMO_FLOW}/Executions", params=[("PageSize", "5"), ("status", "active"), ("x", "1"), ("x", "2")]
    )
    [entry] = journal(http)
    assert entry["query"] == {"PageSize": "5", "status": "active", "x": ["1", "2"]}
    assert entry["form"] is None  # a GET reads no body
    assert entry["status"] == 200


def test_entries_are_oldest_first_with_increasing_ids(http: httpx.Client) -> None:
    for to in ("+15550000001", "+15550000002", "+15550000003"):
        assert create(http, to).status_code == 201
    entries = journal(http)
    assert [e["form"]["To"] for e in entries] == ["+15550000001", "+15550000002", "+15550000003"]
    ids = [e["id"] for e in entries]
    assert ids == sorted(ids) and len(set(ids)) == 3


def test_an_unknown_flow_and_an_unknown_route_are_easy_to_spot(http: httpx.Client) -> None:
    assert create(http).status_code == 201
    assert_twilio_error(http.get(f"/v2/Flows/{UNKNOWN_FLOW}/Executions"), 404, 20404)
    assert_twilio_error(http.get("/v2/Flws"), 404, 20404)

    not_found = journal(http, status=404)
    assert [(e["path"], e["matched_route"]) for e in not_found] == [
        (f"/v2/Flows/{UNKNOWN_FLOW}/Executions", EXECUTIONS),  # a known route, an unknown flow
        ("/v2/Flws", None),  # no such route
    ]
    [unrouted] = journal(http, matched="false")
    assert unrouted["path"] == "/v2/Flws"
    assert unrouted["account_sid"] == DEFAULT_ACCOUNT_SID
    assert len(journal(http, matched="true")) == 2


def test_a_wrong_method_is_recorded_with_the_route_its_path_matched(http: httpx.Client) -> None:
    assert_twilio_error(http.put(f"/v2/Flows/{DEMO_FLOW}/Executions"), 405, 20004)
    [entry] = journal(http)
    assert (entry["method"], entry["status"], entry["matched_route"]) == ("PUT", 405, EXECUTIONS)
    assert entry["account_sid"] == DEFAULT_ACCOUNT_SID


def test_requests_without_valid_credentials_have_no_account(anon: httpx.Client, http: httpx.Client) -> None:
    assert_twilio_error(anon.get(f"/v2/Flows/{DEMO_FLOW}/Executions"), 401, 20003)
    assert_twilio_error(anon.get("/v2/Nothing/Here"), 401, 20003)
    with httpx.Client(base_url=str(http.base_url), auth=(DEFAULT_ACCOUNT_SID, "wrong")) as bad:
        assert_twilio_error(bad.post(f"/v2/Flows/{DEMO_FLOW}/Executions", data={"To": "x"}), 401, 20003)
    entries = journal(http)
    assert [(e["status"], e["account_sid"]) for e in entries] == [(401, None)] * 3
    assert [e["matched_route"] for e in entries] == [EXECUTIONS, None, EXECUTIONS]


def test_filters(http: httpx.Client, live: MockStudioServer) -> None:
    assert create(http, "+15550000001").status_code == 201
    assert http.get(f"/v2/Flows/{TEST_FLOW}").status_code == 200
    with httpx.Client(base_url=live.base_url, auth=(OTHER_ACCOUNT, OTHER_TOKEN)) as other:
        assert other.get(f"/v2/Flows/{OTHER_FLOW}/Executions").status_code == 200
    assert http.post("/_mockstudio/clock", data={"advance": "3600"}).status_code == 200
    assert create(http, "+15550000002").status_code == 201

    assert [e["method"] for e in journal(http, method="post")] == ["POST", "POST"]
    assert [e["path"] for e in journal(http, path=f"/v2/Flows/{TEST_FLOW}")] == [f"/v2/Flows/{TEST_FLOW}"]
    assert len(journal(http, path_contains="Executions")) == 3
    assert [e["account_sid"] for e in journal(http, account_sid=OTHER_ACCOUNT)] == [OTHER_ACCOUNT]
    assert len(journal(http, status=201)) == 2
    later = journal(http, since="2023-11-14T23:00:00Z")
    assert [e["form"]["To"] for e in later] == ["+15550000002"]
    assert later[0]["time"] == "2023-11-14T23:13:20.000Z"
    # Filters combine.
    assert len(journal(http, method="POST", since="2023-11-14T23:00:00Z", status=201)) == 1
    assert journal(http, method="GET", status=201) == []


def test_an_invalid_filter_is_a_twilio_shaped_400(http: httpx.Client) -> None:
    assert_twilio_error(http.get("/_mockstudio/requests", params={"since": "yesterday"}), 400, 20001)
    assert_twilio_error(http.get("/_mockstudio/requests", params={"status": "many"}), 400, 20001)


def test_the_control_plane_is_not_recorded(http: httpx.Client) -> None:
    http.get("/_mockstudio/messages")
    http.get("/_mockstudio/health")
    http.get("/_mockstudio/requests")
    assert journal(http) == []


def test_clearing(http: httpx.Client, live: MockStudioServer) -> None:
    assert create(http).status_code == 201
    with httpx.Client(base_url=live.base_url, auth=(OTHER_ACCOUNT, OTHER_TOKEN)) as other:
        other.get(f"/v2/Flows/{OTHER_FLOW}")
    assert http.delete("/_mockstudio/requests", params={"account_sid": OTHER_ACCOUNT}).status_code == 204
    assert [e["account_sid"] for e in journal(http)] == [DEFAULT_ACCOUNT_SID]
    assert http.delete("/_mockstudio/requests").status_code == 204
    body = http.get("/_mockstudio/requests").json()
    assert body == {"requests": [], "limit": 1000, "dropped": 0}


def test_reset_clears_the_journal(http: httpx.Client) -> None:
    assert create(http).status_code == 201
    assert http.post("/_mockstudio/reset").status_code == 200
    assert journal(http) == []


def test_large_bodies_are_recorded_cut_short(http: httpx.Client) -> None:
    big = json.dumps({"blob": "x" * 40_000})
    response = http.post(
        f"/v2/Flows/{DEMO_FLOW}/Executions", data={"To": "+15550001111", "From": "+15017122661", "Parameters": big}
    )
    assert response.status_code == 201
    [entry] = journal(http)
    assert entry["form"]["To"] == "+15550001111"
    recorded = entry["form"]["Parameters"]
    assert recorded.startswith(big[:1024]) and recorded.endswith(f"... ({len(big)} characters)")


def test_error_responses_stay_twilio_shaped_with_the_journal_on(http: httpx.Client) -> None:
    assert_twilio_error(create(http, to=""), 400, 20001, "Missing required parameter To in the post body")
    assert create(http).status_code == 201
    conflict = create(http)
    body = assert_twilio_error(conflict, 409, 20409, details=conflict.json().get("details"))
    assert "already active" in body["message"]
    assert [e["status"] for e in journal(http)] == [400, 201, 409]


@pytest.fixture
def no_journal() -> Iterator[MockStudioServer]:
    with MockStudioServer(Settings(journal_limit=0)) as server:
        yield server


def test_a_limit_of_zero_turns_the_journal_off(no_journal: MockStudioServer) -> None:
    with httpx.Client(base_url=no_journal.base_url, auth=(no_journal.account_sid, no_journal.auth_token)) as client:
        assert create(client).status_code == 201
        assert client.get("/v2/Nope").status_code == 404
        assert client.get("/_mockstudio/requests").json() == {"requests": [], "limit": 0, "dropped": 0}
