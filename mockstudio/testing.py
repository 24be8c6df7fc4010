"""mockstudio as a test double: one handle for pytest (the `mockstudio` fixture of
`pytest_plugin.py` is this handle), unittest and plain scripts.

    with MockStudioServer() as mock:                 # a live server on a free loopback port
        client = mock.client()                       # twilio Client pointed at it
        execution = client.studio.v2.flows(FLOW).executions.create(to=CONTACT, from_=NUMBER)
        mock.wait_until_settled(execution.sid)       # flows run in the background, as in Studio
        mock.send_message(from_=CONTACT, to=NUMBER, body="yes")
        assert mock.messages(execution_sid=execution.sid)[-1]["body"] == "..."

    with MockStudioServer(in_process=True) as mock:  # no sockets at all
        client = mock.client()                       # a twilio Client over InProcessHttpClient

Where things run: a started handle owns one asyncio event loop in a daemon thread. The app's
lifespan (the engine's loop, the timeout ticker) runs on it, and so do uvicorn, every
in-process request and every helper that touches state: flows run in the background exactly
as in the standalone server, and the test's thread never mutates state directly. The helpers
go through the control plane (`/_mockstudio/...`) in-process, so they behave as documented
there and cost no socket round trip even on a live server.

twilio is optional: only `client()` and `InProcessHttpClient` need it, and they import it
when used.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import os
import socket
import time
import weakref
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Future
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

import httpx
import uvicorn

from . import sids
from ._bridge import (
    REQUEST_TIMEOUT,
    START_TIMEOUT,
    STOP_TIMEOUT,
    AppBridge,
    BridgeTransport,
    EventLoopThread,
    Lifespan,
    running,
)
from .api import create_app
from .api.live import Server
from .api.protocol import HTTP_PROTOCOL
from .app_factory import app_options, build_studio
from .clock import Clock, ManualClock, VirtualClock
from .coverage import CoverageRecord, CoverageRecorder
from .domain.accounts import FlowSeed, Studio
from .domain.flows import check_flow_definition, flow_status
from .domain.models import PUBLISHED
from .errors import Conflict, InvalidParameter, TwilioError
from .events.delivery import Collector
from .settings import Settings
from .sids import SidFactory
from .testing_call import Call

if TYPE_CHECKING:
    from ._twilio_http import InProcessHttpClient

__all__ = [
    "IN_PROCESS_URL",
    "Call",
    "InProcessHttpClient",
    "MockStudioError",
    "MockStudioServer",
    "in_process_client",
]

# The public URL of a handle that serves no HTTP: every `url`, `links` and paging URL the app
# renders starts with it, and the in-process transport accepts any host anyway.
IN_PROCESS_URL = "http://mockstudio.local"

_T = TypeVar("_T")
_RESET_DRAIN_SECONDS = 5.0  # running flows get this long to settle before a reset cancels them
_SETTLE_LIMIT = 120.0  # the settle endpoint's longest wait per request


def __getattr__(name: str) -> Any:
    # InProcessHttpClient subclasses twilio's HttpClient, so it is imported on first use:
    # `import mockstudio.testing` must work without twilio.
    if name == "InProcessHttpClient":
        from ._twilio_http import InProcessHttpClient

        return InProcessHttpClient
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class MockStudioError(Exception):
    """A helper call the mock refused, with Twilio's error fields."""

    def __init__(self, status: int, code: int | None, message: str, details: Any = None) -> None:
        super().__init__(f"{status} {code}: {message}" if code is not None else f"{status}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details = details

    @classmethod
    def from_response(cls, response: httpx.Response) -> MockStudioError:
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return cls(response.status_code, None, response.text[:500])
        return cls(response.status_code, body.get("code"), str(body.get("message", "")), body.get("details"))

    @classmethod
    def from_twilio_error(cls, error: TwilioError) -> MockStudioError:
        return cls(error.status, error.code, error.message, error.details)


# -- the handle ----------------------------------------------------------------------------------


def _listening_socket(host: str) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets that say so, and
    # without it every response waits out a delayed ACK (40 ms).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, 0))
    except BaseException:
        sock.close()
        raise
    return sock


def _iso(moment: dt.datetime | str | float) -> str:
    if isinstance(moment, str):
        return moment
    if isinstance(moment, dt.datetime):
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
        return moment.isoformat()
    return dt.datetime.fromtimestamp(float(moment), dt.UTC).isoformat()


def _definition(definition: Mapping[str, Any] | str | os.PathLike[str]) -> str:
    """A flow definition as JSON text: a mapping, JSON text, or the path of a JSON file."""
    if isinstance(definition, Mapping):
        return json.dumps(definition)
    if isinstance(definition, str) and definition.lstrip().startswith("{"):
        return definition
    return Path(definition).read_text(encoding="utf-8")


class MockStudioServer:
    """mockstudio for tests: a live uvicorn server on a free loopback port (`base_url`), or
    with `in_process=True` the app alone, reached without sockets (`client()` then uses
    InProcessHttpClient). Use as a context manager, or `start()` / `stop()`.

    `clock` defaults to a ManualClock (time stands still unless a test moves it); `reset()`
    puts it back where it started. The helpers act on the default account
    (`settings.account_sid`)."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        clock: Clock | None = None,
        sid_factory: SidFactory | None = None,
        host: str = "127.0.0.1",
        in_process: bool = False,
    ) -> None:
        self.settings = settings or Settings()
        self.clock = clock if clock is not None else ManualClock()
        self._clock_start = self.clock.now()
        self.studio: Studio = build_studio(self.settings, clock=self.clock, sid_factory=sid_factory)
        self.in_process = in_process
        self.host = host
        public_url = self.settings.public_url
        if in_process and public_url is None:
            public_url = IN_PROCESS_URL
        self.app = create_app(self.studio, **app_options(self.settings, public_url=public_url))
        self._socket: socket.socket | None = None
        self.port = 0
        self._server: Server | None = None
        if not in_process:
            # Bound now and handed to uvicorn: the port is known at once and nothing can
            # take it between choosing and binding (parallel test workers).
            self._socket = _listening_socket(host)
            self.port = self._socket.getsockname()[1]
            self._server = Server(
                uvicorn.Config(
                    self.app, http=HTTP_PROTOCOL, host=host, port=self.port, log_level="warning", access_log=False
                ),
                self.app.state.runtime.live,
            )
        self._loop: EventLoopThread | None = None
        self._bridge: AppBridge | None = None
        self._lifespan: Lifespan | None = None
        self._serving: Future[None] | None = None
        self._control: httpx.Client | None = None
        self._stopped = False
        self._http_clients: weakref.WeakSet[Any] = weakref.WeakSet()

    # -- identity --------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """Where clients reach the mock: `http://127.0.0.1:<port>`, or the public URL (by
        default IN_PROCESS_URL) of an in-process handle."""
        if self.in_process:
            return self.settings.public_url or IN_PROCESS_URL
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def account_sid(self) -> str:
        return self.settings.account_sid

    @property
    def auth_token(self) -> str:
        return self.settings.auth_token

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> MockStudioServer:
        """Start serving (a no-op when started); returns self."""
        if self._loop is not None:
            return self
        if self._stopped:
            raise RuntimeError("a stopped MockStudioServer cannot be started again; make a new one")
        loop = self._loop = EventLoopThread("mockstudio")
        loop.start()
        self._bridge = AppBridge(self.app, loop)
        try:
            if self._server is None:
                self._lifespan = Lifespan(self.app)
                loop.run(self._lifespan.startup(), START_TIMEOUT)
            else:
                assert self._socket is not None
                self._serving = loop.submit(self._server.serve(sockets=[self._socket]))
                deadline = time.monotonic() + START_TIMEOUT
                while not self._server.started:
                    if self._serving.done():
                        self._serving.result()
                    if not loop.is_alive() or self._serving.done() or time.monotonic() > deadline:
                        raise RuntimeError("mockstudio server did not start")
                    time.sleep(0.005)
        except BaseException:
            self.stop()
            raise
        running[self.app] = self._bridge
        self._control = httpx.Client(
            transport=BridgeTransport(self._bridge),
            base_url=self.base_url,
            auth=(self.account_sid, self.auth_token),
            headers=self._admin_headers(),
            timeout=REQUEST_TIMEOUT,
        )
        return self

    def stop(self) -> None:
        """Stop serving: in-flight requests finish, running flows are cancelled."""
        self._stopped = True
        loop, self._loop = self._loop, None
        try:
            if loop is None:
                return
            running.pop(self.app, None)
            if self._control is not None:
                self._control.close()
            for http_client in list(self._http_clients):
                with contextlib.suppress(Exception):
                    _close_http_client(http_client)
            if self._lifespan is not None:
                with contextlib.suppress(Exception):
                    loop.run(self._lifespan.shutdown(), STOP_TIMEOUT)
            if self._server is not None and self._serving is not None:
                self._server.should_exit = True
                with contextlib.suppress(BaseException):
                    self._serving.result(STOP_TIMEOUT)
            loop.stop()
        finally:
            if self._socket is not None:
                self._socket.close()

    def __enter__(self) -> MockStudioServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _admin_headers(self) -> dict[str, str]:
        """The control plane's token, when the settings set one."""
        token = getattr(self.settings, "admin_token", None)
        return {"X-Mockstudio-Admin-Token": token} if token else {}

    def _require_loop(self) -> EventLoopThread:
        if self._loop is None:
            raise RuntimeError("the MockStudioServer is not running: start() it or use it as a context manager")
        return self._loop

    def require_bridge(self) -> AppBridge:
        self._require_loop()
        assert self._bridge is not None
        return self._bridge

    # -- state -----------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget all state (executions, flows added by tests, messages, scripts, bound
        numbers) and reload the fixtures, as `POST /_mockstudio/reset`; the clock goes back
        to where it started. Flows still running get a few seconds to settle first, then are
        cancelled, so nothing from before the reset leaks into what follows it."""
        if self._loop is None:
            self._reset_now()
            return
        self._loop.run(self._reset(), _RESET_DRAIN_SECONDS + REQUEST_TIMEOUT)

    async def _reset(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.studio.settle(), _RESET_DRAIN_SECONDS)
        self._reset_now()

    def _reset_now(self) -> None:
        with self.studio.lock:
            self.studio.reset()
        self.app.state.runtime.reset()  # the journal, fault rules, rate-limit windows, cached credentials
        # After the reset, so no timer from before can fire as the clock moves back.
        if isinstance(self.clock, ManualClock):
            self.clock.set(self._clock_start)
        elif isinstance(self.clock, VirtualClock):
            self.clock.set(time.time())

    def coverage_record(self, *, whole_run: bool = False) -> CoverageRecord:
        """Flow coverage since the last reset (as `GET /_mockstudio/coverage` reports it), or
        with `whole_run` since the server started, across resets: a copy, to report with
        `mockstudio.coverage.build_report`. Needs `Settings(coverage=True)`."""
        recorder: CoverageRecorder | None = self.app.state.runtime.coverage
        if recorder is None:
            raise RuntimeError("flow coverage is off: make the server with Settings(coverage=True)")

        def read() -> CoverageRecord:
            return recorder.whole_run() if whole_run else recorder.since_reset()

        # Read on the server's loop, where the record changes.
        return read() if self._loop is None else self._loop.call(read)

    def add_flow(
        self,
        definition: Mapping[str, Any] | str | os.PathLike[str],
        friendly_name: str = "Flow added by a test",
        *,
        sid: str | None = None,
        status: str = PUBLISHED,
        numbers: Sequence[str] = (),
    ) -> str:
        """Add a flow to the default account and return its SID (a new one unless `sid` is
        given). `definition` is a mapping, JSON text or a JSON file's path, validated as
        CreateFlow validates it (MockStudioError 400/81022 listing the problems).
        `numbers` are bound to it for inbound messages. The flow lasts until the next
        reset."""
        text = _definition(definition)

        def add() -> str:
            account = self.studio.accounts[self.account_sid]
            if sid is None:
                flow = account.create_flow(friendly_name, status, text)
            else:
                if not sids.is_sid(sid, sids.FLOW):
                    raise InvalidParameter(f"Invalid sid: {sid[:64]!r} is not a Flow SID (FW + 32 hex digits)")
                if sid in account.flows:
                    raise Conflict(f"Flow {sid} already exists")
                seed = FlowSeed(sid, account.sid, friendly_name, check_flow_definition(text), flow_status(status))
                flow = account.add_flow(seed)
            for number in numbers:
                account.bind_number(number, flow.sid)
            return flow.sid

        try:
            return self._require_loop().call(add)
        except TwilioError as error:
            raise MockStudioError.from_twilio_error(error) from None

    # -- the control plane -----------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | None = None,
        json_body: Any = None,
        timeout: float | None = None,
    ) -> Any:
        self._require_loop()
        assert self._control is not None
        response = self._control.request(
            method,
            path,
            params={k: v for k, v in (params or {}).items() if v is not None},
            data={k: v for k, v in (data or {}).items() if v is not None} or None,
            json=json_body,
            timeout=timeout if timeout is not None else REQUEST_TIMEOUT,
        )
        if response.status_code >= 400:
            raise MockStudioError.from_response(response)
        return response.json() if response.content else None

    def messages(
        self,
        *,
        contact: str | None = None,
        flow_sid: str | None = None,
        execution_sid: str | None = None,
        **fields: Any,
    ) -> list[dict[str, Any]]:
        """The message log (sent and received), oldest first, as `GET /_mockstudio/messages`
        gives it: dicts with `sid`, `direction`, `from`, `to`, `body`, `status`,
        `execution_sid`, `flow_sid`, `date_created`. `contact` matches `from` or `to`; any
        other keyword must equal that field (`direction="outbound"`, `from_=...`)."""
        found: list[dict[str, Any]] = self._call(
            "GET",
            "/_mockstudio/messages",
            params={"contact": contact, "flow_sid": flow_sid, "execution_sid": execution_sid},
        )["messages"]
        wanted = {("from" if key == "from_" else key): value for key, value in fields.items()}
        return [m for m in found if all(m.get(key) == value for key, value in wanted.items())]

    def clear_messages(self) -> None:
        self._call("DELETE", "/_mockstudio/messages")

    def send_message(self, from_: str, to: str, body: str, *, settle: bool = True, **fields: str) -> dict[str, Any]:
        """An inbound message from the contact `from_` to the flow's address `to`, as
        Twilio's webhook delivers it: it resumes the contact's execution waiting for a reply,
        or starts one on the flow bound to `to`. Returns `action` (started, resumed or
        ignored), `execution_sid`, `flow_sid`, `message_sid`, `status`; with `settle`, once
        that execution has settled (ended, or waiting again)."""
        return self._inbound("/_mockstudio/messages", {"From": from_, "To": to, "Body": body, **fields}, settle)

    def send_conversation_message(
        self, from_: str, to: str, body: str, *, settle: bool = True, **fields: str
    ) -> dict[str, Any]:
        """A Conversations message (`incomingConversationMessage`), as send_message; the
        result also has the contact's `conversation_sid` and `participant_sid`."""
        return self._inbound("/_mockstudio/conversations", {"From": from_, "To": to, "Body": body, **fields}, settle)

    def place_call(self, from_: str, to: str, *, settle: bool = True, **fields: str) -> Call:
        """An inbound call (`incomingCall`) from `from_` to the flow bound to `to`: a `Call`
        handle (testing_call.py) to hear the flow and answer it (`heard()`, `press()`,
        `say()`, `hang_up()`). As a mapping it is what send_message answers, with the
        call's SID as `call_sid` (not `message_sid`)."""
        return Call(self._call, self._inbound("/_mockstudio/calls", {"From": from_, "To": to, **fields}, settle))

    def _inbound(self, path: str, fields: dict[str, str], settle: bool) -> dict[str, Any]:
        result: dict[str, Any] = self._call("POST", path, data=fields)
        if settle:
            result["status"] = self.wait_until_settled(result["execution_sid"])["status"]
        return result

    def wait_until_settled(self, sid: str, timeout: float = 10.0) -> dict[str, Any]:
        """Wait until execution `sid` has ended or is waiting (for a reply, a timeout, an
        event); TimeoutError otherwise. Returns `GET /_mockstudio/executions/{sid}/settled`:
        `sid`, `flow_sid`, `status`, `settled`, `waiting_on`, `waiting_for`."""
        deadline = time.monotonic() + timeout
        while True:
            wait = min(max(deadline - time.monotonic(), 0.0), _SETTLE_LIMIT)
            state: dict[str, Any] = self._call(
                "GET", f"/_mockstudio/executions/{sid}/settled", params={"timeout": wait}, timeout=wait + 30
            )
            if state["settled"]:
                return state
            if time.monotonic() >= deadline:
                raise TimeoutError(f"execution {sid} did not settle within {timeout} s (status {state['status']})")

    def wait_for_execution(self, sid: str, *, status: str | None = None, timeout: float = 10.0) -> dict[str, Any]:
        """wait_until_settled, and with `status` (e.g. "ended") until the execution has it:
        TimeoutError if it settles otherwise (say, waiting for a reply) for `timeout` s."""
        deadline = time.monotonic() + timeout
        while True:
            state = self.wait_until_settled(sid, max(deadline - time.monotonic(), 0.0))
            if status is None or state["status"] == status:
                return state
            if time.monotonic() >= deadline:
                where = f" waiting on {state['waiting_on']}" if state.get("waiting_on") else ""
                raise TimeoutError(
                    f"execution {sid} is still {state['status']}{where} after {timeout} s (wanted {status})"
                )
            time.sleep(0.01)

    def resume_execution(self, sid: str, event: str, outputs: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Resume a waiting widget with one of its events (e.g. `keypress` with
        `{"Digits": "1"}` for a gather); returns the settled execution state."""
        body: dict[str, Any] = {"event": event}
        if outputs is not None:
            body["outputs"] = dict(outputs)
        result: dict[str, Any] = self._call("POST", f"/_mockstudio/executions/{sid}/events", json_body=body)
        return result

    def advance_clock(self, seconds: float) -> dict[str, Any]:
        """Move the clock forward; due widget timeouts fire and their flows run before this
        returns. Returns `now`, `epoch` and `fired` (how many timeouts fired)."""
        result: dict[str, Any] = self._call("POST", "/_mockstudio/clock", data={"advance": repr(float(seconds))})
        return result

    def set_clock(self, moment: dt.datetime | str | float) -> dict[str, Any]:
        """Set the clock to a datetime (naive: UTC), an ISO 8601 string or epoch seconds;
        due timeouts fire, as advance_clock."""
        result: dict[str, Any] = self._call("POST", "/_mockstudio/clock", data={"set": _iso(moment)})
        return result

    def script(
        self,
        widget: str,
        outcomes: Sequence[Mapping[str, Any]] | Mapping[str, Any],
        flow_sid: str | None = None,
    ) -> dict[str, Any]:
        """Script a widget's next outcomes (replacing its earlier script), as
        `POST /_mockstudio/scripts`: e.g. `[{"status_code": 503, "times": 2},
        {"status_code": 200, "body": {"ok": True}}]` for an HTTP widget, or
        `{"event": "failed"}` for any widget."""
        listed = [dict(outcomes)] if isinstance(outcomes, Mapping) else [dict(o) for o in outcomes]
        result: dict[str, Any] = self._call(
            "POST", "/_mockstudio/scripts", json_body={"widget": widget, "flow_sid": flow_sid, "outcomes": listed}
        )
        return result

    def scripts(self) -> list[dict[str, Any]]:
        """The scripts and how often each was used."""
        found: list[dict[str, Any]] = self._call("GET", "/_mockstudio/scripts")["scripts"]
        return found

    def clear_scripts(self) -> None:
        self._call("DELETE", "/_mockstudio/scripts")

    def collect_events(self, *, account_sid: str | None = None, types: Iterable[str] | None = None) -> Collector:
        """Studio Events of an account (default: the default account) from now on, collected
        in-process, no web server needed: `.events` holds their CloudEvents envelopes in the
        order they happened (latest schema versions), `.of_type(t)` and
        `.for_execution(sid)` select, `.close()` stops collecting. Per execution:
        `com.twilio.studio.flow.execution.started`, a `com.twilio.studio.flow.step.ended` per
        step, `com.twilio.studio.flow.execution.ended`."""
        events = self.app.state.runtime.events
        account = account_sid or self.account_sid
        collector: Collector = self._require_loop().call(lambda: events.collect(account, types))
        return collector

    def bind_number(self, number: str, flow_sid: str) -> None:
        """Bind an address to a flow: inbound messages and calls to it start that flow."""
        self._call("POST", "/_mockstudio/numbers", data={"Number": number, "FlowSid": flow_sid})

    # -- clients ---------------------------------------------------------------------------

    def client(
        self,
        username: str | None = None,
        password: str | None = None,
        account_sid: str | None = None,
        *,
        in_process: bool | None = None,
        **kwargs: Any,
    ) -> Any:
        """A `twilio.rest.Client` whose Studio calls go to the mock (default credentials
        unless given). `in_process=True` on a live server sends them through
        InProcessHttpClient instead of its socket (same state, same answers); an in-process
        handle's clients are always in-process. Needs the twilio package."""
        try:
            from twilio.rest import Client  # type: ignore[import-untyped]
        except ImportError as exc:
            raise ImportError(
                "MockStudioServer.client() needs the twilio package (pip install twilio); "
                "the rest of mockstudio.testing works without it"
            ) from exc
        if in_process is False and self.in_process:
            raise ValueError("this MockStudioServer serves no HTTP (in_process=True): its clients are in-process")
        if in_process is None:
            in_process = self.in_process
        if in_process:
            from ._twilio_http import InProcessHttpClient

            kwargs["http_client"] = InProcessHttpClient(self)
        client = Client(username or self.account_sid, password or self.auth_token, account_sid, **kwargs)
        client.studio.base_url = self.base_url
        self._http_clients.add(client.http_client)
        return client

    def httpx_client(self, *, in_process: bool | None = None, auth: bool = True, **kwargs: Any) -> httpx.Client:
        """An httpx.Client for the raw REST API and the control plane, at `base_url` and
        with the default credentials (unless `auth=False`); in-process as `client()`."""
        if in_process is False and self.in_process:
            raise ValueError("this MockStudioServer serves no HTTP (in_process=True): its clients are in-process")
        if in_process is None:
            in_process = self.in_process
        if in_process:
            kwargs.setdefault("transport", BridgeTransport(self.require_bridge()))
        if auth:
            kwargs.setdefault("auth", (self.account_sid, self.auth_token))
            kwargs["headers"] = {**self._admin_headers(), **dict(kwargs.get("headers") or {})}
        kwargs.setdefault("timeout", REQUEST_TIMEOUT)
        return httpx.Client(base_url=self.base_url, **kwargs)


def _close_http_client(http_client: Any) -> None:
    """Close a twilio HTTP client's pooled connections (when the handle stops)."""
    close = getattr(http_client, "close", None)
    if callable(close):
        close()
    elif getattr(http_client, "session", None) is not None:
        http_client.session.close()


def in_process_client(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    sid_factory: SidFactory | None = None,
    **client_kwargs: Any,
) -> tuple[Any, MockStudioServer]:
    """A started in-process handle and a twilio Client over it, for the fastest unit tests:

    client, mock = in_process_client()
    with mock:  # stops it at the end
        client.studio.v2.flows(FLOW).executions.create(to=..., from_=...)
    """
    mock = MockStudioServer(settings, clock=clock, sid_factory=sid_factory, in_process=True).start()
    try:
        return mock.client(**client_kwargs), mock
    except BaseException:
        mock.stop()
        raise
