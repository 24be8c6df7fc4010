"""A small real HTTP server on 127.0.0.1 for the HTTP widgets to call (a thread running
http.server), recording every request it gets.

Routes: /echo (JSON describing the request), /status/<code> (that status, JSON body),
/function (JSON with a Functions concurrency header), /text, /array, /badjson, /empty
(204), /redirect (302 to /echo), /found (302 without a Location), /slow (answers only when
released), /big (70 kB)."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

__all__ = ["Recorded", "WebApp"]


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: str

    def form(self) -> dict[str, list[str]]:
        return parse_qs(self.body, keep_blank_values=True)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def _send(self, status: int, body: bytes = b"", content_type: str | None = None, **headers: str) -> None:
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, value: Any) -> None:
        self._send(status, json.dumps(value).encode(), "application/json; charset=utf-8")

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", errors="replace") if length else ""
        url = urlsplit(self.path)
        recorded = Recorded(
            self.command,
            url.path,
            parse_qs(url.query, keep_blank_values=True),
            {k.lower(): v for k, v in self.headers.items()},
            body,
        )
        app = self.server.app
        with app.lock:
            app.requests.append(recorded)
        path = url.path
        if path == "/echo":
            self._json(
                200,
                {
                    "method": recorded.method,
                    "query": {k: v[0] for k, v in recorded.query.items()},
                    "content_type": recorded.headers.get("content-type", ""),
                    "body": body,
                    "nested": {"items": [{"q": "a"}, {"q": "b"}]},
                },
            )
        elif path.startswith("/status/"):
            code = int(path.rsplit("/", 1)[1])
            self._json(code, {"status": code, "message": f"status {code}"})
        elif path == "/function":  # as a Twilio Function answers
            self._send(200, b'{"ok": true}', "application/json", **{"X-Twilio-Function-Concurrency": "3"})
        elif path == "/text":
            self._send(200, b"plain text", "text/plain")
        elif path == "/array":
            self._send(200, b"[1, 2, 3]", "application/json")
        elif path == "/badjson":
            self._send(200, b"{oops", "application/json")
        elif path == "/empty":
            self._send(204)
        elif path == "/redirect":
            self._send(302, Location="/echo?from=redirect")
        elif path == "/found":
            self._send(302, b"moved, but nowhere", "text/plain")
        elif path == "/slow":
            # Far longer than any timeout a test sets (0.2 s) or waits out: a test releases
            # it when done (and shutdown does), so a loaded machine cannot make it answer early.
            app.release.wait(60)
            self._json(200, {"slow": True})
        elif path == "/big":
            self._send(200, b"x" * (70 * 1024), "text/plain")
        elif path == "/endless":  # no Content-Length: the body ends when the connection does (up to 256 MB)
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            chunk = b"x" * (64 * 1024)
            try:
                for _ in range(4096):
                    self.wfile.write(chunk)
                    with app.lock:
                        app.streamed += len(chunk)
            except OSError:  # the client stopped reading
                pass
        else:
            self._json(404, {"message": "not found"})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    app: WebApp


class WebApp:
    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.streamed = 0  # bytes /endless managed to send
        self.lock = threading.Lock()
        self.release = threading.Event()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.app = self
        self._thread = threading.Thread(target=self._server.serve_forever, name="webapp", daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def start(self) -> WebApp:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.release.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def last(self) -> Recorded:
        with self.lock:
            return self.requests[-1]
