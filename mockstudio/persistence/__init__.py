"""Persistence for dev stacks: with `--state-file PATH` (`MOCKSTUDIO_STATE_FILE`) the state
survives restarts, in a SQLite database.

Without a state file nothing here runs (or is even imported). With one, the state file is a
subscriber of the domain's change feed (mockstudio.domain.changes): it learns every change
from there, and restores the state at startup through the domain's public methods.

The package: `schema` (the file's tables, opening and checking it), `codec` (rows as orjson
arrays), `writer` (the subscriber: collects changes, commits them), `loader` (rebuilds an
account from the file).

What the file keeps: flows created or changed through the API (every revision, the test
users), fixture flows deleted through the API, and the identity of fixture flows (date and
sort key, so lists keep their order across restarts); executions with their steps, context
layers and run state (the widget a waiting execution is parked on, its outputs so far and
its timeout); contacts' FC SIDs; numbers bound through the control plane; the message log
(capped as in memory); the virtual clock's offset. Accounts, credentials and the content of
fixture flows never changed through the API come from the fixtures at every start, so an
edited fixture takes effect on restart. Scripted outcomes (`/_mockstudio/scripts`) are not
kept.

Durability. The domain publishes what changed at each mutation point; the state file
collects the changes and writes them in one transaction when the operation ends: a
REST call, an inbound message, a clock move, or the engine running an execution until it
parks, ends or waits on I/O (a widget's HTTP call, see `mockstudio.domain.changes.committing`). Operations run
synchronously on the event loop, so the commit happens before the operation returns, that
is before the route builds its response and before any other request can see the change.
A change made outside any operation is committed at once. The database is in WAL mode with
`synchronous=FULL`: each commit fsyncs the WAL, so neither `kill -9` nor a power loss loses
a committed write. (With `NORMAL`, WAL commits are synced only at checkpoints: that survives
a crash of the process but not of the machine, so an acknowledged write could be lost.)

A file that cannot be used (not SQLite, another application's database, a schema version
this mockstudio does not read, no permission, locked by another process) stops startup with
`StateFileError`, and is left exactly as it was.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import StateFileError

if TYPE_CHECKING:
    from .writer import SqliteStore

__all__ = ["APPLICATION_ID", "SCHEMA_VERSION", "SqliteStore", "StateFileError", "open_store"]


def __getattr__(name: str) -> Any:
    # The rest loads on first use: a server without a state file never imports SQLite
    # (startup time); `StateFileError` alone is imported by the CLI.
    if name in ("APPLICATION_ID", "SCHEMA_VERSION"):
        from . import schema

        return getattr(schema, name)
    if name in ("SqliteStore", "open_store"):
        from . import writer

        return getattr(writer, name)
    raise AttributeError(name)
