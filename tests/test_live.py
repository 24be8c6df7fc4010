"""The dashboard's live stream (`GET /_mockstudio/ui/api/live`) over real HTTP: events in
order for the account's changes, no feed subscriber without a page, the admin token, a
stalled reader that never slows the API and is told to reload, and a server with a page
connected that still stops at once on SIGTERM."""

from __future__ import annotations

import json
import signal
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import uvicorn

from mockstudio.api.live import Server
from mockstudio.api.protocol import HTTP_PROTOCOL
from mockstudio.app_factory import build_app
from mockstudio.clock import ManualClock
from mockstudio.settings import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, Settings
from mockstudio.testing import MockStudioServer

from .conftest import DEMO_FLOW, OTHER_ACCOUNT, OTHER_FLOW, OTHER_TOKEN, TEST_FIXTURES
from .helpers import assert_twilio_error, server_process

LIVE = "/_mockstudio/ui/api/live"


class Events:
    """The events of an open stream, read line by line (comments skipped)."""

    def __init__(self, response: httpx.Response) -> None:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        self._lines = response.iter_lines()

    def next(self) -> dict[str, Any]:
        for line in self._lines:
            if line.startswith("data: "):
                event: dict[str, Any] = json.loads(line[6:])
                return event
        raise AssertionError("the stream ended")

    def until(self, kind: str, **fields: str) -> list[dict[str, Any]]:
        """Every event up to and including the first of `kind` with `fields`."""
        seen = []
        while True:
            event = self.next()
            seen.append(event)
            if event["kind"] == kind and all(event.get(k) == v for k, v in fields.items()):
                return seen


def _create(api: httpx.Client, flow_sid: str = DEMO_FLOW, to: str = "+15550001111") -> str:
    response = api.post(f"/v2/Flows/{flow_sid}/Executions", data={"To": to, "From": "+15017122661"})
    assert response.status_code == 201, response.text
    sid: str = response.json()["sid"]
    return sid


