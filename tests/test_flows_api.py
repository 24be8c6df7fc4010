"""The Flow routes over real HTTP: CreateFlow, ListFlow, FetchFlow, UpdateFlow, DeleteFlow,
ListFlowRevision, FetchFlowRevision, UpdateFlowValidate, FetchTestUser, UpdateTestUser,
and how executions follow the published revision."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from mockstudio.clock import ManualClock
from mockstudio.testing import MockStudioServer

from .conftest import OTHER_ACCOUNT, OTHER_TOKEN, SHARED_REFERENCE, TEST_FLOW
from .helpers import DATE_RE, FLOW_KEYS, assert_sid, assert_twilio_error, rest_trigger, spec_properties

T0_DATE = "2023-11-14T22:13:20Z"  # the live fixture's clock start, 1_700_000_000
FROM = "+15005550006"
TO = "+15551230001"
INVALID_MESSAGE = (
    "The Flow Definition is invalid. Check the error response details for an array of validation failures."
)
REVISION_KEYS = FLOW_KEYS - {"warnings", "webhook_url", "links"}
UNKNOWN_FLOW = "FW" + "ab" * 16


def definition(body: str = "Hello {{flow.data.name}}") -> dict[str, Any]:
    return {
        "description": "REST trigger -> send-and-wait-for-reply",
        "states": [
            rest_trigger("ask"),
            {
                "name": "ask",
                "type": "send-and-wait-for-reply",
                "transitions": [{"event": "incomingMessage"}, {"event": "timeout"}, {"event": "deliveryFailure"}],
                "properties": {"offset": {"x": 0, "y": 200}, "body": body, "timeout": "86400"},
            },
        ],
        "initial_state": "Trigger",
        "flags": {"allow_concurrent_calls": True},
    }


def advance(live: MockStudioServer, seconds: int) -> None:
    assert isinstance(live.clock, ManualClock)
    live.clock.advance(seconds)


def create_flow(http: httpx.Client, status: str = "published", name: str = "My flow", **extra: str) -> dict[str, Any]:
    data = {"FriendlyName": name, "Status": status, "Definition": json.dumps(definition()), **extra}
    response = http.post("/v2/Flows", data=data)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def update_flow(http: httpx.Client, sid: str, **fields: str) -> dict[str, Any]:
    response = http.post(f"/v2/Flows/{sid}", data=fields)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


# -- CreateFlow / FetchFlow / ListFlow ---------------------------------------------------------


def test_create_flow(http: httpx.Client, live: MockStudioServer) -> None:
    response = http.post(
        "/v2/Flows",
        data={
            "FriendlyName": "My flow",
            "Status": "published",
            "Definition": json.dumps(definition()),
            "CommitMessage": "first",
            "AuthorSid": "US" + "12" * 16,  # sent by current SDKs: accepted, ignored
        },
    )
    assert response.status_code == 201, response.text
    assert response.headers["content-type"].startswith("application/json")
    flow = response.json()
    assert set(flow) == FLOW_KEYS
    assert set(flow) == (spec_properties("studio.v2.flow") or FLOW_KEYS)
    sid = flow["sid"]
    assert_sid(sid, "FW")
    url = f"{live.base_url}/v2/Flows/{sid}"
    assert flow == {
        "sid": sid,
        "account_sid": live.account_sid,
        "author_sid": None,
        "friendly_name": "My flow",
        "definition": definition(),
        "status": "published",
        "revision": 1,
        "commit_message": "first",
        "valid": True,
        "errors": [],
        "warnings": [],
        "date_created": T0_DATE,
        "date_updated": None,
        "webhook_url": f"https://webhooks.twilio.com/v1/Accounts/{live.account_sid}/Flows/{sid}",
        "url": url,
        "links": {"test_users": url + "/TestUsers", "revisions": url + "/Revisions", "executions": url + "/Executions"},
    }
    fetched = http.get(f"/v2/Flows/{sid}")
    assert fetched.status_code == 200 and fetched.json() == flow


def test_created_flows_are_listed_newest_first_with_list_nulls(http: httpx.Client, live: MockStudioServer) -> None:
    advance(live, 60)
    first = create_flow(http, name="first")
    advance(live, 60)
    second = create_flow(http, "draft", name="second")
    body = http.get("/v2/Flows", params={"PageSize": 2}).json()
    assert body["meta"]["key"] == "flows"
    items = body["flows"]
    assert [f["sid"] for f in items] == [second["sid"], first["sid"]]
    assert items[0]["status"] == "draft" and items[0]["revision"] == 1
    for item in items:
        assert set(item) == FLOW_KEYS
        assert item["definition"] is item["commit_message"] is item["valid"] is None
        assert item["errors"] is item["warnings"] is None
        assert DATE_RE.match(item["date_created"])
    assert body["meta"]["next_page_url"] is not None  # the fixture flows follow


@pytest.mark.parametrize(
    ("data", "missing"),
    [
        ({"Status": "published", "Definition": "{}"}, "FriendlyName"),
        ({"FriendlyName": "x", "Definition": "{}"}, "Status"),
        ({"FriendlyName": "x", "Status": "draft"}, "Definition"),
        ({"FriendlyName": "x", "Status": "draft", "Definition": ""}, "Definition"),
        ({}, "FriendlyName"),
    ],
)
def test_create_flow_missing_parameter(http: httpx.Client, data: dict[str, str], missing: str) -> None:
    response = http.post("/v2/Flows", data=data)
    assert_twilio_error(response, 400, 20001, f"Missing required parameter {missing} in the post body")


def test_create_flow_invalid_status(http: httpx.Client) -> None:
    data = {"FriendlyName": "x", "Status": "live", "Definition": json.dumps(definition())}
    response = http.post("/v2/Flows", data=data)
    assert_twilio_error(response, 400, 20001, "Invalid Status: 'live' is not one of draft, published")


INVALID_DEFINITION: dict[str, Any] = {
    "initial_state": "Trigger",
    "states": [
        {
            "name": "Trigger",
            "type": "trigger",
            "transitions": [{"event": "incomingRequest", "next": "ask"}],
            "properties": {},
        },
        {"name": "ask", "type": "send-message", "transitions": [{"event": "sent", "next": "gone"}], "properties": {}},
        {"name": "Trigger", "type": "set-variables", "transitions": [{"event": "next"}], "properties": {}},
        {"name": "x", "type": "nonsense", "transitions": [], "properties": {}},
        {"name": "y", "type": "send-message", "transitions": [{"event": "delivered"}], "properties": {"body": "b"}},
    ],
}
INVALID_ERRORS = [
    {"message": "property 'body' is required for a send-message widget", "property_path": "#/states/1/properties/body"},
    {"message": "widget name 'Trigger' is not unique", "property_path": "#/states/2/name"},
    {"message": "unknown widget type 'nonsense'", "property_path": "#/states/3/type"},
    {
        "message": "event 'delivered' is not an event of a send-message widget",
        "property_path": "#/states/4/transitions/0/event",
    },
    # (Not "transition to 'ask', which is not a widget": ask is one, with its own problem.)
    {
        "message": "transition to 'gone', which is not a widget of this flow",
        "property_path": "#/states/1/transitions/0/next",
    },
]


@pytest.mark.parametrize("status", ["draft", "published"])
def test_create_flow_with_an_invalid_definition_is_81022(http: httpx.Client, status: str) -> None:
    before = http.get("/v2/Flows").json()["flows"]
    data = {"FriendlyName": "x", "Status": status, "Definition": json.dumps(INVALID_DEFINITION)}
    response = http.post("/v2/Flows", data=data)
    assert_twilio_error(response, 400, 81022, INVALID_MESSAGE, details={"errors": INVALID_ERRORS})
    assert http.get("/v2/Flows").json()["flows"] == before  # nothing was created


@pytest.mark.parametrize(
    ("text", "errors"),
    [
        ("[1]", [{"message": "the flow definition must be a JSON object", "property_path": "#"}]),
        (
            '{"states": [{"name": "Trigger", "type": "trigger", "transitions": [], "properties": {}}]}',
            [
                {
                    "message": "initial_state is required and must be a non-empty string",
                    "property_path": "#/initial_state",
                }
            ],
        ),
        (
            '{"initial_state": "Trigger"}',  # the spec's example request: not a valid flow
            [{"message": "states is required and must be a non-empty array", "property_path": "#/states"}],
        ),
    ],
)
def test_definition_problems_over_http(http: httpx.Client, text: str, errors: list[dict[str, str]]) -> None:
    response = http.post("/v2/Flows", data={"FriendlyName": "x", "Status": "draft", "Definition": text})
    assert_twilio_error(response, 400, 81022, INVALID_MESSAGE, details={"errors": errors})


def test_definition_that_is_not_json(http: httpx.Client) -> None:
    response = http.post("/v2/Flows", data={"FriendlyName": "x", "Status": "draft", "Definition": "{oops"})
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"code", "message", "more_info", "status", "details"}
    assert (body["code"], body["status"], body["message"]) == (81022, 400, INVALID_MESSAGE)
    assert body["more_info"] == "https://www.twilio.com/docs/errors/81022"
    errors = body["details"]["errors"]
    assert set(body["details"]) == {"errors"}
    assert len(errors) == 1 and errors[0]["property_path"] == "#"
    assert errors[0]["message"].startswith("the flow definition is not valid JSON: ")


# -- UpdateFlow and revisions --------------------------------------------------------------------


def test_update_flow_makes_revisions(http: httpx.Client, live: MockStudioServer) -> None:
    flow = create_flow(http, "draft", CommitMessage="draft one")
    sid = flow["sid"]
    advance(live, 30)
    published = update_flow(http, sid, Status="published", CommitMessage="go live")
    assert (published["revision"], published["status"], published["commit_message"]) == (2, "published", "go live")
    assert published["date_created"] == T0_DATE and published["date_updated"] == "2023-11-14T22:13:50Z"
    assert published["definition"] == definition() and published["valid"] is True
    changed = update_flow(
        http, sid, Status="draft", FriendlyName="Renamed", Definition=json.dumps(definition("Changed"))
    )
    assert (changed["revision"], changed["status"], changed["friendly_name"]) == (3, "draft", "Renamed")
    assert changed["commit_message"] is None and changed["definition"] == definition("Changed")
    # The same values again change nothing and make no revision.
    again = update_flow(http, sid, Status="draft", FriendlyName="Renamed")
    assert again == changed
    assert http.get(f"/v2/Flows/{sid}").json() == changed

    revisions = http.get(f"/v2/Flows/{sid}/Revisions")
    assert revisions.status_code == 200
    body = revisions.json()
    assert body["meta"]["key"] == "revisions"
    assert body["meta"]["url"] == f"{live.base_url}/v2/Flows/{sid}/Revisions?PageSize=50&Page=0"
    assert body["meta"]["next_page_url"] is None
    items = body["revisions"]
    assert [r["revision"] for r in items] == [3, 2, 1]
    assert [r["status"] for r in items] == ["draft", "published", "draft"]
    assert [r["friendly_name"] for r in items] == ["Renamed", "My flow", "My flow"]
    for item in items:
        assert set(item) == REVISION_KEYS
        assert set(item) == (spec_properties("studio.v2.flow.flow_revision") or REVISION_KEYS)
        assert item["definition"] is item["commit_message"] is item["valid"] is item["errors"] is None
        assert item["sid"] == sid and item["account_sid"] == live.account_sid
        assert item["url"] == f"{live.base_url}/v2/Flows/{sid}/Revisions/{item['revision']}"


def test_fetch_flow_revision(http: httpx.Client, live: MockStudioServer) -> None:
    sid = create_flow(http, "published", CommitMessage="v1")["sid"]
    advance(live, 10)
    update_flow(http, sid, Status="draft", Definition=json.dumps(definition("v2")), CommitMessage="v2")
    one = http.get(f"/v2/Flows/{sid}/Revisions/1")
    assert one.status_code == 200, one.text
    assert one.json() == {
        "sid": sid,
        "account_sid": live.account_sid,
        "author_sid": None,
        "friendly_name": "My flow",
        "definition": definition(),
        "status": "published",
        "revision": 1,
        "commit_message": "v1",
        "valid": True,
        "errors": [],
        "date_created": T0_DATE,
        "date_updated": None,
        "url": f"{live.base_url}/v2/Flows/{sid}/Revisions/1",
    }
    assert http.get(f"/v2/Flows/{sid}/Revisions/LatestPublished").json() == one.json()
    latest = http.get(f"/v2/Flows/{sid}/Revisions/LatestRevision").json()
    assert (latest["revision"], latest["status"], latest["commit_message"]) == (2, "draft", "v2")
    assert latest["definition"] == definition("v2") and latest["date_created"] == "2023-11-14T22:13:30Z"
    assert latest["url"] == f"{live.base_url}/v2/Flows/{sid}/Revisions/2"  # canonical, by number
    assert http.get(f"/v2/Flows/{sid}/Revisions/2").json() == latest
    for bad in ("3", "0", "-1", "latestpublished", "Latest", "x"):
        response = http.get(f"/v2/Flows/{sid}/Revisions/{bad}")
        assert_twilio_error(response, 404, 20404, f"The requested resource /Flows/{sid}/Revisions/{bad} was not found")


def test_latest_published_of_a_draft_only_flow_is_404(http: httpx.Client) -> None:
    sid = create_flow(http, "draft")["sid"]
    response = http.get(f"/v2/Flows/{sid}/Revisions/LatestPublished")
    assert_twilio_error(response, 404, 20404)
    assert http.get(f"/v2/Flows/{sid}/Revisions/LatestRevision").json()["status"] == "draft"


def test_revisions_are_paged(http: httpx.Client, live: MockStudioServer) -> None:
    sid = create_flow(http)["sid"]
    for n in range(2, 6):
        update_flow(http, sid, Status="published", FriendlyName=f"v{n}")
    seen: list[int] = []
    url: str | None = f"/v2/Flows/{sid}/Revisions?PageSize=2"
    pages = 0
    while url:
        body = http.get(url).json()
        seen += [r["revision"] for r in body["revisions"]]
        url = body["meta"]["next_page_url"]
        assert url is None or url.startswith(live.base_url)
        pages += 1
    assert seen == [5, 4, 3, 2, 1] and pages == 3


def test_update_flow_errors(http: httpx.Client) -> None:
    sid = create_flow(http)["sid"]
    assert_twilio_error(
        http.post(f"/v2/Flows/{sid}", data={"FriendlyName": "x"}),
        400,
        20001,
        "Missing required parameter Status in the post body",
    )
    assert_twilio_error(
        http.post(f"/v2/Flows/{sid}", data={"Status": "ended"}),
        400,
        20001,
        "Invalid Status: 'ended' is not one of draft, published",
    )
    response = http.post(f"/v2/Flows/{sid}", data={"Status": "draft", "Definition": json.dumps(INVALID_DEFINITION)})
    assert_twilio_error(response, 400, 81022, INVALID_MESSAGE, details={"errors": INVALID_ERRORS})
    assert http.get(f"/v2/Flows/{sid}").json()["revision"] == 1
    assert_twilio_error(
        http.post(f"/v2/Flows/{UNKNOWN_FLOW}", data={"Status": "draft"}),
        404,
        20404,
        f"The requested resource /Flows/{UNKNOWN_FLOW} was not found",
    )


# -- executions follow the published revision -------------------------------------------------------


def test_a_draft_only_flow_cannot_be_executed(http: httpx.Client) -> None:
    sid = create_flow(http, "draft")["sid"]
    response = http.post(f"/v2/Flows/{sid}/Executions", data={"To": TO, "From": FROM})
    assert_twilio_error(
        response,
        409,
        20409,
        f"Flow {sid} has no published revision to execute. Publish it (Status=published) before creating an Execution",
    )
    update_flow(http, sid, Status="published")
    created = http.post(f"/v2/Flows/{sid}/Executions", data={"To": TO, "From": FROM})
    assert created.status_code == 201 and created.json()["flow_version"] == 2


def test_executions_report_the_published_revision_as_flow_version(http: httpx.Client) -> None:
    sid = create_flow(http, "published")["sid"]
    first = http.post(f"/v2/Flows/{sid}/Executions", data={"To": TO, "From": FROM}).json()
    assert first["flow_version"] == 1
    update_flow(http, sid, Status="draft", Definition=json.dumps(definition("draft body")))  # revision 2
    second = http.post(f"/v2/Flows/{sid}/Executions", data={"To": "+15551230002", "From": FROM}).json()
    assert second["flow_version"] == 1  # the draft is not live
    update_flow(http, sid, Status="published")  # revision 3 publishes it
    third = http.post(f"/v2/Flows/{sid}/Executions", data={"To": "+15551230003", "From": FROM}).json()
    assert third["flow_version"] == 3
    messages = http.get("/_mockstudio/messages", params={"flow_sid": sid}).json()["messages"]
    assert [m["body"] for m in messages] == ["Hello ", "Hello ", "draft body"]
    # An execution keeps the version it started with.
    assert http.get(f"/v2/Flows/{sid}/Executions/{first['sid']}").json()["flow_version"] == 1


# -- DeleteFlow --------------------------------------------------------------------------------------


def test_delete_flow(http: httpx.Client) -> None:
    sid = create_flow(http)["sid"]
    execution = http.post(f"/v2/Flows/{sid}/Executions", data={"To": TO, "From": FROM}).json()
    bound = http.post("/_mockstudio/numbers", data={"Number": "+15557770000", "FlowSid": sid})
    assert bound.status_code == 200, bound.text

    response = http.delete(f"/v2/Flows/{sid}")
    assert response.status_code == 204 and response.content == b""

    assert_twilio_error(http.get(f"/v2/Flows/{sid}"), 404, 20404, f"The requested resource /Flows/{sid} was not found")
    assert sid not in [f["sid"] for f in http.get("/v2/Flows").json()["flows"]]
    assert_twilio_error(http.get(f"/v2/Flows/{sid}/Executions/{execution['sid']}"), 404, 20404)
    assert_twilio_error(http.get(f"/v2/Flows/{sid}/Executions"), 404, 20404)
    assert_twilio_error(http.get(f"/v2/Flows/{sid}/Revisions"), 404, 20404)
    assert_twilio_error(http.get(f"/_mockstudio/executions/{execution['sid']}/settled"), 404, 20404)
    numbers = http.get("/_mockstudio/numbers").json()["numbers"]
    assert "+15557770000" not in [n["number"] for n in numbers]
    assert_twilio_error(http.delete(f"/v2/Flows/{sid}"), 404, 20404)
    # The contact is free again: a reply from it starts nothing and resumes nothing.
    reply = http.post("/_mockstudio/messages", data={"From": TO, "To": FROM, "Body": "hi"})
    assert_twilio_error(reply, 404, 20404)


def test_delete_a_fixture_flow(http: httpx.Client) -> None:
    assert http.delete(f"/v2/Flows/{TEST_FLOW}").status_code == 204
    assert_twilio_error(http.get(f"/v2/Flows/{TEST_FLOW}"), 404, 20404)


# -- Validate ---------------------------------------------------------------------------------------


def test_validate(http: httpx.Client) -> None:
    before = http.get("/v2/Flows").json()["flows"]
    data = {"FriendlyName": "x", "Status": "published", "Definition": json.dumps(definition()), "CommitMessage": "m"}
    response = http.post("/v2/Flows/Validate", data=data)
    assert response.status_code == 200, response.text
    assert response.json() == {"valid": True}
    assert http.get("/v2/Flows").json()["flows"] == before  # validates only
    invalid = {**data, "Definition": json.dumps(INVALID_DEFINITION)}
    assert_twilio_error(
        http.post("/v2/Flows/Validate", data=invalid), 400, 81022, INVALID_MESSAGE, details={"errors": INVALID_ERRORS}
    )
    for name in ("FriendlyName", "Status", "Definition"):
        partial = {k: v for k, v in data.items() if k != name}
        assert_twilio_error(
            http.post("/v2/Flows/Validate", data=partial),
            400,
            20001,
            f"Missing required parameter {name} in the post body",
        )
    assert_twilio_error(http.post("/v2/Flows/Validate", data={**data, "Status": "x"}), 400, 20001)


@pytest.mark.skipif(
    not (SHARED_REFERENCE / "flows").is_dir(), reason=f"the reference flows are not available at {SHARED_REFERENCE}"
)
def test_validate_accepts_every_real_exported_flow(http: httpx.Client) -> None:
    paths = sorted((SHARED_REFERENCE / "flows").glob("*.json"))
    assert len(paths) == 11
    for path in paths:
        data = {"FriendlyName": path.stem, "Status": "published", "Definition": path.read_text(encoding="utf-8")}
        response = http.post("/v2/Flows/Validate", data=data)
        assert response.status_code == 200, f"{path.name}: {response.text}"
        assert response.json() == {"valid": True}


# -- TestUsers -------------------------------------------------------------------------------------


def test_test_users(http: httpx.Client, live: MockStudioServer) -> None:
    sid = create_flow(http)["sid"]
    url = f"{live.base_url}/v2/Flows/{sid}/TestUsers"
    empty = http.get(f"/v2/Flows/{sid}/TestUsers")
    assert empty.status_code == 200 and empty.json() == {"sid": sid, "test_users": [], "url": url}
    updated = http.post(f"/v2/Flows/{sid}/TestUsers", data={"TestUsers": ["user1", "user2"]})
    assert updated.status_code == 200, updated.text
    assert updated.json() == {"sid": sid, "test_users": ["user1", "user2"], "url": url}
    assert http.get(f"/v2/Flows/{sid}/TestUsers").json()["test_users"] == ["user1", "user2"]
    assert http.get(f"/v2/Flows/{sid}").json()["revision"] == 1
    assert_twilio_error(
        http.post(f"/v2/Flows/{sid}/TestUsers", data={}),
        400,
        20001,
        "Missing required parameter TestUsers in the post body",
    )
    cleared = http.post(f"/v2/Flows/{sid}/TestUsers", data={"TestUsers": ""})
    assert cleared.json()["test_users"] == []
    assert_twilio_error(http.get(f"/v2/Flows/{UNKNOWN_FLOW}/TestUsers"), 404, 20404)
    assert_twilio_error(http.post(f"/v2/Flows/{UNKNOWN_FLOW}/TestUsers", data={"TestUsers": "a"}), 404, 20404)


def _both_triggers(body: str) -> dict[str, Any]:
    """`definition(body)` with the inbound-message event wired to the same widget."""
    flow = definition(body)
    flow["states"][0]["transitions"][0] = {"event": "incomingMessage", "next": "ask"}
    return flow


def test_test_users_run_the_latest_revision_draft_included(http: httpx.Client, live: MockStudioServer) -> None:
    """A contact in TestUsers runs the newest revision, draft or not, whether the execution
    is started by the REST API or by the contact's message; everyone else runs the newest
    published one, and `flow_version` says which ran."""
    tester, other, number = "+15551239001", "+15551239002", "+15005550099"
    sid = create_flow(http, "published", Definition=json.dumps(_both_triggers("published body")))["sid"]
    update_flow(http, sid, Status="draft", Definition=json.dumps(_both_triggers("draft body")))  # revision 2
    http.post(f"/v2/Flows/{sid}/TestUsers", data={"TestUsers": [tester]})
    by_tester = http.post(f"/v2/Flows/{sid}/Executions", data={"To": tester, "From": FROM}).json()
    by_other = http.post(f"/v2/Flows/{sid}/Executions", data={"To": other, "From": FROM}).json()
    assert (by_tester["flow_version"], by_other["flow_version"]) == (2, 1)
    live.bind_number(number, sid)
    texted = [live.send_message(contact, number, "hi")["execution_sid"] for contact in (tester, other)]
    versions = [http.get(f"/v2/Flows/{sid}/Executions/{e}").json()["flow_version"] for e in texted]
    assert versions == [2, 1]
    bodies = {(m["to"], m["body"]) for m in live.messages(direction="outbound", flow_sid=sid)}
    assert bodies == {(tester, "draft body"), (other, "published body")}


def test_a_draft_only_flow_runs_for_its_test_users_only(http: httpx.Client) -> None:
    sid = create_flow(http, "draft")["sid"]
    http.post(f"/v2/Flows/{sid}/TestUsers", data={"TestUsers": [TO]})
    created = http.post(f"/v2/Flows/{sid}/Executions", data={"To": TO, "From": FROM})
    assert created.status_code == 201 and created.json()["flow_version"] == 1
    refused = http.post(f"/v2/Flows/{sid}/Executions", data={"To": "+15551239003", "From": FROM})
    assert_twilio_error(refused, 409, 20409)


# -- every route: auth, accounts, unknown flows ---------------------------------------------------------


ROUTES = [
    ("POST", "/v2/Flows"),
    ("POST", "/v2/Flows/Validate"),
    ("POST", "/v2/Flows/{sid}"),
    ("DELETE", "/v2/Flows/{sid}"),
    ("GET", "/v2/Flows/{sid}/Revisions"),
    ("GET", "/v2/Flows/{sid}/Revisions/1"),
    ("GET", "/v2/Flows/{sid}/TestUsers"),
    ("POST", "/v2/Flows/{sid}/TestUsers"),
]


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_every_flow_route_needs_credentials(anon: httpx.Client, method: str, path: str) -> None:
    response = anon.request(method, path.format(sid=TEST_FLOW))
    assert_twilio_error(response, 401, 20003)


@pytest.mark.parametrize(("method", "path"), [r for r in ROUTES if "{sid}" in r[1]])
def test_another_accounts_flow_is_not_found(live: MockStudioServer, http: httpx.Client, method: str, path: str) -> None:
    with httpx.Client(base_url=live.base_url, auth=(OTHER_ACCOUNT, OTHER_TOKEN), timeout=10) as other:
        response = other.request(method, path.format(sid=TEST_FLOW), data={"Status": "draft", "TestUsers": "x"})
    assert_twilio_error(response, 404, 20404)
    assert http.get(f"/v2/Flows/{TEST_FLOW}").json()["revision"] == 1


def test_validate_is_not_taken_for_a_flow_sid(http: httpx.Client) -> None:
    # `Validate` only exists as POST; a GET falls to FetchFlow and finds no such flow.
    assert_twilio_error(
        http.get("/v2/Flows/Validate"), 404, 20404, "The requested resource /Flows/Validate was not found"
    )
