"""mockstudio.studio without HTTP: per-account state, the Execution operations and their rules."""

from __future__ import annotations

import re
from typing import Any

import pytest

from mockstudio.clock import ManualClock
from mockstudio.contexts import build_context
from mockstudio.domain.models import Execution
from mockstudio.domain.paging import PageRequest
from mockstudio.errors import (
    ExecutionAlreadyActive,
    ExecutionAlreadyEnded,
    InvalidPageToken,
    InvalidParameter,
    MissingParameter,
    NotFound,
)
from mockstudio.sids import RandomSids, SeededSids, is_sid
from mockstudio.studio import AccountSeed, AccountState, FlowSeed, Studio, inert_definition

from .helpers import rest_trigger

T0 = 1_700_000_000
AC1 = "AC" + "a1" * 16
AC2 = "AC" + "b2" * 16
SK1 = "SK" + "c3" * 16
FW1 = "FW" + "01" * 16
FW2 = "FW" + "02" * 16
FW3 = "FW" + "03" * 16  # belongs to AC2
INERT_FLOW = "FW" + "0e" * 16  # its trigger leads nowhere: executions end at once
UNKNOWN_FLOW = "FW" + "ff" * 16
TO = "+15550000001"
FROM = "+15559999999"

SID_RE = re.compile(r"^[A-Z]{2}[0-9a-f]{32}$")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


# Trigger -> a widget that waits a day for a reply: executions stay active until ended.
WAITING_DEFINITION: dict[str, Any] = {
    "description": "Sends one message and waits for a reply",
    "states": [
        rest_trigger("ask"),
        {
            "name": "ask",
            "type": "send-and-wait-for-reply",
            "transitions": [
                {"event": "incomingMessage"},
                {"event": "timeout"},
                {"event": "deliveryFailure"},
            ],
            "properties": {"offset": {"x": 0, "y": 200}, "body": "Hello {{flow.data.name}}", "timeout": "86400"},
        },
    ],
    "initial_state": "Trigger",
    "flags": {"allow_concurrent_calls": True},
}


def make_studio(clock: ManualClock, *, accept_any_flow: bool = False) -> Studio:
    definition = WAITING_DEFINITION
    return Studio(
        clock=clock,
        sid_factory=SeededSids(1),
        accounts=[
            AccountSeed(AC1, "token1", api_keys={SK1: "keysecret"}, friendly_name="one"),
            AccountSeed(AC2, "token2"),
        ],
        flows=[
            FlowSeed(FW1, AC1, "Flow one", definition, commit_message="first"),
            FlowSeed(FW2, AC1, "Flow two", definition),
            FlowSeed(FW3, AC2, "Flow three", definition),
            FlowSeed(INERT_FLOW, AC1, "Inert flow", inert_definition()),
        ],
        accept_any_flow=accept_any_flow,
    )


@pytest.fixture
def studio(clock: ManualClock) -> Studio:
    return make_studio(clock)


@pytest.fixture
def account(studio: Studio) -> AccountState:
    return studio.accounts[AC1]


def create(account: AccountState, to: str = TO, from_: str = FROM, parameters: str | None = None) -> Execution:
    return account.create_execution(FW1, to, from_, parameters)


def everything() -> PageRequest:
    return PageRequest(1000)


def listed(account: AccountState, flow: str = FW1, status: str | None = None, **dates: str) -> list[str]:
    filters = account.execution_filters(status, dates.get("date_from"), dates.get("date_to"))
    return [e.sid for e in account.list_executions(flow, filters, everything()).items]


# -- create / fetch ---------------------------------------------------------------------------


def test_create_execution(account: AccountState) -> None:
    execution = create(account, parameters='{"name": "Zeke"}')
    assert SID_RE.match(execution.sid) and execution.sid.startswith("FN")
    assert execution.account_sid == AC1
    assert execution.flow_sid == FW1
    assert execution.contact_channel_address == TO
    assert execution.flow_channel_address == FROM
    assert execution.parameters == {"name": "Zeke"}
    assert execution.status == "active"
    assert execution.date_created == T0
    assert execution.date_updated == T0
    assert SID_RE.match(execution.contact_sid) and execution.contact_sid.startswith("FC")
    assert execution.initiated_by is not None
    assert SID_RE.match(execution.initiated_by) and execution.initiated_by.startswith("RQ")


