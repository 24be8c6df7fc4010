"""Persistence for dev stacks: with `--state-file PATH` (`MOCKSTUDIO_STATE_FILE`) the state
survives restarts, in a SQLite database.

Without a state file nothing here runs: `Studio.store` is None, and each mutation point
costs a None check.

What the file keeps: flows created or changed through the API (every revision, the test
users), fixture flows deleted through the API, and the identity of fixture flows (date and
sort key, so lists keep their order across restarts); executions with their steps, context
layers and run state (the widget a waiting execution is parked on, its outputs so far and
its timeout); contacts' FC SIDs; numbers bound through the control plane; the message log
(capped as in memory); the virtual clock's offset. Accounts, credentials and the content of
fixture flows never changed through the API come from the fixtures at every start, so an
edited fixture takes effect on restart. Scripted outcomes (`/_mockstudio/scripts`) are not
kept.

Durability. The domain tells the store what changed at each mutation point (`Store`); the
store collects the changes and writes them in one transaction when the operation ends: a
REST call, an inbound message, a clock move, or the engine running an execution until it
parks, ends or waits on I/O (a widget's HTTP call, see `committing`). Operations run
synchronously on the event loop, so the commit happens before the operation returns, that
is before the route builds its response and before any other request can see the change.
A change made outside any operation is committed at once. The database is in WAL mode with
`synchronous=FULL`: each commit fsyncs the WAL, so neither `kill -9` nor a power loss loses
a committed write. (With `NORMAL`, WAL commits are synced only at checkpoints: that survives
a crash of the process but not of the machine, so an acknowledged write could be lost.)

Startup. An existing file is checked (a mockstudio state file, of this schema version, that
`PRAGMA quick_check` finds intact) and loaded through a read-only view of it
(`_ReadOnlyView`), and only then opened for writing: a file that cannot be used (not SQLite,
corrupt, another application's database, a schema version this mockstudio does not read, no
permission, locked by another process) stops startup with `StateFileError`, and it and its
`-wal` and `-shm` are left byte for byte as they were.

A commit that fails after startup (disk full, I/O error, damage found) is rolled back, the
state is rebuilt from the file (`_write_failed`), the caller gets StateFileWriteFailed
(Twilio's 500) and `failure` says why until a later commit succeeds; if the file cannot be
read back either, every later change is refused (`read_only`).
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import logging
import os
import shutil
import sqlite3
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, ParamSpec, TypeVar
from urllib.parse import quote

import orjson

from .clock import Clock, VirtualClock
from .engine.messages import Message
from .models import ACTIVE, BY_KEY, ENDED, Execution, Flow, FlowRevision, Step
from .paging import SortedIndex
from .store import StateFileError, StateFileWriteFailed, Store, batched, committing

if TYPE_CHECKING:
    from .studio import AccountState, FlowSeed, Studio

__all__ = [
    "APPLICATION_ID",
    "SCHEMA_VERSION",
    "SqliteStore",
    "StateFileError",
    "Store",
    "batched",
    "committing",
    "open_store",
]

log = logging.getLogger("mockstudio.persistence")

SCHEMA_VERSION = 1  # PRAGMA user_version; a file with another version is refused
APPLICATION_ID = 0x6D537464  # PRAGMA application_id ("mStd"): marks the file as mockstudio's

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")

_SEQUENCE_MASK = 0xFFFFFFFF  # the low half of a sort key is the account's sequence number


# -- opening the file ------------------------------------------------------------------------

_SCHEMA = (
    "CREATE TABLE meta (name TEXT PRIMARY KEY, value BLOB NOT NULL)",
    # kind: 'fixture' (a fixture flow never changed through the API: only its identity),
    # 'stored' (created or changed through the API: everything, with `revisions`),
    # 'deleted' (a fixture flow deleted through the API).
    "CREATE TABLE flows (account_sid TEXT NOT NULL, sid TEXT NOT NULL, kind TEXT NOT NULL, data BLOB NOT NULL,"
    " PRIMARY KEY (account_sid, sid))",
    "CREATE TABLE revisions (account_sid TEXT NOT NULL, flow_sid TEXT NOT NULL, revision INTEGER NOT NULL,"
    " data BLOB NOT NULL, PRIMARY KEY (account_sid, flow_sid, revision))",
    # fixed: written once (addresses, parameters, trigger, ...); state: rewritten on change.
    "CREATE TABLE executions (sid TEXT PRIMARY KEY, account_sid TEXT NOT NULL, flow_sid TEXT NOT NULL,"
    " fixed BLOB NOT NULL, state BLOB NOT NULL)",
    "CREATE INDEX executions_by_flow ON executions (account_sid, flow_sid)",
    # seq: the order the engine recorded the steps in (each step's layers are stored relative
    # to the previous one's).
    "CREATE TABLE steps (execution_sid TEXT NOT NULL, seq INTEGER NOT NULL, data BLOB NOT NULL,"
    " PRIMARY KEY (execution_sid, seq))",
    "CREATE TABLE contacts (account_sid TEXT NOT NULL, address TEXT NOT NULL, sid TEXT NOT NULL,"
    " PRIMARY KEY (account_sid, address))",
    # flow_sid NULL: the number was unbound (it may be bound in a fixture)
    "CREATE TABLE numbers (account_sid TEXT NOT NULL, number TEXT NOT NULL, flow_sid TEXT,"
    " PRIMARY KEY (account_sid, number))",
    "CREATE TABLE messages (id INTEGER PRIMARY KEY, account_sid TEXT NOT NULL, data BLOB NOT NULL)",
    "CREATE INDEX messages_by_account ON messages (account_sid, id)",
)
_TABLES = ("flows", "revisions", "executions", "steps", "contacts", "numbers", "messages")


def open_store(path: Path, *, message_limit: int = 10_000) -> SqliteStore:
    """Open (or create) the state file. Raises StateFileError, leaving the file untouched,
    if it cannot be used. An existing file is checked, and then loaded, through a read-only
    view (`_ReadOnlyView`); `SqliteStore.open_for_writing` opens it for writing once the
    state is loaded."""
    path = Path(os.path.abspath(path.expanduser()))
    exists = _check_access(path)
    if exists and path.stat().st_size == 0 and _size(Path(f"{path}-wal")):
        # (SQLite would delete the WAL of an empty file, and start afresh)
        raise StateFileError(
            path,
            "is empty but its -wal is not (was the file truncated?); they were left as they are "
            "(restore a backup, or move both away to start afresh)",
        )
    if exists and path.stat().st_size > 0:
        view = _ReadOnlyView(path)
        try:
            if not _check(view.db, path):
                return SqliteStore(path, view=view, message_limit=message_limit)
        except BaseException:
            view.close()
            raise
        view.close()  # a SQLite file holding nothing: initialised like a new one
    return SqliteStore(path, writer=_connect(path), message_limit=message_limit)


def _same_content(before: tuple[tuple[int, int] | None, ...], after: tuple[tuple[int, int] | None, ...]) -> bool:
    """Whether nothing wrote to the file or its WAL between two stamps (opening the file
    for writing creates an empty WAL where there was none)."""
    return before[0] == after[0] and (before[1] == after[1] or (before[1] is None and (after[1] or (0,))[0] == 0))


def _check_access(path: Path) -> bool:
    """Whether the file exists; StateFileError if it cannot be used as a state file."""
    if not path.exists():
        if not path.parent.is_dir():
            raise StateFileError(path, f"its directory {path.parent} does not exist")
        return False
    if not path.is_file():
        raise StateFileError(path, "is not a regular file")
    if not os.access(path, os.R_OK | os.W_OK):
        raise StateFileError(path, "cannot be read and written by this user: check its permissions")
    if not os.access(path.parent, os.W_OK | os.X_OK):
        raise StateFileError(path, f"its directory {path.parent} is not writable (SQLite keeps its WAL there)")
    return True


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _stamp(path: Path) -> tuple[tuple[int, int] | None, ...]:
    """Size and modification time of the file and its WAL: what changes when anything
    writes to them."""
    out: list[tuple[int, int] | None] = []
    for name in (path, Path(f"{path}-wal")):
        try:
            stat = name.stat()
        except FileNotFoundError:
            out.append(None)
        else:
            out.append((stat.st_size, stat.st_mtime_ns))
    return tuple(out)


class _ReadOnlyView:
    """The file's committed content, read without writing a byte to the file, its `-wal`
    or its `-shm`. SQLite cannot give that on the file itself: a read-only connection
    still writes the `-shm` (it rebuilds the WAL index there, creating the file if need
    be), and `immutable=1` ignores the WAL, so it would read the wrong content after a
    crash. So the view is a private directory beside the file holding a hard link to it
    (a copy where links are not supported) and a copy of its WAL, opened read-only: SQLite
    reads the same content it would read on the file, and writes its index into the
    private directory, which is removed afterwards."""

    def __init__(self, path: Path) -> None:
        self.stamp = _stamp(path)
        self.directory = Path(tempfile.mkdtemp(prefix=f".{path.name}.check-", dir=path.parent))
        try:
            view = self.directory / "state.db"
            try:
                os.link(path, view)
            except OSError:
                shutil.copyfile(path, view)
            wal = Path(f"{path}-wal")
            if wal.exists():
                shutil.copyfile(wal, f"{view}-wal")
            self.db = sqlite3.connect(
                f"file:{quote(str(view))}?mode=ro", uri=True, isolation_level=None, check_same_thread=False
            )
        except (OSError, sqlite3.Error) as exc:
            self.close()
            raise StateFileError(path, f"cannot be read ({exc})") from None

    def close(self) -> None:
        db: sqlite3.Connection | None = getattr(self, "db", None)
        if db is not None:
            db.close()
        shutil.rmtree(self.directory, ignore_errors=True)


def _check(db: sqlite3.Connection, path: Path) -> bool:
    """Check a state file before anything writes to it: a mockstudio state file, of the
    schema version this mockstudio reads, that SQLite finds intact (`PRAGMA quick_check`:
    every page, b-tree and record is well formed). False for a SQLite file holding nothing
    (to be initialised); StateFileError, naming the problem, otherwise."""
    try:
        application_id = db.execute("PRAGMA application_id").fetchone()[0]  # reads the header
        version = db.execute("PRAGMA user_version").fetchone()[0]
        objects = db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
    except sqlite3.Error as exc:
        raise StateFileError(path, _unreadable(exc)) from None
    if objects == 0 and application_id == 0 and version == 0:
        return False
    _check_identity(path, application_id, version)
    try:
        problems = [row[0] for row in db.execute("PRAGMA quick_check(10)")]
    except sqlite3.Error as exc:
        raise StateFileError(path, _unreadable(exc)) from None
    if problems != ["ok"]:
        found = "; ".join(line for problem in problems for line in str(problem).splitlines())
        raise StateFileError(
            path,
            f"is corrupt (SQLite's quick_check: {found[:200]}{'...' if len(found) > 200 else ''}); "
            "it was left as it is "
            "(restore a backup, or move it away to start afresh)",
        )
    return True


def _check_identity(path: Path, application_id: int, version: int) -> None:
    if application_id != APPLICATION_ID:
        raise StateFileError(
            path,
            "is a SQLite database but not a mockstudio state file; it was left as it is "
            "(give --state-file a new path or a mockstudio state file)",
        )
    if version != SCHEMA_VERSION:
        raise StateFileError(
            path,
            f"has schema version {version}, and this mockstudio reads version {SCHEMA_VERSION} only; "
            "it was left as it is (run the mockstudio that wrote it, or move the file away to start afresh)",
        )


def _connect(path: Path) -> sqlite3.Connection:
    """The connection that writes the file: checked (`_check`) and loaded first, unless new."""
    exists = path.exists()
    try:
        # mode=rw never creates a file: an existing path is opened as it is.
        db = sqlite3.connect(
            f"file:{quote(str(path))}?mode={'rw' if exists else 'rwc'}",
            uri=True,
            isolation_level=None,  # transactions are explicit (BEGIN ... COMMIT)
            check_same_thread=False,  # test helpers may reset from their own thread (guarded by a lock)
        )
    except sqlite3.Error as exc:
        raise StateFileError(path, f"cannot be opened ({exc})") from None
    try:
        _prepare(db, path)
    except BaseException:
        db.close()
        raise
    return db


def _prepare(db: sqlite3.Connection, path: Path) -> None:
    """Switch to WAL, take the lock the process keeps, and create the schema in a new
    (empty) file."""
    try:
        db.execute("PRAGMA busy_timeout = 2000")
        # The lock taken below is kept until the connection closes: a second mockstudio on
        # the same file is refused rather than both writing. (Locks die with the process, so
        # a restart after kill -9 is not refused.)
        db.execute("PRAGMA locking_mode = EXCLUSIVE")
        application_id = db.execute("PRAGMA application_id").fetchone()[0]
        version = db.execute("PRAGMA user_version").fetchone()[0]
        objects = db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
    except sqlite3.Error as exc:
        raise StateFileError(path, _unreadable(exc)) from None
    fresh = objects == 0 and application_id == 0 and version == 0
    if not fresh:
        _check_identity(path, application_id, version)
    try:
        mode = db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise StateFileError(path, f"cannot be switched to WAL journaling (journal_mode {mode})")
        db.execute("PRAGMA synchronous = FULL")  # every commit fsyncs the WAL (see the module docs)
        db.execute("BEGIN EXCLUSIVE")
        if fresh:
            for statement in _SCHEMA:
                db.execute(statement)
            db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        db.execute("COMMIT")
    except sqlite3.Error as exc:
        raise StateFileError(path, _unreadable(exc)) from None


def _unreadable(exc: sqlite3.Error) -> str:
    text = str(exc)
    if "not a database" in text:
        return (
            "is not a SQLite database (it may be corrupt); it was left as it is "
            "(restore a backup, or move it away to start afresh)"
        )
    if "locked" in text or "busy" in text:
        return "is locked by another process (another mockstudio using the same state file?)"
    if "malformed" in text or "corrupt" in text:
        return f"is corrupt ({text}); it was left as it is (restore a backup, or move it away to start afresh)"
    return f"cannot be used ({text})"


# -- encoding ----------------------------------------------------------------------------------
#
# Rows hold orjson arrays. A step's `widgets`/`variables` layers are references to dicts the
# engine replaces (never mutates) and steps share, so each is stored relative to the previous
# step's: null (no layer), 1 (the same dict as the previous step's), {"+": changed keys} (the
# previous dict plus these keys: the engine only ever adds or replaces keys) or {"=": dict}.
# Loading rebuilds the same sharing, so a restored execution costs what it cost before.

_MISSING = object()
_OPTIONS = orjson.OPT_NON_STR_KEYS


def _dumps(value: Any) -> bytes:
    return orjson.dumps(value, option=_OPTIONS)


def _encode_layer(layer: dict[str, Any] | None, base: dict[str, Any] | None) -> Any:
    if layer is None:
        return None
    if layer is base:
        return 1
    if base is not None and len(layer) >= len(base) and all(key in layer for key in base):
        return {"+": {key: value for key, value in layer.items() if base.get(key, _MISSING) is not value}}
    return {"=": layer}


def _decode_layer(encoded: Any, base: dict[str, Any] | None) -> dict[str, Any] | None:
    if encoded is None:
        return None
    if isinstance(encoded, int):
        return base
    if "+" in encoded:
        return {**(base or {}), **encoded["+"]}
    layer: dict[str, Any] = encoded["="]
    return layer


def _encode_step(step: Step, base: tuple[Any, Any]) -> bytes:
    return _dumps(
        [
            step.sid,
            step.name,
            step.transitioned_from,
            step.transitioned_to,
            step.type,
            step.parent_step_sid,
            step.date_created,
            step.date_updated,
            step.key,
            _encode_layer(step.widgets, base[0]),
            _encode_layer(step.variables, base[1]),
        ]
    )


def _encode_message(message: Message) -> bytes:
    return _dumps(
        [
            message.sid,
            message.direction,
            message.from_,
            message.to,
            message.body,
            message.execution_sid,
            message.flow_sid,
            message.status,
            message.date_created,
            list(message.media_url),
        ]
    )


def _decode_message(account_sid: str, data: bytes) -> Message:
    sid, direction, from_, to, body, execution_sid, flow_sid, status, date_created, media = orjson.loads(data)
    return Message(
        sid, account_sid, direction, from_, to, body, execution_sid, flow_sid, status, date_created, tuple(media)
    )


def _encode_revision(revision: FlowRevision) -> bytes:
    return _dumps(
        [
            revision.friendly_name,
            revision.definition,
            revision.status,
            revision.commit_message,
            revision.valid,
            revision.errors,
            revision.warnings,
            revision.author_sid,
            revision.date_created,
            revision.date_updated,
        ]
    )


def _decode_revision(number: int, data: bytes) -> FlowRevision:
    return FlowRevision(number, *orjson.loads(data))


def _trigger_event(execution: Execution) -> str:
    """The event an execution's trigger fired with, from the data it was started with."""
    trigger = execution.trigger or {}
    for key, event in (
        ("message", "incomingMessage"),
        ("call", "incomingCall"),
        ("conversation", "incomingConversationMessage"),
        ("parent", "incomingParent"),
    ):
        if key in trigger:
            return event
    return "incomingRequest"


