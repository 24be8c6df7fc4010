"""Executions through the real, unmodified twilio-python SDK against the live mock: create,
fetch, update, delete, paging, filters, errors, contexts and steps as resources, and
authentication. (Flows through the SDK: tests/test_sdk_flows.py; flows *run* through the
SDK: tests/engine/test_sdk_runs.py.)

The only thing a user changes is `client.studio.base_url`; everything else (auth headers,
form encoding, date serialisation, error parsing, following `next_page_url`) is the SDK's
own code, so these tests catch any shape the SDK would choke on."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from mockstudio.clock import ManualClock
from mockstudio.testing import MockStudioServer

from .conftest import API_KEY, API_SECRET, DEMO_FLOW, OTHER_ACCOUNT, OTHER_FLOW, OTHER_TOKEN, TEST_FLOW

FROM = "+15005550006"


class RecordingHttpClient(TwilioHttpClient):
    """The SDK's own HTTP client, noting each request's method and absolute URL (with the
    query string it was sent with), so a test can see the SDK follow `next_page_url`."""

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[tuple[str, str, dict[str, Any]]] = []

    def request(self, method: str, url: str, params: Any = None, *args: Any, **kwargs: Any) -> Any:
        self.requests.append((method.upper(), url, dict(params or {})))
        return super().request(method, url, params, *args, **kwargs)


def _client(live: MockStudioServer, username: str, password: str, account_sid: str | None = None) -> Client:
    sdk = Client(username, password, account_sid)
    sdk.studio.base_url = live.base_url
    return sdk


@pytest.fixture
def recorder(live: MockStudioServer) -> Iterator[tuple[Client, RecordingHttpClient]]:
    http_client = RecordingHttpClient()
    sdk = Client(live.account_sid, live.auth_token, http_client=http_client)
    sdk.studio.base_url = live.base_url
    yield sdk, http_client
    if http_client.session is not None:
        http_client.session.close()


def _clock(live: MockStudioServer) -> ManualClock:
    assert isinstance(live.clock, ManualClock)
    return live.clock


def _to(n: int) -> str:
    return f"+1555{n:07d}"


# -- create / fetch / update / delete ----------------------------------------------------------


def test_create_fetch_update_delete(sdk: Client, live: MockStudioServer) -> None:
    flow = sdk.studio.v2.flows(DEMO_FLOW)
    created = flow.executions.create(to=_to(1), from_=FROM, parameters={"name": "Zeke", "n": 3})
    assert created.sid.startswith("FN") and len(created.sid) == 34
    assert created.account_sid == live.account_sid
    assert created.flow_sid == DEMO_FLOW
    assert created.status == "active"
    assert created.contact_channel_address == _to(1)
    assert created.contact_sid is not None and created.contact_sid.startswith("FC")
    # The SDK parses only `YYYY-MM-DDTHH:MM:SSZ` into datetimes; anything else stays a str.
    assert created.date_created == datetime.fromtimestamp(1_700_000_000, UTC)
    assert isinstance(created.date_updated, datetime)
    assert created.url == f"{live.base_url}/v2/Flows/{DEMO_FLOW}/Executions/{created.sid}"
    assert created.links == {
        "steps": created.url + "/Steps",
        "execution_context": created.url + "/Context",
    }

    fetched = flow.executions(created.sid).fetch()
    assert fetched.sid == created.sid
    assert fetched.status == "active"
    assert fetched.contact_sid == created.contact_sid

    _clock(live).advance(30)
    ended = flow.executions(created.sid).update(status="ended")
    assert ended.sid == created.sid
    assert ended.status == "ended"
    assert ended.date_updated == datetime.fromtimestamp(1_700_000_030, UTC)
    assert ended.date_created == created.date_created

    assert flow.executions(created.sid).delete() is True
    with pytest.raises(TwilioRestException) as raised:
        flow.executions(created.sid).fetch()
    assert raised.value.status == 404
    assert raised.value.code == 20404


def test_instance_methods(sdk: Client) -> None:
    """The instance's own fetch/update/delete (the SDK builds a context from the instance)."""
    execution = sdk.studio.v2.flows(TEST_FLOW).executions.create(to=_to(2), from_=FROM)
    assert execution.fetch().sid == execution.sid
    assert execution.update(status="ended").status == "ended"
    assert execution.delete() is True


def test_conflict_for_an_active_contact(sdk: Client) -> None:
    executions = sdk.studio.v2.flows(DEMO_FLOW).executions
    first = executions.create(to=_to(3), from_=FROM)
    with pytest.raises(TwilioRestException) as raised:
        executions.create(to=_to(3), from_=FROM)
    error = raised.value
    assert error.status == 409
    assert error.code == 20409
    assert error.details == {"conflicting_execution_sid": first.sid}
    assert f"Execution {first.sid} is already active for this contact" in error.msg
    # Ending the conflicting execution, as the docs advise, frees the contact.
    executions(first.sid).update(status="ended")
    second = executions.create(to=_to(3), from_=FROM)
    assert second.sid != first.sid
    # Ending it twice is a 409 too.
    with pytest.raises(TwilioRestException) as raised:
        executions(first.sid).update(status="ended")
    assert (raised.value.status, raised.value.code) == (409, 20409)


