"""Every Execution route over HTTP, against the live server (§A.3, §B, §D, §F)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from mockstudio.clock import ManualClock
from mockstudio.settings import Settings
from mockstudio.testing import MockStudioServer

from .conftest import DEMO_FLOW, OTHER_ACCOUNT, OTHER_FLOW, OTHER_TOKEN, TEST_FLOW
from .helpers import DATE_RE, assert_sid, assert_twilio_error, spec_properties

T0 = 1_700_000_000  # 2023-11-14T22:13:20Z, where the `live` fixture puts the clock
T0_TEXT = "2023-11-14T22:13:20Z"
TO = "+15551234567"
FROM = "+15557654321"
# The test flow sends a message and waits a day for a reply, so its executions stay active
# while the tests move the clock by hours.
FLOW = TEST_FLOW
EXECUTIONS = f"/v2/Flows/{FLOW}/Executions"
UNKNOWN_FLOW = "FW" + "ab" * 16
UNKNOWN_EXECUTION = "FN" + "cd" * 16

EXECUTION_KEYS = {
    "sid",
    "account_sid",
    "flow_sid",
    "contact_channel_address",
    "contact_sid",
    "flow_version",
    "context",
    "status",
    "date_created",
    "date_updated",
    "initiated_by",
    "url",
    "links",
}
META_KEYS = {"page", "page_size", "first_page_url", "previous_page_url", "url", "next_page_url", "key"}


def clock(live: MockStudioServer) -> ManualClock:
    assert isinstance(live.clock, ManualClock)
    return live.clock


def settle(http: httpx.Client, sid: str) -> None:
    """Wait until the flow engine has run the execution as far as it goes (it runs in the
    background after the create call answers), so later reads see a stable state."""
    response = http.get(f"/_mockstudio/executions/{sid}/settled")
    assert response.status_code == 200, response.text
    assert response.json()["settled"] is True


def create(http: httpx.Client, to: str = TO, from_: str = FROM, **extra: str) -> dict[str, Any]:
    response = http.post(EXECUTIONS, data={"To": to, "From": from_, **extra})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    settle(http, body["sid"])
    return body


def create_many(http: httpx.Client, live: MockStudioServer, count: int, step: float = 1, first: int = 0) -> list[str]:
    """`count` executions for distinct contacts, `step` seconds apart, oldest first; returns
    their SIDs."""
    sids = []
    for n in range(first, first + count):
        sids.append(create(http, to=f"+1555{n:07d}")["sid"])
        clock(live).advance(step)
    return sids


def listing(http: httpx.Client, url: str = EXECUTIONS, **params: str) -> dict[str, Any]:
    response = http.get(url, params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def sids_of(body: dict[str, Any]) -> list[str]:
    return [e["sid"] for e in body["executions"]]


def query_of(url: str) -> list[tuple[str, str]]:
    return parse_qsl(urlsplit(url).query, keep_blank_values=True)


# -- create -----------------------------------------------------------------------------------


def test_create_returns_201_with_the_exact_field_set(http: httpx.Client, live: MockStudioServer) -> None:
    response = http.post(EXECUTIONS, data={"To": TO, "From": FROM})
    assert response.status_code == 201
    settle(http, response.json()["sid"])
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == EXECUTION_KEYS
    spec = spec_properties("studio.v2.flow.execution")
    if spec is not None:
        assert set(body) == spec
    assert_sid(body["sid"], "FN")
    assert_sid(body["contact_sid"], "FC")
    assert_sid(body["initiated_by"], "RQ")
    assert body["account_sid"] == live.account_sid
    assert body["flow_sid"] == FLOW
    assert body["contact_channel_address"] == TO
    assert body["flow_version"] == 1
    assert body["context"] == {}
    assert body["status"] == "active"
    assert body["date_created"] == T0_TEXT
    assert body["date_updated"] == T0_TEXT
    url = f"{live.base_url}{EXECUTIONS}/{body['sid']}"
    assert body["url"] == url
    assert body["links"] == {"steps": f"{url}/Steps", "execution_context": f"{url}/Context"}


def test_dates_follow_the_clock_exactly(http: httpx.Client, live: MockStudioServer) -> None:
    clock(live).set(1_800_000_007.75)
    body = create(http)
    assert body["date_created"] == "2027-01-15T08:00:07Z"
    assert DATE_RE.match(body["date_created"]) and DATE_RE.match(body["date_updated"])


def test_fetch_execution(http: httpx.Client) -> None:
    created = create(http)
    response = http.get(f"{EXECUTIONS}/{created['sid']}")
    assert response.status_code == 200
    assert response.json() == created


def test_create_on_the_bundled_demo_flow(http: httpx.Client, live: MockStudioServer) -> None:
    response = http.post(f"/v2/Flows/{DEMO_FLOW}/Executions", data={"To": TO, "From": FROM})
    assert response.status_code == 201
    assert response.json()["url"].startswith(f"{live.base_url}/v2/Flows/{DEMO_FLOW}/Executions/FN")
    settle(http, response.json()["sid"])


def test_create_with_parameters_and_context(http: httpx.Client, live: MockStudioServer) -> None:
    parameters = {"name": "Zeke", "nested": {"list": [1, 2, 3], "flag": True}}
    created = create(http, Parameters=json.dumps(parameters))
    assert created["context"] == {}  # the live context is the Context sub-resource
    response = http.get(created["links"]["execution_context"])
    assert response.status_code == 200
    body = response.json()
    spec = spec_properties("studio.v2.flow.execution.execution_context")
    assert set(body) == (spec or {"account_sid", "context", "flow_sid", "execution_sid", "url"})
    assert body["account_sid"] == live.account_sid
    assert body["flow_sid"] == FLOW
    assert body["execution_sid"] == created["sid"]
    assert body["url"] == f"{created['url']}/Context"
    context = body["context"]
    assert context["flow"]["data"] == parameters
    assert context["flow"]["flow_sid"] == FLOW
    assert context["flow"]["sid"] == created["sid"]
    assert context["flow"]["channel"] == {"address": FROM}
    assert context["contact"] == {"channel": {"address": TO}}
    assert context["trigger"] == {"request": {"from": FROM, "to": TO, "parameters": parameters}}
    assert context["widgets"] == {}


def test_context_without_parameters_has_empty_data(http: httpx.Client) -> None:
    created = create(http)
    context = http.get(created["links"]["execution_context"]).json()["context"]
    assert context["flow"]["data"] == {}
    assert context["trigger"]["request"]["parameters"] == {}


def test_unknown_form_fields_are_ignored(http: httpx.Client) -> None:
    assert create(http, ExternalId="random_external_id", AuthorSid="US" + "0" * 32)["status"] == "active"


@pytest.mark.parametrize(
    ("data", "missing"),
    [
        ({"From": FROM}, "To"),
        ({"To": "", "From": FROM}, "To"),
        ({"To": TO}, "From"),
        ({"To": TO, "From": ""}, "From"),
        ({}, "To"),
    ],
)
def test_create_missing_parameter(http: httpx.Client, data: dict[str, str], missing: str) -> None:
    response = http.post(EXECUTIONS, data=data)
    assert_twilio_error(response, 400, 20001, f"Missing required parameter {missing} in the post body")


def test_create_with_no_body_at_all(http: httpx.Client) -> None:
    response = http.post(EXECUTIONS)
    assert_twilio_error(response, 400, 20001, "Missing required parameter To in the post body")


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        ("{not json", "Invalid Parameters: the value is not valid JSON"),
        ("[1, 2]", "Invalid Parameters: the JSON value must be an object"),
        ('"Zeke"', "Invalid Parameters: the JSON value must be an object"),
    ],
)
def test_create_with_bad_parameters(http: httpx.Client, parameters: str, message: str) -> None:
    response = http.post(EXECUTIONS, data={"To": TO, "From": FROM, "Parameters": parameters})
    assert_twilio_error(response, 400, 20001, message)
    assert sids_of(listing(http)) == []


def test_conflict_body_is_exactly_as_documented(http: httpx.Client) -> None:
    first = create(http)
    response = http.post(EXECUTIONS, data={"To": TO, "From": FROM})
    assert_twilio_error(
        response,
        409,
        20409,
        f"Execution {first['sid']} is already active for this contact. "
        "End the active Execution before creating a new one",
        details={"conflicting_execution_sid": first["sid"]},
    )
    assert response.json() == {
        "code": 20409,
        "details": {"conflicting_execution_sid": first["sid"]},
        "message": f"Execution {first['sid']} is already active for this contact. "
        "End the active Execution before creating a new one",
        "more_info": "https://www.twilio.com/docs/errors/20409",
        "status": 409,
    }


def test_contact_sid_is_stable_per_contact(http: httpx.Client) -> None:
    first = create(http)
    http.post(f"{EXECUTIONS}/{first['sid']}", data={"Status": "ended"})
    second = create(http)
    third = create(http, to="+15550000000")
    assert second["contact_sid"] == first["contact_sid"]
    assert third["contact_sid"] != first["contact_sid"]
    assert second["initiated_by"] != first["initiated_by"]


# -- update -----------------------------------------------------------------------------------


def test_end_execution(http: httpx.Client, live: MockStudioServer) -> None:
    created = create(http)
    clock(live).advance(61)
    response = http.post(created["url"], data={"Status": "ended"})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == EXECUTION_KEYS
    assert body["status"] == "ended"
    assert body["date_created"] == T0_TEXT
    assert body["date_updated"] == "2023-11-14T22:14:21Z"
    assert {k: v for k, v in body.items() if k not in ("status", "date_updated")} == {
        k: v for k, v in created.items() if k not in ("status", "date_updated")
    }
    assert http.get(created["url"]).json() == body
    # The contact is free again.
    assert create(http)["sid"] != created["sid"]


def test_end_twice_is_a_conflict(http: httpx.Client, live: MockStudioServer) -> None:
    created = create(http)
    assert http.post(created["url"], data={"Status": "ended"}).status_code == 200
    clock(live).advance(5)
    response = http.post(created["url"], data={"Status": "ended"})
    assert_twilio_error(response, 409, 20409, f"Execution {created['sid']} has already ended")
    assert http.get(created["url"]).json()["date_updated"] == T0_TEXT


def test_update_without_status(http: httpx.Client) -> None:
    created = create(http)
    for data in ({}, {"Status": ""}, {"status": "ended"}):
        response = http.post(created["url"], data=data)
        assert_twilio_error(response, 400, 20001, "Missing required parameter Status in the post body")


@pytest.mark.parametrize("status", ["active", "bogus", "ENDED"])
def test_update_with_another_status_is_rejected(http: httpx.Client, status: str) -> None:
    created = create(http)
    response = http.post(created["url"], data={"Status": status})
    body = assert_twilio_error(response, 400, 20001)
    assert status in body["message"]
    assert http.get(created["url"]).json()["status"] == "active"


# -- delete -----------------------------------------------------------------------------------


def test_delete_execution(http: httpx.Client) -> None:
    created = create(http)
    response = http.delete(created["url"])
    assert response.status_code == 204
    assert response.content == b""
    path = f"/Flows/{FLOW}/Executions/{created['sid']}"
    assert_twilio_error(http.get(created["url"]), 404, 20404, f"The requested resource {path} was not found")
    assert_twilio_error(http.delete(created["url"]), 404, 20404)
    assert_twilio_error(http.post(created["url"], data={"Status": "ended"}), 404, 20404)
    assert_twilio_error(http.get(created["links"]["execution_context"]), 404, 20404)
    assert_twilio_error(http.get(created["links"]["steps"]), 404, 20404)
    assert sids_of(listing(http)) == []
    # Deleting an active execution frees its contact.
    assert create(http)["contact_sid"] == created["contact_sid"]


def test_delete_ended_execution(http: httpx.Client) -> None:
    created = create(http)
    http.post(created["url"], data={"Status": "ended"})
    assert http.delete(created["url"]).status_code == 204
    assert sids_of(listing(http, status="ended")) == []


# -- list: envelope and paging ----------------------------------------------------------------


def test_empty_list_meta_is_exact(http: httpx.Client, live: MockStudioServer) -> None:
    body = listing(http)
    first = f"{live.base_url}{EXECUTIONS}?PageSize=50&Page=0"
    assert body == {
        "executions": [],
        "meta": {
            "page": 0,
            "page_size": 50,
            "first_page_url": first,
            "previous_page_url": None,
            "url": first,
            "next_page_url": None,
            "key": "executions",
        },
    }
    assert set(body["meta"]) == META_KEYS


def test_list_items_are_full_executions_newest_first(http: httpx.Client, live: MockStudioServer) -> None:
    sids = create_many(http, live, 3)
    body = listing(http)
    assert sids_of(body) == sids[::-1]
    fetched = http.get(f"{EXECUTIONS}/{sids[0]}").json()
    assert body["executions"][-1] == fetched
    assert all(set(item) == EXECUTION_KEYS for item in body["executions"])


def test_same_second_executions_are_newest_first(http: httpx.Client, live: MockStudioServer) -> None:
    sids = create_many(http, live, 4, step=0)
    assert sids_of(listing(http)) == sids[::-1]


def test_default_page_size_is_50(http: httpx.Client, live: MockStudioServer) -> None:
    sids = create_many(http, live, 51, step=0)
    body = listing(http)
    assert body["meta"]["page_size"] == 50
    assert sids_of(body) == sids[:0:-1]
    assert body["meta"]["next_page_url"] is not None
    rest = http.get(body["meta"]["next_page_url"]).json()
    assert sids_of(rest) == [sids[0]]
    assert rest["meta"]["next_page_url"] is None


def test_walking_next_page_urls_gets_every_execution_once(http: httpx.Client, live: MockStudioServer) -> None:
    sids = create_many(http, live, 8)
    base = f"{live.base_url}{EXECUTIONS}"
    first = listing(http, PageSize="3")
    meta = first["meta"]
    assert meta == {
        "page": 0,
        "page_size": 3,
        "first_page_url": f"{base}?PageSize=3&Page=0",
        "previous_page_url": None,
        "url": f"{base}?PageSize=3&Page=0",
        "next_page_url": meta["next_page_url"],
        "key": "executions",
    }
    seen = sids_of(first)
    pages = [first]
    url = meta["next_page_url"]
    while url is not None:
        assert url.startswith(f"{base}?PageSize=3&Page={len(pages)}&PageToken=PA")
        page = http.get(url).json()
        assert page["meta"]["url"] == url
        assert page["meta"]["page"] == len(pages)
        assert page["meta"]["first_page_url"] == f"{base}?PageSize=3&Page=0"
        assert page["meta"]["previous_page_url"] is not None
        seen += sids_of(page)
        pages.append(page)
        url = page["meta"]["next_page_url"]
    assert seen == sids[::-1]
    assert [len(p["executions"]) for p in pages] == [3, 3, 2]


def test_previous_page_url_goes_back(http: httpx.Client, live: MockStudioServer) -> None:
    create_many(http, live, 7)
    base = f"{live.base_url}{EXECUTIONS}"
    first = listing(http, PageSize="3")
    second = http.get(first["meta"]["next_page_url"]).json()
    third = http.get(second["meta"]["next_page_url"]).json()
    previous = third["meta"]["previous_page_url"]
    assert previous.startswith(f"{base}?PageSize=3&Page=1&PageToken=PB")
    back = http.get(previous).json()
    assert back["executions"] == second["executions"]
    assert back["meta"]["page"] == 1
    top = http.get(back["meta"]["previous_page_url"]).json()
    assert top["executions"] == first["executions"]
    assert top["meta"]["page"] == 0
    assert top["meta"]["previous_page_url"] is None
    assert top["meta"]["next_page_url"] is not None


def test_paging_by_page_number_without_token(http: httpx.Client, live: MockStudioServer) -> None:
    sids = create_many(http, live, 5)
    body = listing(http, PageSize="2", Page="1")
    assert sids_of(body) == [sids[2], sids[1]]
    assert body["meta"]["page"] == 1
    assert body["meta"]["previous_page_url"] is not None
    assert sids_of(http.get(body["meta"]["previous_page_url"]).json()) == [sids[4], sids[3]]
    assert sids_of(http.get(body["meta"]["next_page_url"]).json()) == [sids[0]]


def test_next_page_url_is_stable_when_executions_are_added(http: httpx.Client, live: MockStudioServer) -> None:
    sids = create_many(http, live, 4)
    first = listing(http, PageSize="2")
    create_many(http, live, 3, first=100)  # newer than everything already listed
    second = http.get(first["meta"]["next_page_url"]).json()
    assert sids_of(second) == [sids[1], sids[0]]


def test_page_size_above_1000_is_clamped(http: httpx.Client, live: MockStudioServer) -> None:
    body = listing(http, PageSize="5000")
    assert body["meta"]["page_size"] == 1000
    assert body["meta"]["url"] == f"{live.base_url}{EXECUTIONS}?PageSize=1000&Page=0"


@pytest.mark.parametrize(
    ("name", "value"),
    [("PageSize", "0"), ("PageSize", "-5"), ("PageSize", "ten"), ("Page", "-1"), ("Page", "x"), ("Page", str(10**25))],
)
def test_bad_paging_parameters(http: httpx.Client, name: str, value: str) -> None:
    body = assert_twilio_error(http.get(EXECUTIONS, params={name: value}), 400, 20001)
    assert name in body["message"]


@pytest.mark.parametrize("token", ["garbage", "PA", "PAzz-00000000", "PB1-ffffffff"])
def test_invalid_page_token(http: httpx.Client, token: str) -> None:
    response = http.get(EXECUTIONS, params={"PageToken": token})
    assert_twilio_error(response, 400, 21481, "Invalid PageToken")


def test_page_token_used_with_other_filters(http: httpx.Client, live: MockStudioServer) -> None:
    create_many(http, live, 4)
    first = listing(http, PageSize="2", status="active")
    token = dict(query_of(first["meta"]["next_page_url"]))["PageToken"]
    ok = http.get(EXECUTIONS, params={"PageSize": "2", "Page": "1", "PageToken": token, "status": "active"})
    assert ok.status_code == 200
    for other in ({}, {"status": "ended"}, {"status": "active", "DateCreatedFrom": "2020-01-01"}):
        response = http.get(EXECUTIONS, params={"PageSize": "2", "Page": "1", "PageToken": token, **other})
        assert_twilio_error(response, 400, 21481, "Invalid PageToken")


# -- list: filters ----------------------------------------------------------------------------


def test_status_filter(http: httpx.Client, live: MockStudioServer) -> None:
    a, b, c = create_many(http, live, 3)
    http.post(f"{EXECUTIONS}/{b}", data={"Status": "ended"})
    assert sids_of(listing(http, status="active")) == [c, a]
    assert sids_of(listing(http, status="ended")) == [b]
    assert sids_of(listing(http, Status="ended")) == [b]  # tolerated
    assert sids_of(listing(http)) == [c, b, a]


def test_invalid_status_filter(http: httpx.Client) -> None:
    body = assert_twilio_error(http.get(EXECUTIONS, params={"status": "running"}), 400, 20001)
    assert "status" in body["message"]


@pytest.fixture
def three_hours(http: httpx.Client, live: MockStudioServer) -> list[str]:
    """Executions at 22:13:20Z, 23:13:20Z (Nov 14) and 00:13:20Z (Nov 15, 2023)."""
    return create_many(http, live, 3, step=3600)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"DateCreatedFrom": "2023-11-14T22:13:20Z"}, [2, 1, 0]),  # from is inclusive
        ({"DateCreatedFrom": "2023-11-14T22:13:21Z"}, [2, 1]),
        ({"DateCreatedTo": "2023-11-14T23:13:20Z"}, [0]),  # to is exclusive
        ({"DateCreatedTo": "2023-11-14T23:13:21Z"}, [1, 0]),
        ({"DateCreatedFrom": "2023-11-15"}, [2]),  # bare dates: midnight UTC
        ({"DateCreatedTo": "2023-11-15"}, [1, 0]),
        ({"DateCreatedFrom": "2023-11-14", "DateCreatedTo": "2023-11-15"}, [1, 0]),
        ({"DateCreatedFrom": "2023-11-14", "DateCreatedTo": "2023-11-14"}, []),
        ({"DateCreatedFrom": "2023-11-15T01:13:20+01:00"}, [2]),  # offsets
        ({"DateCreatedFrom": "2023-11-14T18:13:20-05:00"}, [2, 1]),
        ({"DateCreatedTo": "2023-11-14T17:13:21-05:00"}, [0]),
        ({"DateCreatedFrom": "2023-11-14T22:13:20.999Z"}, [2, 1, 0]),  # fractions truncate
    ],
)
def test_date_filters(http: httpx.Client, three_hours: list[str], params: dict[str, str], expected: list[int]) -> None:
    assert sids_of(listing(http, **params)) == [three_hours[i] for i in expected]


def test_unencoded_plus_in_offset(http: httpx.Client, three_hours: list[str], live: MockStudioServer) -> None:
    # A client that forgets to encode `+` sends it raw; the query decoder turns it into a space.
    url = f"{live.base_url}{EXECUTIONS}?DateCreatedFrom=2023-11-15T01:13:20+01:00"
    response = http.get(url)
    assert response.status_code == 200, response.text
    body = response.json()
    assert sids_of(body) == [three_hours[2]]
    assert dict(query_of(body["meta"]["url"]))["DateCreatedFrom"] == "2023-11-15T01:13:20 01:00"


def test_filters_are_echoed_into_every_paging_url(http: httpx.Client, live: MockStudioServer) -> None:
    create_many(http, live, 5)
    params = {
        "status": "active",
        "DateCreatedFrom": "2023-11-14T00:00:00+02:00",
        "DateCreatedTo": "2023-11-16",
    }
    first = listing(http, PageSize="2", **params)
    meta = first["meta"]
    expected = list(params.items())
    for key in ("first_page_url", "url", "next_page_url"):
        assert query_of(meta[key])[:3] == expected, key
    assert query_of(meta["first_page_url"])[3:] == [("PageSize", "2"), ("Page", "0")]
    assert "%2B02%3A00" in meta["url"]  # the offset's `+` is encoded
    second = http.get(meta["next_page_url"]).json()
    third = http.get(second["meta"]["next_page_url"]).json()
    for page in (second, third):
        for key in ("first_page_url", "url", "previous_page_url"):
            assert query_of(page["meta"][key])[:3] == expected, key
    assert third["meta"]["next_page_url"] is None
    assert len(first["executions"] + second["executions"] + third["executions"]) == 5
    back = http.get(third["meta"]["previous_page_url"]).json()
    assert back["executions"] == second["executions"]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DateCreatedFrom", "yesterday"),
        ("DateCreatedTo", "2023-02-30"),
        ("DateCreatedFrom", "0001-01-01T00:00:00+01:00"),
        ("DateCreatedTo", "9999-12-31T23:00:00-05:00"),
    ],
)
def test_invalid_date_filter(http: httpx.Client, name: str, value: str) -> None:
    body = assert_twilio_error(http.get(EXECUTIONS, params={name: value}), 400, 20001)
    assert body["message"].startswith(f"Invalid {name}: ")


# -- not found --------------------------------------------------------------------------------


def not_found(response: httpx.Response, path: str) -> None:
    assert_twilio_error(response, 404, 20404, f"The requested resource {path} was not found")


@pytest.mark.parametrize("flow", [UNKNOWN_FLOW, "FW123", "nonsense", OTHER_FLOW])
def test_unknown_or_foreign_flow(http: httpx.Client, flow: str) -> None:
    base = f"/Flows/{flow}/Executions"
    not_found(http.get(f"/v2{base}"), base)
    not_found(http.post(f"/v2{base}", data={"To": TO, "From": FROM}), base)
    not_found(http.get(f"/v2{base}/{UNKNOWN_EXECUTION}"), f"{base}/{UNKNOWN_EXECUTION}")
    not_found(http.post(f"/v2{base}/{UNKNOWN_EXECUTION}", data={"Status": "ended"}), f"{base}/{UNKNOWN_EXECUTION}")
    not_found(http.delete(f"/v2{base}/{UNKNOWN_EXECUTION}"), f"{base}/{UNKNOWN_EXECUTION}")
    not_found(http.get(f"/v2{base}/{UNKNOWN_EXECUTION}/Context"), f"{base}/{UNKNOWN_EXECUTION}/Context")


def test_unknown_flow_wins_over_missing_parameters(http: httpx.Client) -> None:
    not_found(http.post(f"/v2/Flows/{UNKNOWN_FLOW}/Executions"), f"/Flows/{UNKNOWN_FLOW}/Executions")


@pytest.mark.parametrize("sid", [UNKNOWN_EXECUTION, "FN123", "FT" + "0" * 32, "x"])
def test_unknown_or_malformed_execution(http: httpx.Client, sid: str) -> None:
    create(http)
    path = f"/Flows/{FLOW}/Executions/{sid}"
    not_found(http.get(f"/v2{path}"), path)
    not_found(http.post(f"/v2{path}", data={"Status": "ended"}), path)
    not_found(http.delete(f"/v2{path}"), path)
    not_found(http.get(f"/v2{path}/Context"), f"{path}/Context")


def test_execution_through_another_flow_is_not_found(http: httpx.Client) -> None:
    created = create(http)
    path = f"/Flows/{DEMO_FLOW}/Executions/{created['sid']}"
    not_found(http.get(f"/v2{path}"), path)
    not_found(http.delete(f"/v2{path}"), path)
    assert http.get(created["url"]).status_code == 200


def test_another_accounts_execution_is_not_found(http: httpx.Client, live: MockStudioServer) -> None:
    with httpx.Client(base_url=live.base_url, auth=(OTHER_ACCOUNT, OTHER_TOKEN), timeout=10) as other:
        response = other.post(f"/v2/Flows/{OTHER_FLOW}/Executions", data={"To": TO, "From": FROM})
        assert response.status_code == 201
        theirs = response.json()
        settle(other, theirs["sid"])
        assert theirs["account_sid"] == OTHER_ACCOUNT
        # The same contact is free in the default account: state is per account.
        mine = create(http)
        assert mine["contact_sid"] != theirs["contact_sid"]
        assert_twilio_error(other.get(mine["url"]), 404, 20404)
        assert sids_of(listing(http)) == [mine["sid"]]
    path = f"/Flows/{OTHER_FLOW}/Executions/{theirs['sid']}"
    not_found(http.get(f"/v2{path}"), path)
    not_found(http.delete(f"/v2{path}"), path)
    path = f"/Flows/{FLOW}/Executions/{theirs['sid']}"
    not_found(http.get(f"/v2{path}"), path)


# -- --accept-any-flow and public_url ---------------------------------------------------------


@pytest.fixture(scope="module")
def any_flow_server() -> Iterator[MockStudioServer]:
    with MockStudioServer(Settings(accept_any_flow=True)) as server:
        yield server


def test_accept_any_flow(any_flow_server: MockStudioServer) -> None:
    server = any_flow_server
    with httpx.Client(base_url=server.base_url, auth=(server.account_sid, server.auth_token)) as client:
        path = f"/v2/Flows/{UNKNOWN_FLOW}/Executions"
        response = client.post(path, data={"To": TO, "From": FROM})
        assert response.status_code == 201, response.text
        created = response.json()
        assert created["flow_sid"] == UNKNOWN_FLOW
        assert created["url"] == f"{server.base_url}{path}/{created['sid']}"
        assert client.get(created["url"]).status_code == 200
        assert sids_of(client.get(path).json()) == [created["sid"]]
        assert UNKNOWN_FLOW in [f["sid"] for f in client.get("/v2/Flows").json()["flows"]]
        for malformed in ("FW123", "FN" + "0" * 32, "FW" + "z" * 32):
            response = client.post(f"/v2/Flows/{malformed}/Executions", data={"To": TO, "From": FROM})
            assert_twilio_error(
                response, 404, 20404, f"The requested resource /Flows/{malformed}/Executions was not found"
            )


def test_public_url_is_used_for_every_url() -> None:
    public = "https://mock.example:8443"
    executions = f"/v2/Flows/{DEMO_FLOW}/Executions"  # no test fixtures here: the bundled flow
    with (
        MockStudioServer(Settings(public_url=public + "/")) as server,
        httpx.Client(base_url=server.base_url, auth=(server.account_sid, server.auth_token)) as client,
    ):
        created = client.post(executions, data={"To": TO, "From": FROM}).json()
        url = f"{public}{executions}/{created['sid']}"
        assert created["url"] == url
        assert created["links"] == {"steps": f"{url}/Steps", "execution_context": f"{url}/Context"}
        context = client.get(f"{executions}/{created['sid']}/Context").json()
        assert context["url"] == f"{url}/Context"
        client.post(executions, data={"To": "+15550000000", "From": FROM})
        meta = client.get(executions, params={"PageSize": "1"}).json()["meta"]
        for key in ("first_page_url", "url", "next_page_url"):
            assert meta[key].startswith(f"{public}{executions}?PageSize=1&Page="), key
        second = client.get(executions + "?" + urlsplit(meta["next_page_url"]).query).json()
        assert second["meta"]["previous_page_url"].startswith(f"{public}{executions}?PageSize=1&Page=0&")
        steps = client.get(f"{executions}/{created['sid']}/Steps").json()
        assert steps["meta"]["url"] == f"{url}/Steps?PageSize=50&Page=0"
        flow = client.get(f"/v2/Flows/{DEMO_FLOW}").json()
        assert flow["url"] == f"{public}/v2/Flows/{DEMO_FLOW}"
