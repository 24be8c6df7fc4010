"""What every part of an account shares: its identity, its state (flows, executions,
contacts, bound numbers), the services it uses (the engine, SIDs, the clock, the change
feed), and the seeds accounts and flows are made from."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..engine.runner import Engine
from ..sids import SidFactory
from .changes import ChangeFeed
from .indexes import ExecutionIndex
from .models import BY_KEY, KEY_SHIFT, PUBLISHED, Execution, Flow
from .paging import SortedIndex

__all__ = ["AccountCore", "AccountSeed", "AccountServices", "FlowSeed"]


@dataclass(frozen=True, slots=True)
class AccountSeed:
    sid: str
    auth_token: str
    api_keys: dict[str, str] = field(default_factory=dict)  # API Key SID -> secret
    friendly_name: str | None = None


@dataclass(frozen=True, slots=True)
class FlowSeed:
    sid: str
    account_sid: str
    friendly_name: str
    definition: dict[str, Any]
    status: str = PUBLISHED
    commit_message: str | None = None
    numbers: tuple[str, ...] = ()  # addresses bound to the flow for inbound messages


@dataclass(frozen=True, slots=True)
class AccountServices:
    """What the studio lends each account."""

    engine: Engine
    sids: SidFactory
    seconds: Callable[[], int]  # the clock's current second (see Studio.seconds)
    changes: ChangeFeed
    accept_any_flow: bool
    ended_execution_limit: int
    contact_limit: int


class AccountCore:
    """One account's state and services. The operations are in the parts that extend it,
    one per Twilio resource (flows.py, executions.py, inbound.py, control.py); accounts.py
    puts them together."""

    def __init__(self, services: AccountServices, seed: AccountSeed) -> None:
        self.sid = seed.sid
        self.auth_token = seed.auth_token  # (make-http-request's "Authenticate with Twilio")
        self.friendly_name = seed.friendly_name
        self.engine = services.engine
        self.sids = services.sids
        self.seconds = services.seconds
        self.changes = services.changes
        self.accept_any_flow = services.accept_any_flow
        self.contact_limit = services.contact_limit
        self.flows: dict[str, Flow] = {}
        self.flow_index: SortedIndex[Flow] = SortedIndex(BY_KEY)
        self.executions = ExecutionIndex(services.ended_execution_limit)
        self.contacts: dict[str, str] = {}  # contact address -> FC SID, stable per account
        self.numbers: dict[str, str] = {}  # address -> Flow SID, for inbound messages
        self._sequence = itertools.count(1)

    def next_key(self, seconds: int) -> int:
        """A sort key: the date, then the account's sequence (unique, increasing)."""
        return (seconds << KEY_SHIFT) | (next(self._sequence) & 0xFFFFFFFF)

    def is_live(self, execution: Execution) -> bool:
        return self.executions.is_live(execution)

    if TYPE_CHECKING:  # implemented by the executions part (executions.py), used by flows.py

        def _remove_flow_executions(self, flow_sid: str) -> None:
            """Stop and forget every execution of a flow being deleted."""

    # -- restoring (a state file) -------------------------------------------------------------

    def restore_flow(self, flow: Flow) -> None:
        """Add a flow made elsewhere (a state file) as it is."""
        self.flows[flow.sid] = flow
        self.flow_index.add(flow.key, flow)

    def rekey_flow(self, flow: Flow, key: int, date_created: int) -> None:
        """Give a fixture flow back the identity (sort key, creation date) it was first
        seeded with."""
        self.flow_index.remove(flow.key)
        flow.key, flow.date_created = key, date_created
        flow.history[0].date_created = date_created
        self.flow_index.add(flow.key, flow)

    def restore_sequence(self, last: int) -> None:
        """Continue the sort-key sequence after `last` (the highest a state file holds)."""
        self._sequence = itertools.count(last + 1)

    def restore_contacts(self, contacts: list[tuple[str, str]]) -> None:
        """Contacts' FC SIDs, oldest first; the newest within the contact cap are kept."""
        limit = self.contact_limit
        self.contacts = dict(contacts[-limit:] if len(contacts) > limit else contacts)