def test_execution_of_a_flow_that_ends_at_once_frees_its_contact(account: AccountState) -> None:
    first = account.create_execution(INERT_FLOW, TO, FROM, None)
    assert first.status == "ended"
    second = account.create_execution(INERT_FLOW, TO, FROM, None)
    assert second.sid != first.sid
    assert listed(account, INERT_FLOW, status="ended") == [second.sid, first.sid]


def test_flow_version_is_the_flows_revision(account: AccountState) -> None:
    assert create(account).flow_version == account.flows[FW1].revision == 1


def test_initiated_by_is_a_new_request_sid_each_time(account: AccountState) -> None:
    first = create(account, to="+1")
    second = create(account, to="+2")
    assert first.initiated_by != second.initiated_by
    assert first.sid != second.sid
    # A request SID of its own: not the execution SID's digits under another prefix.
    for execution in (first, second):
        assert execution.initiated_by[2:] != execution.sid[2:]


def test_date_created_follows_the_clock_and_truncates(account: AccountState, clock: ManualClock) -> None:
    clock.set(T0 + 12.9)
    assert create(account).date_created == T0 + 12


def test_fetch_execution(account: AccountState) -> None:
    execution = create(account)
    assert account.fetch_execution(FW1, execution.sid) is execution


def test_fetch_unknown_or_malformed_execution_is_not_found(account: AccountState) -> None:
    create(account)
    for sid in ("FN" + "0" * 32, "FNnope", "", "x" * 500):
        with pytest.raises(NotFound):
            account.fetch_execution(FW1, sid)


def test_fetch_execution_through_another_flow_is_not_found(account: AccountState) -> None:
    execution = create(account)
    with pytest.raises(NotFound):
        account.fetch_execution(FW2, execution.sid)


def test_unknown_flow_is_not_found(account: AccountState) -> None:
    for flow in (UNKNOWN_FLOW, "FW123", "", FW3):
        with pytest.raises(NotFound) as info:
            account.create_execution(flow, TO, FROM, None)
        assert info.value.status == 404 and info.value.code == 20404
        assert info.value.message == ""  # the HTTP layer fills in the path


@pytest.mark.parametrize(
    ("to", "from_", "missing"),
    [(None, FROM, "To"), ("", FROM, "To"), (TO, None, "From"), (TO, "", "From"), (None, None, "To")],
)
def test_create_requires_to_and_from(account: AccountState, to: str | None, from_: str | None, missing: str) -> None:
    with pytest.raises(MissingParameter) as info:
        account.create_execution(FW1, to, from_, None)
    assert info.value.message == f"Missing required parameter {missing} in the post body"
    assert (info.value.status, info.value.code) == (400, 20001)


def test_unknown_flow_is_checked_before_parameters(account: AccountState) -> None:
    with pytest.raises(NotFound):
        account.create_execution(UNKNOWN_FLOW, None, None, None)


# -- Parameters -------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", [None, ""])
def test_empty_parameters_are_none(account: AccountState, raw: str | None) -> None:
    execution = create(account, parameters=raw)
    assert execution.parameters is None
    assert build_context(execution, execution.widgets, execution.variables)["flow"]["data"] == {}


def test_nested_parameters(account: AccountState) -> None:
    execution = create(account, parameters='{"a": {"b": [1, 2, {"c": null}]}, "n": 1.5, "t": true}')
    assert execution.parameters == {"a": {"b": [1, 2, {"c": None}]}, "n": 1.5, "t": True}


def test_empty_object_parameters(account: AccountState) -> None:
    assert create(account, parameters="{}").parameters == {}


@pytest.mark.parametrize("raw", ["{", "{'a': 1}", "name=Zeke", '{"a": }', "nul"])
def test_invalid_json_parameters(account: AccountState, raw: str) -> None:
    with pytest.raises(InvalidParameter, match=r"^Invalid Parameters: the value is not valid JSON$"):
        create(account, parameters=raw)


