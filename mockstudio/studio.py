"""The application layer: one method per Twilio Studio operation, over per-account state.

Plain Python, no HTTP. Every mutation runs without awaiting in the middle, so on the
event loop each operation is atomic; `Studio.lock` guards callers from other threads.
"""

from __future__ import annotations

import hmac
import itertools
import logging
import sys
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from . import jsontext, sids
from .clock import Clock
from .contexts import build_context, conversation_sid, parent_trigger, participant_sid, trigger_type
from .dates import parse_filter_date
from .engine.definition import parse_definition
from .engine.messages import Message
from .engine.runner import Engine, EngineConfig
from .errors import (
    Conflict,
    ExecutionAlreadyActive,
    ExecutionAlreadyEnded,
    FlowNotPublished,
    FlowValidationFailed,
    InvalidParameter,
    MissingParameter,
    NotFound,
)
from .models import ACTIVE, BY_KEY, DRAFT, ENDED, KEY_SHIFT, PUBLISHED, Execution, Flow, FlowRevision, Step
from .paging import Page, PageRequest, SortedIndex
from .reaper import release_later
from .store import StateFileWriteFailed, Store, batched

__all__ = ["AccountSeed", "AccountState", "FlowSeed", "Studio", "check_flow_definition", "definition_problems"]

log = logging.getLogger("mockstudio")


@dataclass(frozen=True, slots=True)
class AccountSeed:
    sid: str
    auth_token: str
    api_keys: dict[str, str] = field(default_factory=dict)  # API Key SID -> secret
    friendly_name: str | None = None


@dataclass(frozen=True, slots=True)
class FlowSeed:
    sid: str
    account_sid: str
    friendly_name: str
    definition: dict[str, Any]
    status: str = PUBLISHED
    commit_message: str | None = None
    numbers: tuple[str, ...] = ()  # addresses bound to the flow for inbound messages


@dataclass(frozen=True, slots=True)
class ExecutionFilters:
    status: str | None
    date_from: int | None
    date_to: int | None
    raw: str  # canonical text the page tokens are tied to


