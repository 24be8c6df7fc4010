"""The Flow operations of mockstudio.studio without HTTP: create/update/delete, revisions,
validation (81022), test users, and which revision executions run."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from mockstudio.clock import ManualClock
from mockstudio.domain.models import ACTIVE, ENDED
from mockstudio.domain.paging import PageRequest
from mockstudio.errors import (
    FlowNotPublished,
    FlowValidationFailed,
    InvalidParameter,
    MissingParameter,
    NotFound,
)
from mockstudio.sids import SeededSids, is_sid
from mockstudio.studio import AccountSeed, AccountState, FlowSeed, Studio

from .helpers import rest_trigger

T0 = 1_700_000_000
AC1 = "AC" + "a1" * 16
SEEDED = "FW" + "5e" * 16
BROKEN = "FW" + "b0" * 16
TO = "+15550000001"
FROM = "+15559999999"


def waiting(body: str = "Hello") -> dict[str, Any]:
    """Trigger -> send-and-wait-for-reply: executions stay active until ended."""
    return {
        "description": "waits",
        "states": [
            rest_trigger("ask"),
            {
                "name": "ask",
                "type": "send-and-wait-for-reply",
                "transitions": [{"event": "incomingMessage"}, {"event": "timeout"}, {"event": "deliveryFailure"}],
                "properties": {"body": body, "timeout": "86400"},
            },
        ],
        "initial_state": "Trigger",
        "flags": {"allow_concurrent_calls": True},
    }


# Five problems, one of each kind Studio's validator reports, at known paths.
INVALID: dict[str, Any] = {
    "initial_state": "Trigger",
    "states": [
        {**rest_trigger(None), "transitions": [{"event": "incomingRequest", "next": "nowhere"}]},
        {"name": "say", "type": "send-message", "transitions": [{"event": "sent"}], "properties": {"body": "hi"}},
        {"name": "say", "type": "send-message", "transitions": [{"event": "sent"}], "properties": {"body": "again"}},
        {"name": "nobody", "type": "send-message", "transitions": [{"event": "sent"}], "properties": {}},
        {"name": "beam", "type": "teleport", "transitions": [], "properties": {}},
        # (`nobody` is reached: a widget nothing leads to need not have its required properties)
        {
            "name": "odd",
            "type": "send-message",
            "transitions": [{"event": "bogus", "next": "nobody"}],
            "properties": {"body": "x"},
        },
    ],
}
INVALID_ERRORS = [
    {"message": "widget name 'say' is not unique", "property_path": "#/states/2/name"},
    {"message": "property 'body' is required for a send-message widget", "property_path": "#/states/3/properties/body"},
    {"message": "unknown widget type 'teleport'", "property_path": "#/states/4/type"},
    {
        "message": "event 'bogus' is not an event of a send-message widget",
        "property_path": "#/states/5/transitions/0/event",
    },
    {
        "message": "transition to 'nowhere', which is not a widget of this flow",
        "property_path": "#/states/0/transitions/0/next",
    },
]


def text(definition: Any) -> str:
    return json.dumps(definition)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def studio(clock: ManualClock) -> Studio:
    return Studio(
        clock=clock,
        sid_factory=SeededSids(3),
        accounts=[AccountSeed(AC1, "token1")],
        flows=[
            FlowSeed(SEEDED, AC1, "Seeded", waiting(), commit_message="seed", numbers=("+15551110000",)),
            FlowSeed(BROKEN, AC1, "Broken", copy.deepcopy(INVALID)),
        ],
    )


@pytest.fixture
def account(studio: Studio) -> AccountState:
    return studio.accounts[AC1]


def create(account: AccountState, status: str = "published", **kwargs: Any) -> Any:
    return account.create_flow(
        kwargs.get("friendly_name", "My flow"), status, text(kwargs.get("definition", waiting())), kwargs.get("message")
    )


# -- create ----------------------------------------------------------------------------------


def test_create_flow_makes_revision_one(account: AccountState, clock: ManualClock) -> None:
    flow = account.create_flow("My flow", "published", text(waiting()), "first")
    assert is_sid(flow.sid, "FW")
    assert account.fetch_flow(flow.sid) is flow
    assert (flow.friendly_name, flow.status, flow.revision, flow.commit_message) == ("My flow", "published", 1, "first")
    assert flow.definition == waiting()
    assert (flow.valid, flow.errors, flow.warnings, flow.author_sid) == (True, [], [], None)
    assert (flow.date_created, flow.date_updated) == (T0, None)
    revision = flow.find_revision(1)
    assert revision is not None and revision is flow.published_revision() is flow.latest_revision()
    assert (revision.status, revision.definition, revision.commit_message) == ("published", waiting(), "first")
    # Newest flow first in the list.
    assert account.list_flows(PageRequest()).items[0] is flow


def test_create_draft_flow_has_no_published_revision(account: AccountState) -> None:
    flow = create(account, "draft", message=None)
    assert flow.status == "draft" and flow.commit_message is None
    assert flow.published_revision() is None
    with pytest.raises(FlowNotPublished) as info:
        account.create_execution(flow.sid, TO, FROM, None)
    assert (info.value.status, info.value.code) == (409, 20409)
    assert info.value.message == (
        f"Flow {flow.sid} has no published revision to execute. "
        "Publish it (Status=published) before creating an Execution"
    )


@pytest.mark.parametrize(
    ("args", "missing"),
    [
        ((None, "published", "{}"), "FriendlyName"),
        (("", "published", "{}"), "FriendlyName"),
        (("x", None, None), "Status"),
        (("x", "", "{}"), "Status"),
        (("x", "bogus", None), "Definition"),  # missing parameters come before bad values
        (("x", "published", ""), "Definition"),
    ],
)
def test_create_flow_missing_parameters(account: AccountState, args: tuple[Any, ...], missing: str) -> None:
    with pytest.raises(MissingParameter) as info:
        account.create_flow(*args)
    assert info.value.message == f"Missing required parameter {missing} in the post body"
    assert (info.value.status, info.value.code) == (400, 20001)


@pytest.mark.parametrize("status", ["Published", "DRAFT", "active", "ended", " draft"])
def test_create_flow_invalid_status(account: AccountState, status: str) -> None:
    with pytest.raises(InvalidParameter) as info:
        account.create_flow("x", status, text(waiting()))
    assert info.value.message == f"Invalid Status: {status!r} is not one of draft, published"
    assert (info.value.status, info.value.code) == (400, 20001)


@pytest.mark.parametrize("status", ["draft", "published"])
def test_invalid_definitions_are_refused_whatever_the_status(account: AccountState, status: str) -> None:
    before = set(account.flows)
    with pytest.raises(FlowValidationFailed) as info:
        account.create_flow("x", status, text(INVALID))
    error = info.value
    assert (error.status, error.code) == (400, 81022)
    assert error.message == (
        "The Flow Definition is invalid. Check the error response details for an array of validation failures."
    )
    assert error.details == {"errors": INVALID_ERRORS}
    assert set(account.flows) == before


@pytest.mark.parametrize(
    ("definition", "errors"),
    [
        ("{not json", None),
        ("[]", [{"message": "the flow definition must be a JSON object", "property_path": "#"}]),
        ('"text"', [{"message": "the flow definition must be a JSON object", "property_path": "#"}]),
        (
            text({"initial_state": "Trigger"}),  # the spec's own example body is not a valid flow
            [{"message": "states is required and must be a non-empty array", "property_path": "#/states"}],
        ),
        (
            text({"states": [rest_trigger(None)]}),
            [
                {
                    "message": "initial_state is required and must be a non-empty string",
                    "property_path": "#/initial_state",
                }
            ],
        ),
    ],
)
def test_definition_problems(account: AccountState, definition: str, errors: list[dict[str, str]] | None) -> None:
    with pytest.raises(FlowValidationFailed) as info:
        account.create_flow("x", "draft", definition)
    found = info.value.errors
    if errors is None:  # invalid JSON: one problem at the root, with the parser's reason
        assert len(found) == 1 and found[0]["property_path"] == "#"
        assert found[0]["message"].startswith("the flow definition is not valid JSON: ")
    else:
        assert found == errors


# -- update and revisions ------------------------------------------------------------------------


def test_each_change_makes_a_revision_and_the_flow_mirrors_the_latest(
    account: AccountState, clock: ManualClock
) -> None:
    flow = create(account, "draft")
    clock.advance(10)
    account.update_flow(flow.sid, "published", commit_message="go live")
    assert (flow.revision, flow.status, flow.commit_message, flow.date_updated) == (2, "published", "go live", T0 + 10)
    published = flow.published_revision()
    assert published is not None and published.revision == 2 and published.date_created == T0 + 10
    clock.advance(10)
    account.update_flow(flow.sid, "draft", definition=text(waiting("Changed")))
    assert (flow.revision, flow.status, flow.commit_message) == (3, "draft", None)
    assert flow.definition == waiting("Changed")
    assert flow.published_revision() is published  # a saved draft leaves the published one live
    account.update_flow(flow.sid, "draft", friendly_name="Renamed")
    assert (flow.revision, flow.friendly_name) == (4, "Renamed")
    account.update_flow(flow.sid, "draft", commit_message="just a note")
    assert (flow.revision, flow.commit_message) == (5, "just a note")
    account.update_flow(flow.sid, "published")
    assert flow.revision == 6 and flow.published_revision() is flow.find_revision(6)
    page = account.list_flow_revisions(flow.sid, PageRequest())[1]
    assert [r.revision for r in page.items] == [6, 5, 4, 3, 2, 1]
    assert [r.status for r in page.items] == ["published", "draft", "draft", "draft", "published", "draft"]
    assert [r.friendly_name for r in page.items] == ["Renamed"] * 3 + ["My flow"] * 3
    assert flow.find_revision(1) is not None and flow.find_revision(1).definition == waiting()  # type: ignore[union-attr]


def test_an_update_that_changes_nothing_makes_no_revision(account: AccountState, clock: ManualClock) -> None:
    flow = create(account, message="first")
    clock.advance(5)
    same = account.update_flow(flow.sid, "published", "My flow", text(waiting()), "first")
    assert same is flow and flow.revision == 1 and flow.date_updated is None
    account.update_flow(flow.sid, "published")
    assert flow.revision == 1 and flow.commit_message == "first"


def test_update_flow_errors(account: AccountState) -> None:
    flow = create(account)
    with pytest.raises(NotFound):
        account.update_flow("FW" + "00" * 16, "published")
    with pytest.raises(MissingParameter, match=r"^Missing required parameter Status in the post body$"):
        account.update_flow(flow.sid, None, friendly_name="x")
    with pytest.raises(InvalidParameter, match=r"^Invalid Status: 'live' is not one of draft, published$"):
        account.update_flow(flow.sid, "live")
    with pytest.raises(FlowValidationFailed) as info:
        account.update_flow(flow.sid, "draft", definition=text(INVALID))
    assert info.value.details == {"errors": INVALID_ERRORS}
    assert flow.revision == 1 and flow.status == "published"  # nothing changed


def test_fetch_flow_revision(account: AccountState) -> None:
    flow = create(account, "draft")
    with pytest.raises(NotFound):
        account.fetch_flow_revision(flow.sid, "LatestPublished")  # draft-only
    account.update_flow(flow.sid, "published")
    account.update_flow(flow.sid, "draft", friendly_name="Next")
    assert account.fetch_flow_revision(flow.sid, "LatestPublished")[1].revision == 2
    assert account.fetch_flow_revision(flow.sid, "LatestRevision")[1].revision == 3
    for number in (1, 2, 3):
        assert account.fetch_flow_revision(flow.sid, str(number)) == (flow, flow.find_revision(number))
    assert account.fetch_flow_revision(flow.sid, "01")[1].revision == 1
    for bad in ("0", "4", "-1", "+1", "1.0", "latestpublished", "Latest", "", "\uff11", "9" * 40):
        with pytest.raises(NotFound):
            account.fetch_flow_revision(flow.sid, bad)
    with pytest.raises(NotFound):
        account.fetch_flow_revision("FW" + "00" * 16, "1")


def test_revision_paging(account: AccountState) -> None:
    flow = create(account)
    for n in range(2, 8):
        account.update_flow(flow.sid, "published", friendly_name=f"v{n}")
    first = account.list_flow_revisions(flow.sid, PageRequest(3))[1]
    assert [r.revision for r in first.items] == [7, 6, 5]
    second = account.list_flow_revisions(flow.sid, PageRequest(3, 1, first.next_token))[1]
    assert [r.revision for r in second.items] == [4, 3, 2]
    last = account.list_flow_revisions(flow.sid, PageRequest(3, 2, second.next_token))[1]
    assert [r.revision for r in last.items] == [1] and last.next_token is None


# -- executions run the latest published revision ---------------------------------------------------


def test_executions_run_the_latest_published_revision(account: AccountState, studio: Studio) -> None:
    flow = create(account, "draft", definition=waiting("v1"))
    account.update_flow(flow.sid, "published")  # revision 2
    first = account.create_execution(flow.sid, TO, FROM, None)
    assert first.flow_version == 2
    account.update_flow(flow.sid, "draft", definition=text(waiting("v3")))  # revision 3, a draft
    second = account.create_execution(flow.sid, "+15550000002", FROM, None)
    assert second.flow_version == 2
    account.update_flow(flow.sid, "published")  # revision 4
    third = account.create_execution(flow.sid, "+15550000003", FROM, None)
    assert third.flow_version == 4
    bodies = [m.body for m in studio.engine.messages.list(AC1, flow_sid=flow.sid)]
    assert bodies == ["v1", "v1", "v3"]


# -- delete ----------------------------------------------------------------------------------------


def test_delete_flow_removes_its_executions_and_numbers(account: AccountState) -> None:
    flow = account.fetch_flow(SEEDED)
    active = account.create_execution(SEEDED, TO, FROM, None)
    ended = account.create_execution(SEEDED, "+15550000002", FROM, None)
    account.update_execution(SEEDED, ended.sid, "ended")
    assert active.status == ACTIVE and ended.status == ENDED
    assert account.executions.waiting()  # parked on send-and-wait-for-reply
    other = create(account)
    kept = account.create_execution(other.sid, TO, FROM, None)
    account.bind_number("+15552220000", other.sid)

    account.delete_flow(SEEDED)

    assert SEEDED not in account.flows
    assert [f.sid for f in account.list_flows(PageRequest()).items] == [other.sid, BROKEN]
    assert {e.sid for e in account.executions.values()} == {kept.sid}
    assert active.run is None and active.steps is None
    index = account.executions.of_flow(flow.sid)
    assert len(index.all) == len(index.active) == 0 and not index.by_contact
    assert account.executions.waiting_for_reply((TO, FROM)) is kept
    assert account.numbers == {"+15552220000": other.sid}
    with pytest.raises(NotFound):
        account.fetch_flow(SEEDED)
    with pytest.raises(NotFound):
        account.fetch_execution(SEEDED, active.sid)
    with pytest.raises(NotFound):
        account.create_execution(SEEDED, TO, FROM, None)
    with pytest.raises(NotFound):
        account.delete_flow(SEEDED)
    with pytest.raises(NotFound):
        account.receive_message(TO, "+15551110000", "hi")  # the number is unbound


# -- validate and test users ----------------------------------------------------------------------


def test_update_flow_validate(account: AccountState) -> None:
    flows = dict(account.flows)
    assert account.update_flow_validate("x", "draft", text(waiting())) is True
    assert account.update_flow_validate("x", "published", text(waiting()), "msg") is True
    assert account.flows == flows  # nothing created
    with pytest.raises(MissingParameter, match="FriendlyName"):
        account.update_flow_validate(None, "draft", text(waiting()))
    with pytest.raises(MissingParameter, match="Status"):
        account.update_flow_validate("x", None, text(waiting()))
    with pytest.raises(MissingParameter, match="Definition"):
        account.update_flow_validate("x", "draft", None)
    with pytest.raises(InvalidParameter):
        account.update_flow_validate("x", "nope", text(waiting()))
    with pytest.raises(FlowValidationFailed) as info:
        account.update_flow_validate("x", "draft", text(INVALID))
    assert info.value.errors == INVALID_ERRORS


def test_test_users(account: AccountState) -> None:
    flow = create(account)
    assert account.fetch_test_user(flow.sid).test_users == []
    account.update_test_user(flow.sid, ["alice", "bob", "alice"])
    assert account.fetch_test_user(flow.sid).test_users == ["alice", "bob"]
    assert flow.revision == 1  # not a revision of the flow
    with pytest.raises(MissingParameter, match=r"^Missing required parameter TestUsers in the post body$"):
        account.update_test_user(flow.sid, [])
    account.update_test_user(flow.sid, [""])  # `TestUsers=` clears
    assert flow.test_users == []
    with pytest.raises(NotFound):
        account.fetch_test_user("FW" + "00" * 16)
    with pytest.raises(NotFound):
        account.update_test_user("FW" + "00" * 16, ["x"])


# -- fixtures may load invalid flows -----------------------------------------------------------------


def test_a_fixture_with_an_invalid_definition_loads_as_invalid(account: AccountState) -> None:
    flow = account.fetch_flow(BROKEN)
    assert (flow.valid, flow.errors, flow.warnings) == (False, INVALID_ERRORS, [])
    revision = flow.find_revision(1)
    assert revision is not None and (revision.valid, revision.errors) == (False, INVALID_ERRORS)
    seeded = account.fetch_flow(SEEDED)
    assert (seeded.valid, seeded.errors, seeded.commit_message) == (True, [], "seed")
    # Its executions end at once; it cannot be re-published without a valid definition.
    assert account.create_execution(BROKEN, TO, FROM, None).status == ENDED
    with pytest.raises(FlowValidationFailed):
        account.update_flow(BROKEN, "published", friendly_name="Renamed")
    account.update_flow(BROKEN, "published", definition=text(waiting()))
    assert (flow.revision, flow.valid, flow.errors) == (2, True, [])
