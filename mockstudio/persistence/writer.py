"""The state file as a subscriber of the change feed: it collects what changed and writes it
in one transaction when the operation ends (see the package's docs).

A commit that fails after startup (disk full, I/O error, damage found) is rolled back, the
state is rebuilt from the file (`_write_failed`, through `on_write_failure`: the Studio's
reload), the caller gets StateFileWriteFailed (Twilio's 500) and `failure` says why until a
later commit succeeds; if the file cannot be read back either, every later change is
refused (`read_only`)."""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import orjson

from ..clock import Clock, VirtualClock
from ..domain.changes import (
    Change,
    ClockMoved,
    ExecutionCreated,
    ExecutionEnded,
    ExecutionParked,
    ExecutionResumed,
    ExecutionsDeleted,
    FlowCreated,
    FlowDeleted,
    FlowUpdated,
    MessageReceived,
    MessagesCleared,
    MessageSent,
    NumberBound,
    Reset,
    StepEnded,
)
from ..domain.models import ENDED, Execution, Flow, Message, Step
from ..errors import StateFileWriteFailed
from .codec import dumps, encode_fixed, encode_layer, encode_message, encode_revision, encode_step
from .errors import StateFileError
from .schema import TABLES, ReadOnlyView, check, check_access, connect, same_content, size, stamp, unreadable

if TYPE_CHECKING:
    from ..domain.accounts import AccountState, FlowSeed, Studio

__all__ = ["SqliteStore", "open_store"]

log = logging.getLogger("mockstudio.persistence")


def open_store(path: Path, *, message_limit: int = 10_000) -> SqliteStore:
    """Open (or create) the state file. Raises StateFileError, leaving the file untouched,
    if it cannot be used. An existing file is checked, and then loaded, through a read-only
    view (`schema.ReadOnlyView`); `SqliteStore.open_for_writing` opens it for writing once
    the state is loaded."""
    path = Path(os.path.abspath(path.expanduser()))
    exists = check_access(path)
    if exists and path.stat().st_size == 0 and size(Path(f"{path}-wal")):
        # (SQLite would delete the WAL of an empty file, and start afresh)
        raise StateFileError(
            path,
            "is empty but its -wal is not (was the file truncated?); they were left as they are "
            "(restore a backup, or move both away to start afresh)",
        )
    if exists and path.stat().st_size > 0:
        view = ReadOnlyView(path)
        try:
            if not check(view.db, path):
                return SqliteStore(path, view=view, message_limit=message_limit)
        except BaseException:
            view.close()
            raise
        view.close()  # a SQLite file holding nothing: initialised like a new one
    return SqliteStore(path, writer=connect(path), message_limit=message_limit)


@dataclass(slots=True)
class _Changes:
    """What changed since the last commit."""

    resets: list[str | None] = field(default_factory=list)  # account SIDs; None: all
    message_clears: list[str | None] = field(default_factory=list)
    flows: dict[tuple[str, str], tuple[Flow, bool]] = field(default_factory=dict)  # -> (flow, stored in full)
    deleted_flows: dict[tuple[str, str], bool] = field(default_factory=dict)  # -> was a fixture flow
    new: dict[str, Execution] = field(default_factory=dict)
    changed: dict[str, Execution] = field(default_factory=dict)
    deleted: set[str] = field(default_factory=set)
    steps: dict[str, list[Step]] = field(default_factory=dict)
    contacts: dict[tuple[str, str], str] = field(default_factory=dict)
    numbers: dict[tuple[str, str], str | None] = field(default_factory=dict)
    messages: list[Message] = field(default_factory=list)
    clock_offset: float | None = None

    def __bool__(self) -> bool:
        return bool(
            self.resets
            or self.message_clears
            or self.flows
            or self.deleted_flows
            or self.new
            or self.changed
            or self.deleted
            or self.contacts
            or self.numbers
            or self.messages
            or self.clock_offset is not None
        )

    def forget_account(self, account_sid: str) -> None:
        """Drop what an account changed: it is being reset."""

        def other(key: tuple[str, str]) -> bool:
            return key[0] != account_sid

        self.flows = {k: v for k, v in self.flows.items() if other(k)}
        self.deleted_flows = {k: v for k, v in self.deleted_flows.items() if other(k)}
        self.contacts = {k: v for k, v in self.contacts.items() if other(k)}
        self.numbers = {k: v for k, v in self.numbers.items() if other(k)}
        self.new = {k: e for k, e in self.new.items() if e.account_sid != account_sid}
        self.changed = {k: e for k, e in self.changed.items() if e.account_sid != account_sid}
        self.steps = {k: s for k, s in self.steps.items() if k in self.new or k in self.changed}
        self.messages = [m for m in self.messages if m.account_sid != account_sid]


