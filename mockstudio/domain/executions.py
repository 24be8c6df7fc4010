"""Executions, their steps and contexts (Twilio's Execution, ExecutionContext,
ExecutionStep and ExecutionStepContext resources), and how an execution starts and ends."""

from __future__ import annotations

import itertools
import sys
from dataclasses import dataclass
from typing import Any

from .. import jsontext, sids
from ..contexts import build_context, parent_trigger, trigger_type
from ..dates import parse_filter_date
from ..errors import (
    Conflict,
    ExecutionAlreadyActive,
    ExecutionAlreadyEnded,
    FlowNotPublished,
    InvalidParameter,
    MissingParameter,
    NotFound,
)
from .changes import ExecutionCreated, ExecutionEnded, ExecutionsDeleted, batched
from .flows import FlowOperations
from .indexes import excess
from .models import ACTIVE, BY_KEY, ENDED, Execution, Flow, FlowRevision, Step
from .paging import Page, PageRequest, SortedIndex

__all__ = ["ENDED_THROUGH_API", "ExecutionFilters", "ExecutionOperations", "parse_parameters"]

ENDED_THROUGH_API = "ended through the API"


@dataclass(frozen=True, slots=True)
class ExecutionFilters:
    status: str | None
    date_from: int | None
    date_to: int | None
    raw: str  # canonical text the page tokens are tied to


