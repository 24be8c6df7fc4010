"""Accounts and their credentials, and the studio that holds them all with the services
they share (the engine, SIDs, the clock, the change feed, the state file if any).

Plain Python, no HTTP. Every mutation runs without awaiting in the middle, so on the event
loop each operation is atomic; `Studio.lock` guards callers from other threads.
"""

from __future__ import annotations

import asyncio
import hmac
import sys
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

from ..clock import AdjustableClock, Clock, ManualClock, VirtualClock
from ..engine.runner import Engine, EngineConfig
from ..errors import InvalidParameter, NotFound, StateFileWriteFailed
from ..reaper import release_later
from ..sids import SidFactory
from .changes import ChangeFeed, ClockMoved, Reset, Subscriber, Transactions
from .control import ControlOperations
from .core import AccountSeed, AccountServices, FlowSeed

__all__ = ["AccountSeed", "AccountState", "FlowSeed", "StateStore", "Studio"]


class AccountState(ControlOperations):
    """Everything one account owns, and its operations, by resource: flows, revisions and
    test users (flows.py); executions, steps and contexts (executions.py); inbound channels
    (inbound.py); control operations (control.py). One object per account keeps Twilio's
    operation names reachable as `account.<operation>` by the routes and tests. Rebuilt, not
    mutated, on reset."""


class StateStore(Subscriber, Transactions, Protocol):
    """A state file (see mockstudio.persistence): a transactional subscriber of the change
    feed that also restores the state at startup. A commit that fails raises
    StateFileWriteFailed, after calling `on_write_failure` to rebuild the state from the
    file."""

    # Why the last commit failed (None: it did not); `read_only`: the file could not be
    # read back after that, and every change is refused.
    failure: str | None
    read_only: bool
    on_write_failure: Callable[[], None] | None

    def attach(self, studio: Studio) -> None: ...
    def restore_clock(self, clock: Clock) -> None: ...
    def load_account(self, account: AccountState, flows: Sequence[FlowSeed]) -> None:
        """Fill a new AccountState from the file and the fixture flows."""
        ...

    def open_for_writing(self) -> None:
        """The state is loaded: from now on changes are written (raises StateFileError if the
        file cannot be written)."""
        ...

    def close(self, *, discard: bool = False) -> None: ...


