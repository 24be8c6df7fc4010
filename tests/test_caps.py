"""Caps on the stores that grow with use: the request journal, ended executions (per
account), contact addresses, scripts, fault rules and messages. Each keeps the newest and
drops the oldest."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from mockstudio.clock import ManualClock
from mockstudio.domain.models import ACTIVE, BY_KEY, ENDED, Execution
from mockstudio.domain.paging import PageRequest, SortedIndex
from mockstudio.errors import NotFound
from mockstudio.settings import Settings
from mockstudio.sids import SeededSids
from mockstudio.studio import AccountSeed, AccountState, FlowSeed, Studio, inert_definition
from mockstudio.testing import MockStudioServer

from .conftest import DEMO_FLOW, TEST_FIXTURES, TEST_FLOW
from .helpers import assert_twilio_error
from .test_studio import WAITING_DEFINITION

AC1 = "AC" + "a1" * 16
WAITING = "FW" + "01" * 16
INERT = "FW" + "0e" * 16
OTHER_INERT = "FW" + "0f" * 16
FROM = "+15559999999"


def make_studio(ended_execution_limit: int | None = None, contact_limit: int | None = None) -> Studio:
    return Studio(
        clock=ManualClock(1_700_000_000),
        sid_factory=SeededSids(3),
        accounts=[AccountSeed(AC1, "token1")],
        flows=[
            FlowSeed(WAITING, AC1, "Waits", WAITING_DEFINITION),
            FlowSeed(INERT, AC1, "Inert", inert_definition()),
            FlowSeed(OTHER_INERT, AC1, "Inert too", inert_definition()),
        ],
        ended_execution_limit=ended_execution_limit,
        contact_limit=contact_limit,
    )


def run(account: AccountState, flow: str, n: int, prefix: str = "+1555") -> list[Execution]:
    """`n` executions of `flow` (the engine runs them to settlement in-process)."""
    return [account.create_execution(flow, f"{prefix}{i:07d}", FROM, None) for i in range(n)]


def sids_of(account: AccountState, flow: str, status: str | None = None) -> list[str]:
    filters = account.execution_filters(status, None, None)
    return [e.sid for e in account.list_executions(flow, filters, PageRequest(1000)).items]


# -- ended executions, in the domain ------------------------------------------------------------


def test_the_oldest_ended_executions_are_dropped_from_every_index() -> None:
    studio = make_studio(ended_execution_limit=3)
    account = studio.accounts[AC1]
    waiting = run(account, WAITING, 2, "+1444")
    ended = run(account, INERT, 5)
    assert all(e.status == ENDED for e in ended) and all(e.status == ACTIVE for e in waiting)
    kept, dropped = ended[2:], ended[:2]
    assert sids_of(account, INERT) == [e.sid for e in reversed(kept)]
    assert sids_of(account, INERT, ENDED) == [e.sid for e in reversed(kept)]
    for execution in dropped:
        assert execution.sid not in account.executions
        assert execution.steps is None
        with pytest.raises(NotFound):
            account.fetch_execution(INERT, execution.sid)
    # Active executions are never dropped, however many end.
    assert sids_of(account, WAITING) == [e.sid for e in reversed(waiting)]
    assert all(account.fetch_execution(WAITING, e.sid) is e for e in waiting)
    assert [e.sid for e in account.executions.ended_in_order()] == [e.sid for e in kept]


def test_ended_means_in_the_order_they_ended_across_flows() -> None:
    studio = make_studio(ended_execution_limit=3)
    account = studio.accounts[AC1]
    first_waiting, second_waiting = run(account, WAITING, 2, "+1444")
    inert = run(account, INERT, 2)
    # Ending the older waiting execution now makes it the newest ended one.
    account.update_execution(WAITING, first_waiting.sid, ENDED)
    other = run(account, OTHER_INERT, 1)
    assert [e.sid for e in account.executions.ended_in_order()] == [inert[1].sid, first_waiting.sid, other[0].sid]
    assert sids_of(account, INERT) == [inert[1].sid]
    assert sids_of(account, WAITING) == [second_waiting.sid, first_waiting.sid]
    assert sids_of(account, WAITING, ACTIVE) == [second_waiting.sid]


def test_deleted_executions_no_longer_count() -> None:
    studio = make_studio(ended_execution_limit=3)
    account = studio.accounts[AC1]
    one, two, three = run(account, INERT, 3)
    account.delete_execution(INERT, two.sid)
    account.delete_flow(OTHER_INERT)
    four = run(account, INERT, 1, "+1666")[0]
    assert sids_of(account, INERT) == [four.sid, three.sid, one.sid]  # nothing dropped: 3 ended


def test_large_limits_drop_in_batches_of_one_percent() -> None:
    studio = make_studio(ended_execution_limit=200)
    account = studio.accounts[AC1]
    executions = run(account, INERT, 200)
    assert len(account.executions.ended_in_order()) == 200
    run(account, INERT, 1, "+1666")
    # 201 > 200: down to 99% of the limit at once (3 dropped), then room for 2 more.
    assert len(account.executions.ended_in_order()) == 198
    assert [e.sid for e in executions[:3]] == [e.sid for e in executions[:3] if e.sid not in account.executions]
    run(account, INERT, 2, "+1777")
    assert len(account.executions.ended_in_order()) == 200
    assert len(sids_of(account, INERT)) == 200


def test_unlimited_without_a_limit() -> None:
    studio = make_studio()
    account = studio.accounts[AC1]
    run(account, INERT, 300)
    assert len(sids_of(account, INERT)) == 300


def test_reset_forgets_the_order() -> None:
    studio = make_studio(ended_execution_limit=3)
    run(studio.accounts[AC1], INERT, 3)
    studio.reset()
    assert studio.accounts[AC1].executions.ended_in_order() == []


# -- contacts -----------------------------------------------------------------------------------


def test_the_oldest_contact_addresses_are_forgotten() -> None:
    studio = make_studio(contact_limit=2)
    account = studio.accounts[AC1]
    first = account.create_execution(INERT, "+15550000001", FROM, None)
    second = account.create_execution(INERT, "+15550000002", FROM, None)
    assert account.create_execution(INERT, "+15550000002", FROM, None).contact_sid == second.contact_sid
    account.create_execution(INERT, "+15550000003", FROM, None)
    assert list(account.contacts) == ["+15550000002", "+15550000003"]
    # A forgotten address gets a new contact SID; its old executions keep theirs.
    again = account.create_execution(INERT, "+15550000001", FROM, None)
    assert again.contact_sid != first.contact_sid
    assert account.fetch_execution(INERT, first.sid).contact_sid == first.contact_sid


# -- timers of executions no longer parked --------------------------------------------------------


def test_timers_of_resumed_or_ended_executions_do_not_pile_up() -> None:
    """Each parked execution pushes a timer (its widget's timeout); once it is resumed or
    ended the timer is dead weight holding the execution until due. The heap is compacted
    when it doubles, so it stays proportional to the executions actually parked."""
    studio = make_studio(ended_execution_limit=10)
    account = studio.accounts[AC1]
    timers = studio.engine._timers
    for execution in run(account, WAITING, 1000):
        account.update_execution(WAITING, execution.sid, ENDED)
    still_waiting = run(account, WAITING, 30, "+1888")
    assert len(studio.engine._timers) <= 30 < len(timers)
    # The live ones still fire.
    studio.clock.advance(86400)  # type: ignore[attr-defined]
    assert studio.engine.fire_due_timers() == 30
    assert all(e.status == ENDED for e in still_waiting)


# -- SortedIndex.remove_many --------------------------------------------------------------------


class Item:
    def __init__(self, key: int) -> None:
        self.key = key


@pytest.mark.parametrize("keyed", [True, False])
@pytest.mark.parametrize(
    ("remove", "left"),
    [
        ([1, 2], [3, 4, 5]),  # a prefix
        ([2, 4], [1, 3, 5]),
        ([5, 1, 1, 9], [2, 3, 4]),  # any order, duplicates and absent keys
        ([], [1, 2, 3, 4, 5]),
        ([1, 2, 3, 4, 5], []),
    ],
)
def test_sorted_index_remove_many(keyed: bool, remove: list[int], left: list[int]) -> None:
    index: SortedIndex[Item] = SortedIndex(BY_KEY) if keyed else SortedIndex()
    for key in range(1, 6):
        index.add(key, Item(key))
    index.remove_many(remove)
    assert [item.key for item in reversed(list(index.newest_first()))] == left
    assert len(index) == len(left)
    index.add(6, Item(6))  # still ordered and usable
    assert [i.key for i in index.page(PageRequest(2)).items] == ([6, left[-1]] if left else [6])


# -- over HTTP ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def capped() -> Iterator[MockStudioServer]:
    settings = Settings(
        fixtures=TEST_FIXTURES,
        accept_any_flow=True,
        journal_limit=5,
        ended_execution_limit=3,
        script_limit=2,
        fault_limit=2,
        message_limit=2,
    )
    with MockStudioServer(settings) as server:
        yield server


@pytest.fixture
def client(capped: MockStudioServer) -> Iterator[httpx.Client]:
    capped.reset()
    with httpx.Client(base_url=capped.base_url, auth=(capped.account_sid, capped.auth_token), timeout=10) as http:
        yield http


AUTO_INERT = "FW" + "ab" * 16  # created on first use by accept_any_flow: its executions end at once


def create(client: httpx.Client, flow: str, to: str) -> dict[str, Any]:
    response = client.post(f"/v2/Flows/{flow}/Executions", data={"To": to, "From": FROM})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    settled = client.get(f"/_mockstudio/executions/{body['sid']}/settled")
    assert settled.json()["settled"] is True
    return body


def test_journal_cap(client: httpx.Client) -> None:
    for n in range(8):
        client.get(f"/v2/Flows/{TEST_FLOW}", params={"n": str(n)})
    body = client.get("/_mockstudio/requests").json()
    assert [e["query"]["n"] for e in body["requests"]] == ["3", "4", "5", "6", "7"]
    assert (body["limit"], body["dropped"]) == (5, 3)


def test_ended_execution_cap_over_http(client: httpx.Client) -> None:
    waiting = [create(client, DEMO_FLOW, f"+1444000000{n}") for n in range(2)]  # parks: stays active
    ended = [create(client, AUTO_INERT, f"+1555000000{n}") for n in range(5)]
    listed = client.get(f"/v2/Flows/{AUTO_INERT}/Executions").json()["executions"]
    assert [e["sid"] for e in listed] == [e["sid"] for e in reversed(ended[2:])]
    assert all(e["status"] == "ended" for e in listed)
    for gone in ended[:2]:
        base = f"/v2/Flows/{AUTO_INERT}/Executions/{gone['sid']}"
        assert_twilio_error(client.get(base), 404, 20404)
        assert_twilio_error(client.get(f"{base}/Steps"), 404, 20404)
        assert_twilio_error(client.get(f"{base}/Context"), 404, 20404)
    for kept in ended[2:]:
        assert client.get(f"/v2/Flows/{AUTO_INERT}/Executions/{kept['sid']}").status_code == 200
    active = client.get(f"/v2/Flows/{DEMO_FLOW}/Executions", params={"status": "active"}).json()["executions"]
    assert {e["sid"] for e in active} == {e["sid"] for e in waiting}
    # Ending one through the API makes it the newest ended: the oldest kept one goes.
    sid = waiting[0]["sid"]
    assert client.post(f"/v2/Flows/{DEMO_FLOW}/Executions/{sid}", data={"Status": "ended"}).status_code == 200
    assert client.get(f"/v2/Flows/{DEMO_FLOW}/Executions/{sid}").json()["status"] == "ended"
    assert_twilio_error(client.get(f"/v2/Flows/{AUTO_INERT}/Executions/{ended[2]['sid']}"), 404, 20404)


def test_script_cap(client: httpx.Client) -> None:
    for widget in ("a", "b", "c"):
        script = {"widget": widget, "outcomes": [{"event": "success"}]}
        assert client.post("/_mockstudio/scripts", json=script).status_code == 200
    assert [s["widget"] for s in client.get("/_mockstudio/scripts").json()["scripts"]] == ["b", "c"]


def test_fault_cap(client: httpx.Client) -> None:
    for path in ("/v2/a", "/v2/b", "/v2/c"):
        assert client.post("/_mockstudio/faults", json={"path": path, "status": 500}).status_code == 201
    assert [f["path"] for f in client.get("/_mockstudio/faults").json()["faults"]] == ["/v2/b", "/v2/c"]


def test_message_cap(client: httpx.Client) -> None:
    create(client, DEMO_FLOW, "+14440000001")  # sends its greeting
    create(client, DEMO_FLOW, "+14440000002")
    create(client, DEMO_FLOW, "+14440000003")
    messages = client.get("/_mockstudio/messages").json()["messages"]
    assert [m["to"] for m in messages] == ["+14440000002", "+14440000003"]


def test_caps_are_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    from mockstudio.cli import load_settings

    defaults = Settings()
    assert (defaults.journal_limit, defaults.ended_execution_limit, defaults.message_limit) == (1_000, 100_000, 10_000)
    for name in ("JOURNAL_LIMIT", "ENDED_EXECUTION_LIMIT", "CONTACT_LIMIT", "SCRIPT_LIMIT", "FAULT_LIMIT"):
        monkeypatch.setenv(f"MOCKSTUDIO_{name}", "7")
    settings = load_settings({})
    assert (
        settings.journal_limit,
        settings.ended_execution_limit,
        settings.contact_limit,
        settings.script_limit,
        settings.fault_limit,
    ) == (7, 7, 7, 7, 7)
