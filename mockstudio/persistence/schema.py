"""The state file's tables, and opening it. An existing file is checked (a mockstudio state
file, of this schema version, that `PRAGMA quick_check` finds intact) and read through a
read-only view of it (`ReadOnlyView`) before anything writes to it: a file that cannot be
used (not SQLite, corrupt, another application's database, a schema version this mockstudio
does not read, no permission, locked by another process) raises StateFileError, and it and
its `-wal` and `-shm` are left byte for byte as they were."""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
from pathlib import Path
from urllib.parse import quote

from .errors import StateFileError

__all__ = [
    "APPLICATION_ID",
    "SCHEMA",
    "SCHEMA_VERSION",
    "TABLES",
    "ReadOnlyView",
    "check",
    "check_access",
    "connect",
    "same_content",
    "size",
    "stamp",
    "unreadable",
]

SCHEMA_VERSION = 1  # PRAGMA user_version; a file with another version is refused
APPLICATION_ID = 0x6D537464  # PRAGMA application_id ("mStd"): marks the file as mockstudio's

SCHEMA = (
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
TABLES = ("flows", "revisions", "executions", "steps", "contacts", "numbers", "messages")


def same_content(before: tuple[tuple[int, int] | None, ...], after: tuple[tuple[int, int] | None, ...]) -> bool:
    """Whether nothing wrote to the file or its WAL between two stamps (opening the file
    for writing creates an empty WAL where there was none)."""
    return before[0] == after[0] and (before[1] == after[1] or (before[1] is None and (after[1] or (0,))[0] == 0))


def check_access(path: Path) -> bool:
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


def size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def stamp(path: Path) -> tuple[tuple[int, int] | None, ...]:
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


class ReadOnlyView:
    """The file's committed content, read without writing a byte to the file, its `-wal`
    or its `-shm`. SQLite cannot give that on the file itself: a read-only connection
    still writes the `-shm` (it rebuilds the WAL index there, creating the file if need
    be), and `immutable=1` ignores the WAL, so it would read the wrong content after a
    crash. So the view is a private directory beside the file holding a hard link to it
    (a copy where links are not supported) and a copy of its WAL, opened read-only: SQLite
    reads the same content it would read on the file, and writes its index into the
    private directory, which is removed afterwards."""

    def __init__(self, path: Path) -> None:
        self.stamp = stamp(path)
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


def check(db: sqlite3.Connection, path: Path) -> bool:
    """Check a state file before anything writes to it: a mockstudio state file, of the
    schema version this mockstudio reads, that SQLite finds intact (`PRAGMA quick_check`:
    every page, b-tree and record is well formed). False for a SQLite file holding nothing
    (to be initialised); StateFileError, naming the problem, otherwise."""
    try:
        application_id = db.execute("PRAGMA application_id").fetchone()[0]  # reads the header
        version = db.execute("PRAGMA user_version").fetchone()[0]
        objects = db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
    except sqlite3.Error as exc:
        raise StateFileError(path, unreadable(exc)) from None
    if objects == 0 and application_id == 0 and version == 0:
        return False
    check_identity(path, application_id, version)
    try:
        problems = [row[0] for row in db.execute("PRAGMA quick_check(10)")]
    except sqlite3.Error as exc:
        raise StateFileError(path, unreadable(exc)) from None
    if problems != ["ok"]:
        found = "; ".join(line for problem in problems for line in str(problem).splitlines())
        raise StateFileError(
            path,
            f"is corrupt (SQLite's quick_check: {found[:200]}{'...' if len(found) > 200 else ''}); "
            "it was left as it is "
            "(restore a backup, or move it away to start afresh)",
        )
    return True


def check_identity(path: Path, application_id: int, version: int) -> None:
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


def connect(path: Path) -> sqlite3.Connection:
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
        prepare(db, path)
    except BaseException:
        db.close()
        raise
    return db


def prepare(db: sqlite3.Connection, path: Path) -> None:
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
        raise StateFileError(path, unreadable(exc)) from None
    fresh = objects == 0 and application_id == 0 and version == 0
    if not fresh:
        check_identity(path, application_id, version)
    try:
        mode = db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise StateFileError(path, f"cannot be switched to WAL journaling (journal_mode {mode})")
        db.execute("PRAGMA synchronous = FULL")  # every commit fsyncs the WAL (see the module docs)
        db.execute("BEGIN EXCLUSIVE")
        if fresh:
            for statement in SCHEMA:
                db.execute(statement)
            db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        db.execute("COMMIT")
    except sqlite3.Error as exc:
        raise StateFileError(path, unreadable(exc)) from None


def unreadable(exc: sqlite3.Error) -> str:
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