class AccountState:
    """Everything one account owns. Rebuilt, not mutated, on reset."""

    def __init__(self, studio: Studio, seed: AccountSeed) -> None:
        self.studio = studio
        self.sid = seed.sid
        self.friendly_name = seed.friendly_name
        self.auth_token = seed.auth_token  # (make-http-request's "Authenticate with Twilio")
        self.flows: dict[str, Flow] = {}
        self.flow_index: SortedIndex[Flow] = SortedIndex(BY_KEY)
        self.executions: dict[str, Execution] = {}
        self.contacts: dict[str, str] = {}  # contact address -> FC SID, stable per account
        self.numbers: dict[str, str] = {}  # address -> Flow SID, for inbound messages
        # (contact, flow address) -> the execution parked waiting for that contact's reply
        self.waiting_for_reply: dict[tuple[str, str], Execution] = {}
        # Ended executions in the order they ended, for the ended-execution cap.
        self.ended_order: dict[str, Execution] = {}
        self._sequence = itertools.count(1)

    # -- helpers ---------------------------------------------------------------------------

    def _now(self) -> int:
        return self.studio.seconds()

    def next_key(self, seconds: int) -> int:
        return (seconds << KEY_SHIFT) | (next(self._sequence) & 0xFFFFFFFF)

    def _flow(self, flow_sid: str) -> Flow:
        flow = self.flows.get(flow_sid)
        if flow is not None:
            return flow
        if self.studio.accept_any_flow and sids.is_sid(flow_sid, sids.FLOW):
            flow = self.add_flow(FlowSeed(flow_sid, self.sid, f"Auto-created flow {flow_sid}", inert_definition()))
            if self.studio.store is not None:
                self.studio.store.flow_saved(flow)
            return flow
        known = ", ".join(f"{f.sid} ({f.friendly_name})" for f in self.flows.values()) or "none"
        log.warning(
            "Flow %s not found in account %s; its flows are: %s (add it to a fixture, or run with --accept-any-flow)",
            flow_sid[:40],
            self.sid,
            known,
        )
        raise NotFound()

    def _execution(self, flow_sid: str, sid: str) -> Execution:
        flow = self._flow(flow_sid)
        execution = self.executions.get(sid)
        if execution is None or execution.flow_sid != flow.sid:
            raise NotFound()
        return execution

    def add_flow(self, seed: FlowSeed) -> Flow:
        """A flow from a fixture (or `--accept-any-flow`), with revision 1. Unlike the REST
        API, a fixture may hold an invalid definition: the flow is loaded with `valid`
        false and its problems in `errors` (executions of it end at once), and a warning
        is logged."""
        errors = definition_problems(seed.definition)
        if errors:
            log.warning("Flow %s in account %s has an invalid definition: %s", seed.sid, self.sid, errors)
        flow = self._new_flow(seed.sid, seed.friendly_name, seed.definition, seed.status, seed.commit_message, errors)
        for number in seed.numbers:
            self.numbers[number] = flow.sid
        return flow

    def _new_flow(
        self,
        sid: str,
        friendly_name: str,
        definition: dict[str, Any],
        status: str,
        commit_message: str | None,
        errors: list[dict[str, str]],
    ) -> Flow:
        now = self._now()
        flow = Flow(
            sid=sid,
            account_sid=self.sid,
            friendly_name=friendly_name,
            definition=definition,
            status=status,
            revision=0,
            commit_message=commit_message,
            valid=not errors,
            errors=errors,
            warnings=[],
            author_sid=None,
            date_created=now,
            date_updated=None,
            key=self.next_key(now),
        )
        flow.add_revision(self._revision(flow, friendly_name, definition, status, commit_message, errors, now))
        self.flows[flow.sid] = flow
        self.flow_index.add(flow.key, flow)
        return flow

    @staticmethod
    def _revision(
        flow: Flow,
        friendly_name: str,
        definition: dict[str, Any],
        status: str,
        commit_message: str | None,
        errors: list[dict[str, str]],
        now: int,
    ) -> FlowRevision:
        return FlowRevision(
            revision=flow.revision + 1,
            friendly_name=friendly_name,
            definition=definition,
            status=status,
            commit_message=commit_message,
            valid=not errors,
            errors=errors,
            warnings=[],  # the validator reports no warnings (Studio's are editor hints)
            author_sid=None,
            date_created=now,
            date_updated=None,  # a revision never changes once made
        )

    # -- Flows ----------------------------------------------------------------------------------
    #
    # Choices where Twilio's behaviour is UNCONFIRMED (studio-v2-api.md §J), for the README:
    # - The REST API validates the definition of every revision it makes, draft or
    #   published, and refuses an invalid one with 400/81022 (Studio's editor can save an
    #   invalid draft; the API cannot). So API-made revisions are always `valid: true`,
    #   `errors: []`, `warnings: []`; only a fixture can load an invalid flow.
    # - Every create and every update that changes something (status, friendly name,
    #   definition or commit message) makes a new revision numbered one past the latest;
    #   an update that changes nothing makes none and returns the flow as it is.
    # - The flow's own fields (`status`, `definition`, `revision`, ...) are those of its
    #   latest revision; executions run the latest *published* one (`flow_version`).

    def list_flows(self, request: PageRequest) -> Page[Flow]:
        return self.flow_index.page(request, filters=self.sid)

    def fetch_flow(self, sid: str) -> Flow:
        return self._flow(sid)  # with --accept-any-flow, any well-formed SID exists

    def create_flow(
        self,
        friendly_name: str | None,
        status: str | None,
        definition: str | None,
        commit_message: str | None = None,
    ) -> Flow:
        """CreateFlow: a new flow with revision 1. `definition` is JSON text, as the form
        carries it. Missing parameters are reported in the spec's order (FriendlyName,
        Status, Definition) before any value is checked."""
        if not friendly_name:
            raise MissingParameter("FriendlyName")
        if not status:
            raise MissingParameter("Status")
        if not definition:
            raise MissingParameter("Definition")
        status = flow_status(status)
        parsed = check_flow_definition(definition)
        sid = self.studio.sids.new(sids.FLOW)
        flow = self._new_flow(sid, friendly_name, parsed, status, commit_message or None, [])
        if self.studio.store is not None:
            self.studio.store.flow_saved(flow)
        return flow

    def update_flow(
        self,
        sid: str,
        status: str | None,
        friendly_name: str | None = None,
        definition: str | None = None,
        commit_message: str | None = None,
    ) -> Flow:
        """UpdateFlow: `Status` is required; an absent (or empty) FriendlyName or
        Definition keeps the latest revision's. The resulting definition is validated
        whatever the status (so a flow loaded invalid from a fixture must be given a
        valid Definition). Publishing a draft is `Status=published` alone; saving a draft
        over a published flow leaves executions on the published revision."""
        flow = self.fetch_flow(sid)
        if not status:
            raise MissingParameter("Status")
        status = flow_status(status)
        name = friendly_name or flow.friendly_name
        parsed = check_flow_definition(definition) if definition else _checked(flow.definition)
        message = commit_message or None
        unchanged = (
            status == flow.status
            and name == flow.friendly_name
            and parsed == flow.definition
            and (message is None or message == flow.commit_message)
        )
        if unchanged:
            return flow
        now = self._now()
        flow.add_revision(self._revision(flow, name, parsed, status, message, [], now))
        flow.date_updated = now
        if self.studio.store is not None:
            self.studio.store.flow_saved(flow)
        return flow

    @batched
    def delete_flow(self, sid: str) -> None:
        """DeleteFlow: the flow, its revisions and all its executions (active ones stop
        where they are, as if deleted one by one), and the addresses bound to it."""
        flow = self.fetch_flow(sid)
        engine = self.studio.engine
        for execution in list(flow.executions.newest_first()):
            if execution.status == ACTIVE or execution.run is not None:
                engine.stop(self, execution)
            del self.executions[execution.sid]
            self.ended_order.pop(execution.sid, None)
            execution.steps = None
        flow.executions.clear()
        flow.active_executions.clear()
        flow.ended_executions.clear()
        flow.active_by_contact.clear()
        del self.flows[flow.sid]
        self.flow_index.remove(flow.key)
        for number in [n for n, bound in self.numbers.items() if bound == flow.sid]:
            del self.numbers[number]
            if self.studio.store is not None:
                self.studio.store.number_bound(self, number, None)
        if self.studio.store is not None:
            self.studio.store.flow_deleted(flow)

    def list_flow_revisions(self, sid: str, request: PageRequest) -> tuple[Flow, Page[FlowRevision]]:
        """ListFlowRevision: newest revision first."""
        flow = self.fetch_flow(sid)
        return flow, flow.revisions.page(request, filters=flow.sid)

    def fetch_flow_revision(self, sid: str, revision: str) -> tuple[Flow, FlowRevision]:
        """FetchFlowRevision: `revision` is a number, `LatestPublished` or `LatestRevision`
        (exactly as the spec spells them); anything else, or a revision that does not
        exist (e.g. `LatestPublished` of a draft-only flow), is a 404."""
        flow = self.fetch_flow(sid)
        found: FlowRevision | None = None
        if revision == "LatestPublished":
            found = flow.published_revision()
        elif revision == "LatestRevision":
            found = flow.latest_revision()
        elif 0 < len(revision) <= 10 and revision.isascii() and revision.isdigit():
            found = flow.find_revision(int(revision))
        if found is None:
            raise NotFound()
        return flow, found

    def update_flow_validate(
        self,
        friendly_name: str | None,
        status: str | None,
        definition: str | None,
        commit_message: str | None = None,
    ) -> bool:
        """UpdateFlowValidate (`POST /v2/Flows/Validate`): the checks of CreateFlow without
        creating anything. True, or the error CreateFlow would raise."""
        if not friendly_name:
            raise MissingParameter("FriendlyName")
        if not status:
            raise MissingParameter("Status")
        if not definition:
            raise MissingParameter("Definition")
        flow_status(status)
        check_flow_definition(definition)
        return True

    def fetch_test_user(self, sid: str) -> Flow:
        """FetchTestUser: the flow, whose `test_users` the renderer shows."""
        return self.fetch_flow(sid)

    def update_test_user(self, sid: str, test_users: list[str] | None) -> Flow:
        """UpdateTestUser: replaces the list (`TestUsers` repeated, order kept, duplicates
        dropped). The parameter is required, so an SDK's empty list (sent as nothing) is a
        400; a single empty `TestUsers=` clears the list (chosen). A contact listed here
        runs the flow's latest revision, draft included (`_runnable_revision`)."""
        flow = self.fetch_flow(sid)
        if not test_users:
            raise MissingParameter("TestUsers")
        flow.test_users = list(dict.fromkeys(user for user in test_users if user))
        if self.studio.store is not None:
            self.studio.store.flow_saved(flow)
        return flow

    # -- Executions ---------------------------------------------------------------------------

    @batched
    def create_execution(self, flow_sid: str, to: str | None, from_: str | None, parameters: str | None) -> Execution:
        flow = self._flow(flow_sid)
        if not to:
            raise MissingParameter("To")
        if not from_:
            raise MissingParameter("From")
        data = parse_parameters(parameters)
        active = flow.active_by_contact.get((to, from_))
        if active is not None:
            raise ExecutionAlreadyActive(active.sid)
        revision = self._runnable_revision(flow, to)
        execution = self._new_execution(flow, revision, to, from_, data, None)
        self._start(execution, revision, "incomingRequest")
        return execution

    def _runnable_revision(self, flow: Flow, contact: str | None, which: str = "LatestPublished") -> FlowRevision:
        """The revision a new execution runs (its number is the execution's `flow_version`):
        the latest published one; the latest of any status, draft included, for a contact
        listed in the flow's TestUsers ("test user identities that can test draft versions
        of the flow") and for run-subflow's `LatestRevision`. A flow with only drafts cannot
        be executed but by its test users: 409/20409 (`FlowNotPublished`; Twilio's code and
        wording are UNCONFIRMED)."""
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
    ) -> Execution:
        contact_sid = self.contacts.get(to)
        if contact_sid is None:
            contact_sid = self.contacts[to] = self.studio.sids.new(sids.CONTACT)
            if self.studio.store is not None:
                self.studio.store.contact_added(self, to, contact_sid)
            if len(self.contacts) > self.studio.contact_limit:  # the oldest addresses are forgotten
                # Deleted in place (not copied into a new dict): no transient second table.
                for address in list(itertools.islice(self.contacts, _excess(self.contacts, self.studio.contact_limit))):
                    del self.contacts[address]
        now = self._now()
        execution = Execution(
            sid=self.studio.sids.new(sids.EXECUTION),
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
        self.executions[execution.sid] = execution
        flow.executions.add(execution.key, execution)
        flow.active_executions.add(execution.key, execution)
        if exclusive:
            flow.active_by_contact[execution.addresses] = execution
        if self.studio.store is not None:
            self.studio.store.execution_created(execution)
        return execution

    def _start(
        self,
        execution: Execution,
        revision: FlowRevision,
        event: str,
        *,
        parent_step_sid: str | None = None,
        on_end: Any = None,
    ) -> None:
        engine = self.studio.engine
        definition = engine.definition_for(revision.definition)
        if definition is None:  # an invalid definition (only possible for drafts) ends at once
            self.end_execution(execution)
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
        child = self._new_execution(flow, flow_revision, to, from_, None, parent.sid, exclusive=False)
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
        self._start(child, flow_revision, "incomingParent", parent_step_sid=parent_step_sid, on_end=on_end)
        return child

    def subflow_on_end(self, parent: Execution) -> Any:
        """What a subflow's child calls when it stops: resumes the parent."""

        def on_end(ended: Execution, completed: bool) -> None:
            if completed:
                self.studio.engine.resume(self, parent, "completed", dict(ended.variables or {}))
            else:
                self.studio.engine.resume(self, parent, "failed", {})

        return on_end

    # -- inbound messages and waiting executions ------------------------------------------------

    def remember_waiting(self, execution: Execution) -> None:
        self.waiting_for_reply[execution.addresses] = execution

    def forget_waiting(self, execution: Execution) -> None:
        key = execution.addresses
        if self.waiting_for_reply.get(key) is execution:
            del self.waiting_for_reply[key]

    def bind_number(self, number: str, flow_sid: str) -> None:
        self.fetch_flow(flow_sid)
        self.numbers[number] = flow_sid
        if self.studio.store is not None:
            self.studio.store.number_bound(self, number, flow_sid)

    @batched
    def receive_message(
        self, from_: str | None, to: str | None, body: str, extra: dict[str, str] | None = None
    ) -> tuple[Execution, str, str]:
        """An inbound message as Twilio's webhook would deliver it: it resumes the
        contact's execution waiting for a reply, or starts an `incomingMessage` execution
        on the flow bound to `to`. Returns (execution, "resumed" | "started" | "ignored",
        message SID)."""
        from_, to = _addresses(from_, to)
        sid = self.studio.sids.new("SM")
        inbound = {
            "Body": body,
            "From": from_,
            "To": to,
            "MessageSid": sid,
            "SmsMessageSid": sid,
            "AccountSid": self.sid,
            "NumMedia": "0",
            **(extra or {}),
        }
        execution, action = self._inbound(from_, to, sid, "incomingMessage", {"message": inbound}, inbound)
        self._log_inbound(sid, from_, to, body, execution)
        return execution, action, sid

    @batched
    def receive_conversation_message(
        self, from_: str | None, to: str | None, body: str, extra: dict[str, str] | None = None
    ) -> tuple[Execution, str, str]:
        """A Conversations message from participant `from_` to the flow's address `to`:
        resumes a waiting execution (its `inbound` is the message) or starts an
        `incomingConversationMessage` execution with `trigger.conversation.*`. Every
        message of a contact to an address is in the same conversation, by the same
        participant (see `conversation_sid`)."""
        from_, to = _addresses(from_, to)
        sid = self.studio.sids.new("IM")
        conversation = {
            "ConversationSid": conversation_sid(self.sid, from_, to),
            "MessageSid": sid,
            "Body": body,
            "Author": from_,
            "ParticipantSid": participant_sid(self.sid, from_, to),
            "Source": "SDK",
            "AccountSid": self.sid,
            "From": from_,
            "To": to,
            **(extra or {}),
        }
        execution, action = self._inbound(
            from_, to, sid, "incomingConversationMessage", {"conversation": conversation}, conversation
        )
        self._log_inbound(sid, from_, to, body, execution)
        return execution, action, sid

    @batched
    def receive_call(
        self, from_: str | None, to: str | None, extra: dict[str, str] | None = None
    ) -> tuple[Execution, str, str]:
        """An inbound call from `from_` to the flow's number `to`: starts an `incomingCall`
        execution with `trigger.call.*`. With the flow's `flags.allow_concurrent_calls`, the
        same caller may have several active call executions (studio-v2-api.md §H.3)."""
        from_, to = _addresses(from_, to)
        sid = self.studio.sids.new("CA")
        call = {
            "CallSid": sid,
            "From": from_,
            "To": to,
            "Caller": from_,
            "Called": to,
            "AccountSid": self.sid,
            "Direction": "inbound",
            "CallStatus": "ringing",
            "ApiVersion": "2010-04-01",
            **(extra or {}),
        }
        execution, action = self._inbound(from_, to, sid, "incomingCall", {"call": call}, None)
        if action == "started":
            self.studio.engine.calls.opened(execution, self._now())  # its transcript (engine/transcripts.py)
        return execution, action, sid

    def _inbound(
        self,
        from_: str,
        to: str,
        sid: str,
        event: str,
        trigger: dict[str, Any],
        reply: dict[str, Any] | None,
    ) -> tuple[Execution, str]:
        """Resume the contact's execution waiting for a reply with `reply` as its `inbound`,
        or start an execution on the flow bound to `to` with this trigger."""
        if reply is not None:
            waiting = self.waiting_for_reply.get((from_, to))
            if waiting is not None and self.studio.engine.resume(self, waiting, "incomingMessage", {"inbound": reply}):
                return waiting, "resumed"
        flow_sid = self.numbers.get(to)
        if flow_sid is None:
            raise NotFound(
                f"No flow is bound to {to[:64]}: bind one with a fixture's `numbers` or POST /_mockstudio/numbers"
            )
        flow = self._flow(flow_sid)
        concurrent = event == "incomingCall" and bool(
            (flow.definition.get("flags") or {}).get("allow_concurrent_calls")
        )
        active = flow.active_by_contact.get((from_, to))
        if active is not None and not concurrent:
            # Studio routes it to the contact's active execution; one that is not waiting
            # for a reply has nothing to do with it.
            return active, "ignored"
        revision = self._runnable_revision(flow, from_)
        execution = self._new_execution(flow, revision, from_, to, None, sid, exclusive=active is None)
        execution.trigger = trigger
        self._start(execution, revision, event)
        return execution, "started"

    def _log_inbound(self, sid: str, from_: str, to: str, body: str, execution: Execution) -> None:
        self.studio.engine.messages.add(
            Message(
                sid,
                self.sid,
                "inbound",
                from_,
                to,
                body,
                execution.sid,
                execution.flow_sid,
                "received",
                self._now(),
            )
        )

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
        index = flow.executions
        if filters.status == ACTIVE:
            index = flow.active_executions
        elif filters.status == ENDED:
            index = flow.ended_executions
        return index.page(
            request,
            key_from=None if filters.date_from is None else filters.date_from << KEY_SHIFT,
            key_to=None if filters.date_to is None else filters.date_to << KEY_SHIFT,
            filters=f"{flow.sid}|{filters.raw}",  # a token only resumes the list it came from
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
        self.end_execution(execution)
        self.studio.engine.stop(self, execution)
        return execution

    def end_execution(self, execution: Execution) -> None:
        flow = self.flows[execution.flow_sid]
        execution.status = ENDED
        execution.date_updated = self._now()
        flow.active_executions.remove(execution.key)
        flow.ended_executions.add(execution.key, execution)
        contact = execution.addresses
        if flow.active_by_contact.get(contact) is execution:
            del flow.active_by_contact[contact]
        self.ended_order[execution.sid] = execution
        if self.studio.store is not None:
            self.studio.store.execution_changed(execution)
        if len(self.ended_order) > self.studio.ended_execution_limit:
            self.drop_oldest_ended_executions()

    def drop_oldest_ended_executions(self) -> list[Execution]:
        """The ended-execution cap (`MOCKSTUDIO_ENDED_EXECUTION_LIMIT`): drop the executions
        that ended first, with their steps, from every index, so that at most the limit
        remain; active executions are never dropped. Dropped in batches of 1% of the limit
        (the count then stays between 99% and 100% of it), so each index is rewritten once
        per batch: O(1) amortised per ended execution. Returns what was dropped (for a
        persistent store to forget them too)."""
        excess = _excess(self.ended_order, self.studio.ended_execution_limit)
        if excess <= 0:
            return []
        dropped = list(itertools.islice(self.ended_order.values(), excess))
        self.ended_order = dict(itertools.islice(self.ended_order.items(), excess, None))
        by_flow: dict[str, list[int]] = {}
        for execution in dropped:
            by_flow.setdefault(execution.flow_sid, []).append(execution.key)
            if self.executions.get(execution.sid) is execution:
                del self.executions[execution.sid]
            execution.steps = None
        for flow_sid, keys in by_flow.items():
            flow = self.flows.get(flow_sid)
            if flow is not None:
                flow.executions.remove_many(keys)
                flow.ended_executions.remove_many(keys)
        if self.studio.store is not None:
            self.studio.store.executions_deleted(dropped)
        return dropped

    @batched
    def delete_execution(self, flow_sid: str, sid: str) -> None:
        """Deletes the execution and its steps, whatever its status (allowed for active
        ones: UNCONFIRMED in §J, chosen because it is the only way to free a contact
        without ending)."""
        execution = self._execution(flow_sid, sid)
        flow = self.flows[execution.flow_sid]
        self.studio.engine.stop(self, execution)
        del self.executions[sid]
        self.ended_order.pop(sid, None)
        flow.executions.remove(execution.key)
        (flow.active_executions if execution.status == ACTIVE else flow.ended_executions).remove(execution.key)
        contact = execution.addresses
        if flow.active_by_contact.get(contact) is execution:
            del flow.active_by_contact[contact]
        execution.steps = None
        if self.studio.store is not None:
            self.studio.store.execution_deleted(execution)

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


def _excess(store: dict[str, Any], limit: int) -> int:
    """How many of the oldest entries a capped store over its limit drops: down to 99% of
    the limit (exactly to it for limits under 100), so the store is rewritten once per
    1% of the limit rather than once per entry."""
    return len(store) - limit + limit // 100 if len(store) > limit else 0


def _addresses(from_: str | None, to: str | None) -> tuple[str, str]:
    if not from_:
        raise MissingParameter("From")
    if not to:
        raise MissingParameter("To")
    return from_, to


def inert_definition() -> dict[str, Any]:
    """A flow whose trigger leads nowhere: what `--accept-any-flow` runs."""
    return {
        "description": "Auto-created by mockstudio",
        "states": [
            {
                "name": "Trigger",
                "type": "trigger",
                "transitions": [
                    {"event": "incomingMessage"},
                    {"event": "incomingCall"},
                    {"event": "incomingConversationMessage"},
                    {"event": "incomingRequest"},
                    {"event": "incomingParent"},
                ],
                "properties": {"offset": {"x": 0, "y": 0}},
            }
        ],
        "initial_state": "Trigger",
        "flags": {"allow_concurrent_calls": True},
    }


# `Parameters` reappear a few levels down in every context, step and response, and orjson
# refuses to encode anything nested deeper than 254 levels: a deeper value, accepted here,
# would make every later read of the execution's context or steps fail with a 500.
MAX_PARAMETERS_DEPTH = jsontext.MAX_DEPTH


def flow_status(status: str) -> str:
    """A Flow `Status` (case-sensitive, as Twilio's enums are); 400/20001 otherwise
    (wording chosen)."""
    if status not in (DRAFT, PUBLISHED):
        raise InvalidParameter(f"Invalid Status: {status[:64]!r} is not one of draft, published")
    return status


def definition_problems(definition: Any) -> list[dict[str, str]]:
    """Studio's validation of a parsed definition (studio-flows.md §1.4) as the problem
    dicts `{"message", "property_path"}` that a flow's `errors` and 81022's
    `details.errors` carry; empty when the definition is valid."""
    _, problems = parse_definition(definition)
    return [problem.as_dict() for problem in problems]


def check_flow_definition(text: str) -> dict[str, Any]:
    """`Definition` is JSON text holding the flow definition; parsed and validated, or
    400/81022 with every problem found (invalid or too deeply nested JSON is one problem
    at `#`)."""
    try:
        value = jsontext.loads(text)
    except jsontext.JSONDecodeError as exc:
        raise FlowValidationFailed(
            [{"message": f"the flow definition is not valid JSON: {exc}", "property_path": "#"}]
        ) from None
    except jsontext.TooDeep as exc:
        raise FlowValidationFailed([{"message": f"the flow definition: {exc}", "property_path": "#"}]) from None
    return _checked(value)


def _checked(definition: Any) -> dict[str, Any]:
    errors = definition_problems(definition)
    if errors:
        raise FlowValidationFailed(errors)
    assert isinstance(definition, dict)
    return definition


def parse_parameters(raw: str | None) -> dict[str, Any] | None:
    """`Parameters` is JSON *text* that must hold an object (the spec: "the JSON value must
    explicitly be passed as a string"). Code and wording of the 400 are chosen (§J)."""
    if raw is None or raw == "":
        return None
    try:
        return jsontext.loads_object(raw)
    except jsontext.NotAnObject as exc:
        raise InvalidParameter(f"Invalid Parameters: {exc}") from None


class Studio:
    """All accounts' state, the credentials that reach it, and the shared services."""

    def __init__(
        self,
        *,
        clock: Clock,
        sid_factory: sids.SidFactory,
        accounts: Iterable[AccountSeed],
        flows: Iterable[FlowSeed],
        accept_any_flow: bool = False,
        engine_config: EngineConfig | None = None,
        http: Any = None,
        default_account_sid: str | None = None,
        ended_execution_limit: int | None = None,
        contact_limit: int | None = None,
        store: Store | None = None,
    ) -> None:
        self.clock = clock
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
        # The state file (persistence.py), told of every change; None: state in memory only.
        self.store = store
        self._second = -1
        self.engine = Engine(self, engine_config, http)
        if store is None:
            self.reset()
        else:
            self._restore(store)

    def reset(self, account_sid: str | None = None) -> None:
        """Forget all state, or one account's, and reload the fixtures. The old state is
        freed in the background (reaper.py), so a reset costs the same at any size (with a
        state file, the file's rows are deleted too, in the same commit)."""
        with self.lock:
            store = self.store
            if store is not None:
                store.hold()
            try:
                self._reset(account_sid)
            finally:
                if store is not None:
                    store.release()

    def _reset(self, account_sid: str | None) -> None:
        if account_sid is not None:
            if account_sid not in self.accounts:
                raise NotFound(f"The requested resource /Accounts/{account_sid[:40]} was not found")
            box: list[Any] = [self.accounts[account_sid]]
            self.engine.clear(account_sid)
            if self.store is not None:
                self.store.reset(account_sid)
            self._seed_account(next(a for a in self._account_seeds if a.sid == account_sid))
            release_later(box)
            return
        box = [self.accounts, *self.engine.clear()]
        if self.store is not None:
            self.store.reset(None)
        self.accounts = {}
        self._credentials = {}
        for seed in self._account_seeds:
            self._seed_account(seed)
        release_later(box)

    def _restore(self, store: Store) -> None:
        """Build the state from the fixtures and the state file (at startup)."""
        with self.lock:
            store.restore_clock(self.clock)
            store.hold()
            try:
                for seed in self._account_seeds:
                    self._seed_account(seed, restore=True)
                store.open_for_writing()  # only now: a file refused while loading is not written
            except BaseException:
                store.close(discard=True)  # a failed load writes nothing to the file
                raise
            finally:
                store.release()
            store.on_write_failure = self._reload

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
                for seed in self._account_seeds:
                    self._seed_account(seed, restore=True)
            except BaseException:
                self.accounts, self._credentials, self.engine.messages = accounts, credentials, messages
                raise
            # The discarded state's runs stop at their next step (the failed operation's own
            # included: the run a failed create started must not send its messages).
            for account in accounts.values():
                for execution in account.executions.values():
                    execution.run = None
            release_later(retired)

    def _seed_account(self, seed: AccountSeed, *, restore: bool = False) -> None:
        account = self.accounts[seed.sid] = AccountState(self, seed)
        self._credentials[seed.sid] = (seed.auth_token, seed.sid)
        for key_sid, secret in seed.api_keys.items():
            self._credentials[key_sid] = (secret, seed.sid)
        flows = [flow for flow in self._flow_seeds if flow.account_sid == seed.sid]
        if self.store is not None:  # the fixture flows, and with `restore` what the file holds
            self.store.load_account(account, flows, fresh=not restore)
            return
        for flow in flows:
            account.add_flow(flow)

    def check_accepts_changes(self) -> None:
        """Raise Twilio's 500 (StateFileWriteFailed) if changes are refused: the state
        file could not be read back after a failed write. Callers check before an
        operation that may change the state touches it."""
        store = self.store
        if store is not None and store.read_only:
            raise StateFileWriteFailed()

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

    def close(self) -> None:
        """Release what the state holds open; called once at shutdown (the app's lifespan).
        Commits and closes the state file, if any; nothing to do for in-memory state."""
        with self.lock:
            if self.store is not None:
                self.store.close()
