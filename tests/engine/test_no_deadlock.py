"""No deadlock with a single-threaded application: its /start handler creates an execution
over HTTP and waits for the answer before it can serve anything else, and the flow's
make-http-request calls the same application back. This only works because Studio (and
mockstudio) answers the create call before running the flow."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import httpx
import pytest

from mockstudio.testing import MockStudioServer

from .support import CONTACT, NUMBER, api_steps, install_flow, rest_flow, say, settle, widget

FLOW_SID = "FW" + "0d" * 16


class _App(HTTPServer):
    """Single-threaded on purpose (HTTPServer, not ThreadingHTTPServer)."""

    studio_url: str
    studio_auth: tuple[str, str]
    created: list[dict[str, Any]]
    callbacks: list[dict[str, Any]]
    arrived: threading.Event


class _Handler(BaseHTTPRequestHandler):
    server: _App

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _reply(self, status: int, value: Any) -> None:
        body = json.dumps(value).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        app = self.server
        if self.path == "/start":
            # Synchronously create the execution, as a simple web app would.
            response = httpx.post(
                f"{app.studio_url}/v2/Flows/{FLOW_SID}/Executions",
                data={"To": CONTACT, "From": NUMBER, "Parameters": json.dumps({"order": "A-17"})},
                auth=app.studio_auth,
                timeout=10,
            )
            app.created.append(response.json())
            self._reply(response.status_code, response.json())
        elif self.path == "/callback":
            app.callbacks.append(json.loads(body))
            app.arrived.set()
            self._reply(200, {"received": True})
        else:
            self._reply(404, {})


@pytest.fixture
def app(live: MockStudioServer) -> Iterator[_App]:
    server = _App(("127.0.0.1", 0), _Handler)
    server.studio_url = live.base_url
    server.studio_auth = (live.account_sid, live.auth_token)
    server.created, server.callbacks, server.arrived = [], [], threading.Event()
    thread = threading.Thread(target=server.serve_forever, name="single-threaded-app", daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_create_answers_before_the_flow_calls_back(live: MockStudioServer, http: httpx.Client, app: _App) -> None:
    host, port = app.server_address[:2]
    callback = f"http://{host!s}:{port}/callback"
    flow = rest_flow(
        "notify",
        widget(
            "notify",
            "make-http-request",
            {"success": "done", "failed": "done"},
            method="POST",
            content_type="application/json;charset=utf-8",
            url=callback,
            body='{"execution": "{{flow.sid}}", "order": "{{flow.data.order}}"}',
        ),
        say("done", "callback answered {{widgets.notify.status_code}}"),
    )
    install_flow(live, FLOW_SID, flow)

    started = httpx.post(f"http://{host!s}:{port}/start", timeout=15)
    assert started.status_code == 201, started.text
    execution_sid = started.json()["sid"]
    assert started.json()["status"] == "active"

    assert app.arrived.wait(10), "the flow's callback never reached the application"
    assert app.callbacks == [{"execution": execution_sid, "order": "A-17"}]

    assert settle(http, execution_sid)["status"] == "ended"
    assert api_steps(http, FLOW_SID, execution_sid) == [
        ("incomingRequest", "Trigger", "notify"),
        ("success", "notify", "done"),
        ("sent", "done", "Ended"),
    ]
    messages = http.get("/_mockstudio/messages", params={"execution_sid": execution_sid}).json()["messages"]
    assert [m["body"] for m in messages] == ["callback answered 200"]
