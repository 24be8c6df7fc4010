"""URLs that users configure: webhook sinks' destinations (the Events API, fixtures and
MOCKSTUDIO_EVENTS_WEBHOOK)."""

from __future__ import annotations

from urllib.parse import urlsplit

__all__ = ["is_http_url"]


def is_http_url(text: str) -> bool:
    """An absolute http(s) URL with a host and a usable port, and no spaces or control
    characters (urlsplit would drop tabs and line breaks silently)."""
    if any(c.isspace() or not c.isprintable() for c in text):
        return False
    try:
        parts = urlsplit(text)
        port = parts.port  # (reading it checks it is a number from 0 to 65535)
    except ValueError:  # an unclosed IPv6 bracket, a port that is not a number or too large
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname) and port != 0