@pytest.mark.parametrize("raw", ["[1, 2]", '"text"', "42", "null", "true"])
def test_non_object_parameters(account: AccountState, raw: str) -> None:
    with pytest.raises(InvalidParameter, match=r"^Invalid Parameters: the JSON value must be an object$"):
        create(account, parameters=raw)


def test_invalid_parameters_create_nothing(account: AccountState) -> None:
    with pytest.raises(InvalidParameter):
        create(account, parameters="[]")
    assert len(account.executions) == 0
    create(account)  # the contact was not blocked


# -- one active execution per (flow, To, From) ------------------------------------------------


def test_second_active_execution_for_the_same_contact_conflicts(account: AccountState) -> None:
    first = create(account)
    with pytest.raises(ExecutionAlreadyActive) as info:
        create(account)
    error = info.value
    assert (error.status, error.code) == (409, 20409)
    assert error.details == {"conflicting_execution_sid": first.sid}
    assert error.message == (
        f"Execution {first.sid} is already active for this contact. End the active Execution before creating a new one"
    )
    assert len(account.executions) == 1


def test_rule_is_per_flow_to_and_from(account: AccountState) -> None:
    create(account)
    create(account, to="+15550000002")  # other To
    create(account, from_="+15558888888")  # other From
    account.create_execution(FW2, TO, FROM, None)  # other flow
    create(account, to=FROM, from_=TO)  # swapped
    assert len(account.executions) == 5


def test_contact_is_free_again_after_end(account: AccountState) -> None:
    first = create(account)
    account.update_execution(FW1, first.sid, "ended")
    second = create(account)
    assert second.sid != first.sid
    with pytest.raises(ExecutionAlreadyActive) as info:
        create(account)
    assert info.value.details == {"conflicting_execution_sid": second.sid}


def test_contact_is_free_again_after_delete(account: AccountState) -> None:
    first = create(account)
    account.delete_execution(FW1, first.sid)
    second = create(account)
    assert second.status == "active"


def test_deleting_an_ended_execution_does_not_free_the_active_one(account: AccountState) -> None:
    first = create(account)
    account.update_execution(FW1, first.sid, "ended")
    second = create(account)
    account.delete_execution(FW1, first.sid)
    with pytest.raises(ExecutionAlreadyActive) as info:
        create(account)
    assert info.value.details == {"conflicting_execution_sid": second.sid}


def test_other_accounts_contacts_are_independent(studio: Studio) -> None:
    mine = studio.accounts[AC1].create_execution(FW1, TO, FROM, None)
    # The same contact, active in AC1, starts in AC2 without a 409...
    theirs = studio.accounts[AC2].create_execution(FW3, TO, FROM, None)
    assert theirs.sid != mine.sid and (mine.status, theirs.status) == ("active", "active")
    # ...while in AC1 it is still taken.
    with pytest.raises(ExecutionAlreadyActive) as info:
        studio.accounts[AC1].create_execution(FW1, TO, FROM, None)
    assert info.value.details == {"conflicting_execution_sid": mine.sid}


# -- contact_sid ------------------------------------------------------------------------------


def test_contact_sid_is_stable_per_contact_address(account: AccountState) -> None:
    first = create(account)
    account.update_execution(FW1, first.sid, "ended")
    again = create(account)
    other_flow = account.create_execution(FW2, TO, "+15557777777", None)
    other_contact = create(account, to="+15550000002")
    assert first.contact_sid == again.contact_sid == other_flow.contact_sid
    assert other_contact.contact_sid != first.contact_sid


def test_contact_sid_survives_delete(account: AccountState) -> None:
    first = create(account)
    account.delete_execution(FW1, first.sid)
    assert create(account).contact_sid == first.contact_sid


def test_contact_sids_differ_between_accounts(studio: Studio) -> None:
    one = studio.accounts[AC1].create_execution(FW1, TO, FROM, None)
    two = studio.accounts[AC2].create_execution(FW3, TO, FROM, None)
    assert one.contact_sid != two.contact_sid


# -- update -----------------------------------------------------------------------------------


def test_end_execution(account: AccountState, clock: ManualClock) -> None:
    execution = create(account)
    clock.advance(90)
    updated = account.update_execution(FW1, execution.sid, "ended")
    assert updated is execution
    assert execution.status == "ended"
    assert execution.date_created == T0
    assert execution.date_updated == T0 + 90


