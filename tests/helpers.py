"""Assertions shared by the HTTP tests."""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from .conftest import SHARED_REFERENCE

SID_RE = re.compile(r"^[A-Z]{2}[0-9a-f]{32}$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
ERROR_KEYS = {"code", "message", "more_info", "status"}


def assert_sid(value: Any, prefix: str) -> None:
    assert isinstance(value, str) and SID_RE.match(value), value
    assert value.startswith(prefix), value


def assert_twilio_error(
    response: httpx.Response,
    status: int,
    code: int,
    message: str | None = None,
    *,
    details: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The response is Twilio's error body, exactly: `code`, `message`, `more_info`,
    `status` (+ `details` when given) and nothing else (no FastAPI `detail`, no RFC 9457
    `type`/`title`)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    expected_keys = ERROR_KEYS | ({"details"} if details is not None else set())
    assert set(body) == expected_keys, body
    assert body["status"] == status
    assert body["code"] == code
    assert body["more_info"] == f"https://www.twilio.com/docs/errors/{code}"
    assert isinstance(body["message"], str) and body["message"]
    if message is not None:
        assert body["message"] == message
    if details is not None:
        assert body["details"] == details
    return body


def spec_properties(schema: str) -> set[str] | None:
    """Property names of a component schema in the official spec, if it is available."""
    path = SHARED_REFERENCE / "twilio_studio_v2.json"
    if not path.is_file():
        return None
    spec = json.loads(path.read_text(encoding="utf-8"))
    return set(spec["components"]["schemas"][schema]["properties"])


# The Flow resource's fields (studio.v2.flow in the official spec).
FLOW_KEYS = frozenset(
    {
        "sid",
        "account_sid",
        "author_sid",
        "friendly_name",
        "definition",
        "status",
        "revision",
        "commit_message",
        "valid",
        "errors",
        "warnings",
        "date_created",
        "date_updated",
        "webhook_url",
        "url",
        "links",
    }
)


def rest_trigger(first: str | None) -> dict[str, Any]:
    """A trigger widget, as Studio exports it, whose REST API event leads to `first` (or
    nowhere: None)."""
    request: dict[str, Any] = (
        {"event": "incomingRequest"} if first is None else {"next": first, "event": "incomingRequest"}
    )
    return {
        "name": "Trigger",
        "type": "trigger",
        "transitions": [
            {"event": "incomingMessage"},
            {"event": "incomingCall"},
            {"event": "incomingConversationMessage"},
            request,
            {"event": "incomingParent"},
        ],
        "properties": {"offset": {"x": 0, "y": 0}},
    }


def free_port() -> int:
    """A TCP port free on the loopback interface just now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def survey_flow() -> dict[str, Any]:
    """A flow to create through the API: Trigger -> ask (send-and-wait-for-reply) -> check
    (split on the reply) -> thanks."""
    return {
        "description": "Asks a question and thanks a yes",
        "states": [
            rest_trigger("ask"),
            {
                "name": "ask",
                "type": "send-and-wait-for-reply",
                "transitions": [
                    {"next": "check", "event": "incomingMessage"},
                    {"event": "timeout"},
                    {"event": "deliveryFailure"},
                ],
                "properties": {
                    "offset": {"x": 0, "y": 200},
                    "from": "{{flow.channel.address}}",
                    "body": "Hi {{flow.data.name}}, shall we call you? Reply yes or no.",
                    "timeout": "3600",
                },
            },
            {
                "name": "check",
                "type": "split-based-on",
                "transitions": [
                    {"event": "noMatch"},
                    {
                        "next": "thanks",
                        "event": "match",
                        "conditions": [
                            {
                                "friendly_name": "yes",
                                "arguments": ["{{widgets.ask.inbound.Body}}"],
                                "type": "equal_to",
                                "value": "yes",
                            }
                        ],
                    },
                ],
                "properties": {"input": "{{widgets.ask.inbound.Body}}", "offset": {"x": 0, "y": 400}},
            },
            {
                "name": "thanks",
                "type": "send-message",
                "transitions": [{"event": "sent"}, {"event": "failed"}],
                "properties": {
                    "offset": {"x": 0, "y": 600},
                    "from": "{{flow.channel.address}}",
                    "to": "{{contact.channel.address}}",
                    "body": "Thanks {{flow.data.name}}, we will call you.",
                },
            },
        ],
        "initial_state": "Trigger",
        "flags": {"allow_concurrent_calls": True},
    }


ROOT = Path(__file__).resolve().parent.parent


@contextlib.contextmanager
def server_process() -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """`python -m mockstudio` on a free port, as a user starts it (no MOCKSTUDIO_ variables
    of the test run), once healthy: the process (its output piped to `stdout`) and its base
    URL. Killed at the end if it still runs."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOCKSTUDIO_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "mockstudio", "--port", str(port), "--log-level", "warning", "--no-access-log"],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise AssertionError(f"the server exited early with status {process.returncode}")
            try:
                if httpx.get(f"{base}/_mockstudio/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the server did not become healthy"
            time.sleep(0.05)
        yield process, base
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(10)
