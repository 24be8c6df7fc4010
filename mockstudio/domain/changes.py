"""The change feed: every change the domain makes, published as a typed value to synchronous
subscribers, in order, inside the operation that made it (so a subscriber can, say, commit
to disk before the HTTP response is sent).

Subscribers are callables taking a `Change`. With none, publishing costs a list's truth test
at each mutation point (`if feed.subscribers:`), so changes are only built when watched. Changes
are slotted dataclasses, not frozen (a frozen one costs three times as much to make, and the
engine makes one per step): treat them as read-only all the same.

A change holds references to the domain's models (Execution, Step, Flow, Message), which are
public, plus the values a consumer could not read from them later (why an execution ended,
when). Models are live objects: read them in the subscriber, not later.

A subscriber's exception propagates to the operation (the state file's failed write answers
the request with a 500 that way): a subscriber that must not fail the operation catches its
own.

Subscribers that write changes in transactions (the state file) also register a
`Transactions`: the feed brackets each operation with `hold()`/`release()` (see `batched`),
and an engine run that is about to wait for I/O with `pause()`/`unpause()` (see `committing`).
"""

from __future__ import annotations

import functools
import types
from collections.abc import Callable, Coroutine, Generator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ParamSpec, Protocol, TypeVar, cast

if TYPE_CHECKING:
    from .models import Execution, Flow, Message, Step

__all__ = [
    "Change",
    "ChangeFeed",
    "ClockMoved",
    "ExecutionCreated",
    "ExecutionEnded",
    "ExecutionParked",
    "ExecutionResumed",
    "ExecutionsDeleted",
    "FlowCreated",
    "FlowDeleted",
    "FlowUpdated",
    "MessageReceived",
    "MessageSent",
    "MessagesCleared",
    "NumberBound",
    "Reset",
    "StepEnded",
    "Subscriber",
    "Transactions",
    "batched",
    "committing",
]

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")


class Change:
    """Base of every change. `account_sid` is the account it happened in (None: all of them,
    for a reset of everything or a move of the clock)."""

    __slots__ = ()
    account_sid: str | None


# -- flows -------------------------------------------------------------------------------------


@dataclass(slots=True)
class FlowCreated(Change):
    """A flow was created (through the API, or `seeded` from a fixture at startup or reset).
    Its revision 1 is `flow.history[0]`."""

    account_sid: str
    flow: Flow
    seeded: bool = False


@dataclass(slots=True)
class FlowUpdated(Change):
    """A flow got a new revision (`flow.revision`, `flow.latest_revision()`) or new test users."""

    account_sid: str
    flow: Flow


@dataclass(slots=True)
class FlowDeleted(Change):
    """A flow was deleted, with its revisions; its executions go in an `ExecutionsDeleted`
    published just before."""

    account_sid: str
    flow: Flow


@dataclass(slots=True)
class NumberBound(Change):
    """An address was bound to a flow for inbound messages and calls (`flow_sid` None: unbound)."""

    account_sid: str
    number: str
    flow_sid: str | None


# -- executions ----------------------------------------------------------------------------------


@dataclass(slots=True)
class ExecutionCreated(Change):
    """An execution was created and is about to run (or ends at once if its revision cannot
    run: an `ExecutionEnded` follows)."""

    account_sid: str
    execution: Execution
    trigger: str  # the trigger's event: incomingRequest, incomingMessage, incomingCall, ...
    parent_step_sid: str | None = None  # a subflow's child: the parent's run-subflow step
    # The contact's address was met for the first time: it got its FC SID (`contact_sid`).
    new_contact: bool = False

    @property
    def contact_sid(self) -> str:
        return self.execution.contact_sid

    @property
    def flow_sid(self) -> str:
        return self.execution.flow_sid

    @property
    def flow_revision(self) -> int | None:
        return self.execution.flow_version

    @property
    def contact_address(self) -> str:
        return self.execution.addresses[0]

    @property
    def flow_address(self) -> str:
        return self.execution.addresses[1]

    @property
    def started_by(self) -> str:
        """The request SID, inbound message/call SID or parent execution SID (`initiated_by`)."""
        return self.execution.initiated_by

    @property
    def date(self) -> int:
        return self.execution.date_created


@dataclass(slots=True)
class ExecutionParked(Change):
    """An execution is waiting on `widget` for one of `events` (a reply, a keypress, ...),
    at most until `due` (virtual clock, seconds)."""

    account_sid: str
    execution: Execution
    widget: str
    events: tuple[str, ...]
    due: float | None


@dataclass(slots=True)
class ExecutionResumed(Change):
    """A parked execution was resumed with `event`; its widget's step follows (`StepEnded`)
    once the run continues. Carries the outcome so a state file can replay the resume if the
    server stops before that."""

    account_sid: str
    execution: Execution
    widget: str
    event: str
    outputs: dict[str, Any] | None
    variables: dict[str, Any] | None
    step_sid: str | None


@dataclass(slots=True)
class ExecutionEnded(Change):
    """An execution ended: `reason` is why (`flow end`, `ended through the API`, a limit, ...),
    `date` when (virtual clock, seconds)."""

    account_sid: str
    execution: Execution
    reason: str
    date: int

    @property
    def completed(self) -> bool:
        """It reached the end of its flow (rather than being stopped)."""
        return self.reason == ENDED_AT_FLOW_END


@dataclass(slots=True)
class ExecutionsDeleted(Change):
    """Executions removed with their steps: `deleted` through the API, with their flow
    (`flow deleted`), or dropped by the ended-execution cap (`cap`)."""

    account_sid: str
    executions: tuple[Execution, ...]
    reason: str