def test_end_twice_conflicts(account: AccountState, clock: ManualClock) -> None:
    execution = create(account)
    account.update_execution(FW1, execution.sid, "ended")
    clock.advance(5)
    with pytest.raises(ExecutionAlreadyEnded) as info:
        account.update_execution(FW1, execution.sid, "ended")
    assert (info.value.status, info.value.code) == (409, 20409)
    assert info.value.details is None
    assert info.value.message == f"Execution {execution.sid} has already ended"
    assert execution.date_updated == T0  # unchanged by the failed update


@pytest.mark.parametrize("status", [None, ""])
def test_update_requires_status(account: AccountState, status: str | None) -> None:
    execution = create(account)
    with pytest.raises(MissingParameter, match=r"^Missing required parameter Status in the post body$"):
        account.update_execution(FW1, execution.sid, status)


@pytest.mark.parametrize("status", ["active", "bogus", "Ended", "ENDED", " ended"])
def test_update_only_accepts_ended(account: AccountState, status: str) -> None:
    execution = create(account)
    with pytest.raises(InvalidParameter) as info:
        account.update_execution(FW1, execution.sid, status)
    assert (info.value.status, info.value.code) == (400, 20001)
    assert execution.status == "active"


def test_update_unknown_execution_is_not_found_before_status_is_checked(account: AccountState) -> None:
    with pytest.raises(NotFound):
        account.update_execution(FW1, "FN" + "0" * 32, None)


# -- delete -----------------------------------------------------------------------------------


@pytest.mark.parametrize("end_first", [False, True])
def test_delete_execution(account: AccountState, end_first: bool) -> None:
    execution = create(account)
    if end_first:
        account.update_execution(FW1, execution.sid, "ended")
    account.delete_execution(FW1, execution.sid)
    with pytest.raises(NotFound):
        account.fetch_execution(FW1, execution.sid)
    with pytest.raises(NotFound):
        account.delete_execution(FW1, execution.sid)
    with pytest.raises(NotFound):
        account.fetch_execution_context(FW1, execution.sid)
    assert listed(account) == []
    assert listed(account, status="active") == []
    assert listed(account, status="ended") == []


def test_delete_through_another_flow_is_not_found(account: AccountState) -> None:
    execution = create(account)
    with pytest.raises(NotFound):
        account.delete_execution(FW2, execution.sid)
    assert account.fetch_execution(FW1, execution.sid) is execution


# -- context ----------------------------------------------------------------------------------


def test_execution_context(account: AccountState) -> None:
    execution = create(account, parameters='{"name": "Zeke"}')
    fetched, context = account.fetch_execution_context(FW1, execution.sid)
    assert fetched is execution
    assert context == {
        "flow": {
            "flow_sid": FW1,
            "sid": execution.sid,
            "channel": {"address": FROM},
            "data": {"name": "Zeke"},
            "variables": {},
        },
        "contact": {"channel": {"address": TO}},
        "trigger": {"request": {"from": FROM, "to": TO, "parameters": {"name": "Zeke"}}},
        "widgets": {},
    }


# -- steps ------------------------------------------------------------------------------------


def test_steps_of_a_new_execution(account: AccountState) -> None:
    execution = create(account)
    fetched, page = account.list_execution_steps(FW1, execution.sid, PageRequest())
    assert fetched is execution
    assert [(s.transitioned_from, s.transitioned_to) for s in page.items] == [("Trigger", "ask")]
    assert page.next_token is None
    step = page.items[0]
    assert account.fetch_execution_step(FW1, execution.sid, step.sid) == (execution, step)
    assert account.fetch_execution_step_context(FW1, execution.sid, step.sid) == (execution, step)
    with pytest.raises(NotFound):
        account.fetch_execution_step(FW2, execution.sid, step.sid)
    _, beyond = account.list_execution_steps(FW1, execution.sid, PageRequest(50, 1))
    assert beyond.items == []
    with pytest.raises(NotFound):
        account.fetch_execution_step(FW1, execution.sid, "FT" + "0" * 32)
    with pytest.raises(NotFound):
        account.fetch_execution_step_context(FW1, execution.sid, "FT" + "0" * 32)
    with pytest.raises(NotFound):
        account.list_execution_steps(FW1, "FN" + "0" * 32, PageRequest())


