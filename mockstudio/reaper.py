"""Deferred freeing of discarded state. Dropping 10,000 executions costs milliseconds of
pure deallocation; a reset hands the old state here and returns at once, and a background
thread releases it. Nothing can observe the old state: it is unreachable from the new."""

from __future__ import annotations

import queue
import threading
from typing import Any

__all__ = ["release_later"]

_queue: queue.SimpleQueue[list[Any]] = queue.SimpleQueue()
_started = threading.Lock()
_thread: threading.Thread | None = None


def _reap() -> None:
    while True:
        # Clearing the box (not merely dropping our reference to it) frees its contents in
        # this thread whatever the caller still does with the box.
        _queue.get().clear()


def release_later(box: list[Any]) -> None:
    """Free the contents of `box` in the background. The box must hold the only
    references to them (move them in; do not keep them)."""
    global _thread
    with _started:
        if _thread is None:
            _thread = threading.Thread(target=_reap, name="mockstudio-reaper", daemon=True)
            _thread.start()
    _queue.put(box)
