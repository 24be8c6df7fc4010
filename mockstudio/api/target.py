"""The request's target, checked before routing: the `Host` header and the path.

- An HTTP/1.1 request without exactly one `Host`, or with one that is not a host and
  optional port, is answered 400 (RFC 9112 section 3.2): `url` fields are built from it
  (render.base_url), so `evil/x?y@z` must never reach them.
- The server hands the app a percent-decoded path, in which `%2F` inside a segment would
  become a separator (`/v2/Flows/FW…%2FExecutions` routed as `/v2/Flows/FW…/Executions`).
  When the raw path has one, the path is decoded segment by segment, keeping `%2F`, so such
  a segment is one segment (and no route's SID), as the URL means."""

from __future__ import annotations

import re
from urllib.parse import unquote

from starlette.types import ASGIApp, Receive, Scope, Send

from ..errors import TwilioError
from . import render

__all__ = ["RequestTarget", "valid_host"]

# uri-host [":" port]: an IP literal, or a reg-name of unreserved, pct-encoded and
# sub-delims characters (RFC 3986 section 3.2.2); no "/", "?", "#", "@" or spaces.
_HOST = re.compile(rb"(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~%!$&'()*+,;=]*)(?::[0-9]{0,5})?")


def valid_host(value: bytes) -> bool:
    return _HOST.fullmatch(value) is not None


class BadRequest(TwilioError):
    """400/20001 for a request the HTTP layer refuses before routing it."""


class RequestTarget:
    """Pure ASGI middleware (one header scan per request; the path is only rebuilt when
    it holds an encoded slash)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            error = _check_host(scope)
            if error is not None:
                await render.TwilioJSON(render.error_body(error), status_code=400)(scope, receive, send)
                return
            raw_path: bytes | None = scope.get("raw_path")
            if raw_path and b"%" in raw_path and b"%2f" in raw_path.lower():
                scope["path"] = _decode_segments(raw_path)
        await self.app(scope, receive, send)


def _check_host(scope: Scope) -> TwilioError | None:
    hosts = [value for name, value in scope["headers"] if name == b"host"]
    if not hosts:
        if scope.get("http_version") == "1.0":
            return None  # HTTP/1.0 predates Host; URLs then use the server's address
        return BadRequest("Bad Request: an HTTP/1.1 request must carry a Host header")
    if len(hosts) > 1:
        return BadRequest("Bad Request: more than one Host header")
    if not valid_host(hosts[0]):
        return BadRequest("Bad Request: the Host header is not a host name (with an optional port)")
    return None


def _decode_segments(raw_path: bytes) -> str:
    query_free = raw_path.split(b"?", 1)[0].decode("ascii", errors="replace")
    return "/".join(unquote(segment).replace("/", "%2F") for segment in query_free.split("/"))