# -- the store ---------------------------------------------------------------------------------


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
    contacts: dict[tuple[str, str], tuple[AccountState, str]] = field(default_factory=dict)
    numbers: dict[tuple[str, str], tuple[AccountState, str | None]] = field(default_factory=dict)
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
    """The `Store` over one SQLite file (see the module docs). Open it with `open_store`."""

    def __init__(
        self,
        path: Path,
        *,
        view: _ReadOnlyView | None = None,
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
        self._message_limit = message_limit
        self._lock = threading.RLock()  # guards the connection and the changes across threads
        self._depth = 0
        self._closed = False
        self._studio: Studio | None = None
        self._changes = _Changes()
        # What the file holds, kept to write only what is new.
        self._fixture_flows: set[tuple[str, str]] = set()  # flows that come from a fixture
        self._revisions: dict[tuple[str, str], int] = {}  # revisions stored per flow
        # Per active execution with stored steps: the last stored step's layers (the base
        # the next step's are stored against). Dropped when the execution ends.
        self._layers: dict[str, tuple[Any, Any]] = {}
        self._message_rows: dict[str, int] = dict(
            self._read("SELECT account_sid, count(*) FROM messages GROUP BY account_sid")
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

    # -- what the domain reports --------------------------------------------------------------

    def flow_seeded(self, flow: Flow) -> None:
        with self._lock:
            if self._closed:
                return
            key = (flow.account_sid, flow.sid)
            self._fixture_flows.add(key)
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
            self._changed()

    def step_added(self, execution: Execution, step: Step) -> None:
        with self._lock:
            if self._closed:
                return
            self._changes.steps.setdefault(execution.sid, []).append(step)
            self._changes.changed[execution.sid] = execution
            self._changed()

    def contact_added(self, account: AccountState, address: str, sid: str) -> None:
        with self._lock:
            if self._closed:
                return
            self._changes.contacts[(account.sid, address)] = (account, sid)
            self._changed()

    def number_bound(self, account: AccountState, number: str, flow_sid: str | None) -> None:
        with self._lock:
            if self._closed:
                return
            self._changes.numbers[(account.sid, number)] = (account, flow_sid)
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
                self._revisions.clear()
                self._layers.clear()
            else:
                self._fixture_flows = {k for k in self._fixture_flows if k[0] != account_sid}
                self._revisions = {k: n for k, n in self._revisions.items() if k[0] != account_sid}
                studio = self._studio
                old = studio.accounts.get(account_sid) if studio is not None else None
                if old is not None:
                    for sid in [sid for sid in self._layers if sid in old.executions]:
                        del self._layers[sid]
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
        self._db = _connect(self.path)
        if not _same_content(view.stamp, _stamp(self.path)):
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
            self._revisions.clear()
            self._layers.clear()
            self._message_rows = dict(self._read("SELECT account_sid, count(*) FROM messages GROUP BY account_sid"))
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
        return account is not None and account.executions.get(execution.sid) is execution

    def _live_account(self, account: AccountState) -> bool:
        studio = self._studio
        return studio is not None and studio.accounts.get(account.sid) is account

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
                for table in _TABLES:
                    sql(f"DELETE FROM {table}", ())
                after.append(self._message_rows.clear)
            else:
                sql(
                    "DELETE FROM steps WHERE execution_sid IN (SELECT sid FROM executions WHERE account_sid = ?)",
                    (account_sid,),
                )
                for table in _TABLES:
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

        for (owner, address), (account, sid) in changes.contacts.items():
            if self._live_account(account):
                sql("INSERT OR REPLACE INTO contacts VALUES (?, ?, ?)", (owner, address, sid))
        for (owner, number), (account, bound_to) in changes.numbers.items():
            if self._live_account(account):
                sql("INSERT OR REPLACE INTO numbers VALUES (?, ?, ?)", (owner, number, bound_to))

        self._execution_statements(changes, sql, after)
        self._message_statements(changes, sql, after)

        if changes.clock_offset is not None:
            sql("INSERT OR REPLACE INTO meta VALUES ('clock_offset', ?)", (_dumps(changes.clock_offset),))
        return out, after

    def _flow_statements(self, changes: _Changes, sql: Callable[..., None], after: list[Callable[[], object]]) -> None:
        studio = self._studio
        for (account_sid, sid), (flow, full) in changes.flows.items():
            account = studio.accounts.get(account_sid) if studio is not None else None
            if account is None or account.flows.get(sid) is not flow:
                continue
            key = (account_sid, sid)
            if not full:
                data = _dumps({"date_created": flow.date_created, "key": flow.key})
                sql("INSERT OR REPLACE INTO flows VALUES (?, ?, 'fixture', ?)", (account_sid, sid, data))
                continue
            data = _dumps(
                {
                    "date_created": flow.date_created,
                    "date_updated": flow.date_updated,
                    "key": flow.key,
                    "test_users": flow.test_users,
                }
            )
            stored = self._revisions.get(key, 0)
            try:
                revisions = [(account_sid, sid, r.revision, _encode_revision(r)) for r in flow.history[stored:]]
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
                    encoded.append((sid, first + offset, _encode_step(step, base)))
                    base = (step.widgets, step.variables)
                state = self._encode_state(execution, base)
                fixed = _encode_fixed(execution) if sid in changes.new else None
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
        flow = studio.accounts[execution.account_sid].flows.get(execution.flow_sid)
        holds_contact = flow is not None and flow.active_by_contact.get(execution.addresses) is execution
        return _dumps(
            [
                execution.status,
                execution.date_updated,
                _encode_layer(execution.widgets, base[0]),
                _encode_layer(execution.variables, base[1]),
                holds_contact,
                studio.engine.run_record(execution),
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
                rows.append((message.account_sid, _encode_message(message)))
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

    # -- loading ------------------------------------------------------------------------------

    def _read(self, query: str, *params: Any) -> list[Any]:
        db = self._view.db if self._view is not None else self._db
        assert db is not None
        try:
            return db.execute(query, params).fetchall()
        except sqlite3.DatabaseError as exc:
            raise StateFileError(self.path, _unreadable(exc)) from None

    def restore_clock(self, clock: Clock) -> None:
        """Put the virtual clock where it was (its offset from real time) and keep it
        persisted as it moves. A fixed test clock (ManualClock) is left alone."""
        if not isinstance(clock, VirtualClock):
            return
        if self._clock_start is None:
            self._clock_start = clock.offset
        rows = self._read("SELECT value FROM meta WHERE name = 'clock_offset'")
        clock.on_move = None  # (putting it back is not a move to write)
        clock.set(time.time() + (float(orjson.loads(rows[0][0])) if rows else self._clock_start))
        clock.on_move = self.clock_moved

    def load_account(self, account: AccountState, flows: Sequence[FlowSeed], *, fresh: bool) -> None:
        with self._lock:
            self._studio = account.studio
            try:
                _Loader(self, account, flows, fresh).load()
            except (orjson.JSONDecodeError, ValueError, TypeError, KeyError, IndexError) as exc:
                raise StateFileError(self.path, f"holds data this mockstudio cannot read ({exc!r})") from None


def _encode_fixed(execution: Execution) -> bytes:
    to, from_ = execution.addresses
    return _dumps(
        [
            execution.contact_sid,
            to,
            from_,
            execution.parameters,
            execution.flow_version,
            execution.initiator,
            execution.date_created,
            execution.key,
            execution.trigger,
        ]
    )


class _Loader:
    """Rebuilds one account's state from the file: flows, numbers, contacts, executions with
    their steps and every index, messages, the sort-key sequence, and the run state of active
    executions (re-parked with their timers, or queued to continue where they were)."""

    def __init__(self, store: SqliteStore, account: AccountState, flows: Sequence[FlowSeed], fresh: bool) -> None:
        self.store = store
        self.account = account
        self.seeds = flows
        self.fresh = fresh
        self.max_sequence = 0

    def rows(self, query: str) -> list[Any]:
        return [] if self.fresh else self.store._read(query, self.account.sid)

    def load(self) -> None:
        self.load_flows()
        self.load_numbers()
        self.load_contacts()
        if not self.fresh:
            self.load_executions()
            self.load_messages()
        account = self.account
        if self.max_sequence:
            account._sequence = itertools.count(self.max_sequence + 1)

    def note_key(self, key: int) -> None:
        self.max_sequence = max(self.max_sequence, key & _SEQUENCE_MASK)

    def load_flows(self) -> None:
        store, account = self.store, self.account
        query = "SELECT sid, kind, data FROM flows WHERE account_sid = ?"
        rows = {sid: (kind, data) for sid, kind, data in self.rows(query)}
        revisions: dict[str, list[FlowRevision]] = {}
        for flow_sid, number, data in self.rows(
            "SELECT flow_sid, revision, data FROM revisions WHERE account_sid = ? ORDER BY flow_sid, revision"
        ):
            revisions.setdefault(flow_sid, []).append(_decode_revision(number, data))
        for seed in self.seeds:
            key = (account.sid, seed.sid)
            store._fixture_flows.add(key)
            kind, data = rows.pop(seed.sid, (None, None))
            if kind == "deleted":
                continue
            if kind == "stored":
                flow = self.stored_flow(seed.sid, orjson.loads(data), revisions.get(seed.sid, []))
                if flow is not None:
                    for number in seed.numbers:
                        account.numbers[number] = flow.sid
                continue
            flow = account.add_flow(seed)
            if kind == "fixture":  # keep the identity it was first seeded with
                identity = orjson.loads(data)
                account.flow_index.remove(flow.key)
                flow.key, flow.date_created = identity["key"], identity["date_created"]
                flow.history[0].date_created = flow.date_created
                account.flow_index.add(flow.key, flow)
            else:  # a fixture flow the file has not seen yet
                store.flow_seeded(flow)
            self.note_key(flow.key)
        for sid, (kind, data) in rows.items():
            if kind == "stored":
                self.stored_flow(sid, orjson.loads(data), revisions.get(sid, []))
            elif kind == "fixture":
                log.warning(
                    "State file: flow %s of account %s came from a fixture that no longer defines it: not loaded",
                    sid,
                    account.sid,
                )

    def stored_flow(self, sid: str, data: dict[str, Any], revisions: list[FlowRevision]) -> Flow | None:
        account = self.account
        if not revisions or [r.revision for r in revisions] != list(range(1, len(revisions) + 1)):
            log.warning("State file: flow %s of account %s has an incomplete history: not loaded", sid, account.sid)
            return None
        first = revisions[0]
        flow = Flow(
            sid=sid,
            account_sid=account.sid,
            friendly_name=first.friendly_name,
            definition=first.definition,
            status=first.status,
            revision=0,
            commit_message=first.commit_message,
            valid=first.valid,
            errors=first.errors,
            warnings=first.warnings,
            author_sid=first.author_sid,
            date_created=data["date_created"],
            date_updated=data["date_updated"],
            key=data["key"],
            test_users=list(data["test_users"]),
        )
        for revision in revisions:
            flow.add_revision(revision)
        account.flows[sid] = flow
        account.flow_index.add(flow.key, flow)
        self.store._revisions[(account.sid, sid)] = len(revisions)
        self.note_key(flow.key)
        return flow

    def load_numbers(self) -> None:
        account = self.account
        for number, flow_sid in self.rows("SELECT number, flow_sid FROM numbers WHERE account_sid = ?"):
            if flow_sid is None:
                account.numbers.pop(number, None)
            elif flow_sid in account.flows:
                account.numbers[number] = flow_sid

    def load_contacts(self) -> None:
        account = self.account
        rows = self.rows("SELECT address, sid FROM contacts WHERE account_sid = ? ORDER BY rowid")
        limit = account.studio.contact_limit
        account.contacts = dict(rows[-limit:] if len(rows) > limit else rows)

    def load_executions(self) -> None:
        account = self.account
        steps: dict[str, list[bytes]] = {}
        for execution_sid, data in self.rows(
            "SELECT s.execution_sid, s.data FROM steps s JOIN executions e ON e.sid = s.execution_sid"
            " WHERE e.account_sid = ? ORDER BY s.execution_sid, s.seq"
        ):
            steps.setdefault(execution_sid, []).append(data)
        loaded: list[tuple[Execution, bool, Any, str | None]] = []
        missing: set[str] = set()
        for sid, flow_sid, fixed, state in self.rows(
            "SELECT sid, flow_sid, fixed, state FROM executions WHERE account_sid = ?"
        ):
            if flow_sid not in account.flows:
                missing.add(flow_sid)
                continue
            loaded.append(self.execution(sid, flow_sid, fixed, state, steps.pop(sid, [])))
        if missing:
            log.warning(
                "State file: executions of flows %s in account %s not loaded: those flows no longer exist",
                ", ".join(sorted(missing)),
                account.sid,
            )
        loaded.sort(key=lambda item: item[0].key)
        ended: list[Execution] = []
        for execution, holds_contact, _, _ in loaded:
            flow = account.flows[execution.flow_sid]
            account.executions[execution.sid] = execution
            flow.executions.add(execution.key, execution)
            if execution.status == ACTIVE:
                flow.active_executions.add(execution.key, execution)
                if holds_contact:
                    flow.active_by_contact[execution.addresses] = execution
            else:
                flow.ended_executions.add(execution.key, execution)
                ended.append(execution)
        ended.sort(key=lambda e: (e.date_updated or 0, e.key))  # the order they ended in, near enough
        account.ended_order.update((e.sid, e) for e in ended)
        self.store.restored_executions += len(loaded)
        for execution, _, run, last_target in loaded:
            if execution.status == ACTIVE:
                self.restore_run(execution, run, last_target)
        if len(account.ended_order) > account.studio.ended_execution_limit:  # the cap was lowered
            account.drop_oldest_ended_executions()

    def execution(
        self, sid: str, flow_sid: str, fixed: bytes, state: bytes, step_rows: list[bytes]
    ) -> tuple[Execution, bool, Any, str | None]:
        contact_sid, to, from_, parameters, flow_version, initiator, date_created, key, trigger = orjson.loads(fixed)
        status, date_updated, widgets, variables, holds_contact, run = orjson.loads(state)
        execution = Execution(
            sid=sid,
            account_sid=self.account.sid,
            flow_sid=flow_sid,
            contact_sid=contact_sid,
            addresses=(to, from_),
            parameters=parameters,
            status=status,
            flow_version=flow_version,
            initiator=initiator,
            date_created=date_created,
            date_updated=date_updated,
            key=key,
            trigger=trigger,
        )
        self.note_key(key)
        base: tuple[Any, Any] = (None, None)
        last_target: str | None = None
        if step_rows:
            index: SortedIndex[Step] = SortedIndex(BY_KEY)
            for data in step_rows:
                (step_sid, name, came_from, went_to, kind, parent, created, updated, step_key, w, v) = orjson.loads(
                    data
                )
                base = (_decode_layer(w, base[0]), _decode_layer(v, base[1]))
                step = Step(
                    step_sid, sid, name, came_from, went_to, kind, parent, base[0], base[1], created, updated, step_key
                )
                index.add(step_key, step)
                self.note_key(step_key)
                last_target = went_to
            execution.steps = index
        execution.widgets = _decode_layer(widgets, base[0])
        execution.variables = _decode_layer(variables, base[1])
        if status == ACTIVE and step_rows:
            self.store._layers[sid] = base
        return execution, bool(holds_contact), run, last_target

    def restore_run(self, execution: Execution, run: Any, last_target: str | None) -> None:
        account = self.account
        engine = account.studio.engine
        flow = account.flows[execution.flow_sid]
        revision = flow.find_revision(execution.flow_version or 0)
        definition = engine.definition_for(revision.definition) if revision is not None else None
        if definition is None:  # nothing to run it with (only a tampered file gets here)
            log.warning(
                "State file: execution %s ended at startup: revision %s of flow %s cannot run",
                execution.sid,
                execution.flow_version,
                flow.sid,
            )
            account.end_execution(execution)
            return
        on_end = None
        trigger = execution.trigger or {}
        if "parent" in trigger and execution.initiator is not None:  # a subflow's child
            parent = account.executions.get(execution.initiator)
            if parent is not None:
                on_end = account.subflow_on_end(parent)
        engine.restore_run(
            account,
            execution,
            definition,
            run if isinstance(run, dict) else {},
            last_target=last_target,
            trigger_event=_trigger_event(execution),
            on_end=on_end,
        )

    def load_messages(self) -> None:
        account = self.account
        rows = self.store._read(
            "SELECT data FROM messages WHERE account_sid = ? ORDER BY id DESC LIMIT ?",
            account.sid,
            self.store._message_limit,
        )
        account.studio.engine.messages.restore([_decode_message(account.sid, data) for (data,) in reversed(rows)])
