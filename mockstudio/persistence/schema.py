"""The state file's tables, and opening it: a file that cannot be used (not SQLite, another
application's database, a schema version this mockstudio does not read, no permission,
locked by another process) raises StateFileError and is left exactly as it was."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from urllib.parse import quote

from .errors import StateFileError

__all__ = ["APPLICATION_ID", "SCHEMA", "SCHEMA_VERSION", "TABLES", "connect", "unreadable"]

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


def connect(path: Path) -> sqlite3.Connection:
    exists = path.exists()
    if exists:
        if not path.is_file():
            raise StateFileError(path, "is not a regular file")
        if not os.access(path, os.R_OK | os.W_OK):
            raise StateFileError(path, "cannot be read and written by this user: check its permissions")
        if not os.access(path.parent, os.W_OK | os.X_OK):
            raise StateFileError(path, f"its directory {path.parent} is not writable (SQLite keeps its WAL there)")
    elif not path.parent.is_dir():
        raise StateFileError(path, f"its directory {path.parent} does not exist")
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
    """Check the file before writing anything to it, then switch to WAL, take the lock the
    process keeps, and create the schema in a new (empty) file."""
    try:
        db.execute("PRAGMA busy_timeout = 2000")
        # The lock taken below is kept until the connection closes: a second mockstudio on
        # the same file is refused rather than both writing. (Locks die with the process, so
        # a restart after kill -9 is not refused.)
        db.execute("PRAGMA locking_mode = EXCLUSIVE")
        application_id = db.execute("PRAGMA application_id").fetchone()[0]  # reads the header
        version = db.execute("PRAGMA user_version").fetchone()[0]
        objects = db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
    except sqlite3.Error as exc:
        raise StateFileError(path, unreadable(exc)) from None
    fresh = objects == 0 and application_id == 0 and version == 0
    if not fresh:
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
        return "is not a SQLite database (it may be corrupt); it was left as it is (move it away to start afresh)"
    if "locked" in text or "busy" in text:
        return "is locked by another process (another mockstudio using the same state file?)"
    if "malformed" in text or "corrupt" in text:
        return f"is corrupt ({text}); it was left as it is (move it away to start afresh)"
    return f"cannot be used ({text})"