# -- list and filters -------------------------------------------------------------------------


def test_list_newest_first(account: AccountState, clock: ManualClock) -> None:
    sids = []
    for n in range(5):
        sids.append(create(account, to=f"+1555000000{n}").sid)
        clock.advance(1)
    assert listed(account) == sids[::-1]


def test_list_in_the_same_second_is_newest_first(account: AccountState) -> None:
    sids = [create(account, to=f"+1555000000{n}").sid for n in range(4)]
    assert listed(account) == sids[::-1]


def test_list_after_clock_moves_back_orders_by_date_created(account: AccountState, clock: ManualClock) -> None:
    late = create(account, to="+1")
    clock.set(T0 - 100)
    early = create(account, to="+2")
    assert listed(account) == [late.sid, early.sid]


def test_list_only_the_flows_executions(account: AccountState) -> None:
    mine = create(account)
    account.create_execution(FW2, TO, FROM, None)
    assert listed(account) == [mine.sid]


def test_status_filter(account: AccountState) -> None:
    a = create(account, to="+1")
    b = create(account, to="+2")
    c = create(account, to="+3")
    account.update_execution(FW1, b.sid, "ended")
    assert listed(account, status="active") == [c.sid, a.sid]
    assert listed(account, status="ended") == [b.sid]
    assert listed(account, status="ACTIVE") == [c.sid, a.sid]  # any case is tolerated
    assert listed(account, status=" ended ") == [b.sid]
    assert listed(account) == [c.sid, b.sid, a.sid]


@pytest.mark.parametrize("status", ["", "bogus", "activ", "running"])
def test_invalid_status_filter(account: AccountState, status: str) -> None:
    with pytest.raises(InvalidParameter, match=r"^Invalid status: "):
        account.execution_filters(status, None, None)


def test_date_filters(account: AccountState, clock: ManualClock) -> None:
    # T0 = 2023-11-14T22:13:20Z
    clock.set(T0)
    a = create(account, to="+1")
    clock.set(T0 + 3600)  # 23:13:20
    b = create(account, to="+2")
    clock.set(T0 + 7200)  # 2023-11-15T00:13:20
    c = create(account, to="+3")
    assert listed(account, date_from="2023-11-14T22:13:20Z") == [c.sid, b.sid, a.sid]  # inclusive
    assert listed(account, date_from="2023-11-14T22:13:21Z") == [c.sid, b.sid]
    assert listed(account, date_to="2023-11-14T23:13:20Z") == [a.sid]  # exclusive
    assert listed(account, date_to="2023-11-14T23:13:21Z") == [b.sid, a.sid]
    assert listed(account, date_from="2023-11-15") == [c.sid]
    assert listed(account, date_to="2023-11-15") == [b.sid, a.sid]
    assert listed(account, date_from="2023-11-14", date_to="2023-11-14") == []
    assert listed(account, date_from="2023-11-15T01:13:20+01:00") == [c.sid]
    assert listed(account, date_to="2023-11-14T18:13:21-05:00") == [b.sid, a.sid]


def test_status_and_dates_combine(account: AccountState, clock: ManualClock) -> None:
    a = create(account, to="+1")
    clock.advance(10)
    b = create(account, to="+2")
    clock.advance(10)
    create(account, to="+3")
    account.update_execution(FW1, a.sid, "ended")
    account.update_execution(FW1, b.sid, "ended")
    assert listed(account, status="ended", date_from="2023-11-14T22:13:25Z") == [b.sid]


def test_invalid_dates(account: AccountState) -> None:
    with pytest.raises(InvalidParameter, match="DateCreatedFrom"):
        account.execution_filters(None, "nope", None)
    with pytest.raises(InvalidParameter, match="DateCreatedTo"):
        account.execution_filters(None, None, "2023-02-30")


def test_empty_filter_values_are_ignored(account: AccountState) -> None:
    filters = account.execution_filters(None, "", "")
    assert (filters.status, filters.date_from, filters.date_to) == (None, None, None)


