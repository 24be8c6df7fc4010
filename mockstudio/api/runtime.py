"""What the routes share, attached to the app: the state and the HTTP-level settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from starlette.requests import Request

from ..domain.accounts import Studio
from ..events.service import Events
from .faults import FaultBook
from .journal import Journal
from .live import LiveFeed
from .ratelimit import ExecutionRateLimit

if TYPE_CHECKING:  # loaded only when coverage is on (startup time)
    from ..coverage import CoverageRecorder

__all__ = ["RUNTIME_KEY", "Runtime", "runtime"]

# Where the Twilio routes' edge (edge.py) leaves the app's Runtime: a dict lookup, where
# `request.app.state.runtime` goes through State.__getattr__ (~0.6 us, several per request).
RUNTIME_KEY = "mockstudio.runtime"


@dataclass(slots=True)
class Runtime:
    studio: Studio
    events: Events
    live: LiveFeed  # the dashboard's live updates
    public_url: str | None  # e.g. "https://mock.example:8443"; None: the request's own host
    max_body_bytes: int
    journal: Journal = field(default_factory=lambda: Journal(1_000))
    faults: FaultBook = field(default_factory=lambda: FaultBook(1_000))
    rate_limit: ExecutionRateLimit | None = None  # None: Studio's REST limit not enforced
    admin_token: str | None = None  # None: the control plane is open
    coverage: CoverageRecorder | None = None  # None: flow coverage is not recorded
    # Authorization header -> Account SID, for headers that authenticated before.
    auth_cache: dict[bytes, str] = field(default_factory=dict)

    def reset(self, account_sid: str | None = None) -> None:
        """What `POST /_mockstudio/reset` forgets besides the state: the journal, the fault
        rules and the rate-limit windows (all, or one account's), and cached credentials."""
        self.auth_cache.clear()
        self.journal.clear(account_sid)
        self.faults.clear(account_sid)
        if self.rate_limit is not None:
            self.rate_limit.clear(account_sid)


def runtime(request: Request) -> Runtime:
    rt: Runtime | None = request.scope.get(RUNTIME_KEY)
    if rt is None:
        rt = request.app.state.runtime
    return rt
