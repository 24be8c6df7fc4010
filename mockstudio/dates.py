"""Twilio's date formats: responses are exactly `YYYY-MM-DDTHH:MM:SSZ` (twilio-python
parses nothing else); list filters accept a bare date, a `Z` time or an offset."""

from __future__ import annotations

import calendar
import time
from datetime import UTC, datetime
from functools import lru_cache

from .errors import InvalidParameter

__all__ = ["format_date", "parse_filter_date"]


@lru_cache(maxsize=8192)
def format_date(seconds: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def parse_filter_date(name: str, raw: str) -> int:
    """Seconds since the epoch for a `DateCreatedFrom`/`DateCreatedTo` value.

    Besides ISO 8601 with `Z`, an offset or fractional seconds, a space where an offset's
    `+` was sent unencoded (`…T10:00:00 02:00`) is read as `+`: a URL decodes an unencoded `+` as a space."""
    value = raw.strip()
    if len(value) > 19 and value[-6] == " " and value[-3] == ":":
        value = value[:-6] + "+" + value[-5:]
    if value.endswith(("z", "Z")):
        value = value[:-1] + "+00:00"
    try:
        if len(value) == 10:
            parsed = datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
        else:
            parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        # OverflowError: an offset that moves the instant out of years 1-9999.
        return calendar.timegm(parsed.utctimetuple())
    except (ValueError, OverflowError):
        raise InvalidParameter(f"Invalid {name}: {raw!r} is not an ISO 8601 date or date-time") from None
