"""Clocks. Every timestamp in mockstudio comes from one of these, so tests can freeze or
move time and a virtual clock for flow timeouts needs no rewrite."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol, runtime_checkable

__all__ = ["AdjustableClock", "Clock", "ManualClock", "SystemClock", "VirtualClock"]


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the Unix epoch (UTC)."""
        ...


@runtime_checkable
class AdjustableClock(Clock, Protocol):
    def set(self, value: float) -> None: ...

    def advance(self, seconds: float) -> None: ...


class SystemClock:
    """Wall-clock time."""

    def now(self) -> float:
        return time.time()


class ManualClock:
    """A clock that only moves when told to; safe to drive from a test thread."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self._now = start
        self._lock = threading.Lock()
        self.on_move: Callable[[], None] | None = None  # told after each move

    def now(self) -> float:
        return self._now

    def set(self, value: float) -> None:
        with self._lock:
            self._now = value
        if self.on_move is not None:
            self.on_move()

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += seconds
        if self.on_move is not None:
            self.on_move()


class VirtualClock:
    """Wall-clock time plus an offset that tests and demos can move: time passes as usual,
    and `advance`/`set` jump it (the server's default, behind `/_mockstudio/clock`)."""

    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()
        # Told after each move (the studio publishes it as a change; the state file keeps the offset).
        self.on_move: Callable[[], None] | None = None

    def now(self) -> float:
        return time.time() + self._offset

    @property
    def offset(self) -> float:
        return self._offset

    def set(self, value: float) -> None:
        with self._lock:
            self._offset = value - time.time()
        self._moved()

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._offset += seconds
        self._moved()

    def _moved(self) -> None:
        if self.on_move is not None:
            self.on_move()