class Studio:
    """All accounts' state, the credentials that reach it, and the shared services."""

    def __init__(
        self,
        *,
        clock: Clock,
        sid_factory: SidFactory,
        accounts: Iterable[AccountSeed],
        flows: Iterable[FlowSeed],
        accept_any_flow: bool = False,
        engine_config: EngineConfig | None = None,
        http: Any = None,
        default_account_sid: str | None = None,
        ended_execution_limit: int | None = None,
        contact_limit: int | None = None,
        store: StateStore | None = None,
        event_seeds: Sequence[object] = (),
    ) -> None:
        self.clock = clock
        # Fixture sinks and subscriptions (mockstudio.events seeds), for Studio Events.
        self.event_seeds = tuple(event_seeds)
        self.sids = sid_factory
        self.accept_any_flow = accept_any_flow
        # Per-account caps on stores that grow with use (None: unbounded).
        self.ended_execution_limit = ended_execution_limit or sys.maxsize
        self.contact_limit = contact_limit or sys.maxsize
        self.lock = threading.RLock()
        self._account_seeds = list(accounts)
        # The account the control plane acts on when a request names none.
        self.default_account_sid = default_account_sid or (self._account_seeds[0].sid if self._account_seeds else "")
        self._flow_seeds = list(flows)
        self.accounts: dict[str, AccountState] = {}
        self._credentials: dict[str, tuple[str, str]] = {}  # username -> (secret, account SID)
        self._second = -1
        # Every change, published to its subscribers (the state file is one).
        self.changes = ChangeFeed()
        self.engine = Engine(
            clock=clock,
            sids=sid_factory,
            seconds=self.seconds,
            changes=self.changes,
            host_of=self._host,
            config=engine_config,
            http=http,
        )
        self._services = AccountServices(
            engine=self.engine,
            sids=sid_factory,
            seconds=self.seconds,
            changes=self.changes,
            accept_any_flow=accept_any_flow,
            ended_execution_limit=self.ended_execution_limit,
            contact_limit=self.contact_limit,
        )
        # The state file, None: state in memory only.
        self.store = store
        if isinstance(clock, VirtualClock | ManualClock):
            clock.on_move = self._clock_moved
        if store is None:
            self.reset()
        else:
            self._restore(store)

    def _host(self, account_sid: str) -> AccountState | None:
        return self.accounts.get(account_sid)

    def _clock_moved(self) -> None:
        changes = self.changes
        if changes.subscribers:
            offset = self.clock.offset if isinstance(self.clock, VirtualClock) else None
            changes.publish(ClockMoved(None, self.clock.now(), offset))

    def reset(self, account_sid: str | None = None) -> None:
        """Forget all state, or one account's, and reload the fixtures. The old state is
        freed in the background (reaper.py), so a reset costs the same at any size (with a
        state file, the file's rows are deleted too, in the same commit)."""
        with self.lock:
            self.changes.hold()
            try:
                self._reset(account_sid)
            finally:
                self.changes.release()

    def _reset(self, account_sid: str | None) -> None:
        changes = self.changes
        if account_sid is not None:
            if account_sid not in self.accounts:
                raise NotFound(f"The requested resource /Accounts/{account_sid[:40]} was not found")
            box: list[Any] = [self.accounts[account_sid]]
            self.engine.clear(account_sid)
            if changes.subscribers:
                changes.publish(Reset(account_sid))
            self._seed_account(next(a for a in self._account_seeds if a.sid == account_sid))
            release_later(box)
            return
        box = [self.accounts, *self.engine.clear()]
        if changes.subscribers:
            changes.publish(Reset(None))
        self.accounts = {}
        self._credentials = {}
        for seed in self._account_seeds:
            self._seed_account(seed)
        release_later(box)

    def _restore(self, store: StateStore) -> None:
        """Build the state from the fixtures and the state file (at startup)."""
        with self.lock:
            store.attach(self)
            store.restore_clock(self.clock)
            self.changes.subscribe(store, store)
            self.changes.hold()
            try:
                self._load_accounts(store)
                store.open_for_writing()  # only now: a file refused while loading is not written
            except BaseException:
                store.close(discard=True)  # a failed load writes nothing to the file
                raise
            finally:
                self.changes.release()
            store.on_write_failure = self._reload

    def _load_accounts(self, store: StateStore) -> None:
        for seed in self._account_seeds:
            account = self._new_account(seed)
            store.load_account(account, [f for f in self._flow_seeds if f.account_sid == seed.sid])

    def _reload(self) -> None:
        """After a failed write to the state file (the store calls it): rebuild every
        account, and the clock, from the file's last committed state, with the loader
        startup uses. Every operation commits before it returns, so memory matched the file
        before the failed one: this undoes it, whatever it touched. Work in flight (a
        widget's HTTP call) finishes on the old state, which is no longer written, and
        stops at its next step; the executions it belonged to continue from the file, as
        after a restart. If the file cannot be read, the old state is kept and the error
        raised."""
        with self.lock:
            store = self.store
            assert store is not None
            accounts, credentials, messages = self.accounts, self._credentials, self.engine.messages
            retired = [accounts, *self.engine.clear()]
            self.accounts, self._credentials = {}, {}
            try:
                store.restore_clock(self.clock)
                self._load_accounts(store)
            except BaseException:
                self.accounts, self._credentials, self.engine.messages = accounts, credentials, messages
                raise
            # The discarded state's runs stop at their next step (the failed operation's own
            # included: the run a failed create started must not send its messages).
            for account in accounts.values():
                for execution in account.executions.values():
                    execution.run = None
            release_later(retired)

    def check_accepts_changes(self) -> None:
        """Raise Twilio's 500 (StateFileWriteFailed) if changes are refused: the state file
        could not be read back after a failed write. Callers check before an operation that
        may change the state touches it."""
        store = self.store
        if store is not None and store.read_only:
            raise StateFileWriteFailed()

    def _new_account(self, seed: AccountSeed) -> AccountState:
        account = self.accounts[seed.sid] = AccountState(self._services, seed)
        self._credentials[seed.sid] = (seed.auth_token, seed.sid)
        for key_sid, secret in seed.api_keys.items():
            self._credentials[key_sid] = (secret, seed.sid)
        return account

    def _seed_account(self, seed: AccountSeed) -> None:
        account = self._new_account(seed)
        for flow in self._flow_seeds:
            if flow.account_sid == seed.sid:
                account.add_flow(flow)

    def seconds(self) -> int:
        """The clock's current second. Consecutive calls within one second return the same
        int object: every date stored in that second (an execution's created and updated
        dates, its steps', its messages') then shares one object instead of one each."""
        value = int(self.clock.now())
        if value == self._second:
            return self._second
        self._second = value
        return value

    def authenticate(self, username: str, password: str) -> AccountState | None:
        """The account these Basic-auth credentials reach (Account SID + Auth Token, or
        API Key SID + secret), or None. Secrets are compared in constant time."""
        credential = self._credentials.get(username)
        if credential is None:
            hmac.compare_digest(password.encode(), password.encode())  # keep timing independent of the username
            return None
        secret, account_sid = credential
        if not hmac.compare_digest(password.encode(), secret.encode()):
            return None
        return self.accounts.get(account_sid)

    # -- the clock (control plane) -------------------------------------------------------------

    def move_clock(self, *, advance: float | None = None, to: float | None = None) -> int:
        """Move the virtual clock by `advance` seconds or `to` a time (epoch seconds), and
        resume every parked execution whose timeout fell due; returns how many did."""
        clock = self.clock
        if not isinstance(clock, AdjustableClock):
            raise InvalidParameter("This server's clock cannot be moved")
        if advance is not None:
            clock.advance(advance)
        elif to is not None:
            clock.set(to)
        return self.engine.fire_due_timers()

    def serve_on(self, loop: asyncio.AbstractEventLoop) -> None:
        """The server's event loop: flows started from other threads run on it."""
        self.engine.loop = loop

    def tick(self) -> int:
        """Resume the parked executions whose timeout fell due as real time passed (the
        server calls it a few times a second); returns how many."""
        return self.engine.fire_due_timers()

    async def aclose(self) -> None:
        """Close the outbound HTTP client (at shutdown, or when a run of `mockstudio run` is over)."""
        await self.engine.http.aclose()

    async def settle(self) -> None:
        """Wait until no execution is running (every one ended or parked)."""
        await self.engine.drain()

    def close(self) -> None:
        """Release what the state holds open; called once at shutdown (the app's lifespan).
        Commits and closes the state file, if any; nothing to do for in-memory state."""
        with self.lock:
            if self.store is not None:
                self.store.close()