def test_paging_token_is_tied_to_filters(account: AccountState) -> None:
    for n in range(5):
        create(account, to=f"+1{n}")
    active = account.execution_filters("active", None, None)
    page = account.list_executions(FW1, active, PageRequest(2))
    assert page.next_token is not None
    again = account.list_executions(FW1, active, PageRequest(2, 1, page.next_token))
    assert len(again.items) == 2
    # Equivalent spellings of the same filters share tokens.
    same = account.execution_filters("ACTIVE", None, None)
    assert account.list_executions(FW1, same, PageRequest(2, 1, page.next_token)).items == again.items
    for other in (
        account.execution_filters(None, None, None),
        account.execution_filters("ended", None, None),
        account.execution_filters("active", "2020-01-01", None),
    ):
        with pytest.raises(InvalidPageToken):
            account.list_executions(FW1, other, PageRequest(2, 1, page.next_token))


def test_date_tokens_accept_equivalent_date_spellings(account: AccountState) -> None:
    for n in range(3):
        create(account, to=f"+1{n}")
    one = account.execution_filters(None, "2023-11-14", None)
    page = account.list_executions(FW1, one, PageRequest(1))
    other = account.execution_filters(None, "2023-11-14T02:00:00+02:00", None)
    assert len(account.list_executions(FW1, other, PageRequest(1, 1, page.next_token)).items) == 1


def test_list_unknown_flow_is_not_found(account: AccountState) -> None:
    with pytest.raises(NotFound):
        account.list_executions(UNKNOWN_FLOW, account.execution_filters(None, None, None), everything())


# -- accounts ---------------------------------------------------------------------------------


def test_accounts_are_isolated(studio: Studio) -> None:
    one, two = studio.accounts[AC1], studio.accounts[AC2]
    execution = one.create_execution(FW1, TO, FROM, None)
    with pytest.raises(NotFound):
        two.fetch_execution(FW1, execution.sid)  # the flow is not two's
    with pytest.raises(NotFound):
        two.fetch_execution(FW3, execution.sid)  # the execution is not two's
    with pytest.raises(NotFound):
        one.create_execution(FW3, TO, FROM, None)
    assert set(one.flows) == {FW1, FW2, INERT_FLOW}
    assert set(two.flows) == {FW3}
    assert len(two.executions) == 0


def test_list_and_fetch_flows(account: AccountState) -> None:
    page = account.list_flows(PageRequest())
    assert [f.sid for f in page.items] == [INERT_FLOW, FW2, FW1]  # newest (last seeded) first
    flow = account.fetch_flow(FW1)
    assert flow.friendly_name == "Flow one"
    assert flow.commit_message == "first"
    assert flow.status == "published"
    assert flow.revision == 1
    assert flow.date_created == T0 and flow.date_updated is None
    assert flow.published_revision() is not None
    with pytest.raises(NotFound):
        account.fetch_flow(FW3)
    with pytest.raises(NotFound):
        account.fetch_flow("FWnope")


# -- accept_any_flow --------------------------------------------------------------------------


def test_accept_any_flow_creates_a_well_formed_unknown_flow(clock: ManualClock) -> None:
    studio = make_studio(clock, accept_any_flow=True)
    account = studio.accounts[AC1]
    execution = account.create_execution(UNKNOWN_FLOW, TO, FROM, None)
    assert execution.flow_sid == UNKNOWN_FLOW
    assert UNKNOWN_FLOW in account.flows
    assert account.flows[UNKNOWN_FLOW].definition == inert_definition()
    assert account.fetch_execution(UNKNOWN_FLOW, execution.sid) is execution
    upper = "FW" + "AB" * 16
    assert account.create_execution(upper, TO, FROM, None).flow_sid == upper
    for malformed in ("FW123", "FN" + "0" * 32, "fw" + "0" * 32, "FW" + "g" * 32, ""):
        with pytest.raises(NotFound):
            account.create_execution(malformed, TO, FROM, None)
    assert UNKNOWN_FLOW not in studio.accounts[AC2].flows


# -- reset ------------------------------------------------------------------------------------


