"""What one execution may do, in one place: Studio's own limits live with the runner
(steps, repeats, 30 days) and Liquid (15 loop iterations); these are the mock's, set far
above anything a real flow reaches and far below what would hurt the server (a flow is
code its author runs on our event loop: one hostile flow must not stall or exhaust it)."""

from __future__ import annotations

__all__ = [
    "MAX_HTTP_BODY",
    "MAX_MESSAGE_BODY",
    "MAX_RENDERED",
    "MAX_STORED_PER_EXECUTION",
    "REGEX_TIME_LIMIT",
    "TIME_SLICE",
    "RenderFailed",
]

# The most one template render may produce (characters), or hold in `{% assign %}` and
# `{% capture %}` variables (bytes, as sys.getsizeof counts them). Real flows render
# messages (at most 1,600 characters), HTTP bodies and variables: a few kilobytes, at
# most a 64 kB response passed along. (Doubling a string 22 times renders 67 million.)
MAX_RENDERED = 1 << 20

# The most one execution may render and receive in all (characters): what it stores
# (variables, widget outputs, message bodies) is made of that. 1,000 steps (Studio's
# limit) of 32 kB each; real flows render a few kB per step. An execution that goes past
# it ends, as at Studio's step limit.
MAX_STORED_PER_EXECUTION = 32 << 20

# A message body longer than this is refused as Twilio's Messages API refuses it: error
# 21617, "The concatenated message body exceeds the 1600 character limit".
MAX_MESSAGE_BODY = 1600

# "The response body must not exceed 64kB" (Make HTTP Request): larger responses fail,
# and are not read past the limit.
MAX_HTTP_BODY = 64 * 1024

# The time all `regex` conditions of one split-based-on run may take together (seconds).
# A real pattern on a real input takes microseconds; a catastrophically backtracking one
# (`(a+)+b` on 28 `a`s: 6 s, four times longer per two more) is stopped here.
REGEX_TIME_LIMIT = 0.05

# The longest an execution runs synchronous widgets before letting other work (requests,
# other executions) run on the event loop (seconds). A fast flow's whole run takes tens
# of microseconds, so only long or heavy chains ever yield.
TIME_SLICE = 0.002


class RenderFailed(Exception):
    """A template that failed to render (a limit, or any other render error): it renders
    empty, and `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
