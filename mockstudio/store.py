"""The domain's side of persistence: what mutations tell a store (`Store`), batching them
into transactions (`batched`, `committing`), and the error a state file raises. Kept apart
from the SQLite implementation (persistence.py) so that a server without a state file never
imports it (startup time)."""

from __future__ import annotations

import functools
import types
from collections.abc import Callable, Coroutine, Generator, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, Protocol, TypeVar, cast

from .errors import InternalServerError

if TYPE_CHECKING:
    from .clock import Clock
    from .engine.messages import Message
    from .models import Execution, Flow, Step
    from .studio import AccountState, FlowSeed

__all__ = ["StateFileError", "StateFileWriteFailed", "Store", "batched", "committing"]

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")


class StateFileError(Exception):
    """A state file that cannot be used. The message names the file; the file is left as
    it was."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"state file {path}: {problem}")
        self.path = path


class StateFileWriteFailed(InternalServerError):
    """A commit to the state file failed. The operation was undone (the state was rebuilt
    from the file, see `Store.on_write_failure`); its client gets Twilio's 500."""


class Store(Protocol):
    """What the domain tells a store. Every `*_added`/`*_changed`/... call records a change;
    the changes are committed together when the outermost `hold()` is `release()`d, or at
    once when nothing holds the store. A commit that fails raises StateFileWriteFailed,
    after calling `on_write_failure` to rebuild the state from the file."""

    # Why the last commit failed (None: it did not); `read_only`: the file could not be
    # read back after that, and every change is refused.
    failure: str | None
    read_only: bool
    on_write_failure: Callable[[], None] | None

    def hold(self) -> None: ...
    def release(self) -> None: ...
    def pause(self) -> int:
        """Commit now and stop holding (an operation is about to wait); returns what
        `unpause` needs to hold again."""
        ...

    def unpause(self, depth: int) -> None: ...

    def restore_clock(self, clock: Clock) -> None: ...
    def load_account(self, account: AccountState, flows: Sequence[FlowSeed], *, fresh: bool) -> None:
        """Fill a new AccountState: from the file, or (`fresh`, after a reset) from the
        fixture flows alone."""
        ...

    def open_for_writing(self) -> None:
        """The state is loaded: from now on changes are written (raises StateFileError if the
        file cannot be written)."""
        ...

    def reset(self, account_sid: str | None) -> None: ...
    def flow_seeded(self, flow: Flow) -> None: ...
    def flow_saved(self, flow: Flow) -> None: ...
    def flow_deleted(self, flow: Flow) -> None: ...
    def execution_created(self, execution: Execution) -> None: ...
    def execution_changed(self, execution: Execution) -> None: ...
    def execution_deleted(self, execution: Execution) -> None: ...
    def executions_deleted(self, executions: Iterable[Execution]) -> None: ...
    def step_added(self, execution: Execution, step: Step) -> None: ...
    def contact_added(self, account: AccountState, address: str, sid: str) -> None: ...
    def number_bound(self, account: AccountState, number: str, flow_sid: str | None) -> None: ...
    def message_added(self, message: Message) -> None: ...
    def messages_cleared(self, account_sid: str | None) -> None: ...
    def close(self, *, discard: bool = False) -> None: ...


def batched(method: Callable[P, R]) -> Callable[P, R]:
    """Commit everything `method` changes as one transaction when it returns, rather than
    one per change. For methods of objects with a `studio` (AccountState, Engine); costs a
    None check without a state file."""

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        store: Store | None = cast(Any, args[0]).studio.store
        if store is None:
            return method(*args, **kwargs)
        store.hold()
        try:
            return method(*args, **kwargs)
        finally:
            store.release()

    return wrapper


@types.coroutine
def committing(store: Store, coro: Coroutine[Any, Any, T]) -> Generator[Any, Any, T]:
    """`await coro`, committing what the caller changed so far each time `coro` is about to
    suspend (a widget's HTTP call): while the task waits, other requests run and may see
    its changes, so they must be on disk. A coroutine that finishes without suspending (most
    widgets) costs no commit. Forwards sends and throws exactly as `await` does."""
    advance: Callable[[Any], Any] = coro.send
    value: Any = None
    while True:
        try:
            yielded = advance(value)
        except StopIteration as done:
            return cast(T, done.value)
        depth = store.pause()
        try:
            value = yield yielded
            advance = coro.send
        except BaseException as exc:  # cancellation (or close): hand it to the coroutine
            advance, value = coro.throw, exc
        finally:
            store.unpause(depth)
