"""The request journal: every Twilio-API request (`/v2/...`) the server answered, newest
last, in a bounded deque (the oldest are dropped past the limit).

Recording is on the hot path (edge.py), so it stores one tuple of what the request already
carries (the form `read_form` parsed and the account `authenticate` found, both left in the
ASGI scope by those steps) and everything else is worked out only when the journal is
read."""

from __future__ import annotations

import datetime as dt
import itertools
from collections import deque
from collections.abc import Iterable, MutableMapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

__all__ = ["ACCOUNT_KEY", "FORM_KEY", "Journal", "JournalFilter", "iso_time"]

# Scope keys the request's own steps fill in for the journal.
ACCOUNT_KEY = "mockstudio.account_sid"  # by auth.authenticate: the Account SID it found
FORM_KEY = "mockstudio.form"  # by forms.read_form: the body, or its fields if large

# Fields of a recorded tuple.
_ID, _METHOD, _PATH, _QUERY, _FORM, _ACCOUNT, _STATUS, _TIME, _DURATION, _ROUTE, _FAULT = range(11)


@dataclass(frozen=True, slots=True)
class JournalFilter:
    method: str | None = None
    path: str | None = None  # prefix
    path_contains: str | None = None
    status: int | None = None
    account_sid: str | None = None
    since: float | None = None  # on the virtual clock, inclusive
    matched: bool | None = None  # False: only requests no route matched

    def accepts(self, entry: tuple[Any, ...]) -> bool:
        if self.method is not None and entry[_METHOD] != self.method:
            return False
        if self.path is not None and not entry[_PATH].startswith(self.path):
            return False
        if self.path_contains is not None and self.path_contains not in entry[_PATH]:
            return False
        if self.status is not None and entry[_STATUS] != self.status:
            return False
        if self.account_sid is not None and entry[_ACCOUNT] != self.account_sid:
            return False
        if self.since is not None and entry[_TIME] < self.since:
            return False
        return self.matched is None or (entry[_ROUTE] is not None) is self.matched


class Journal:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.enabled = limit > 0
        self._entries: deque[tuple[Any, ...]] = deque(maxlen=max(limit, 1))
        self._ids = itertools.count(1)
        self._last_id_cleared = 0  # the last id issued before the journal was last cleared
        self._removed = 0  # entries removed since by clearing one account's
        # Endpoint -> its route's path template, for requests the router matched by path
        # but not by method (the endpoint is in their scope, though it never ran).
        self.route_paths: dict[Any, str] = {}

    def record(
        self,
        scope: MutableMapping[str, Any],
        status: int,
        time: float,
        duration: float,
        route: str | None,
        fault_id: int | None,
    ) -> None:
        self._entries.append(
            (
                next(self._ids),
                scope["method"],
                scope["path"],
                scope["query_string"],
                scope.get(FORM_KEY),
                scope.get(ACCOUNT_KEY),
                status,
                time,
                duration,
                route,
                fault_id,
            )
        )

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def dropped(self) -> int:
        """Requests recorded since the last clear that no longer fit."""
        last_id = self._entries[-1][_ID] if self._entries else self._last_id_cleared
        return last_id - self._last_id_cleared - self._removed - len(self._entries)

    def clear(self, account_sid: str | None = None) -> None:
        """Forget every entry, or one account's. The deque stays the same object: the
        recorders hold its `append`."""
        kept = [] if account_sid is None else [e for e in self._entries if e[_ACCOUNT] != account_sid]
        if kept:
            self._removed += len(self._entries) - len(kept)
        else:  # nothing left: counting starts again
            self._last_id_cleared = self._entries[-1][_ID] if self._entries else self._last_id_cleared
            self._removed = 0
        self._entries.clear()
        self._entries.extend(kept)

    def find(self, where: JournalFilter) -> list[dict[str, Any]]:
        """Matching entries, oldest first, as JSON-ready dicts."""
        return [_render(entry) for entry in self._entries if where.accepts(entry)]


def iso_time(seconds: float) -> str:
    """ISO 8601 UTC with milliseconds: `2023-11-14T22:13:20.000Z`."""
    moment = dt.datetime.fromtimestamp(seconds, dt.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _fields(pairs: Iterable[tuple[str, str]]) -> dict[str, str | list[str]]:
    """Name -> value; a name given more than once -> every value, in order."""
    out: dict[str, str | list[str]] = {}
    for name, value in pairs:
        if name in out:
            previous = out[name]
            out[name] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            out[name] = value
    return out


def _render(entry: tuple[Any, ...]) -> dict[str, Any]:
    form: bytes | tuple[tuple[str, str], ...] | None = entry[_FORM]
    if isinstance(form, bytes):  # a urlencoded body, as received
        form = tuple(parse_qsl(form.decode("utf-8", errors="replace"), keep_blank_values=True))
    query = entry[_QUERY].decode("latin-1")
    return {
        "id": entry[_ID],
        "method": entry[_METHOD],
        "path": entry[_PATH],
        "query": _fields(parse_qsl(query, keep_blank_values=True)),
        "form": None if form is None else _fields(form),
        "account_sid": entry[_ACCOUNT],
        "status": entry[_STATUS],
        "time": iso_time(entry[_TIME]),
        "duration_ms": round(entry[_DURATION] * 1000, 3),
        "matched_route": entry[_ROUTE],
        "fault_id": entry[_FAULT],
    }
