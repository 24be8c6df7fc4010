"""InProcessHttpClient: twilio-python's HttpClient over mockstudio's ASGI app, without
sockets. Imported on first use by `mockstudio.testing` (twilio is an optional dependency),
so import it from there: `from mockstudio.testing import InProcessHttpClient`."""

from __future__ import annotations

import logging
from typing import Any

import requests
from requests.structures import CaseInsensitiveDict
from twilio.http import HttpClient  # type: ignore[import-untyped]
from twilio.http.request import Request as TwilioRequest  # type: ignore[import-untyped]
from twilio.http.response import Response  # type: ignore[import-untyped]

from ._bridge import bridge_for

__all__ = ["InProcessHttpClient"]

_logger = logging.getLogger("twilio.http_client")
_JSON_TYPES = ("application/json", "application/scim+json")


class InProcessHttpClient(HttpClient):  # type: ignore[misc]
    """Give it to `twilio.rest.Client(..., http_client=...)`: each request is encoded
    exactly as the SDK's own TwilioHttpClient encodes it (with requests, so the query
    string, form body and headers are byte for byte the same), then handed to the app on
    its event loop instead of a socket. Any host name is accepted, so the absolute
    `next_page_url`s the app renders come back here.

    `target` is a MockStudioServer (running), or an ASGI app: one a running handle serves
    shares that handle's loop; any other is started here (its lifespan on a private loop in
    a daemon thread) and stopped by `close()`."""

    def __init__(self, target: Any, *, timeout: float | None = None, logger: logging.Logger = _logger) -> None:
        super().__init__(logger, False, timeout)
        self._bridge, self._close_target = bridge_for(target)
        self._session = requests.Session()  # prepares requests only: it never connects

    def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        if timeout is None:
            timeout = self.timeout
        elif timeout <= 0:
            raise ValueError(timeout)
        kwargs: dict[str, Any] = {
            "method": method.upper(),
            "url": url,
            "params": params,
            "headers": headers,
            "auth": auth,
        }
        if headers and headers.get("Content-Type") in _JSON_TYPES:
            kwargs["json"] = data
        else:
            kwargs["data"] = data
        self.log_request(kwargs)
        self._test_only_last_response = None
        self._test_only_last_request = TwilioRequest(**kwargs)

        prepared = self._session.prepare_request(requests.Request(**kwargs))
        body = prepared.body or b""
        if isinstance(body, str):
            body = body.encode("utf-8")
        assert isinstance(body, bytes)  # Twilio sends forms and JSON, never streams
        status, response_headers, content = self._bridge.send(
            prepared.method or kwargs["method"],
            prepared.url or url,
            [(name, _latin1(value)) for name, value in prepared.headers.items()],
            body,
            timeout,
        )
        received: CaseInsensitiveDict[str] = CaseInsensitiveDict(response_headers)
        self.logger.info("Response Status Code: %s", status)
        self.logger.info("Response Headers: %s", received)
        self._test_only_last_response = Response(status, _text(content, received), received)
        return self._test_only_last_response

    def close(self) -> None:
        """Close the app this client started, if it started one."""
        self._session.close()
        close, self._close_target = self._close_target, None
        if close is not None:
            close()


def _latin1(value: str | bytes) -> str:
    return value if isinstance(value, str) else value.decode("latin-1")


def _text(content: bytes, headers: CaseInsensitiveDict[str]) -> str:
    """The body as requests' `Response.text` decodes a JSON answer (the declared charset,
    else UTF-8)."""
    charset = "utf-8"
    for part in headers.get("content-type", "").split(";")[1:]:
        name, _, value = part.strip().partition("=")
        if name.lower() == "charset" and value:
            charset = value.strip('"')
    try:
        return content.decode(charset, errors="replace")
    except LookupError:
        return content.decode("utf-8", errors="replace")
