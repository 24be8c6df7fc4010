"""The Flow operations through the real, unmodified twilio-python SDK: create, fetch, list,
update, revisions, test users, delete, validate (81022). Running flows through the SDK is
in tests/engine/test_sdk_runs.py; executions' CRUD, paging and errors in
tests/test_sdk_executions.py."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from mockstudio.testing import MockStudioServer

from .conftest import DEMO_FLOW, OTHER_FLOW, TEST_FLOW
from .helpers import survey_flow

INVALID_MESSAGE = (
    "The Flow Definition is invalid. Check the error response details for an array of validation failures."
)


def test_flow_lifecycle_through_the_sdk(sdk: Client, live: MockStudioServer) -> None:
    flows = sdk.studio.v2.flows
    created = flows.create(friendly_name="Survey", status="published", definition=survey_flow(), commit_message="v1")
    assert created.sid.startswith("FW") and len(created.sid) == 34
    assert (created.friendly_name, created.status, created.revision) == ("Survey", "published", 1)
    assert created.definition == survey_flow() and created.valid is True and created.errors == []
    assert created.date_created == datetime.fromtimestamp(1_700_000_000, UTC)
    assert created.links["revisions"] == f"{live.base_url}/v2/Flows/{created.sid}/Revisions"

    flow = flows(created.sid)
    assert flow.fetch().commit_message == "v1"
    assert created.sid in [f.sid for f in flows.list()]

    draft = flow.update(status="draft", friendly_name="Survey (editing)", commit_message="editing")
    assert (draft.revision, draft.status, draft.friendly_name) == (2, "draft", "Survey (editing)")
    republished = flow.update(status="published")
    assert (republished.revision, republished.status) == (3, "published")

    revisions = flow.revisions.list()
    assert [r.revision for r in revisions] == [3, 2, 1]
    assert all(r.definition is None and r.valid is None for r in revisions)  # list items
    assert [r.revision for r in flow.revisions.list(page_size=1)] == [3, 2, 1]  # follows next_page_url
    latest = flow.revisions("LatestPublished").fetch()
    assert (latest.revision, latest.status, latest.definition) == (3, "published", survey_flow())
    assert flow.revisions("LatestRevision").fetch().revision == 3
    assert flow.revisions("2").fetch().commit_message == "editing"
    with pytest.raises(TwilioRestException) as missing:
        flow.revisions("7").fetch()
    assert (missing.value.status, missing.value.code) == (404, 20404)

    test_users = flow.test_users().update(test_users=["alice", "bob"])
    assert (test_users.sid, test_users.test_users) == (created.sid, ["alice", "bob"])
    assert test_users.url == f"{live.base_url}/v2/Flows/{created.sid}/TestUsers"
    assert flow.test_users().fetch().test_users == ["alice", "bob"]

    assert flow.delete() is True
    with pytest.raises(TwilioRestException) as gone:
        flow.fetch()
    assert (gone.value.status, gone.value.code) == (404, 20404)


def test_validate_and_81022_through_the_sdk(sdk: Client) -> None:
    validated = sdk.studio.v2.flow_validate.update(friendly_name="x", status="draft", definition=survey_flow())
    assert validated.valid is True
    broken = survey_flow()
    broken["states"][1]["transitions"][0]["next"] = "nowhere"
    for call in (
        lambda: sdk.studio.v2.flow_validate.update(friendly_name="x", status="draft", definition=broken),
        lambda: sdk.studio.v2.flows.create(friendly_name="x", status="draft", definition=broken),
    ):
        with pytest.raises(TwilioRestException) as info:
            call()
        error = info.value
        assert (error.status, error.code) == (400, 81022)
        assert error.msg.endswith(INVALID_MESSAGE)
        assert error.details == {
            "errors": [
                {
                    "message": "transition to 'nowhere', which is not a widget of this flow",
                    "property_path": "#/states/1/transitions/0/next",
                }
            ]
        }


def test_flows_list_and_fetch(sdk: Client) -> None:
    flows = {f.sid: f for f in sdk.studio.v2.flows.list()}
    assert {DEMO_FLOW, TEST_FLOW} <= set(flows)
    assert OTHER_FLOW not in flows
    assert flows[TEST_FLOW].definition is None  # lists omit the definition
    fetched = sdk.studio.v2.flows(TEST_FLOW).fetch()
    assert fetched.sid == TEST_FLOW
    assert fetched.friendly_name == "Test flow (default account)"
    assert isinstance(fetched.definition, dict) and "states" in fetched.definition
    assert fetched.status == "published"
