"""Domain objects. Plain dataclasses with slots: a stored execution must stay small
(the memory budget is 2.5 KB each at 100k), so derived data (URLs, the trigger-time
context) is computed when rendered, not stored."""

from __future__ import annotations

from dataclasses import dataclass, field
from hashlib import blake2b, blake2s
from operator import attrgetter
from typing import Any

from ..sids import STEP
from .paging import SortedIndex

__all__ = [
    "ACTIVE",
    "BY_KEY",
    "DRAFT",
    "ENDED",
    "KEY_SHIFT",
    "PUBLISHED",
    "Execution",
    "Flow",
    "FlowRevision",
    "Message",
    "Step",
]

BY_KEY = attrgetter("key")  # SortedIndex key for objects carrying their own sort key
KEY_SHIFT = 32  # sort keys are (date_created seconds << 32) | a sequence number

ACTIVE = "active"
ENDED = "ended"
DRAFT = "draft"
PUBLISHED = "published"


@dataclass(slots=True)
class FlowRevision:
    revision: int
    friendly_name: str
    definition: dict[str, Any]
    status: str
    commit_message: str | None
    valid: bool
    errors: list[Any]
    warnings: list[Any]
    author_sid: str | None
    date_created: int
    date_updated: int | None


@dataclass(slots=True)
class Flow:
    sid: str
    account_sid: str
    friendly_name: str
    definition: dict[str, Any]
    status: str
    revision: int
    commit_message: str | None
    valid: bool
    errors: list[Any]
    warnings: list[Any]
    author_sid: str | None
    date_created: int
    date_updated: int | None
    key: int
    # Every revision, oldest first (revision n at index n-1), and the same newest first
    # for paging; `published` is the newest published one, kept as revisions are added.
    history: list[FlowRevision] = field(default_factory=list)
    revisions: SortedIndex[FlowRevision] = field(default_factory=SortedIndex)
    published: FlowRevision | None = None
    test_users: list[str] = field(default_factory=list)
    # (Its executions are the account's ExecutionIndex's: see domain/indexes.py.)

    def add_revision(self, revision: FlowRevision) -> None:
        """Append `revision` (numbered one past the latest) and make it the latest: the
        flow's own fields always mirror its latest revision, draft or published."""
        assert revision.revision == len(self.history) + 1, "revisions are numbered 1, 2, 3, ..."
        self.history.append(revision)
        self.revisions.add(revision.revision, revision)
        self.revision = revision.revision
        self.friendly_name = revision.friendly_name
        self.definition = revision.definition
        self.status = revision.status
        self.commit_message = revision.commit_message
        self.valid = revision.valid
        self.errors = revision.errors
        self.warnings = revision.warnings
        self.author_sid = revision.author_sid
        if revision.status == PUBLISHED:
            self.published = revision

    def latest_revision(self) -> FlowRevision | None:
        return self.history[-1] if self.history else None

    def published_revision(self) -> FlowRevision | None:
        """The newest published revision, which is what executions run (O(1))."""
        return self.published

    def find_revision(self, number: int) -> FlowRevision | None:
        return self.history[number - 1] if 1 <= number <= len(self.history) else None


@dataclass(slots=True)
class Step:
    # The SID when it was allocated up front (a subflow's parent step, a state file's
    # steps); otherwise None until `sid` is first read (see there).
    given_sid: str | None
    execution_sid: str
    name: str
    transitioned_from: str
    transitioned_to: str
    type: str | None
    parent_step_sid: str | None
    # The context as it stood after this step, as the layers the engine writes (shared
    # with the execution and other steps, never copied): see contexts.build_context.
    widgets: dict[str, Any] | None
    variables: dict[str, Any] | None
    date_created: int
    date_updated: int | None
    key: int

    @property
    def sid(self) -> str:
        """Made on first read from the execution's SID and the step's sort key (both unique):
        most steps are never read, and a random SID minted for each cost a tenth of a fast
        flow's run time. 32 hex digits of a hash, like a minted SID (Twilio's are opaque)."""
        sid = self.given_sid
        if sid is None:
            digest = blake2b(f"{self.execution_sid}/{self.key}".encode(), digest_size=16).hexdigest()
            sid = self.given_sid = STEP + digest
        return sid


@dataclass(slots=True)
class Execution:
    sid: str
    account_sid: str
    flow_sid: str
    contact_sid: str
    # (To, From) of the create call: the contact's address and the flow's. One tuple,
    # also used as the key of the one-active-execution and waiting-for-reply indexes.
    addresses: tuple[str, str]
    parameters: dict[str, Any] | None
    status: str
    flow_version: int | None
    # What started it: the inbound message or parent execution SID; None for a REST
    # request, whose request SID is derived (see `initiated_by`) rather than stored.
    initiator: str | None
    date_created: int
    date_updated: int | None
    key: int
    steps: SortedIndex[Step] | None = None  # created with the first step
    # The trigger's data for non-REST triggers (`{"message": …}`, `{"parent": …}`);
    # None for a REST trigger, whose data is `parameters` and the addresses.
    trigger: dict[str, Any] | None = None
    # What widgets wrote: `widgets.<name>` outputs and `flow.variables`. Replaced, never
    # mutated, so steps can keep references instead of copies.
    widgets: dict[str, Any] | None = None
    variables: dict[str, Any] | None = None
    # The engine's bookkeeping while the execution runs; dropped when it ends.
    run: Any = None

    @property
    def contact_channel_address(self) -> str:
        return self.addresses[0]

    @property
    def flow_channel_address(self) -> str:
        return self.addresses[1]

    @property
    def initiated_by(self) -> str:
        """ "A Request SID if triggered by a REST API request". The mock's request SID is
        derived from the execution's (a hash: its digits are not the execution's, as they
        would not be in Studio), so it costs no memory per execution."""
        if self.initiator is not None:
            return self.initiator
        return "RQ" + blake2s(self.sid.encode(), digest_size=16).hexdigest()

    def find_step(self, sid: str) -> Step | None:
        if self.steps is None:
            return None
        for step in self.steps.newest_first():
            if step.sid == sid:
                return step
        return None


@dataclass(slots=True)  # not frozen: cheaper to make (one per message sent); read-only all the same
class Message:
    sid: str
    account_sid: str
    direction: str  # "outbound" (flow -> contact) or "inbound" (contact -> flow)
    from_: str
    to: str
    body: str
    execution_sid: str | None
    flow_sid: str | None
    status: str
    date_created: int
    media_url: tuple[str, ...] = ()
