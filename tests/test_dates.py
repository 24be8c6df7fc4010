"""mockstudio.dates: the response format and the list filters' lenient parsing (§F)."""

from __future__ import annotations

import calendar
import re

import pytest

from mockstudio.dates import format_date, parse_filter_date
from mockstudio.errors import InvalidParameter

TWILIO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> int:
    return calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0))


# -- format_date ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (0, "1970-01-01T00:00:00Z"),
        (1_700_000_000, "2023-11-14T22:13:20Z"),
        (utc(2016, 7, 31, 9, 5, 7), "2016-07-31T09:05:07Z"),
        (utc(2024, 2, 29, 23, 59, 59), "2024-02-29T23:59:59Z"),
        (utc(2038, 1, 19, 3, 14, 8), "2038-01-19T03:14:08Z"),  # past 32-bit time_t
    ],
)
def test_format_date_exact(seconds: int, expected: str) -> None:
    assert format_date(seconds) == expected
    assert TWILIO_DATE.match(format_date(seconds))


def test_format_date_round_trips_through_the_filter_parser() -> None:
    for seconds in (0, 1_700_000_000, 1_700_000_001, utc(2030, 12, 31, 23, 59, 59)):
        assert parse_filter_date("DateCreatedFrom", format_date(seconds)) == seconds


# -- parse_filter_date: accepted forms --------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # Bare date: midnight UTC (the form in Twilio's own docs and the CLI).
        ("2016-07-31", utc(2016, 7, 31)),
        # Z, either case.
        ("2016-07-31T10:20:30Z", utc(2016, 7, 31, 10, 20, 30)),
        ("2016-07-31T10:20:30z", utc(2016, 7, 31, 10, 20, 30)),
        # Explicit offsets are converted to UTC.
        ("2016-07-31T10:20:30+02:00", utc(2016, 7, 31, 8, 20, 30)),
        ("2016-07-31T10:20:30-05:00", utc(2016, 7, 31, 15, 20, 30)),
        ("2016-07-31T23:30:00-05:00", utc(2016, 8, 1, 4, 30, 0)),  # crosses midnight
        ("2016-07-31T01:00:00+02:00", utc(2016, 7, 30, 23, 0, 0)),
        ("2016-07-31T10:20:30+00:00", utc(2016, 7, 31, 10, 20, 30)),
        # Fractional seconds are accepted and truncated to the second.
        ("2016-07-31T10:20:30.999Z", utc(2016, 7, 31, 10, 20, 30)),
        ("2016-07-31T10:20:30.5+02:00", utc(2016, 7, 31, 8, 20, 30)),
        ("2016-07-31T10:20:30.123456-05:00", utc(2016, 7, 31, 15, 20, 30)),
        # No zone at all: read as UTC.
        ("2016-07-31T10:20:30", utc(2016, 7, 31, 10, 20, 30)),
        # Surrounding whitespace is ignored.
        ("  2016-07-31T10:20:30Z ", utc(2016, 7, 31, 10, 20, 30)),
    ],
)
def test_parse_filter_date(raw: str, expected: int) -> None:
    assert parse_filter_date("DateCreatedFrom", raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # An unencoded `+` arrives as a space after form decoding.
        ("2016-07-31T10:20:30 02:00", utc(2016, 7, 31, 8, 20, 30)),
        ("2016-07-31T10:20:30.250 02:00", utc(2016, 7, 31, 8, 20, 30)),
        ("2016-07-31T10:20:30 00:00", utc(2016, 7, 31, 10, 20, 30)),
    ],
)
def test_unencoded_plus_reads_as_a_positive_offset(raw: str, expected: int) -> None:
    assert parse_filter_date("DateCreatedTo", raw) == expected


def test_space_and_plus_forms_agree() -> None:
    assert parse_filter_date("X", "2020-01-01T00:00:00 05:30") == parse_filter_date("X", "2020-01-01T00:00:00+05:30")


def test_dates_before_the_epoch_are_negative() -> None:
    assert parse_filter_date("DateCreatedFrom", "1969-12-31") == -86400


# -- parse_filter_date: rejected forms --------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "garbage",
        "yesterday",
        "2016-13-01",
        "2016-02-30",
        "2016-07-32",
        "2016/07/31",
        "31-07-2016",
        "2016-07-31T25:00:00Z",
        "2016-07-31T10:61:00Z",
        "2016-07-31T10:20:30+25:00",
        "2016-07-31TZ",
        "1469960430",
        "",
        "   ",
        # Offsets that move the instant outside years 1..9999 (used to be a 500).
        "0001-01-01T00:00:00+01:00",
        "9999-12-31T23:00:00-05:00",
    ],
)
def test_garbage_is_invalid_parameter(raw: str) -> None:
    with pytest.raises(InvalidParameter) as info:
        parse_filter_date("DateCreatedFrom", raw)
    error = info.value
    assert error.status == 400
    assert error.code == 20001
    assert error.message.startswith("Invalid DateCreatedFrom: ")
    assert repr(raw) in error.message


def test_error_names_the_parameter() -> None:
    with pytest.raises(InvalidParameter, match=r"^Invalid DateCreatedTo: 'nope' "):
        parse_filter_date("DateCreatedTo", "nope")
