"""The twilio SDK's end-to-end scenarios, written once and run over both transports: the
live server (the SDK's own TwilioHttpClient over a socket) and InProcessHttpClient (the
same app, no sockets). Both must answer identically, paging included."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from mockstudio.clock import ManualClock
from mockstudio.settings import Settings
from mockstudio.sids import SeededSids
from mockstudio.testing import IN_PROCESS_URL, InProcessHttpClient, MockStudioServer

from .conftest import DEMO_FLOW, TEST_FIXTURES, TEST_FLOW

START = 1_700_000_000
FROM = "+15005550006"
Recorded = list[tuple[str, str, dict[str, Any]]]


def _to(n: int) -> str:
    return f"+1555{n:07d}"


@pytest.fixture(scope="module")
def in_process_server() -> Iterator[MockStudioServer]:
    settings = Settings(fixtures=TEST_FIXTURES)
    with MockStudioServer(settings, clock=ManualClock(START), sid_factory=SeededSids(7), in_process=True) as mock:
        yield mock


@pytest.fixture(params=["live", "in-process"])
def mock(request: pytest.FixtureRequest, server: MockStudioServer) -> MockStudioServer:
    """The session's live server (tests/conftest.py), or an in-process handle with the same
    fixtures, clock and SIDs; reset."""
    handle: MockStudioServer = server if request.param == "live" else request.getfixturevalue("in_process_server")
    handle.reset()
    return handle


@pytest.fixture
def client(mock: MockStudioServer) -> Client:
    client = mock.client()
    expected = InProcessHttpClient if mock.in_process else TwilioHttpClient
    assert type(client.http_client) is expected
    return client


def _recording(client: Client) -> Recorded:
    """Note each request the SDK makes (method, absolute URL, query parameters)."""
    calls: Recorded = []
    original: Callable[..., Any] = client.http_client.request

    def request(method: str, url: str, params: Any = None, *args: Any, **kwargs: Any) -> Any:
        calls.append((method.upper(), url, dict(params or {})))
        return original(method, url, params, *args, **kwargs)

    client.http_client.request = request
    return calls


def test_transports(mock: MockStudioServer) -> None:
    if mock.in_process:
        assert (mock.base_url, mock.port) == (IN_PROCESS_URL, 0)
    else:
        assert mock.base_url == f"http://127.0.0.1:{mock.port}" and mock.port > 0


def test_create_fetch_update_delete(client: Client, mock: MockStudioServer) -> None:
    flow = client.studio.v2.flows(DEMO_FLOW)
    created = flow.executions.create(to=_to(1), from_=FROM, parameters={"name": "Zeke", "n": 3})
    assert created.sid.startswith("FN") and len(created.sid) == 34
    assert (created.account_sid, created.flow_sid, created.status) == (mock.account_sid, DEMO_FLOW, "active")
    assert created.contact_channel_address == _to(1)
    assert created.date_created == datetime.fromtimestamp(START, UTC)
    assert created.url == f"{mock.base_url}/v2/Flows/{DEMO_FLOW}/Executions/{created.sid}"
    assert created.links == {"steps": created.url + "/Steps", "execution_context": created.url + "/Context"}

    fetched = flow.executions(created.sid).fetch()
    assert (fetched.sid, fetched.status, fetched.contact_sid) == (created.sid, "active", created.contact_sid)

    mock.advance_clock(30)
    ended = flow.executions(created.sid).update(status="ended")
    assert (ended.sid, ended.status) == (created.sid, "ended")
    assert ended.date_updated == datetime.fromtimestamp(START + 30, UTC)

    assert flow.executions(created.sid).delete() is True
    with pytest.raises(TwilioRestException) as raised:
        flow.executions(created.sid).fetch()
    assert (raised.value.status, raised.value.code) == (404, 20404)
    with pytest.raises(TwilioRestException) as raised:
        flow.executions.create(to="", from_=FROM)
    assert (raised.value.status, raised.value.code) == (400, 20001)
    assert "Missing required parameter To in the post body" in raised.value.msg


def test_conflict_for_an_active_contact(client: Client) -> None:
    executions = client.studio.v2.flows(DEMO_FLOW).executions
    first = executions.create(to=_to(3), from_=FROM)
    with pytest.raises(TwilioRestException) as raised:
        executions.create(to=_to(3), from_=FROM)
    assert (raised.value.status, raised.value.code) == (409, 20409)
    assert raised.value.details == {"conflicting_execution_sid": first.sid}
    assert f"Execution {first.sid} is already active for this contact" in raised.value.msg
    executions(first.sid).update(status="ended")
    assert executions.create(to=_to(3), from_=FROM).sid != first.sid


def test_list_follows_next_page_url_across_pages(client: Client, mock: MockStudioServer) -> None:
    executions = client.studio.v2.flows(TEST_FLOW).executions
    created = []
    for n in range(110):
        if n % 7 == 0:
            mock.advance_clock(1)  # mix equal and distinct creation times
        created.append(executions.create(to=_to(n), from_=FROM).sid)
    calls = _recording(client)

    listed = [e.sid for e in executions.list(limit=110, page_size=50)]

    assert listed == created[::-1]  # every execution exactly once, newest first
    assert [method for method, _, _ in calls] == ["GET"] * 3  # 50 + 50 + 10
    first_url, first_params = calls[0][1:]
    assert (first_url, first_params) == (f"{mock.base_url}/v2/Flows/{TEST_FLOW}/Executions", {"PageSize": 50})
    for number, (_, url, params) in enumerate(calls[1:], start=1):
        parts = urlsplit(url)  # the mock's own absolute next_page_url, requested as-is
        assert f"{parts.scheme}://{parts.netloc}" == mock.base_url
        query = parse_qs(parts.query)
        assert (query["PageSize"], query["Page"]) == (["50"], [str(number)])
        assert query["PageToken"][0] and not params

    calls.clear()
    assert [e.sid for e in executions.stream(page_size=40)] == created[::-1]
    assert len(calls) == 3  # 40 + 40 + 30, then next_page_url is null

    page = executions.page(page_size=45)
    seen = [e.sid for e in page]
    while (page := page.next_page()) is not None:
        seen.extend(e.sid for e in page)
    assert seen == created[::-1]


def test_date_and_status_filters(client: Client, mock: MockStudioServer) -> None:
    executions = client.studio.v2.flows(TEST_FLOW).executions  # waits a day for a reply
    sids = []
    for n in range(3):
        mock.set_clock(START + 3600 * n)
        sids.append(executions.create(to=_to(n), from_=FROM).sid)
    times = [datetime.fromtimestamp(START + 3600 * n, UTC) for n in range(3)]

    def listed(**filters: Any) -> list[str]:
        return [e.sid for e in executions.list(**filters)]

    assert listed() == sids[::-1]
    assert listed(date_created_from=times[1]) == [sids[2], sids[1]]  # inclusive
    assert listed(date_created_to=times[1]) == [sids[0]]  # exclusive
    assert listed(date_created_from=times[0], date_created_to=times[2]) == [sids[1], sids[0]]
    assert listed(date_created_from=times[2].date()) == [sids[2]]
    executions(sids[1]).update(status="ended")
    assert listed(status="ended") == [sids[1]]
    assert listed(status="active", date_created_to=times[2]) == [sids[0]]
    assert [e.sid for e in executions.list(status="active", page_size=1)] == [sids[2], sids[0]]


def test_context_and_steps_after_a_reply(client: Client, mock: MockStudioServer) -> None:
    flow = client.studio.v2.flows(DEMO_FLOW)
    execution = flow.executions.create(to=_to(5), from_=FROM, parameters={"name": "Zeke"})
    waiting = mock.wait_until_settled(execution.sid)
    assert (waiting["status"], waiting["waiting_on"]) == ("active", "greet")

    context = flow.executions(execution.sid).execution_context().fetch()
    assert (context.execution_sid, context.url) == (execution.sid, execution.url + "/Context")
    assert context.context["flow"]["data"] == {"name": "Zeke"}
    assert context.context["contact"]["channel"]["address"] == _to(5)

    reply = mock.send_message(from_=_to(5), to=FROM, body="Yes")
    assert (reply["action"], reply["execution_sid"], reply["status"]) == ("resumed", execution.sid, "ended")
    assert flow.executions(execution.sid).fetch().status == "ended"

    steps = flow.executions(execution.sid).steps.list()
    assert [(s.name, s.transitioned_from, s.transitioned_to) for s in steps] == [
        ("sent", "confirm", "Ended"),
        ("match", "check_reply", "confirm"),
        ("incomingMessage", "greet", "check_reply"),
        ("incomingRequest", "Trigger", "greet"),
    ]
    step = flow.executions(execution.sid).steps(steps[2].sid)
    assert step.fetch().name == "incomingMessage"
    step_context = step.step_context().fetch()
    assert step_context.step_sid == steps[2].sid
    assert step_context.context["widgets"]["greet"]["inbound"]["Body"] == "Yes"
    assert [(m["direction"], m["body"]) for m in mock.messages(execution_sid=execution.sid)] == [
        ("outbound", "Hi Zeke! Would you like a callback? Reply YES or NO."),
        ("inbound", "Yes"),
        ("outbound", "Thanks Zeke, we will call you back."),
    ]


def test_bad_credentials(mock: MockStudioServer) -> None:
    wrong = mock.client(mock.account_sid, "not-the-token")
    with pytest.raises(TwilioRestException) as raised:
        wrong.studio.v2.flows(DEMO_FLOW).executions.create(to=_to(6), from_=FROM)
    assert (raised.value.status, raised.value.code) == (401, 20003)
    unknown = mock.client("AC" + "f" * 32, mock.auth_token)
    with pytest.raises(TwilioRestException) as raised:
        unknown.studio.v2.flows(DEMO_FLOW).executions("FN" + "0" * 32).fetch()
    assert (raised.value.status, raised.value.code) == (401, 20003)


def test_live_server_in_process_client_shares_its_state(server: MockStudioServer) -> None:
    """`client(in_process=True)` on a live server: the same app and state, no socket."""
    server.reset()
    over_socket, in_process = server.client(), server.client(in_process=True)
    assert type(in_process.http_client) is InProcessHttpClient
    created = over_socket.studio.v2.flows(DEMO_FLOW).executions.create(to=_to(9), from_=FROM)
    fetched = in_process.studio.v2.flows(DEMO_FLOW).executions(created.sid).fetch()
    assert (fetched.sid, fetched.url) == (created.sid, created.url)
    with pytest.raises(TwilioRestException) as raised:
        in_process.studio.v2.flows(DEMO_FLOW).executions.create(to=_to(9), from_=FROM)
    assert raised.value.status == 409