_Statement = tuple[str, list[tuple[Any, ...]]]


class SqliteStore:
    """The state file over one SQLite file (see the package's docs): a subscriber of the
    change feed, with transactions. Open it with `open_store`."""

    def __init__(
        self,
        path: Path,
        *,
        view: ReadOnlyView | None = None,
        writer: sqlite3.Connection | None = None,
        message_limit: int = 10_000,
    ) -> None:
        self.path = path
        self._view = view  # what the state is loaded from, until open_for_writing
        self._db = writer
        # Why the last write failed (None: it did not), and whether changes are refused
        # because the file could not be read back after that (see _write_failed).
        self.failure: str | None = None
        self.read_only = False
        # Rebuilds the in-memory state from the file after a failed write (the Studio's).
        self.on_write_failure: Callable[[], None] | None = None
        self._clock_start: float | None = None  # the virtual clock's offset at startup
        self._restoring_clock = False  # (putting the clock back is not a move to write)
        self._message_limit = message_limit
        self._lock = threading.RLock()  # guards the connection and the changes across threads
        self._depth = 0
        self._closed = False
        self._studio: Studio | None = None
        self._changes = _Changes()
        # What the file holds, kept to write only what is new.
        self._fixture_flows: set[tuple[str, str]] = set()  # flows that come from a fixture
        # Fixture flows whose identity (date, sort key) the file holds: seeding them again (a
        # restart, a reload) writes nothing.
        self._identities: set[tuple[str, str]] = set()
        self._revisions: dict[tuple[str, str], int] = {}  # revisions stored per flow
        # Per active execution with stored steps: the last stored step's layers (the base
        # the next step's are stored against). Dropped when the execution ends.
        self._layers: dict[str, tuple[Any, Any]] = {}
        # Per execution resumed whose resume has not run yet (no step recorded since): the
        # resume, kept in its run record so that a restart does not lose the reply.
        self._resuming: dict[str, list[Any]] = {}
        self._handlers: dict[type[Change], Callable[[Any], None]] = {
            FlowCreated: self._flow_created,
            FlowUpdated: lambda change: self.flow_saved(change.flow),
            FlowDeleted: lambda change: self.flow_deleted(change.flow),
            NumberBound: lambda change: self.number_bound(change.account_sid, change.number, change.flow_sid),
            ExecutionCreated: self._execution_created,
            ExecutionParked: lambda change: self.execution_changed(change.execution),
            ExecutionResumed: self._execution_resumed,
            ExecutionEnded: self._execution_ended,
            ExecutionsDeleted: lambda change: self.executions_deleted(change.executions),
            StepEnded: lambda change: self.step_added(change.execution, change.step),
            MessageSent: lambda change: self.message_added(change.message),
            MessageReceived: lambda change: self.message_added(change.message),
            MessagesCleared: lambda change: self.messages_cleared(change.account_sid),
            ClockMoved: self._clock_moved,
            Reset: lambda change: self.reset(change.account_sid),
        }
        self._message_rows: dict[str, int] = dict(
            self.read("SELECT account_sid, count(*) FROM messages GROUP BY account_sid")
        )
        self.restored_executions = 0

    # -- batching ------------------------------------------------------------------------

    def hold(self) -> None:
        self._lock.acquire()
        self._depth += 1

    def release(self) -> None:
        try:
            self._depth -= 1
            if self._depth == 0:
                self._commit()
        finally:
            self._lock.release()

    def pause(self) -> int:
        with self._lock:
            depth = self._depth
            try:
                self._commit()
            except StateFileWriteFailed:
                pass  # logged, and the state reloaded: the paused run is no longer part of it
            finally:
                self._depth = 0
                for _ in range(depth):
                    self._lock.release()
        return depth

    def unpause(self, depth: int) -> None:
        for _ in range(depth):
            self._lock.acquire()
        self._depth = depth

    def _changed(self) -> None:
        """A change was recorded: commit it now unless an operation holds the store."""
        if self._depth == 0:
            self._commit()

    # -- the change feed ----------------------------------------------------------------------

    def __call__(self, change: Change) -> None:
        handler = self._handlers.get(type(change))
        if handler is not None:
            handler(change)

    def attach(self, studio: Studio) -> None:
        """The state the changes come from (read when committing: liveness, run state)."""
        self._studio = studio

    def _flow_created(self, change: FlowCreated) -> None:
        if change.seeded:
            self.flow_seeded(change.flow)
        else:
            self.flow_saved(change.flow)

    def _execution_created(self, change: ExecutionCreated) -> None:
        with self._lock:
            if change.new_contact:
                execution = change.execution
                self.contact_added(change.account_sid, execution.addresses[0], execution.contact_sid)
            self.execution_created(change.execution)

    def _execution_resumed(self, change: ExecutionResumed) -> None:
        with self._lock:
            self._resuming[change.execution.sid] = [
                change.widget,
                change.event,
                change.outputs,
                change.variables,
                change.step_sid,
            ]
            self.execution_changed(change.execution)

    def _execution_ended(self, change: ExecutionEnded) -> None:
        with self._lock:
            self._resuming.pop(change.execution.sid, None)
            self.execution_changed(change.execution)

    def _clock_moved(self, change: ClockMoved) -> None:
        if change.offset is not None and not self._restoring_clock:
            self.clock_moved(change.offset)

    # -- what changed ----------------------------------------------------------------------------

    def flow_seeded(self, flow: Flow) -> None:
        with self._lock:
            if self._closed:
                return
            key = (flow.account_sid, flow.sid)
            self._fixture_flows.add(key)
            if key in self._identities:
                return
            if key not in self._changes.flows:
                self._changes.flows[key] = (flow, False)
            self._changed()

    def flow_saved(self, flow: Flow) -> None:
        with self._lock:
            if self._closed:
                return
            key = (flow.account_sid, flow.sid)
            self._changes.flows[key] = (flow, True)  # (after a deletion of the same SID: deleted first)
            self._changed()

    def flow_deleted(self, flow: Flow) -> None:
        with self._lock:
            if self._closed:
                return
            key = (flow.account_sid, flow.sid)
            self._changes.flows.pop(key, None)
            self._changes.deleted_flows[key] = key in self._fixture_flows
            self._revisions.pop(key, None)
            self._identities.discard(key)
            self._changed()

    def execution_created(self, execution: Execution) -> None:
        with self._lock:
            if self._closed:
                return
            self._changes.new[execution.sid] = execution
            self._changed()

    def execution_changed(self, execution: Execution) -> None:
        with self._lock:
            if self._closed:
                return
            self._changes.changed[execution.sid] = execution
            self._changed()

    def execution_deleted(self, execution: Execution) -> None:
        self.executions_deleted((execution,))

    def executions_deleted(self, executions: Iterable[Execution]) -> None:
        with self._lock:
            if self._closed:
                return
            changes = self._changes
            for execution in executions:
                sid = execution.sid
                changes.new.pop(sid, None)
                changes.changed.pop(sid, None)
                changes.steps.pop(sid, None)
                changes.deleted.add(sid)
                self._layers.pop(sid, None)
                self._resuming.pop(sid, None)
            self._changed()

    def step_added(self, execution: Execution, step: Step) -> None:
        with self._lock:
            if self._closed:
                return
            self._resuming.pop(execution.sid, None)
            self._changes.steps.setdefault(execution.sid, []).append(step)
            self._changes.changed[execution.sid] = execution
            self._changed()

    def contact_added(self, account_sid: str, address: str, sid: str) -> None:
        with self._lock:
            if self._closed:
                return
            self._changes.contacts[(account_sid, address)] = sid
            self._changed()

    def number_bound(self, account_sid: str, number: str, flow_sid: str | None) -> None:
        with self._lock:
            if self._closed:
                return
            self._changes.numbers[(account_sid, number)] = flow_sid
            self._changed()

    def message_added(self, message: Message) -> None:
        with self._lock:
            if self._closed:
                return
            self._changes.messages.append(message)
            self._changed()

    def messages_cleared(self, account_sid: str | None) -> None:
        with self._lock:
            if self._closed:
                return
            changes = self._changes
            changes.messages = [m for m in changes.messages if account_sid not in (None, m.account_sid)]
            changes.message_clears.append(account_sid)
            self._changed()

    def clock_moved(self, offset: float) -> None:
        with self._lock:
            if self._closed:
                return
            self._changes.clock_offset = offset
            self._changed()

    def reset(self, account_sid: str | None) -> None:
        """Forget everything the file holds for the account (or every account); the clock's
        offset stays, as the clock itself does."""
        with self._lock:
            if self._closed:
                return
            if account_sid is None:
                self._changes = _Changes(clock_offset=self._changes.clock_offset)
            else:
                self._changes.forget_account(account_sid)
            self._changes.resets.append(account_sid)
            if account_sid is None:
                self._fixture_flows.clear()
                self._identities.clear()
                self._revisions.clear()
                self._layers.clear()
                self._resuming.clear()
            else:
                self._fixture_flows = {k for k in self._fixture_flows if k[0] != account_sid}
                self._identities = {k for k in self._identities if k[0] != account_sid}
                self._revisions = {k: n for k, n in self._revisions.items() if k[0] != account_sid}
                studio = self._studio
                old = studio.accounts.get(account_sid) if studio is not None else None
                if old is not None:
                    for sid in [sid for sid in self._layers if sid in old.executions]:
                        del self._layers[sid]
                    for sid in [sid for sid in self._resuming if sid in old.executions]:
                        del self._resuming[sid]
            self._changed()

    def open_for_writing(self) -> None:
        """The state is loaded (from the read-only view): open the file for writing and take
        the lock the process keeps. StateFileError if another process holds it, or wrote
        to the file since it was read."""
        view = self._view
        if view is None:
            return
        view.close()
        self._view = None
        self._db = connect(self.path)
        if not same_content(view.stamp, stamp(self.path)):
            raise StateFileError(
                self.path,
                "was written by another process while this mockstudio loaded it "
                "(another mockstudio using the same state file?)",
            )

    def close(self, *, discard: bool = False) -> None:
        """Commit what is pending (or, with `discard`, drop it: a failed startup writes
        nothing) and close the file; later changes are ignored."""
        with self._lock:
            if self._closed:
                return
            self.on_write_failure = None  # (no state to rebuild at shutdown)
            try:
                if not discard and self._db is not None:
                    self._commit()
            except StateFileWriteFailed:
                pass  # logged
            finally:
                self._closed = True
                self._changes = _Changes()
                if self._view is not None:
                    self._view.close()
                if self._db is not None:
                    self._db.close()

    # -- committing ---------------------------------------------------------------------------

    def _commit(self) -> None:
        changes = self._changes
        if self._closed or not changes:
            return
        if self.read_only:
            self._changes = _Changes()
            raise StateFileWriteFailed()
        try:
            after = self._write(changes)
        except sqlite3.Error as exc:
            self._write_failed(exc)
        self._changes = _Changes()
        self.failure = None
        for apply in after:
            apply()

    def _write(self, changes: _Changes) -> list[Callable[[], object]]:
        """Write the changes in one transaction (rolled back if any of it fails); returns
        what to note once they are written."""
        statements, after = self._statements(changes)
        db = self._db
        assert db is not None, "open_for_writing was not called"
        try:
            db.execute("BEGIN IMMEDIATE")
            for sql, rows in statements:
                if len(rows) == 1:
                    db.execute(sql, rows[0])
                elif rows:
                    db.executemany(sql, rows)
            db.execute("COMMIT")
        except sqlite3.Error:
            if db.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    db.execute("ROLLBACK")
            raise
        return after

    def _write_failed(self, error: sqlite3.Error) -> NoReturn:
        """A commit failed (disk full, I/O error, corruption found): the file holds the
        state before the operation, memory the state after it. Memory is rebuilt from the
        file with the loader startup uses (`on_write_failure`), so the operation is undone
        whatever it touched, and StateFileWriteFailed (Twilio's 500) goes to its caller.
        If the file cannot even be read back, memory is left as it is and every later
        change is refused (`read_only`)."""
        self._changes = _Changes()
        if self.failure is None:
            log.error(
                "Could not write the state file %s (%s): the operation was undone and the state reloaded from "
                "the file. Check the disk (full? failing?) and the file (sqlite3 %s 'PRAGMA integrity_check' "
                "once the server is stopped); if the file is damaged, stop the server and restore a backup, or "
                "move the file away to start afresh",
                self.path,
                error,
                self.path,
            )
        else:  # (a due timer retries at every tick: one line each)
            log.warning("Still cannot write the state file %s (%s): the operation was undone", self.path, error)
        self.failure = f"a write to the state file failed ({error}); the operation was undone"
        depth, self._depth = self._depth, 1  # what the reload records is written below, at once
        try:
            self._fixture_flows.clear()
            self._identities.clear()
            self._revisions.clear()
            self._layers.clear()
            self._resuming.clear()
            self._message_rows = dict(self.read("SELECT account_sid, count(*) FROM messages GROUP BY account_sid"))
            if self.on_write_failure is not None:
                self.on_write_failure()
            after = self._write(self._changes) if self._changes else []
            for apply in after:
                apply()
        except Exception as exc:
            self.read_only = True
            self.failure = (
                f"a write to the state file failed ({error}) and the file could not be read back ({exc}); "
                "changes are refused until the server is restarted"
            )
            log.error(
                "The state file %s could not be read back after the failed write (%s): every change is refused "
                "from now on (reads still answer, from memory, which may hold the failed operation). Stop the "
                "server, then restore a backup of the file or move it away to start afresh",
                self.path,
                exc,
            )
        finally:
            self._changes = _Changes()
            self._depth = depth
        raise StateFileWriteFailed() from error

    def _live_execution(self, execution: Execution) -> bool:
        """Still part of the state: not deleted, dropped, nor orphaned by a reset (a flow
        that was running through a reset keeps running on the old state)."""
        studio = self._studio
        account = studio.accounts.get(execution.account_sid) if studio is not None else None
        return account is not None and account.executions.is_live(execution)

    def _live_account(self, account_sid: str) -> bool:
        studio = self._studio
        return studio is not None and account_sid in studio.accounts

    def _statements(self, changes: _Changes) -> tuple[list[_Statement], list[Callable[[], object]]]:
        """The SQL for the changes, and what to note once it is committed. Encoding comes
        first, so a value that cannot be encoded is skipped (and logged) rather than
        failing every later commit."""
        out: list[_Statement] = []
        after: list[Callable[[], object]] = []

        def sql(text: str, *rows: tuple[Any, ...]) -> None:
            out.append((text, list(rows)))

        for account_sid in changes.resets:
            if account_sid is None:
                for table in TABLES:
                    sql(f"DELETE FROM {table}", ())
                after.append(self._message_rows.clear)
            else:
                sql(
                    "DELETE FROM steps WHERE execution_sid IN (SELECT sid FROM executions WHERE account_sid = ?)",
                    (account_sid,),
                )
                for table in TABLES:
                    if table != "steps":
                        sql(f"DELETE FROM {table} WHERE account_sid = ?", (account_sid,))
                after.append(functools.partial(self._message_rows.pop, account_sid, None))
        for account_sid in changes.message_clears:
            if account_sid is None:
                sql("DELETE FROM messages", ())
                after.append(self._message_rows.clear)
            else:
                sql("DELETE FROM messages WHERE account_sid = ?", (account_sid,))
                after.append(functools.partial(self._message_rows.pop, account_sid, None))

        for (account_sid, flow_sid), fixture in changes.deleted_flows.items():
            scope = (account_sid, flow_sid)
            sql(
                "DELETE FROM steps WHERE execution_sid IN"
                " (SELECT sid FROM executions WHERE account_sid = ? AND flow_sid = ?)",
                scope,
            )
            sql("DELETE FROM executions WHERE account_sid = ? AND flow_sid = ?", scope)
            sql("DELETE FROM revisions WHERE account_sid = ? AND flow_sid = ?", scope)
            if fixture:  # a tombstone, or the fixture would bring it back at the next start
                sql("INSERT OR REPLACE INTO flows VALUES (?, ?, 'deleted', '{}')", scope)
            else:
                sql("DELETE FROM flows WHERE account_sid = ? AND sid = ?", scope)
        if changes.deleted:
            rows = [(sid,) for sid in changes.deleted]
            sql("DELETE FROM steps WHERE execution_sid = ?", *rows)
            sql("DELETE FROM executions WHERE sid = ?", *rows)

        self._flow_statements(changes, sql, after)

        for (owner, address), sid in changes.contacts.items():
            if self._live_account(owner):
                sql("INSERT OR REPLACE INTO contacts VALUES (?, ?, ?)", (owner, address, sid))
        for (owner, number), bound_to in changes.numbers.items():
            if self._live_account(owner):
                sql("INSERT OR REPLACE INTO numbers VALUES (?, ?, ?)", (owner, number, bound_to))

        self._execution_statements(changes, sql, after)
        self._message_statements(changes, sql, after)

        if changes.clock_offset is not None:
            sql("INSERT OR REPLACE INTO meta VALUES ('clock_offset', ?)", (dumps(changes.clock_offset),))
        return out, after

    def _flow_statements(self, changes: _Changes, sql: Callable[..., None], after: list[Callable[[], object]]) -> None:
        studio = self._studio
        for (account_sid, sid), (flow, full) in changes.flows.items():
            account = studio.accounts.get(account_sid) if studio is not None else None
            if account is None or account.flows.get(sid) is not flow:
                continue
            key = (account_sid, sid)
            if not full:
                data = dumps({"date_created": flow.date_created, "key": flow.key})
                sql("INSERT OR REPLACE INTO flows VALUES (?, ?, 'fixture', ?)", (account_sid, sid, data))
                after.append(functools.partial(self._identities.add, key))
                continue
            data = dumps(
                {
                    "date_created": flow.date_created,
                    "date_updated": flow.date_updated,
                    "key": flow.key,
                    "test_users": flow.test_users,
                }
            )
            stored = self._revisions.get(key, 0)
            try:
                revisions = [(account_sid, sid, r.revision, encode_revision(r)) for r in flow.history[stored:]]
            except orjson.JSONEncodeError:
                log.exception("Flow %s cannot be written to the state file", sid)
                continue
            sql("INSERT OR REPLACE INTO flows VALUES (?, ?, 'stored', ?)", (account_sid, sid, data))
            if revisions:
                sql("INSERT OR REPLACE INTO revisions VALUES (?, ?, ?, ?)", *revisions)
            after.append(functools.partial(self._revisions.__setitem__, key, len(flow.history)))

    def _execution_statements(
        self, changes: _Changes, sql: Callable[..., None], after: list[Callable[[], object]]
    ) -> None:
        studio = self._studio
        assert studio is not None or not (changes.new or changes.changed)
        inserts: list[tuple[Any, ...]] = []
        updates: list[tuple[Any, ...]] = []
        steps: list[tuple[Any, ...]] = []
        touched = {**changes.changed, **changes.new}  # a new execution is written once, in full
        for sid, execution in touched.items():
            if not self._live_execution(execution):
                continue
            pending = changes.steps.get(sid, ())
            base = self._layers.get(sid, (None, None))
            try:
                encoded = []
                first = len(execution.steps or ()) - len(pending)
                for offset, step in enumerate(pending):
                    encoded.append((sid, first + offset, encode_step(step, base)))
                    base = (step.widgets, step.variables)
                state = self._encode_state(execution, base)
                fixed = encode_fixed(execution) if sid in changes.new else None
            except orjson.JSONEncodeError:
                log.exception("Execution %s cannot be written to the state file", sid)
                # Its later steps are then stored whole rather than against a lost base.
                after.append(functools.partial(self._layers.pop, sid, None))
                continue
            steps += encoded
            if fixed is not None:
                inserts.append((sid, execution.account_sid, execution.flow_sid, fixed, state))
            else:
                updates.append((state, sid))
            if execution.status == ENDED:
                after.append(functools.partial(self._layers.pop, sid, None))
            elif pending:
                after.append(functools.partial(self._layers.__setitem__, sid, base))
        if inserts:
            sql("INSERT OR REPLACE INTO executions VALUES (?, ?, ?, ?, ?)", *inserts)
        if updates:
            sql("UPDATE executions SET state = ? WHERE sid = ?", *updates)
        if steps:
            sql("INSERT OR REPLACE INTO steps VALUES (?, ?, ?)", *steps)

    def _encode_state(self, execution: Execution, base: tuple[Any, Any]) -> bytes:
        studio = self._studio
        assert studio is not None
        holds_contact = studio.accounts[execution.account_sid].executions.holds_contact(execution)
        record = studio.engine.run_record(execution)
        if record is not None and "parked" not in record:
            resume = self._resuming.get(execution.sid)
            if resume is not None:
                record["resume"] = resume
        return dumps(
            [
                execution.status,
                execution.date_updated,
                encode_layer(execution.widgets, base[0]),
                encode_layer(execution.variables, base[1]),
                holds_contact,
                record,
            ]
        )

    def _message_statements(
        self, changes: _Changes, sql: Callable[..., None], after: list[Callable[[], object]]
    ) -> None:
        if not changes.messages:
            return
        rows = []
        added: dict[str, int] = {}
        for message in changes.messages:
            try:
                rows.append((message.account_sid, encode_message(message)))
            except orjson.JSONEncodeError:
                log.exception("Message %s cannot be written to the state file", message.sid)
                continue
            added[message.account_sid] = added.get(message.account_sid, 0) + 1
        sql("INSERT INTO messages (account_sid, data) VALUES (?, ?)", *rows)
        limit = self._message_limit
        slack = max(limit // 4, 16)  # trim in batches: the file holds at most limit + slack per account
        counts = dict(self._message_rows)
        for account_sid, count in added.items():
            total = counts.get(account_sid, 0) + count
            if total > limit + slack:
                sql(
                    "DELETE FROM messages WHERE account_sid = ? AND id <="
                    " (SELECT id FROM messages WHERE account_sid = ? ORDER BY id DESC LIMIT 1 OFFSET ?)",
                    (account_sid, account_sid, limit),
                )
                total = limit
            counts[account_sid] = total
        after.append(functools.partial(self._message_rows.update, counts))

    # -- loading (see loader.py) -----------------------------------------------------------------

    def read(self, query: str, *params: Any) -> list[Any]:
        db = self._view.db if self._view is not None else self._db
        assert db is not None
        try:
            return db.execute(query, params).fetchall()
        except sqlite3.DatabaseError as exc:
            raise StateFileError(self.path, unreadable(exc)) from None

    @property
    def message_limit(self) -> int:
        return self._message_limit

    def restore_clock(self, clock: Clock) -> None:
        """Put the virtual clock where it was (its offset from real time). A fixed test
        clock (ManualClock) is left alone."""
        if not isinstance(clock, VirtualClock):
            return
        if self._clock_start is None:
            self._clock_start = clock.offset
        rows = self.read("SELECT value FROM meta WHERE name = 'clock_offset'")
        self._restoring_clock = True
        try:
            clock.set(time.time() + (float(orjson.loads(rows[0][0])) if rows else self._clock_start))
        finally:
            self._restoring_clock = False

    def load_account(self, account: AccountState, flows: Sequence[FlowSeed]) -> None:
        from .loader import Loader

        with self._lock:
            try:
                Loader(self, account, flows).load()
            except (orjson.JSONDecodeError, ValueError, TypeError, KeyError, IndexError) as exc:
                raise StateFileError(self.path, f"holds data this mockstudio cannot read ({exc!r})") from None

    # What the loader tells the writer of the rows the file already holds.

    def note_fixture_flow(self, account_sid: str, flow_sid: str, *, identity_stored: bool) -> None:
        self._fixture_flows.add((account_sid, flow_sid))
        if identity_stored:
            self._identities.add((account_sid, flow_sid))

    def note_revisions(self, account_sid: str, flow_sid: str, count: int) -> None:
        self._revisions[(account_sid, flow_sid)] = count

    def note_layers(self, execution_sid: str, base: tuple[Any, Any]) -> None:
        self._layers[execution_sid] = base

    def note_resume(self, execution_sid: str, resume: list[Any]) -> None:
        self._resuming[execution_sid] = resume
