"""Rebuilding an account from the state file, through the domain's public methods."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

import orjson

from ..domain.models import ACTIVE, BY_KEY, Execution, Flow, FlowRevision, Step
from ..domain.paging import SortedIndex
from .codec import decode_layer, decode_message, decode_revision, trigger_event

if TYPE_CHECKING:
    from ..domain.accounts import AccountState, FlowSeed

__all__ = ["Loader", "StoredRows"]

log = logging.getLogger("mockstudio.persistence")

_SEQUENCE_MASK = 0xFFFFFFFF  # the low half of a sort key is the account's sequence number


class StoredRows(Protocol):
    """What the loader reads from the state file (writer.SqliteStore), and what it tells it
    of the rows the file already holds."""

    restored_executions: int

    @property
    def message_limit(self) -> int: ...

    def read(self, query: str, *params: Any) -> list[Any]: ...
    def note_fixture_flow(self, account_sid: str, flow_sid: str, *, identity_stored: bool) -> None: ...
    def note_revisions(self, account_sid: str, flow_sid: str, count: int) -> None: ...
    def note_layers(self, execution_sid: str, base: tuple[Any, Any]) -> None: ...
    def note_resume(self, execution_sid: str, resume: list[Any]) -> None: ...


class Loader:
    """Rebuilds one account's state from the file: flows, numbers, contacts, executions with
    their steps and every index, messages, the sort-key sequence, and the run state of active
    executions (re-parked with their timers, or queued to continue where they were)."""

    def __init__(self, store: StoredRows, account: AccountState, flows: Sequence[FlowSeed]) -> None:
        self.store = store
        self.account = account
        self.seeds = flows
        self.max_sequence = 0

    def rows(self, query: str) -> list[Any]:
        return self.store.read(query, self.account.sid)

    def load(self) -> None:
        self.load_flows()
        self.load_numbers()
        self.load_contacts()
        self.load_executions()
        self.load_messages()
        if self.max_sequence:
            self.account.restore_sequence(self.max_sequence)

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
            revisions.setdefault(flow_sid, []).append(decode_revision(number, data))
        for seed in self.seeds:
            kind, data = rows.pop(seed.sid, (None, None))
            store.note_fixture_flow(account.sid, seed.sid, identity_stored=kind == "fixture")
            if kind == "deleted":
                continue
            if kind == "stored":
                flow = self.stored_flow(seed.sid, orjson.loads(data), revisions.get(seed.sid, []))
                if flow is not None:
                    for number in seed.numbers:
                        account.numbers[number] = flow.sid
                continue
            flow = account.add_flow(seed)  # (a fixture flow the file has not seen yet is written)
            if kind == "fixture":  # keep the identity it was first seeded with
                identity = orjson.loads(data)
                account.rekey_flow(flow, identity["key"], identity["date_created"])
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
        account.restore_flow(flow)
        self.store.note_revisions(account.sid, sid, len(revisions))
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
        rows = self.rows("SELECT address, sid FROM contacts WHERE account_sid = ? ORDER BY rowid")
        self.account.restore_contacts([(address, sid) for address, sid in rows])

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
        account.executions.restore([(execution, holds_contact) for execution, holds_contact, _, _ in loaded])
        self.store.restored_executions += len(loaded)
        for execution, _, run, last_target in loaded:
            if execution.status == ACTIVE:
                self.restore_run(execution, run, last_target)
        account.drop_oldest_ended_executions()  # in case the cap was lowered

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
                base = (decode_layer(w, base[0]), decode_layer(v, base[1]))
                step = Step(
                    step_sid, sid, name, came_from, went_to, kind, parent, base[0], base[1], created, updated, step_key
                )
                index.add(step_key, step)
                self.note_key(step_key)
                last_target = went_to
            execution.steps = index
        execution.widgets = decode_layer(widgets, base[0])
        execution.variables = decode_layer(variables, base[1])
        if status == ACTIVE and step_rows:
            self.store.note_layers(sid, base)
        return execution, bool(holds_contact), run, last_target

    def restore_run(self, execution: Execution, run: Any, last_target: str | None) -> None:
        account = self.account
        engine = account.engine
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
            engine.finish(account, execution, "its flow revision cannot run")
            return
        on_end = None
        trigger = execution.trigger or {}
        if "parent" in trigger and execution.initiator is not None:  # a subflow's child
            parent = account.executions.get(execution.initiator)
            if parent is not None:
                on_end = account.subflow_on_end(parent)
        record = run if isinstance(run, dict) else {}
        if "parked" not in record and isinstance(record.get("resume"), list):
            self.store.note_resume(execution.sid, record["resume"])  # until it runs
        engine.restore_run(
            account,
            execution,
            definition,
            record,
            last_target=last_target,
            trigger_event=trigger_event(execution),
            on_end=on_end,
        )

    def load_messages(self) -> None:
        account = self.account
        rows = self.store.read(
            "SELECT data FROM messages WHERE account_sid = ? ORDER BY id DESC LIMIT ?",
            account.sid,
            self.store.message_limit,
        )
        account.engine.messages.restore([decode_message(account.sid, data) for (data,) in reversed(rows)])
