"""Fault injection for the Twilio API (`/v2/...`): rules that make matching requests fail
with a given status and a Twilio error body, and/or wait first (latency), every time, N
times, or with a probability drawn from the rule's own seeded generator (so a run is
reproducible). The first rule that matches and fires applies; the others are not consulted.
Rules live in the process (not per account; a rule can name one), like the journal."""

from __future__ import annotations

import http
import itertools
import random
import re
from dataclasses import dataclass, field
from typing import Any

from ..errors import TwilioError

__all__ = ["FaultBook", "FaultRule", "InjectedFault", "glob_pattern"]

# Twilio's code for an HTTP status where one is known; otherwise 20000 + status.
_CODES = {401: 20003}
# Twilio's wording where it is known: 20429 "Too many requests" (an
# example in Twilio's Verify spec), 20003 "Authenticate". Otherwise the HTTP reason phrase
# ("Internal Server Error", "Service Unavailable", ...).
_MESSAGES = {429: "Too many requests", 401: "Authenticate"}


def glob_pattern(glob: str) -> re.Pattern[str]:
    """`*` matches within one path segment, `**` across segments, `?` one character."""
    out = []
    i = 0
    while i < len(glob):
        if glob.startswith("**", i):
            out.append(".*")
            i += 2
        elif glob[i] == "*":
            out.append("[^/]*")
            i += 1
        elif glob[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(glob[i]))
            i += 1
    return re.compile("".join(out))


class InjectedFault(TwilioError):
    """The error a fault rule answers with."""

    def __init__(self, status: int, code: int | None, message: str | None, retry_after: int | None) -> None:
        try:
            phrase = http.HTTPStatus(status).phrase
        except ValueError:
            phrase = "Error"
        super().__init__(message if message is not None else _MESSAGES.get(status, phrase))
        self.status = status
        self.code = code if code is not None else _CODES.get(status, 20000 + status)
        self.headers = {"Retry-After": str(retry_after)} if retry_after is not None else None


@dataclass(slots=True, eq=False)
class FaultRule:
    id: int
    method: str | None  # upper case; None: any
    path: str | None  # the glob as given
    path_regex: str | None  # or the regular expression as given
    pattern: re.Pattern[str]
    account_sid: str | None
    status: int | None  # None: latency only, then the request proceeds
    code: int | None
    message: str | None
    retry_after: int | None
    latency_ms: int
    times: int | None  # None: unlimited
    probability: float | None
    seed: int
    remaining: int | None = None
    applied: int = 0
    _random: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.remaining = self.times
        self._random = random.Random(self.seed)

    @property
    def exhausted(self) -> bool:
        return self.remaining == 0

    def draws_in(self) -> bool:
        """Whether this request falls within the rule's probability (a seeded draw)."""
        return self.probability is None or self._random.random() < self.probability

    def error(self) -> InjectedFault | None:
        if self.status is None:
            return None
        return InjectedFault(self.status, self.code, self.message, self.retry_after)

    def describe(self) -> dict[str, Any]:
        error = self.error()
        return {
            "id": self.id,
            "method": self.method or "*",
            "path": self.path,
            "path_regex": self.path_regex,
            "account_sid": self.account_sid,
            "status": self.status,
            "code": self.code if error is None else error.code,
            "message": self.message if error is None else error.message,
            "retry_after": self.retry_after,
            "latency_ms": self.latency_ms,
            "times": self.times,
            "probability": self.probability,
            "seed": self.seed,
            "remaining": self.remaining,
            "applied": self.applied,
        }


class FaultBook:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.rules: list[FaultRule] = []  # empty: the middleware does nothing at all
        self._ids = itertools.count(1)

    def add(self, **fields: Any) -> FaultRule:
        """A new rule (fields as FaultRule's, minus id and pattern). At the limit, the
        oldest rule is dropped."""
        glob, regex = fields.get("path"), fields.get("path_regex")
        pattern = glob_pattern(glob) if glob is not None else re.compile(regex or "")
        rule = FaultRule(id=next(self._ids), pattern=pattern, **fields)
        if len(self.rules) >= self.limit:
            del self.rules[0]
        self.rules.append(rule)
        return rule

    def remove(self, rule_id: int) -> bool:
        for i, rule in enumerate(self.rules):
            if rule.id == rule_id:
                del self.rules[i]
                return True
        return False

    def clear(self, account_sid: str | None = None) -> None:
        if account_sid is None:
            self.rules.clear()
        else:
            self.rules = [r for r in self.rules if r.account_sid != account_sid]

    def take(self, method: str, path: str, account_sid: Any) -> FaultRule | None:
        """The rule that applies to this request, counting one use of it. `account_sid` is
        a callable giving the request's account (or None), called only if a rule needs it."""
        resolved: list[str | None] = []
        for rule in self.rules:
            if rule.remaining == 0:
                continue
            if rule.method is not None and rule.method != method:
                continue
            if rule.pattern.fullmatch(path) is None:
                continue
            if rule.account_sid is not None:
                if not resolved:
                    resolved.append(account_sid())
                if resolved[0] != rule.account_sid:
                    continue
            if not rule.draws_in():
                continue
            if rule.remaining is not None:
                rule.remaining -= 1
            rule.applied += 1
            return rule
        return None