def test_missing_parameter_error(sdk: Client) -> None:
    with pytest.raises(TwilioRestException) as raised:
        sdk.studio.v2.flows(DEMO_FLOW).executions.create(to="", from_=FROM)
    assert (raised.value.status, raised.value.code) == (400, 20001)
    assert "Missing required parameter To in the post body" in raised.value.msg


# -- listing and paging ------------------------------------------------------------------------


def test_list_follows_next_page_url_across_pages(
    recorder: tuple[Client, RecordingHttpClient], live: MockStudioServer
) -> None:
    sdk, http_client = recorder
    executions = sdk.studio.v2.flows(DEMO_FLOW).executions
    created = []
    for n in range(130):
        if n % 7 == 0:
            _clock(live).advance(1)  # mix equal and distinct times
        created.append(executions.create(to=_to(n), from_=FROM).sid)
    http_client.requests.clear()

    listed = [e.sid for e in executions.list(limit=130, page_size=50)]

    assert listed == created[::-1]  # every execution exactly once, newest first
    gets = [(url, params) for method, url, params in http_client.requests if method == "GET"]
    assert len(gets) == 3
    # Page 1 is built by the SDK from base_url; pages 2 and 3 are the mock's own absolute
    # next_page_url, requested as-is.
    first_url, first_params = gets[0]
    assert first_url == f"{live.base_url}/v2/Flows/{DEMO_FLOW}/Executions"
    assert first_params == {"PageSize": 50}
    for number, (url, params) in enumerate(gets[1:], start=1):
        parts = urlsplit(url)
        assert f"{parts.scheme}://{parts.netloc}" == live.base_url
        query = parse_qs(parts.query)
        assert query["PageSize"] == ["50"] and query["Page"] == [str(number)]
        assert query["PageToken"][0]
        assert not params

    # Stream without a limit walks to the end and stops when next_page_url is null.
    http_client.requests.clear()
    streamed = [e.sid for e in executions.stream(page_size=40)]
    assert streamed == created[::-1]
    assert len(http_client.requests) == 4  # 40 + 40 + 40 + 10


def test_page_navigation(sdk: Client) -> None:
    executions = sdk.studio.v2.flows(TEST_FLOW).executions
    created = [executions.create(to=_to(n), from_=FROM).sid for n in range(5)]
    page = executions.page(page_size=2)
    seen = [e.sid for e in page]
    while (page := page.next_page()) is not None:
        seen.extend(e.sid for e in page)
    assert seen == created[::-1]
    assert [e.sid for e in executions.list(limit=3)] == created[:-4:-1]


def test_date_and_status_filters(sdk: Client, live: MockStudioServer) -> None:
    clock = _clock(live)
    # TEST_FLOW waits a day for a reply, so moving the clock by hours ends nothing.
    executions = sdk.studio.v2.flows(TEST_FLOW).executions
    # Three executions one hour apart: 2023-11-14T22:13:20Z, 23:13:20Z, 00:13:20Z (+1 day).
    sids = []
    for n in range(3):
        clock.set(1_700_000_000 + 3600 * n)
        sids.append(executions.create(to=_to(n), from_=FROM).sid)
    times = [datetime.fromtimestamp(1_700_000_000 + 3600 * n, UTC) for n in range(3)]

    def listed(**filters: Any) -> list[str]:
        return [e.sid for e in executions.list(**filters)]

    assert listed() == sids[::-1]
    # DateCreatedFrom is inclusive, DateCreatedTo exclusive (the spec: "on or after",
    # "before").
    assert listed(date_created_from=times[1]) == [sids[2], sids[1]]
    assert listed(date_created_to=times[1]) == [sids[0]]
    assert listed(date_created_from=times[0], date_created_to=times[2]) == [sids[1], sids[0]]
    assert listed(date_created_from=times[2].replace(second=21)) == []
    # A `date` (not a datetime) is sent as midnight UTC by the SDK.
    assert listed(date_created_from=times[2].date()) == [sids[2]]

    executions(sids[1]).update(status="ended")
    assert listed(status="ended") == [sids[1]]
    assert listed(status="active") == [sids[2], sids[0]]
    assert listed(status="active", date_created_to=times[2]) == [sids[0]]
    # Filters survive into next_page_url.
    assert [e.sid for e in executions.list(status="active", page_size=1)] == [sids[2], sids[0]]


def test_list_errors_raise(sdk: Client) -> None:
    """twilio-python's page code raises a plain TwilioException for any non-200 list
    response (no code parsing); the mock's 404 must still reach it as an error."""
    with pytest.raises(TwilioException):
        sdk.studio.v2.flows("FW" + "9" * 32).executions.list()


# -- context and steps -------------------------------------------------------------------------