def test_reset_everything(studio: Studio, clock: ManualClock) -> None:
    execution = studio.accounts[AC1].create_execution(FW1, TO, FROM, None)
    studio.accounts[AC2].create_execution(FW3, TO, FROM, None)
    clock.advance(60)
    studio.reset()
    one = studio.accounts[AC1]
    assert len(one.executions) == 0
    assert len(studio.accounts[AC2].executions) == 0
    assert set(one.flows) == {FW1, FW2, INERT_FLOW}
    assert one.flows[FW1].date_created == T0 + 60  # reloaded
    with pytest.raises(NotFound):
        one.fetch_execution(FW1, execution.sid)
    one.create_execution(FW1, TO, FROM, None)  # contact free again


def test_reset_one_account(studio: Studio) -> None:
    studio.accounts[AC1].create_execution(FW1, TO, FROM, None)
    kept = studio.accounts[AC2].create_execution(FW3, TO, FROM, None)
    studio.reset(AC1)
    assert len(studio.accounts[AC1].executions) == 0
    assert studio.accounts[AC2].fetch_execution(FW3, kept.sid) is kept
    assert studio.authenticate(AC1, "token1") is studio.accounts[AC1]
    assert studio.authenticate(SK1, "keysecret") is studio.accounts[AC1]


def test_reset_unknown_account(studio: Studio) -> None:
    with pytest.raises(NotFound) as info:
        studio.reset("AC" + "9" * 32)
    assert info.value.message == f"The requested resource /Accounts/AC{'9' * 32} was not found"


def test_reset_forgets_auto_created_flows(clock: ManualClock) -> None:
    studio = make_studio(clock, accept_any_flow=True)
    studio.accounts[AC1].create_execution(UNKNOWN_FLOW, TO, FROM, None)
    studio.reset()
    assert UNKNOWN_FLOW not in studio.accounts[AC1].flows


# -- authenticate -----------------------------------------------------------------------------


def test_authenticate_with_account_token(studio: Studio) -> None:
    assert studio.authenticate(AC1, "token1") is studio.accounts[AC1]
    assert studio.authenticate(AC2, "token2") is studio.accounts[AC2]


def test_authenticate_with_api_key(studio: Studio) -> None:
    assert studio.authenticate(SK1, "keysecret") is studio.accounts[AC1]


@pytest.mark.parametrize(
    ("username", "password"),
    [
        (AC1, "token2"),  # another account's token
        (AC1, "token1 "),
        (AC1, "TOKEN1"),
        (AC1, ""),
        (SK1, "token1"),  # the account token is not the key's secret
        (AC2, "keysecret"),
        ("AC" + "9" * 32, "token1"),
        ("", ""),
        ("SK" + "9" * 32, "keysecret"),
    ],
)
def test_authenticate_rejects_wrong_credentials(studio: Studio, username: str, password: str) -> None:
    assert studio.authenticate(username, password) is None


# -- SIDs -------------------------------------------------------------------------------------


def test_seeded_sids_are_deterministic_and_well_formed() -> None:
    one, two = SeededSids(3), SeededSids(3)
    values = [one.new("FN") for _ in range(5)]
    assert values == [two.new("FN") for _ in range(5)]
    assert all(SID_RE.match(v) and is_sid(v, "FN") for v in values)
    assert len(set(values)) == 5


def test_random_sids_are_unique_and_well_formed_across_batches() -> None:
    # RandomSids slices SIDs from batches of random hex digits: cross a few batch ends.
    factory = RandomSids()
    values = [factory.new("FT" if n % 2 else "SM") for n in range(3 * RandomSids._BATCH + 7)]
    assert all(SID_RE.match(v) and (is_sid(v, "FT") or is_sid(v, "SM")) for v in values)
    assert len({v[2:] for v in values}) == len(values)
    assert RandomSids().new("FN") != RandomSids().new("FN")  # each factory seeded from the OS


def test_is_sid() -> None:
    assert is_sid("FW" + "0" * 32, "FW")
    assert is_sid("FW" + "aBcD" * 8, "FW")
    assert not is_sid("FW" + "0" * 31, "FW")
    assert not is_sid("FW" + "0" * 33, "FW")
    assert not is_sid("FN" + "0" * 32, "FW")
    assert not is_sid("FW" + "g" * 32, "FW")
