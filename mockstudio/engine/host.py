"""The engine's two seams. `AccountHost`: what the engine needs from the domain, and nothing
more (the account an execution runs in; the domain implements it, and the engine never
imports the domain's implementation, only this protocol, the models and the change feed).
`WidgetServices`: what a widget's run reaches of the engine (the Engine implements it)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from ..domain.models import Execution
from ..sids import SidFactory
from .config import EngineConfig
from .http import OutboundHttp
from .messages import MessageLog

if TYPE_CHECKING:
    from .liquid import StudioLiquid
    from .transcripts import CallLog

__all__ = ["AccountHost", "WidgetServices"]


class WidgetServices(Protocol):
    """What widgets use of the engine that runs them."""

    @property
    def liquid(self) -> StudioLiquid: ...

    @property
    def http(self) -> OutboundHttp: ...

    @property
    def sids(self) -> SidFactory: ...

    @property
    def seconds(self) -> Callable[[], int]: ...

    @property
    def messages(self) -> MessageLog: ...

    @property
    def config(self) -> EngineConfig: ...

    @property
    def calls(self) -> CallLog: ...


class AccountHost(Protocol):
    """The account an execution runs in."""

    @property
    def sid(self) -> str: ...

    @property
    def auth_token(self) -> str:
        """For make-http-request's "Authenticate with Twilio"."""
        ...

    def next_key(self, seconds: int) -> int:
        """A sort key for a step made at `seconds`: orders it among the account's steps."""
        ...

    def is_live(self, execution: Execution) -> bool:
        """The execution is still the account's (not deleted, dropped or reset away)."""
        ...

    def mark_ended(self, execution: Execution, reason: str) -> None:
        """Record that the execution ended (its status, date and indexes; the change feed is
        told). The engine has already stopped running it."""
        ...

    def waiting_for_reply(self, execution: Execution, waiting: bool) -> None:
        """The execution is (or is no longer) parked waiting for its contact's reply, so an
        inbound message from the contact resumes it."""
        ...

    def start_subflow(
        self,
        *,
        flow_sid: str,
        parent: Execution,
        parameters: dict[str, Any],
        parent_step_sid: str,
        revision: str,
    ) -> Execution | None:
        """A child execution of another flow of the account for run-subflow (running, its end
        resuming `parent`), or None if that flow cannot run."""
        ...