def _first_of_each(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The events in order, each kind the first time it came."""
    kinds: dict[str, dict[str, Any]] = {}
    for event in events:
        kinds.setdefault(event["kind"], event)
    return list(kinds.values())


def _wait_for(condition: Any, what: str, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.02)


def test_events_arrive_in_order_for_the_account_and_only_while_a_page_is_open(
    live: MockStudioServer, http: httpx.Client
) -> None:
    feed = live.studio.changes
    before = len(feed.subscribers)
    with httpx.Client(base_url=live.base_url, timeout=10) as page, page.stream("GET", LIVE) as response:
        events = Events(response)
        assert events.next() == {"kind": "ready"}  # subscribed from here on
        assert len(feed.subscribers) == before + 1

        sid = _create(http)
        assert http.get(f"/_mockstudio/executions/{sid}/settled").json()["settled"]
        ids = {"flow_sid": DEMO_FLOW, "execution_sid": sid}
        # Moving the clock (from this thread: the change reaches the stream through the
        # loop) marks the end of what came before.
        live.clock.advance(1)
        # Created, the trigger's step, the greeting sent (parked: the execution again; an
        # event still waiting to be sent is not queued twice).
        created = events.until("clock")
        assert created[-1] == {"kind": "clock"}
        assert _first_of_each(created[:-1]) == [{"kind": k, **ids} for k in ("execution", "step", "message")]

        # The contact replies: resumed, the reply, its steps, the confirmation, the end.
        reply = http.post("/_mockstudio/messages", data={"From": "+15550001111", "To": "+15017122661", "Body": "yes"})
        assert reply.status_code == 200, reply.text
        assert http.get(f"/_mockstudio/executions/{sid}/settled").json()["settled"]
        live.clock.advance(1)
        replied = events.until("clock")[:-1]
        assert _first_of_each(replied) == [{"kind": k, **ids} for k in ("execution", "message", "step")]

        assert http.delete(f"/v2/Flows/{DEMO_FLOW}/Executions/{sid}").status_code == 204
        assert events.next() == {"kind": "deleted", **ids}
        live.clock.advance(60)
        assert events.until("clock") == [{"kind": "clock"}]
        assert http.post("/_mockstudio/reset").status_code == 200
        assert {"kind": "reset"} in events.until("reset")

    # A closed page's stream ends at its next write (a heartbeat at the latest): then the
    # subscriber is gone.
    def gone() -> bool:
        live.clock.advance(1)
        return len(feed.subscribers) == before

    _wait_for(gone, "the live subscriber stayed on the feed after its page closed")


def test_a_page_hears_only_its_own_account(live: MockStudioServer, http: httpx.Client) -> None:
    headers = {"X-Mockstudio-Account": OTHER_ACCOUNT}
    with (
        httpx.Client(base_url=live.base_url, timeout=10) as page,
        page.stream("GET", LIVE, headers=headers) as response,
    ):
        events = Events(response)
        assert events.next() == {"kind": "ready"}
        _create(http)  # the default account's
        with httpx.Client(base_url=live.base_url, auth=(OTHER_ACCOUNT, OTHER_TOKEN), timeout=10) as other:
            sid = _create(other, OTHER_FLOW)
        assert events.next() == {"kind": "execution", "flow_sid": OTHER_FLOW, "execution_sid": sid}
    unknown = httpx.get(live.base_url + LIVE, headers={"X-Mockstudio-Account": "AC" + "9" * 32})
    assert_twilio_error(unknown, 404, 20404)


def test_the_stream_needs_the_admin_token() -> None:
    with MockStudioServer(Settings(admin_token="t0ken")) as server:
        refused = httpx.get(server.base_url + LIVE)
        assert_twilio_error(refused, 401, 20003)
        assert refused.headers["www-authenticate"].startswith("Bearer")
        assert server.studio.changes.subscribers == []
        token = {"X-Mockstudio-Admin-Token": "t0ken"}
        with httpx.Client(base_url=server.base_url, timeout=10) as page, page.stream("GET", LIVE, headers=token) as r:
            assert Events(r).next() == {"kind": "ready"}


@pytest.fixture
def small_buffers() -> Iterator[tuple[str, Any]]:
    """A real server whose sockets have small send buffers (as a slow link would): a reader
    that stops reading backs up into the server after a few kilobytes, not megabytes."""
    app = build_app(Settings(fixtures=TEST_FIXTURES), clock=ManualClock(1_700_000_000))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)  # accepted sockets inherit it
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, http=HTTP_PROTOCOL, log_level="warning", access_log=False)
    server = Server(config, app.state.runtime.live)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    _wait_for(lambda: server.started, "the server did not start")
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}", app
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def test_a_stalled_page_never_slows_the_api_and_is_told_to_reload(small_buffers: tuple[str, Any]) -> None:
    base, app = small_buffers
    port = int(base.rsplit(":", 1)[1])
    stalled = socket.socket()
    stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
    stalled.connect(("127.0.0.1", port))
    stalled.sendall(f"GET {LIVE} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
    # A page that keeps reading, alongside: it must never be told to reload.
    healthy: list[dict[str, Any]] = []
    done = threading.Event()

    def read_healthy() -> None:
        with httpx.Client(base_url=base, timeout=30) as page, page.stream("GET", LIVE) as response:
            events = Events(response)
            while not done.is_set():
                try:
                    healthy.append(events.next())
                except (AssertionError, httpx.HTTPError):
                    if not done.is_set():  # else: the server stopped at the test's end
                        raise
                    return

    reader = threading.Thread(target=read_healthy, daemon=True)
    reader.start()
    live = app.state.runtime.live
    _wait_for(lambda: len(live.streams) == 2 and healthy, "the two pages did not connect")
    slowest = 0.0
    created = 0
    with httpx.Client(base_url=base, auth=(DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN), timeout=10) as api:
        # Until the stalled page's events back up past its queue (the socket buffers full).
        while not any(stream.overflowed for stream in live.streams):
            started = time.perf_counter()
            _create(api, to=f"+1555{created:07d}")
            slowest = max(slowest, time.perf_counter() - started)
            created += 1
            assert created < 5_000, "the stalled page's queue never filled"
        started = time.perf_counter()
        assert api.get(f"/v2/Flows/{DEMO_FLOW}").status_code == 200
        slowest = max(slowest, time.perf_counter() - started)
        last = _create(api, to="+15559999999")
    assert slowest < 2.0, slowest  # the API answers as ever (a loaded machine, so generous)
    # Once it reads again, the stalled page gets what was buffered, then one reload.
    stalled.settimeout(10)
    received = b""
    while b'{"kind":"reload"}' not in received:
        chunk = stalled.recv(65536)
        assert chunk, "the stream ended without a reload"
        received += chunk
    stalled.close()
    _wait_for(lambda: any(e.get("execution_sid") == last for e in healthy), "the healthy page missed events")
    done.set()
    assert {"kind": "reload"} not in healthy
    assert len({e["execution_sid"] for e in healthy if e["kind"] == "execution"}) == created + 1


def test_sigterm_with_a_page_connected_stops_at_once() -> None:
    with (
        server_process() as (process, base),
        httpx.Client(base_url=base, timeout=10) as page,
        page.stream("GET", LIVE) as response,
    ):
        events = Events(response)
        assert events.next() == {"kind": "ready"}
        process.send_signal(signal.SIGTERM)
        signalled = time.monotonic()
        assert process.wait(10) == 0
        assert time.monotonic() - signalled < 2.0
        with pytest.raises((AssertionError, httpx.HTTPError)):
            events.next()  # the stream ended with the server
    assert process.stdout is not None
    output = process.stdout.read().decode(errors="replace")
    process.stdout.close()
    assert "Traceback" not in output, output
