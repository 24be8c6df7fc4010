"""Studio's documented REST limit, opt-in (`MOCKSTUDIO_RATE_LIMIT=true`): "Outbound
Executions (triggered by Studio's REST API): 20 new Executions per second per account",
answered with 429 / 20429 (https://www.twilio.com/docs/studio/user-guide/studio-faq).

Measured on monotonic wall time, not the virtual clock: the limit is about how fast a
client sends requests, which moving the virtual clock (to fire a widget's timeout) does not
change; and a clock that can jump backwards or forwards would open or close the window at
random. A sliding window: a create is refused while the account already made 20 executions
in the last second. Only executions actually created count (a 400, 409 or 429 does not)."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from ..errors import TwilioError

__all__ = ["ExecutionRateLimit", "TooManyRequests"]


class TooManyRequests(TwilioError):
    """429/20429. Twilio's wording for 20429 is "Too many requests" (Verify's spec example);
    Twilio documents neither Studio's wording nor a Retry-After header: sent, as the
    window frees a slot within a second."""

    status = 429
    code = 20429
    headers = {"Retry-After": "1"}

    def __init__(self) -> None:
        super().__init__("Too many requests")


class ExecutionRateLimit:
    def __init__(self, per_second: int = 20, now: Callable[[], float] = time.monotonic) -> None:
        self.per_second = per_second
        self.now = now  # tests substitute a clock they move
        self._windows: dict[str, deque[float]] = {}

    def check(self, account_sid: str) -> None:
        """Raises TooManyRequests if the account is at its limit."""
        window = self._windows.get(account_sid)
        if window is not None and len(window) == self.per_second and self.now() - window[0] < 1.0:
            raise TooManyRequests()

    def record(self, account_sid: str) -> None:
        """One execution created."""
        window = self._windows.get(account_sid)
        if window is None:
            window = self._windows[account_sid] = deque(maxlen=self.per_second)
        window.append(self.now())

    def clear(self, account_sid: str | None = None) -> None:
        if account_sid is None:
            self._windows.clear()
        else:
            self._windows.pop(account_sid, None)
