"""Outbound HTTP for widgets (make-http-request, run-function), through httpx.

Configurable for offline tests: `mode="off"` makes every call fail as a network error
would; `redirect_to` sends every call to another base URL (scheme, host and port
replaced, path and query kept)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from .limits import MAX_HTTP_BODY

if TYPE_CHECKING:
    import httpx

__all__ = ["FUNCTION_CONCURRENCY", "HttpFailure", "HttpResponse", "OutboundHttp"]

FUNCTION_CONCURRENCY = "x-twilio-function-concurrency"


@dataclass(frozen=True, slots=True)
class HttpResponse:
    status_code: int
    content_type: str
    body: str
    function_concurrency: str | None = None  # the x-twilio-function-concurrency header, if sent


class HttpFailure(Exception):
    """No usable response: network error, timeout, body too large, or HTTP switched off."""


class OutboundHttp:
    def __init__(self, *, mode: str = "live", redirect_to: str | None = None, timeout: float = 10.0) -> None:
        self.mode = mode
        self.redirect_to = redirect_to.rstrip("/") if redirect_to else None
        self.timeout = timeout
        self._client: httpx.AsyncClient | None = None

    def _url(self, url: str) -> str:
        if not self.redirect_to:
            return url
        target, original = urlsplit(self.redirect_to), urlsplit(url.strip())
        if original.scheme.lower() not in ("http", "https") or not original.netloc:
            # Not a URL (an empty property, an unfilled `${webhook_url}` template): Studio's
            # call fails, so the redirected one must too.
            raise HttpFailure(f"not an http(s) URL: {url[:100]!r}")
        path = target.path.rstrip("/") + (original.path or "/")
        return urlunsplit((target.scheme, target.netloc, path, original.query, ""))

    async def request(
        self,
        method: str,
        url: str,
        *,
        params: list[tuple[str, str]] | None = None,
        data: list[tuple[str, str]] | None = None,
        content: str | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
    ) -> HttpResponse:
        if self.mode == "off":
            raise HttpFailure("outbound HTTP is switched off (MOCKSTUDIO_HTTP_MODE=off)")
        import httpx  # imported on first use: it costs startup time servers may never need

        if self._client is None:
            self._client = httpx.AsyncClient(follow_redirects=True, timeout=self.timeout)
        kwargs: dict[str, Any] = {"headers": headers, "auth": auth}
        if data is not None:
            kwargs["data"] = dict(data) if data else None
        if content is not None:
            kwargs["content"] = content.encode()
        try:
            target = httpx.URL(self._url(url))
            if params:
                # Appended to the URL's own query: httpx's `params=` would replace it.
                target = target.copy_with(params=httpx.QueryParams([*target.params.multi_items(), *params]))
            async with self._client.stream(method, target, **kwargs) as response:
                # Read no further than the limit: a huge (or endless) body is refused, not held.
                declared = response.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > MAX_HTTP_BODY:
                    raise HttpFailure("response body larger than 64 kB")
                chunks: list[bytes] = []
                size = 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > MAX_HTTP_BODY:
                        raise HttpFailure("response body larger than 64 kB")
                    chunks.append(chunk)
                # Decoded as httpx's `.text` decodes: the declared charset, else UTF-8.
                text = b"".join(chunks).decode(response.encoding or "utf-8", errors="replace")
        except HttpFailure:
            raise
        except Exception as exc:
            # Whatever went wrong (network, timeout, an invalid URL or port, which httpx and
            # its transport raise in several shapes, some not HTTPError), the call failed.
            raise HttpFailure(f"{type(exc).__name__}: {exc}") from None
        return HttpResponse(
            response.status_code,
            response.headers.get("content-type", ""),
            text,
            response.headers.get(FUNCTION_CONCURRENCY),
        )

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
