"""`split-based-on`: renders `input`, walks the `match` transitions in order and takes the
first whose conditions all hold, else `noMatch`. Conditions test `input`, not the copy the
Console keeps in their `arguments`. String comparisons are case-insensitive and trimmed, as
Studio documents. `regex` conditions run on the `regex` package (Python's dialect,
look-arounds included) with a time limit: a condition that runs out of time does not match,
and the step's outputs say why."""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..definition import State, Transition
from ..limits import REGEX_TIME_LIMIT
from ..outcomes import Outcome
from ..text import STUDIO_TIME_ZONE
from .base import Renderer, Widget, WidgetRun, property_renderer

if TYPE_CHECKING:
    from ..liquid import StudioLiquid

__all__ = ["CONDITIONS", "SplitBasedOn"]


def _norm(value: str) -> str:
    return value.strip().casefold()


def _items(value: str) -> list[str]:
    return [item for item in (_norm(part) for part in value.split(",")) if item]


# Decimal numbers only: float() would also take "nan", "Infinity" and "1_000".
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def _number(value: str) -> float | None:
    text = value.strip()
    return float(text) if _NUMBER.fullmatch(text) else None


def _numeric(op: Callable[[float, float], bool]) -> Callable[[str, str], bool]:
    def compare(subject: str, value: str) -> bool:
        a, b = _number(subject), _number(value)
        return a is not None and b is not None and op(a, b)

    return compare


def _time(value: str) -> dt.time | None:
    for fmt in ("%H:%M", "%H:%M:%S", "%I:%M %p", "%I:%M%p"):
        try:
            return dt.datetime.strptime(value.strip().upper(), fmt).time()
        except ValueError:
            continue
    return None


def _date(value: str) -> dt.date | None:
    text = value.strip()
    for fmt in ("%Y-%m-%d", "%m/%d/%Y"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    # A date-time with an offset is read in Studio's time zone; a naive one as it is
    # (astimezone() would read it in the host's local time zone).
    return (moment.astimezone(STUDIO_TIME_ZONE) if moment.tzinfo is not None else moment).date()


def _temporal(parse: Callable[[str], dt.time | dt.date | None], before: bool) -> Callable[[str, str], bool]:
    def compare(subject: str, value: str) -> bool:
        a, b = parse(subject), parse(value)
        if a is None or b is None:
            return False
        return a < b if before else a > b  # type: ignore[operator]

    return compare


class _RegexTimedOut(Exception):
    pass


def _regex(subject: str, value: str, timeout: float = REGEX_TIME_LIMIT) -> bool:
    """Twilio's catalogue: "case-insensitive, whole string". An invalid pattern never
    matches; one that runs past `timeout` raises _RegexTimedOut (the caller decides)."""
    import regex  # on the first regex condition: it costs startup time most servers never need

    try:
        return regex.fullmatch(value.strip(), subject.strip(), regex.IGNORECASE, timeout=timeout) is not None
    except regex.error:
        return False
    except TimeoutError:
        raise _RegexTimedOut from None


CONDITIONS: dict[str, Callable[[str, str], bool]] = {
    "equal_to": lambda s, v: _norm(s) == _norm(v),
    "not_equal_to": lambda s, v: _norm(s) != _norm(v),
    "matches_any_of": lambda s, v: _norm(s) in _items(v),
    "does_not_match_any_of": lambda s, v: _norm(s) not in _items(v),
    "is_blank": lambda s, v: not s.strip(),
    "is_not_blank": lambda s, v: bool(s.strip()),
    "regex": _regex,
    "contains": lambda s, v: _norm(v) in _norm(s),
    "does_not_contain": lambda s, v: _norm(v) not in _norm(s),
    "starts_with": lambda s, v: _norm(s).startswith(_norm(v)),
    "does_not_start_with": lambda s, v: not _norm(s).startswith(_norm(v)),
    "less_than": _numeric(lambda a, b: a < b),
    "greater_than": _numeric(lambda a, b: a > b),
    "is_before_time": _temporal(_time, before=True),
    "is_after_time": _temporal(_time, before=False),
    "is_before_date": _temporal(_date, before=True),
    "is_after_date": _temporal(_date, before=False),
}


# A `match` transition as compiled: the transition and its conditions, each as its
# predicate, the subject's renderer (None: the widget's input) and the value's renderer.
_Match = tuple[Transition, tuple[tuple[Callable[[str, str], bool] | None, Renderer | str | None, Renderer | str], ...]]


def _compile(state: State, liquid: StudioLiquid) -> tuple[Renderer | str | None, tuple[_Match, ...]]:
    source = state.properties.get("input")
    matches: list[_Match] = []
    for transition in state.transitions:
        if transition.event != "match" or not transition.conditions:
            continue
        conditions = []
        for condition in transition.conditions:
            # Every condition tests the widget's `input`. The Console copies the input into
            # each condition's `arguments`, and that copy goes stale when a widget is
            # duplicated and its input edited: only a split without an input reads it.
            arguments = condition.get("arguments")
            subject = None
            if source is None and isinstance(arguments, list) and arguments:
                subject = property_renderer(arguments[0], liquid)
            value = property_renderer(condition.get("value", ""), liquid) or ""
            conditions.append((CONDITIONS.get(str(condition.get("type"))), subject, value))
        matches.append((transition, tuple(conditions)))
    return property_renderer(source, liquid), tuple(matches)


class SplitBasedOn(Widget):
    type = "split-based-on"

    def run(self, turn: WidgetRun) -> Outcome:
        source, matches = turn.compiled("#split", _compile)
        subject_default = turn.rendered(source)  # rendered once for every condition naming it
        regex_time = REGEX_TIME_LIMIT  # what this run's regex conditions have left, together
        for transition, conditions in matches:
            for predicate, subject, value in conditions:
                if predicate is None:  # (validation admits none: an unknown type never matches)
                    break
                text = subject_default if subject is None else turn.rendered(subject)
                if predicate is _regex:
                    pattern = turn.rendered(value)
                    started = time.perf_counter()
                    try:
                        if regex_time <= 0:  # an earlier one used up the time: this one does not run
                            raise _RegexTimedOut
                        holds = _regex(text, pattern, regex_time)
                    except _RegexTimedOut:
                        holds = False
                        turn.note(f"regex condition {pattern[:100]!r} timed out after {REGEX_TIME_LIMIT} s: no match")
                    regex_time -= time.perf_counter() - started
                    if not holds:
                        break
                elif not predicate(text, turn.rendered(value)):
                    break
            else:
                return Outcome("match", transition=transition)
        return Outcome("noMatch")
