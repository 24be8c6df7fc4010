"""Graceful shutdown: on SIGTERM the real server process (`python -m mockstudio`) lets the
request in flight finish with its normal answer, runs the app's shutdown (which closes the
engine's HTTP client and the state) and exits with status 0."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from mockstudio.app_factory import build_app
from mockstudio.settings import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, Settings

from . import helpers
from .conftest import DEMO_FLOW

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


@pytest.fixture
def server_process() -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    with helpers.server_process() as (process, base):
        yield process, base
        assert process.stdout is not None
    process.stdout.close()


def test_sigterm_lets_the_request_in_flight_finish_and_exits_0(
    server_process: tuple[subprocess.Popen[bytes], str],
) -> None:
    process, base = server_process
    path = f"/v2/Flows/{DEMO_FLOW}"
    # A request that takes a while: a fault rule adding latency (then it answers normally).
    rule = httpx.post(f"{base}/_mockstudio/faults", json={"method": "GET", "path": path, "latency_ms": 1500})
    assert rule.status_code == 201
    answers: list[httpx.Response | BaseException] = []

    def slow_request() -> None:
        try:
            answers.append(httpx.get(base + path, auth=(DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN), timeout=30))
        except BaseException as exc:  # reported below
            answers.append(exc)

    thread = threading.Thread(target=slow_request)
    thread.start()
    # The rule is taken as the request arrives, before its latency: then it is in flight.
    deadline = time.monotonic() + 20
    while httpx.get(f"{base}/_mockstudio/faults").json()["faults"][0]["applied"] == 0:
        assert time.monotonic() < deadline, "the slow request never arrived"
        time.sleep(0.01)
    process.send_signal(signal.SIGTERM)
    thread.join(30)

    [answer] = answers
    assert isinstance(answer, httpx.Response), answer
    assert answer.status_code == 200
    assert answer.json()["sid"] == DEMO_FLOW
    assert process.wait(30) == 0
    assert process.stdout is not None
    output = process.stdout.read().decode(errors="replace")
    assert "Traceback" not in output, output


def test_sigterm_when_idle_exits_0(server_process: tuple[subprocess.Popen[bytes], str]) -> None:
    process, _ = server_process
    process.send_signal(signal.SIGTERM)
    assert process.wait(30) == 0


def test_the_lifespan_shutdown_closes_the_http_client_and_the_state(monkeypatch: pytest.MonkeyPatch) -> None:
    app = build_app(Settings())
    studio = app.state.runtime.studio
    closed: list[str] = []
    monkeypatch.setattr(studio, "close", lambda: closed.append("studio"))
    real_aclose = studio.engine.http.aclose

    async def aclose() -> None:
        closed.append("http")
        await real_aclose()

    monkeypatch.setattr(studio.engine.http, "aclose", aclose)

    async def lifespan() -> None:
        async with app.router.lifespan_context(app):
            assert closed == []

    asyncio.run(lifespan())
    assert closed == ["http", "studio"]
