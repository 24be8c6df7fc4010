"""Webhook sinks' HTTP (mockstudio/events/webhook.py) against real servers: kept-alive
connections, a sink that closes an idle one, a sink that never answers, HTTPS with a
certificate the system does not trust and with one it does (SSL_CERT_FILE)."""

from __future__ import annotations

import json
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from mockstudio.clock import ManualClock
from mockstudio.settings import Settings
from mockstudio.testing import MockStudioServer

from .conftest import DEMO_FLOW

NUMBER = "+15017122661"


class KeepAliveReceiver:
    """An HTTP/1.1 sink. `close_after_each`: it answers without `Connection: close` and then
    closes the connection anyway, as a server whose idle timeout has passed does."""

    def __init__(self, *, close_after_each: bool = False, tls: ssl.SSLContext | None = None) -> None:
        self.events: list[dict[str, Any]] = []
        self.connections: set[tuple[str, int]] = set()
        self.requests = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                receiver.events.extend(json.loads(body))
                receiver.connections.add(self.client_address)
                receiver.requests += 1
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()
                if close_after_each:
                    self.wfile.flush()
                    self.close_connection = True

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        scheme = "https" if tls is not None else "http"
        self.url = f"{scheme}://localhost:{self.server.server_port}/events"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def wait(condition: Any, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


_contacts = iter(range(10**6))


def create(server: MockStudioServer, n: int) -> None:
    """`n` executions of the demo flow, each for a new contact: two events each (it waits
    for a reply after its first step)."""
    http = server.httpx_client()
    for _ in range(n):
        to = f"+1555{next(_contacts):07d}"
        response = http.post(f"/v2/Flows/{DEMO_FLOW}/Executions", data={"To": to, "From": NUMBER})
        assert response.status_code == 201, response.text


def deliveries(server: MockStudioServer) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = server.httpx_client().get("/_mockstudio/deliveries").json()["deliveries"]
    return found


def attempted(server: MockStudioServer) -> list[dict[str, Any]]:
    return [r for r in deliveries(server) if r["attempts"] > 0]


@pytest.mark.parametrize("close_after_each", [False, True], ids=["kept-alive", "closed-while-idle"])
def test_batches_reuse_one_connection_or_reconnect_at_once(close_after_each: bool) -> None:
    receiver = KeepAliveReceiver(close_after_each=close_after_each)
    try:
        with MockStudioServer(Settings(events_webhook=receiver.url), clock=ManualClock(1_700_000_000)) as server:
            for round_ in range(3):  # three batches at least: each round waits for the last
                create(server, 5)
                wait(lambda r=round_: len(receiver.events) == 10 * (r + 1))  # started + step each
                time.sleep(0.05)  # the sink closes the connection before the next batch
            records = deliveries(server)
            # Nothing waited for a retry: a connection closed while idle is replaced at once.
            assert {(r["state"], r["attempts"]) for r in records} == {("delivered", 1)}
        assert receiver.requests >= 3
        assert len(receiver.connections) == (receiver.requests if close_after_each else 1)
    finally:
        receiver.close()


def test_a_sink_that_never_answers_times_out_and_is_retried() -> None:
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # accepts (the kernel does) and never answers
    try:
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/events"
        with MockStudioServer(Settings(events_webhook=url), clock=ManualClock(1_700_000_000)) as server:
            create(server, 1)
            wait(lambda: attempted(server), timeout=20)
            (record,) = attempted(server)  # the first batch; the rest waits behind it
            assert (record["state"], record["last_error"], record["last_status"]) == ("retrying", "timeout", None)
    finally:
        silent.close()


def test_a_destination_that_cannot_be_reached_is_retried_and_the_sink_keeps_working() -> None:
    # A host name IDNA cannot encode (a label over 63 characters) fails inside the resolver's
    # encoding, not as a connection error: the delivery is retried like any other failure.
    url = f"http://{'a' * 64}.example/events"
    with MockStudioServer(Settings(events_webhook=url), clock=ManualClock(1_700_000_000)) as server:
        create(server, 1)
        wait(lambda: attempted(server))
        (record,) = attempted(server)
        assert record["state"] == "retrying" and "label" in record["last_error"]
        server.advance_clock(3600)  # the retry happens: the sink's worker is alive
        wait(lambda: attempted(server)[0]["attempts"] >= 2)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("tls")
    done = subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
            "-keyout", str(folder / "key.pem"), "-out", str(folder / "cert.pem"),
        ],
        capture_output=True,
        check=False,
    )  # fmt: skip
    if done.returncode != 0:
        pytest.skip(f"openssl could not make a certificate: {done.stderr[-300:]!r}")
    return folder


@pytest.fixture
def tls_receiver(certificate: Path) -> Iterator[KeepAliveReceiver]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate / "cert.pem", certificate / "key.pem")
    receiver = KeepAliveReceiver(tls=context)
    yield receiver
    receiver.close()


def test_https_sinks_verify_the_certificate(
    tls_receiver: KeepAliveReceiver, certificate: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    with MockStudioServer(Settings(events_webhook=tls_receiver.url), clock=ManualClock(1_700_000_000)) as server:
        create(server, 1)
        wait(lambda: attempted(server))
        (record,) = attempted(server)
        assert record["state"] == "retrying" and "CERTIFICATE_VERIFY_FAILED" in record["last_error"]
        assert tls_receiver.events == []
    # Trusted (as a company's CA would be): delivered, over one connection.
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate / "cert.pem"))
    with MockStudioServer(Settings(events_webhook=tls_receiver.url), clock=ManualClock(1_700_000_000)) as server:
        create(server, 3)
        wait(lambda: len(tls_receiver.events) == 6)
        assert {r["state"] for r in deliveries(server)} == {"delivered"}