@dataclass(slots=True)
class StepEnded(Change):
    """A widget ended and its transition was taken (one Step of the execution)."""

    account_sid: str
    execution: Execution
    step: Step

    @property
    def step_sid(self) -> str:
        return self.step.sid

    @property
    def execution_sid(self) -> str:
        return self.execution.sid

    @property
    def flow_sid(self) -> str:
        return self.execution.flow_sid

    @property
    def flow_revision(self) -> int | None:
        return self.execution.flow_version

    @property
    def event(self) -> str:
        return self.step.name

    @property
    def transitioned_from(self) -> str:
        return self.step.transitioned_from

    @property
    def transitioned_to(self) -> str:
        return self.step.transitioned_to

    @property
    def widget_type(self) -> str | None:
        return self.step.type

    @property
    def parent_step_sid(self) -> str | None:
        return self.step.parent_step_sid

    @property
    def date(self) -> int:
        return self.step.date_created


# -- messages, clock, reset ---------------------------------------------------------------------


@dataclass(slots=True)
class MessageSent(Change):
    """A flow sent a message (send-message, send-and-wait-for-reply)."""

    account_sid: str
    message: Message


@dataclass(slots=True)
class MessageReceived(Change):
    """A contact's message reached the account (`/_mockstudio/messages`, `/conversations`)."""

    account_sid: str
    message: Message


@dataclass(slots=True)
class MessagesCleared(Change):
    account_sid: str | None


@dataclass(slots=True)
class ClockMoved(Change):
    """The virtual clock was moved to `now`; `offset` is its distance from real time (None
    for a clock that does not follow real time)."""

    account_sid: None
    now: float
    offset: float | None


@dataclass(slots=True)
class Reset(Change):
    """All state (account_sid None) or one account's was forgotten; the fixtures' flows are
    then seeded again (`FlowCreated` with `seeded`)."""

    account_sid: str | None


ENDED_AT_FLOW_END = "flow end"


# -- the feed ----------------------------------------------------------------------------------


class Subscriber(Protocol):
    def __call__(self, change: Change) -> None: ...


class Transactions(Protocol):
    """A subscriber that commits in transactions: what it was told between the outermost
    `hold()` and its `release()` is one transaction."""

    def hold(self) -> None: ...
    def release(self) -> None: ...
    def pause(self) -> int:
        """Commit now and stop holding (the operation is about to wait); returns what
        `unpause` needs to hold again."""
        ...

    def unpause(self, depth: int) -> None: ...


class ChangeFeed:
    """Publishes changes to its subscribers, in the order they subscribed."""

    __slots__ = ("subscribers", "transactions")

    def __init__(self) -> None:
        self.subscribers: list[Subscriber] = []
        self.transactions: list[Transactions] = []

    def subscribe(self, subscriber: Subscriber, transactions: Transactions | None = None) -> Callable[[], None]:
        """Add a subscriber; returns what removes it."""
        # New lists, never changed in place: a publish running on another thread (a test
        # moving the clock) goes on over the list it started with.
        self.subscribers = [*self.subscribers, subscriber]
        if transactions is not None:
            self.transactions.append(transactions)

        def unsubscribe() -> None:
            if subscriber in self.subscribers:
                self.subscribers = [s for s in self.subscribers if s is not subscriber]
            if transactions is not None and transactions in self.transactions:
                self.transactions.remove(transactions)

        return unsubscribe

    def publish(self, change: Change) -> None:
        for subscriber in self.subscribers:
            subscriber(change)

    def hold(self) -> None:
        for transactions in self.transactions:
            transactions.hold()

    def release(self) -> None:
        error: BaseException | None = None
        for transactions in reversed(self.transactions):
            try:
                transactions.release()
            except BaseException as exc:  # every one is released; the first failure is raised
                error = error or exc
        if error is not None:
            raise error

    def pause(self) -> list[int]:
        return [transactions.pause() for transactions in self.transactions]

    def unpause(self, depths: list[int]) -> None:
        for transactions, depth in zip(self.transactions, depths, strict=False):
            transactions.unpause(depth)


class HasChanges(Protocol):
    changes: ChangeFeed


def batched(method: Callable[P, R]) -> Callable[P, R]:
    """One transaction for everything `method` changes (for methods of objects with a
    `changes` feed). Costs a list's truth test when no subscriber keeps transactions."""

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        feed: ChangeFeed = cast(HasChanges, args[0]).changes
        if not feed.transactions:
            return method(*args, **kwargs)
        feed.hold()
        try:
            return method(*args, **kwargs)
        finally:
            feed.release()

    return wrapper


@types.coroutine
def committing(feed: ChangeFeed, coro: Coroutine[Any, Any, T]) -> Generator[Any, Any, T]:
    """`await coro`, committing what the caller changed so far each time `coro` is about to
    suspend (a widget's HTTP call): while the task waits, other requests run and may see its
    changes, so they must be committed. A coroutine that finishes without suspending (most
    widgets) costs no commit. Forwards sends and throws exactly as `await` does."""
    advance: Callable[[Any], Any] = coro.send
    value: Any = None
    while True:
        try:
            yielded = advance(value)
        except StopIteration as done:
            return cast(T, done.value)
        depths = feed.pause()
        try:
            value = yield yielded
            advance = coro.send
        except BaseException as exc:  # cancellation (or close): hand it to the coroutine
            advance, value = coro.throw, exc
        finally:
            feed.unpause(depths)
