"""Steps, Flows (read side) and the control plane's health and reset, over HTTP."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from mockstudio import __version__
from mockstudio.testing import MockStudioServer

from .conftest import DEMO_FLOW, OTHER_ACCOUNT, OTHER_FLOW, OTHER_TOKEN, TEST_FLOW
from .helpers import DATE_RE, FLOW_KEYS, assert_sid, assert_twilio_error, spec_properties

TO = "+15551234567"
FROM = "+15557654321"
T0_TEXT = "2023-11-14T22:13:20Z"
UNKNOWN_STEP = "FT" + "ab" * 16

STEP_KEYS = {
    "sid",
    "account_sid",
    "flow_sid",
    "execution_sid",
    "parent_step_sid",
    "name",
    "context",
    "transitioned_from",
    "transitioned_to",
    "type",
    "date_created",
    "date_updated",
    "url",
    "links",
}


def start(http: httpx.Client, flow: str = TEST_FLOW, to: str = TO) -> dict[str, Any]:
    """A new execution, once the engine has run it as far as it goes."""
    response = http.post(f"/v2/Flows/{flow}/Executions", data={"To": to, "From": FROM})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    settled = http.get(f"/_mockstudio/executions/{body['sid']}/settled")
    assert settled.status_code == 200 and settled.json()["settled"] is True
    return body


def not_found(response: httpx.Response, path: str) -> None:
    assert_twilio_error(response, 404, 20404, f"The requested resource {path} was not found")


# -- Steps ------------------------------------------------------------------------------------


def test_steps_list_meta_is_exact(http: httpx.Client) -> None:
    execution = start(http)
    steps_url = execution["links"]["steps"]
    response = http.get(steps_url)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"steps", "meta"}
    assert body["meta"] == {
        "page": 0,
        "page_size": 50,
        "first_page_url": f"{steps_url}?PageSize=50&Page=0",
        "previous_page_url": None,
        "url": f"{steps_url}?PageSize=50&Page=0",
        "next_page_url": None,
        "key": "steps",
    }


def test_steps_list_empty_page(http: httpx.Client) -> None:
    execution = start(http)
    steps_url = execution["links"]["steps"]
    body = http.get(steps_url, params={"PageSize": "10", "Page": "3"}).json()
    assert body["steps"] == []
    assert body["meta"]["page"] == 3
    assert body["meta"]["page_size"] == 10
    assert body["meta"]["url"] == f"{steps_url}?PageSize=10&Page=3"
    assert body["meta"]["next_page_url"] is None


def test_step_items_fetch_and_context(http: httpx.Client, live: MockStudioServer) -> None:
    execution = start(http)
    steps = http.get(execution["links"]["steps"]).json()["steps"]
    assert len(steps) >= 1
    for step in steps:
        assert set(step) == STEP_KEYS
        spec = spec_properties("studio.v2.flow.execution.execution_step")
        if spec is not None:
            assert set(step) == spec
        assert_sid(step["sid"], "FT")
        assert step["account_sid"] == live.account_sid
        assert step["flow_sid"] == TEST_FLOW
        assert step["execution_sid"] == execution["sid"]
        assert DATE_RE.match(step["date_created"])
        url = f"{execution['url']}/Steps/{step['sid']}"
        assert step["url"] == url
        assert step["links"] == {"step_context": f"{url}/Context"}
        fetched = http.get(step["url"])
        assert fetched.status_code == 200
        assert fetched.json() == step
        context = http.get(step["links"]["step_context"])
        assert context.status_code == 200
        body = context.json()
        spec = spec_properties("studio.v2.flow.execution.execution_step.execution_step_context")
        assert set(body) == (spec or {"account_sid", "context", "execution_sid", "flow_sid", "step_sid", "url"})
        assert body["step_sid"] == step["sid"]
        assert body["execution_sid"] == execution["sid"]
        assert body["flow_sid"] == TEST_FLOW
        assert body["account_sid"] == live.account_sid
        assert body["url"] == f"{url}/Context"
        assert body["context"] == step["context"]
    # The first step leaves the trigger.
    first = steps[-1]
    assert first["transitioned_from"] == "Trigger"
    assert first["name"] == "incomingRequest"
    assert first["date_created"] == T0_TEXT


def test_steps_paging(http: httpx.Client) -> None:
    execution = start(http)
    everything = http.get(execution["links"]["steps"]).json()["steps"]
    first = http.get(execution["links"]["steps"], params={"PageSize": "1"}).json()
    assert first["steps"] == everything[:1]
    assert (first["meta"]["next_page_url"] is None) == (len(everything) == 1)


def test_fetch_unknown_step(http: httpx.Client) -> None:
    execution = start(http)
    base = f"/Flows/{TEST_FLOW}/Executions/{execution['sid']}/Steps"
    for sid in (UNKNOWN_STEP, "FT123", "nope"):
        not_found(http.get(f"/v2{base}/{sid}"), f"{base}/{sid}")
        not_found(http.get(f"/v2{base}/{sid}/Context"), f"{base}/{sid}/Context")


def test_steps_of_unknown_execution_or_flow(http: httpx.Client) -> None:
    execution = start(http)
    step = http.get(execution["links"]["steps"]).json()["steps"][0]
    unknown_execution = "FN" + "cd" * 16
    path = f"/Flows/{TEST_FLOW}/Executions/{unknown_execution}/Steps"
    not_found(http.get(f"/v2{path}"), path)
    path = f"/Flows/{DEMO_FLOW}/Executions/{execution['sid']}/Steps/{step['sid']}"
    not_found(http.get(f"/v2{path}"), path)
    not_found(http.get(f"/v2{path}/Context"), f"{path}/Context")


def test_steps_are_gone_with_their_execution(http: httpx.Client) -> None:
    execution = start(http)
    step = http.get(execution["links"]["steps"]).json()["steps"][0]
    assert http.delete(execution["url"]).status_code == 204
    assert_twilio_error(http.get(execution["links"]["steps"]), 404, 20404)
    assert_twilio_error(http.get(step["url"]), 404, 20404)
    assert_twilio_error(http.get(step["links"]["step_context"]), 404, 20404)


def test_bad_paging_on_steps(http: httpx.Client) -> None:
    execution = start(http)
    assert_twilio_error(http.get(execution["links"]["steps"], params={"PageSize": "0"}), 400, 20001)
    assert_twilio_error(http.get(execution["links"]["steps"], params={"PageToken": "nope"}), 400, 21481)


# -- Flows ------------------------------------------------------------------------------------


def test_list_flows(http: httpx.Client, live: MockStudioServer) -> None:
    response = http.get("/v2/Flows")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"flows", "meta"}
    base = f"{live.base_url}/v2/Flows"
    assert body["meta"] == {
        "page": 0,
        "page_size": 50,
        "first_page_url": f"{base}?PageSize=50&Page=0",
        "previous_page_url": None,
        "url": f"{base}?PageSize=50&Page=0",
        "next_page_url": None,
        "key": "flows",
    }
    sids = {f["sid"] for f in body["flows"]}
    assert {DEMO_FLOW, TEST_FLOW} <= sids
    assert OTHER_FLOW not in sids
    spec = spec_properties("studio.v2.flow")
    for item in body["flows"]:
        assert set(item) == FLOW_KEYS
        if spec is not None:
            assert set(item) == spec
        # List items carry no definition (§A.5).
        for key in ("definition", "commit_message", "valid", "errors", "warnings"):
            assert item[key] is None, key
        assert_sid(item["sid"], "FW")
        assert item["account_sid"] == live.account_sid
        assert item["status"] in ("draft", "published")
        assert isinstance(item["revision"], int)
        assert DATE_RE.match(item["date_created"])
        url = f"{base}/{item['sid']}"
        assert item["url"] == url
        assert item["links"] == {
            "test_users": f"{url}/TestUsers",
            "revisions": f"{url}/Revisions",
            "executions": f"{url}/Executions",
        }
        assert item["webhook_url"] == f"https://webhooks.twilio.com/v1/Accounts/{live.account_sid}/Flows/{item['sid']}"


def test_list_flows_paging(http: httpx.Client) -> None:
    everything = [f["sid"] for f in http.get("/v2/Flows").json()["flows"]]
    assert len(everything) >= 2
    seen: list[str] = []
    url: str | None = "/v2/Flows?PageSize=1"
    while url is not None:
        page = http.get(url).json()
        assert len(page["flows"]) == 1
        seen += [f["sid"] for f in page["flows"]]
        url = page["meta"]["next_page_url"]
    assert seen == everything


def test_fetch_flow(http: httpx.Client, live: MockStudioServer) -> None:
    response = http.get(f"/v2/Flows/{DEMO_FLOW}")
    assert response.status_code == 200
    flow = response.json()
    assert set(flow) == FLOW_KEYS
    assert flow["sid"] == DEMO_FLOW
    assert isinstance(flow["definition"], dict)
    assert flow["definition"]["initial_state"] == "Trigger"
    assert isinstance(flow["definition"]["states"], list)
    assert flow["commit_message"] == "Bundled with mockstudio"
    assert flow["valid"] is True
    assert flow["errors"] == [] and flow["warnings"] == []
    assert flow["status"] == "published"
    assert flow["revision"] == 1
    assert flow["date_created"] == T0_TEXT
    assert flow["url"] == f"{live.base_url}/v2/Flows/{DEMO_FLOW}"
    assert set(flow["links"]) == {"test_users", "revisions", "executions"}
    listed = next(f for f in http.get("/v2/Flows").json()["flows"] if f["sid"] == DEMO_FLOW)
    same = {"definition", "commit_message", "valid", "errors", "warnings"}
    assert {k: v for k, v in listed.items() if k not in same} == {k: v for k, v in flow.items() if k not in same}


def test_fixture_flow_definition_comes_from_its_file(http: httpx.Client) -> None:
    flow = http.get(f"/v2/Flows/{TEST_FLOW}").json()
    assert flow["friendly_name"] == "Test flow (default account)"
    assert flow["definition"]["states"][0]["name"] == "Trigger"


@pytest.mark.parametrize("sid", ["FW" + "ab" * 16, OTHER_FLOW, "FW123", "nope"])
def test_fetch_unknown_or_foreign_flow(http: httpx.Client, sid: str) -> None:
    not_found(http.get(f"/v2/Flows/{sid}"), f"/Flows/{sid}")


def test_other_account_sees_its_own_flows(live: MockStudioServer) -> None:
    with httpx.Client(base_url=live.base_url, auth=(OTHER_ACCOUNT, OTHER_TOKEN), timeout=10) as other:
        flows = other.get("/v2/Flows").json()["flows"]
        assert [f["sid"] for f in flows] == [OTHER_FLOW]
        assert flows[0]["account_sid"] == OTHER_ACCOUNT
        assert other.get(f"/v2/Flows/{OTHER_FLOW}").status_code == 200
        assert other.get(f"/v2/Flows/{DEMO_FLOW}").status_code == 404


# -- control plane: health and reset ----------------------------------------------------------


def test_health_needs_no_auth(anon: httpx.Client) -> None:
    response = anon.get("/_mockstudio/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "version": __version__}


def test_reset_clears_executions_and_reloads_flows(http: httpx.Client, anon: httpx.Client) -> None:
    execution = start(http)
    flows_before = http.get("/v2/Flows").json()["flows"]
    response = anon.post("/_mockstudio/reset")
    assert response.status_code == 200
    assert response.json() == {"reset": "all"}
    assert_twilio_error(http.get(execution["url"]), 404, 20404)
    assert http.get(f"/v2/Flows/{TEST_FLOW}/Executions").json()["executions"] == []
    assert http.get("/v2/Flows").json()["flows"] == flows_before
    # The contact is free again.
    start(http)


def test_reset_one_account(http: httpx.Client, live: MockStudioServer) -> None:
    mine = start(http)
    with httpx.Client(base_url=live.base_url, auth=(OTHER_ACCOUNT, OTHER_TOKEN), timeout=10) as other:
        theirs = start(other, flow=OTHER_FLOW)
        response = http.post("/_mockstudio/reset", params={"account_sid": OTHER_ACCOUNT})
        assert response.status_code == 200
        assert response.json() == {"reset": OTHER_ACCOUNT}
        assert_twilio_error(other.get(theirs["url"]), 404, 20404)
        # Credentials still work after the account was rebuilt.
        assert other.get("/v2/Flows").status_code == 200
    assert http.get(mine["url"]).status_code == 200


def test_reset_unknown_account(http: httpx.Client) -> None:
    sid = "AC" + "9" * 32
    response = http.post("/_mockstudio/reset", params={"account_sid": sid})
    assert_twilio_error(response, 404, 20404, f"The requested resource /Accounts/{sid} was not found")


def test_reset_is_post_only(http: httpx.Client) -> None:
    assert_twilio_error(http.get("/_mockstudio/reset"), 405, 20004, "Method not allowed")