def test_execution_context_and_steps(sdk: Client, live: MockStudioServer) -> None:
    flow = sdk.studio.v2.flows(DEMO_FLOW)
    execution = flow.executions.create(to=_to(5), from_=FROM, parameters={"name": "Zeke"})
    context = flow.executions(execution.sid).execution_context().fetch()
    assert context.execution_sid == execution.sid
    assert context.flow_sid == DEMO_FLOW
    assert context.account_sid == live.account_sid
    assert context.url == execution.url + "/Context"
    assert context.context["flow"]["data"] == {"name": "Zeke"}
    assert context.context["contact"]["channel"]["address"] == _to(5)
    assert context.context["flow"]["channel"]["address"] == FROM

    # Flows run in the background after the create call returns (as in Studio): wait until
    # this one has settled (the demo greets, then waits for a reply).
    assert live.wait_until_settled(execution.sid)["waiting_on"] == "greet"
    steps = flow.executions(execution.sid).steps
    listed = steps.list()
    assert listed, "no step was recorded for the execution"
    dates = [step.date_created for step in listed]
    assert dates == sorted(dates, reverse=True)  # newest first
    for step in listed:
        assert step.execution_sid == execution.sid and step.flow_sid == DEMO_FLOW
        assert step.sid.startswith("FT")
        fetched = steps(step.sid).fetch()
        assert (fetched.sid, fetched.name, fetched.transitioned_to) == (step.sid, step.name, step.transitioned_to)
        step_context = steps(step.sid).step_context().fetch()
        assert step_context.step_sid == step.sid and step_context.execution_sid == execution.sid
        assert step_context.context["flow"]["data"] == {"name": "Zeke"}
    with pytest.raises(TwilioRestException) as raised:
        steps("FT" + "0" * 32).fetch()
    assert (raised.value.status, raised.value.code) == (404, 20404)


# -- authentication and accounts ---------------------------------------------------------------


def test_bad_credentials(live: MockStudioServer) -> None:
    sdk = _client(live, live.account_sid, "not-the-token")
    with pytest.raises(TwilioRestException) as raised:
        sdk.studio.v2.flows(DEMO_FLOW).executions.create(to=_to(6), from_=FROM)
    assert raised.value.status == 401
    assert raised.value.code == 20003
    unknown = _client(live, "AC" + "f" * 32, live.auth_token)
    with pytest.raises(TwilioRestException) as raised:
        unknown.studio.v2.flows(DEMO_FLOW).executions("FN" + "0" * 32).fetch()
    assert (raised.value.status, raised.value.code) == (401, 20003)


def test_api_key_authentication(live: MockStudioServer, sdk: Client) -> None:
    keyed = _client(live, API_KEY, API_SECRET, OTHER_ACCOUNT)
    executions = keyed.studio.v2.flows(OTHER_FLOW).executions
    created = executions.create(to=_to(7), from_=FROM)
    assert created.account_sid == OTHER_ACCOUNT
    assert executions(created.sid).fetch().sid == created.sid
    # The key reaches the same state as the account's own credentials.
    owner = _client(live, OTHER_ACCOUNT, OTHER_TOKEN)
    assert [e.sid for e in owner.studio.v2.flows(OTHER_FLOW).executions.list()] == [created.sid]
    # ...and not the default account's.
    with pytest.raises(TwilioRestException) as raised:
        keyed.studio.v2.flows(DEMO_FLOW).executions.create(to=_to(7), from_=FROM)
    assert raised.value.status == 404
    # A key with the wrong secret is refused.
    wrong = _client(live, API_KEY, "wrongsecret", OTHER_ACCOUNT)
    with pytest.raises(TwilioRestException) as raised:
        wrong.studio.v2.flows(OTHER_FLOW).executions(created.sid).fetch()
    assert (raised.value.status, raised.value.code) == (401, 20003)


def test_other_account_cannot_see_executions(live: MockStudioServer, sdk: Client) -> None:
    mine = sdk.studio.v2.flows(DEMO_FLOW).executions.create(to=_to(8), from_=FROM)
    other = _client(live, OTHER_ACCOUNT, OTHER_TOKEN)
    for flow_sid in (DEMO_FLOW, OTHER_FLOW):
        with pytest.raises(TwilioRestException) as raised:
            other.studio.v2.flows(flow_sid).executions(mine.sid).fetch()
        assert (raised.value.status, raised.value.code) == (404, 20404)
        with pytest.raises(TwilioRestException) as raised:
            other.studio.v2.flows(flow_sid).executions(mine.sid).update(status="ended")
        assert raised.value.status == 404
        with pytest.raises(TwilioRestException) as raised:
            other.studio.v2.flows(flow_sid).executions(mine.sid).delete()
        assert raised.value.status == 404
    assert other.studio.v2.flows(OTHER_FLOW).executions.list() == []
    # The same contact is independent per account: no 409 across accounts.
    theirs = other.studio.v2.flows(OTHER_FLOW).executions.create(to=_to(8), from_=FROM)
    assert theirs.sid != mine.sid
    assert sdk.studio.v2.flows(DEMO_FLOW).executions(mine.sid).fetch().status == "active"