class ExecutionOperations(FlowOperations):
    """Executions, steps and contexts of one account; also what the engine needs of it
    (`mark_ended`, `waiting_for_reply`, `start_subflow`: see engine/host.py)."""

    @batched
    def create_execution(self, flow_sid: str, to: str | None, from_: str | None, parameters: str | None) -> Execution:
        flow = self._flow(flow_sid)
        if not to:
            raise MissingParameter("To")
        if not from_:
            raise MissingParameter("From")
        data = parse_parameters(parameters)
        active = self.executions.active_for_contact(flow.sid, (to, from_))
        if active is not None:
            raise ExecutionAlreadyActive(active.sid)
        revision = self._runnable_revision(flow, to)
        execution, new_contact = self._new_execution(flow, revision, to, from_, data, None)
        self._start(execution, revision, "incomingRequest", new_contact)
        return execution

    def _execution(self, flow_sid: str, sid: str) -> Execution:
        flow = self._flow(flow_sid)
        execution = self.executions.get(sid)
        if execution is None or execution.flow_sid != flow.sid:
            raise NotFound()
        return execution

    def _runnable_revision(self, flow: Flow, contact: str | None, which: str = "LatestPublished") -> FlowRevision:
        """The revision a new execution runs (its number is the execution's `flow_version`):
        the latest published one; the latest of any status, draft included, for a contact
        listed in the flow's TestUsers ("test user identities that can test draft versions
        of the flow") and for run-subflow's `LatestRevision`. A flow with only drafts cannot
        be executed but by its test users: 409/20409 (`FlowNotPublished`; Twilio's code and
        wording are not documented)."""
        latest = which == "LatestRevision" or (contact is not None and contact in flow.test_users)
        revision = flow.latest_revision() if latest else flow.published_revision()
        if revision is None:
            raise FlowNotPublished(flow.sid)
        return revision

    def _new_execution(
        self,
        flow: Flow,
        revision: FlowRevision,
        to: str,
        from_: str,
        data: dict[str, Any] | None,
        initiator: str | None,
        *,
        exclusive: bool = True,
    ) -> tuple[Execution, bool]:
        """A new active execution, and whether its contact is new to the account (both go in
        the ExecutionCreated change that `_start` publishes)."""
        contact_sid = self.contacts.get(to)
        new_contact = contact_sid is None
        if contact_sid is None:
            contact_sid = self.contacts[to] = self.sids.new(sids.CONTACT)
            if len(self.contacts) > self.contact_limit:  # the oldest addresses are forgotten
                # Deleted in place (not copied into a new dict): no transient second table.
                for address in list(itertools.islice(self.contacts, excess(self.contacts, self.contact_limit))):
                    del self.contacts[address]
        now = self.seconds()
        execution = Execution(
            sid=self.sids.new(sids.EXECUTION),
            account_sid=self.sid,
            flow_sid=flow.sid,
            contact_sid=contact_sid,
            # The flow's address repeats across its executions: one shared string for all.
            addresses=(to, sys.intern(from_)),
            parameters=data,
            status=ACTIVE,
            flow_version=revision.revision,
            initiator=initiator,
            date_created=now,
            date_updated=now,
            key=self.next_key(now),
        )
        self.executions.add(execution, exclusive=exclusive)
        return execution, new_contact

    def _start(
        self,
        execution: Execution,
        revision: FlowRevision,
        event: str,
        new_contact: bool,
        *,
        parent_step_sid: str | None = None,
        on_end: Any = None,
    ) -> None:
        subscribers = self.changes.subscribers
        if subscribers:
            change = ExecutionCreated(self.sid, execution, event, parent_step_sid, new_contact)
            for subscriber in subscribers:
                subscriber(change)
        engine = self.engine
        definition = engine.definition_for(revision.definition)
        if definition is None:  # an invalid definition (only possible for drafts) ends at once
            engine.finish(self, execution, "its flow revision is invalid")
            return
        engine.start(self, execution, definition, event, parent_step_sid=parent_step_sid, on_end=on_end)

    def start_subflow(
        self,
        *,
        flow_sid: str,
        parent: Execution,
        parameters: dict[str, Any],
        parent_step_sid: str,
        revision: str,
    ) -> Execution | None:
        """A child execution for run-subflow, or None if that flow cannot run."""
        flow = self.flows.get(flow_sid)
        if flow is None:
            return None
        which = "LatestRevision" if revision in ("LatestDraft", "LatestRevision") else "LatestPublished"
        try:
            flow_revision = self._runnable_revision(flow, None, which)
        except Conflict:
            return None
        to, from_ = parent.contact_channel_address, parent.flow_channel_address
        child, new_contact = self._new_execution(flow, flow_revision, to, from_, None, parent.sid, exclusive=False)
        child.trigger = parent_trigger(
            {
                "parameters": parameters,
                "execution_sid": parent.sid,
                "flow_sid": parent.flow_sid,
                "step_sid": parent_step_sid,
                "trigger_type": trigger_type(parent),
            }
        )
        on_end = self.subflow_on_end(parent)
        self._start(child, flow_revision, "incomingParent", new_contact, parent_step_sid=parent_step_sid, on_end=on_end)
        return child

    def subflow_on_end(self, parent: Execution) -> Any:
        """What a subflow's child calls when it stops: resumes the parent."""

        def on_end(ended: Execution, completed: bool) -> None:
            if completed:
                self.engine.resume(self, parent, "completed", dict(ended.variables or {}))
            else:
                self.engine.resume(self, parent, "failed", {})

        return on_end

    # -- what the engine tells the account ---------------------------------------------------

    def mark_ended(self, execution: Execution, reason: str) -> None:
        now = self.seconds()
        execution.status = ENDED
        execution.date_updated = now
        dropped = self.executions.end(execution)
        subscribers = self.changes.subscribers
        if subscribers:
            change = ExecutionEnded(self.sid, execution, reason, now)
            for subscriber in subscribers:
                subscriber(change)
            if dropped:
                self.changes.publish(ExecutionsDeleted(self.sid, tuple(dropped), "cap"))

    def waiting_for_reply(self, execution: Execution, waiting: bool) -> None:
        if waiting:
            self.executions.wait(execution)
        else:
            self.executions.unwait(execution)

    def _remove_flow_executions(self, flow_sid: str) -> None:
        engine = self.engine
        for execution in list(self.executions.of_flow(flow_sid).all.newest_first()):
            if execution.status == ACTIVE or execution.run is not None:
                engine.stop(self, execution)
        removed = self.executions.remove_flow(flow_sid)
        if removed and self.changes.subscribers:
            self.changes.publish(ExecutionsDeleted(self.sid, tuple(removed), "flow deleted"))

    def drop_oldest_ended_executions(self) -> list[Execution]:
        """Apply the ended-execution cap now (after it was lowered); returns what was dropped."""
        dropped = self.executions.drop_oldest()
        if dropped and self.changes.subscribers:
            self.changes.publish(ExecutionsDeleted(self.sid, tuple(dropped), "cap"))
        return dropped

    # -- the Execution resource --------------------------------------------------------------

    def execution_filters(self, status: str | None, date_from: str | None, date_to: str | None) -> ExecutionFilters:
        if status is not None:
            status = status.strip().lower()  # SDKs send lowercase; tolerate any case
            if status not in (ACTIVE, ENDED):
                raise InvalidParameter(f"Invalid status: {status!r} is not one of active, ended")
        start = parse_filter_date("DateCreatedFrom", date_from) if date_from else None
        end = parse_filter_date("DateCreatedTo", date_to) if date_to else None
        raw = f"{status or ''}|{start if start is not None else ''}|{end if end is not None else ''}"
        return ExecutionFilters(status, start, end, raw)

    def list_executions(self, flow_sid: str, filters: ExecutionFilters, request: PageRequest) -> Page[Execution]:
        flow = self._flow(flow_sid)
        return self.executions.page(
            flow.sid,
            filters.status,
            request,
            filters.date_from,
            filters.date_to,
            f"{flow.sid}|{filters.raw}",  # a token only resumes the list it came from
        )

    def fetch_execution(self, flow_sid: str, sid: str) -> Execution:
        return self._execution(flow_sid, sid)

    @batched
    def update_execution(self, flow_sid: str, sid: str, status: str | None) -> Execution:
        execution = self._execution(flow_sid, sid)
        if not status:
            raise MissingParameter("Status")
        if status != ENDED:
            # The spec's enum also lists `active`, but the docs: "Update the status of an
            # Execution to `ended`" (older spec: "Can only be `ended`").
            raise InvalidParameter(f"Invalid Status: {status!r}. An Execution can only be updated to ended")
        if execution.status == ENDED:
            raise ExecutionAlreadyEnded(execution.sid)
        self.engine.finish(self, execution, ENDED_THROUGH_API)
        return execution

    @batched
    def delete_execution(self, flow_sid: str, sid: str) -> None:
        """Deletes the execution and its steps, whatever its status (allowed for active
        ones: not documented by Twilio, chosen because it is the only way to free a contact
        without ending)."""
        execution = self._execution(flow_sid, sid)
        self.engine.stop(self, execution)
        self.executions.remove(execution)
        if self.changes.subscribers:
            self.changes.publish(ExecutionsDeleted(self.sid, (execution,), "deleted"))

    def fetch_execution_context(self, flow_sid: str, sid: str) -> tuple[Execution, dict[str, Any]]:
        execution = self._execution(flow_sid, sid)
        return execution, build_context(execution, execution.widgets, execution.variables)

    # -- Steps --------------------------------------------------------------------------------

    def list_execution_steps(
        self, flow_sid: str, execution_sid: str, request: PageRequest
    ) -> tuple[Execution, Page[Step]]:
        execution = self._execution(flow_sid, execution_sid)
        steps = execution.steps if execution.steps is not None else _EMPTY_STEPS
        return execution, steps.page(request, filters=execution.sid)

    def fetch_execution_step(self, flow_sid: str, execution_sid: str, sid: str) -> tuple[Execution, Step]:
        execution = self._execution(flow_sid, execution_sid)
        step = execution.find_step(sid)
        if step is None:
            raise NotFound()
        return execution, step

    def fetch_execution_step_context(self, flow_sid: str, execution_sid: str, step_sid: str) -> tuple[Execution, Step]:
        return self.fetch_execution_step(flow_sid, execution_sid, step_sid)


_EMPTY_STEPS: SortedIndex[Step] = SortedIndex(BY_KEY)


def parse_parameters(raw: str | None) -> dict[str, Any] | None:
    """`Parameters` is JSON *text* that must hold an object (the spec: "the JSON value must
    explicitly be passed as a string"). Code and wording of the 400 are chosen."""
    if raw is None or raw == "":
        return None
    try:
        return jsontext.loads_object(raw)
    except jsontext.NotAnObject as exc:
        raise InvalidParameter(f"Invalid Parameters: {exc}") from None
